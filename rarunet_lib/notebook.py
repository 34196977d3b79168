"""One call that prepares a chapter notebook: quiet logs, seeds, style, banner."""

from __future__ import annotations

import os

from .config import Profile, describe_environment, get_profile, seed_everything

__all__ = ["setup_notebook"]


def setup_notebook(seed: int = 0, *, profile: str | None = None, deterministic: bool = False) -> Profile:
    """Prepare a notebook the way every chapter does, and return the profile.

    Quietens TensorFlow's C++ log lines (unless ``TF_CPP_MIN_LOG_LEVEL`` is
    already set) and its Python warnings, seeds Python, NumPy and TensorFlow, applies the book's
    matplotlib style and prints the environment banner.

    Parameters
    ----------
    seed : int, default 0
        Seed for :func:`~rarunet_lib.config.seed_everything`.
    profile : str, optional
        Profile name; by default ``RARUNET_PROFILE`` or the GPU-based default.
    deterministic : bool, default False
        Ask TensorFlow for deterministic kernels.

    Returns
    -------
    Profile

    Example
    -------
    >>> setup_notebook(0, profile="quick").name  # doctest: +ELLIPSIS
    ===...
    'quick'
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    prof = get_profile(profile)
    seed_everything(seed, deterministic=deterministic)
    import logging

    # Python-side TensorFlow warnings (e.g. "retracing" when a chapter trains several small models) are noise here
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    from .plotting import use_book_style

    use_book_style()
    describe_environment(prof)
    return prof

"""Adaptive denoising learning (ADL, section 2.4, Eq. 5): schedule and ranking.

NumPy only.  The training loop (``rarunet_lib.train``) records every sample's
Dice loss during the training forward pass; this module decides from those
records how many and which masks sit out of each epoch.

Reading of Eq. 5 (see the book's chapter 6)
-------------------------------------------
With ``k = (1 - alpha) * beta``, ``x`` the total epochs, ``y`` the number of
masks and ``t`` the 1-based epoch::

    N(t) = 0.5 k y               for 0 < t < 0.1 k x
           -(y / x) t + 0.6 k y  for 0.1 k x <= t <= 0.5 k x
           0.1 k y               for 0.5 k x < t <= x

The middle slope is ``-y/x`` as printed (with it the schedule is continuous at
both breakpoints).  Each ``N(t)`` is rounded once with Python's ``round``
(``int`` would turn 479.99999999999994 into 479).  ``N(t)`` is the number of
masks left out *of epoch t*, re-chosen every epoch, not a permanent removal:
read as removals, the total would exceed the number of masks.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "RANKINGS",
    "removal_schedule",
    "removal_count",
    "normalised_cumulative_loss",
    "rank_noisy",
    "select_excluded",
    "detection_scores",
]

#: The ways :func:`rank_noisy` can rank masks ("random" is the control that is blind to the losses).
RANKINGS: tuple[str, ...] = ("normalised_cumulative", "last_epoch", "random")


def _check_unit(name: str, value, *, low_open: bool) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in {'(0, 1]' if low_open else '[0, 1]'}, got {value!r}") from None
    ok = (0.0 < v <= 1.0) if low_open else (0.0 <= v <= 1.0)
    if not ok or not np.isfinite(v):
        raise ValueError(f"{name} must be in {'(0, 1]' if low_open else '[0, 1]'}, got {value!r}")
    return v


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def removal_count(t: int, alpha: float, beta: float, epochs: int, n_masks: int) -> float:
    """Unrounded ``N(t)`` of Eq. 5 for one 1-based epoch ``t``.

    Example
    -------
    >>> round(removal_count(1, 0.68, 0.75, 50, 4000), 6)
    480.0
    """
    alpha = _check_unit("alpha", alpha, low_open=True)
    beta = _check_unit("beta", beta, low_open=False)
    x, y = _check_count("epochs", epochs), _check_count("n_masks", n_masks)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= x:
        raise ValueError(f"t must be an integer epoch from 1 to epochs={x}, got {t!r}")
    k = (1.0 - alpha) * beta
    if k == 0.0:
        return 0.0
    if t < 0.1 * k * x:
        return 0.5 * k * y
    if t <= 0.5 * k * x:
        return -(y / x) * t + 0.6 * k * y
    return 0.1 * k * y


def removal_schedule(alpha: float, beta: float, epochs: int, n_masks: int) -> np.ndarray:
    """Number of masks ``N(t)`` left out of each epoch ``t = 1..epochs`` (Eq. 5).

    Parameters
    ----------
    alpha : float in (0, 1]
        Noise level.
    beta : float in [0, 1]
        Proportion of noisy masks.
    epochs : int >= 1
        Total training epochs ``x``.
    n_masks : int >= 1
        Total training masks ``y``.

    Returns
    -------
    numpy.ndarray of int64, shape (epochs,)
        ``N(1), ..., N(epochs)``, each rounded once with ``round``.

    Raises
    ------
    ValueError
        For arguments outside their ranges.

    Example
    -------
    >>> removal_schedule(0.68, 0.75, 50, 4000)[:7].tolist()
    [480, 416, 336, 256, 176, 96, 96]
    >>> removal_schedule(0.85, 0.25, 50, 4000)[[0, -1]].tolist()
    [15, 15]
    """
    x = _check_count("epochs", epochs)
    return np.array(
        [round(removal_count(t, alpha, beta, x, n_masks)) for t in range(1, x + 1)], dtype=np.int64
    )


def normalised_cumulative_loss(losses) -> np.ndarray:
    """O2U-Net's ranking score: per-epoch losses minus the epoch mean, summed.

    Parameters
    ----------
    losses : array_like, shape (epochs_so_far, n_samples)
        Per-sample training losses; NaN where a sample was not seen in an
        epoch (it sat out).  The epoch mean is over the samples seen.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        Sum over epochs of ``loss - mean(loss of that epoch)``, unseen epochs
        contributing 0.  Higher means likelier noisy.

    Example
    -------
    >>> normalised_cumulative_loss([[0.1, 0.3], [0.2, 0.4]]).round(12).tolist()
    [-0.2, 0.2]
    """
    a = np.asarray(losses, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"losses must have shape (epochs, n_samples), got {a.shape}")
    if a.shape[0] == 0:
        return np.zeros(a.shape[1])
    seen = ~np.isnan(a)
    counts = seen.sum(axis=1, keepdims=True)
    mean = np.where(seen, a, 0.0).sum(axis=1, keepdims=True) / np.maximum(counts, 1)
    return np.where(seen, a - mean, 0.0).sum(axis=0)


def rank_noisy(losses, *, method: str = "normalised_cumulative", seed: int | list[int] | None = None) -> np.ndarray:
    """Ranking score per sample (higher = likelier noisy).

    Parameters
    ----------
    losses : array_like, shape (epochs_so_far, n_samples)
        Per-sample losses, NaN where unseen.
    method : {"normalised_cumulative", "last_epoch", "random"}
        O2U-Net's normalised cumulative loss (default), the latest
        recorded loss of each sample (NaN-free: unseen samples score -inf),
        or ``"random"``: scores drawn uniformly at random, blind to the
        losses, for a control that leaves out as many masks as ADL but
        chosen by chance.
    seed : int or sequence of int, optional
        Seed of the random scores (required with ``method="random"``,
        unused otherwise).

    Example
    -------
    >>> rank_noisy([[0.1, 0.3], [0.5, 0.2]], method="last_epoch").tolist()
    [0.5, 0.2]
    >>> bool(np.all(rank_noisy([[0.1, 0.3]], method="random", seed=0) == rank_noisy([[9, 9]], method="random", seed=0)))
    True
    """
    a = np.asarray(losses, dtype=float)
    if method == "random":
        if a.ndim != 2:
            raise ValueError(f"losses must have shape (epochs, n_samples), got {a.shape}")
        if seed is None:
            raise ValueError("method='random' needs a seed (an int or a sequence of ints)")
        return np.random.default_rng(seed).random(a.shape[1])
    if method == "normalised_cumulative":
        return normalised_cumulative_loss(a)
    if method == "last_epoch":
        if a.ndim != 2:
            raise ValueError(f"losses must have shape (epochs, n_samples), got {a.shape}")
        out = np.full(a.shape[1], -np.inf)
        for row in a:  # latest non-NaN value wins
            seen = ~np.isnan(row)
            out[seen] = row[seen]
        return out
    raise ValueError(f"method={method!r} is not allowed; use one of {RANKINGS}")


def select_excluded(scores, n_out: int) -> np.ndarray:
    """Indices of the ``n_out`` highest scores (ties: lower index first), sorted.

    Example
    -------
    >>> select_excluded([0.1, 0.9, 0.5, 0.9], 2).tolist()
    [1, 3]
    """
    s = np.asarray(scores, dtype=float)
    if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)) or not 0 <= n_out <= s.size:
        raise ValueError(f"n_out must be an integer from 0 to {s.size}, got {n_out!r}")
    order = np.lexsort((np.arange(s.size), -s))
    return np.sort(order[:n_out])


def detection_scores(excluded, noisy_indices, n_samples: int) -> dict[str, float]:
    """Precision, recall and F1 of the excluded set against the truly noisy set.

    Parameters
    ----------
    excluded : array_like of int
        Indices that sat out.
    noisy_indices : array_like of int
        Indices truly corrupted (from the noise manifest).
    n_samples : int
        Total number of samples.

    Returns
    -------
    dict
        ``precision`` (NaN when nothing was excluded), ``recall`` (NaN when
        nothing is noisy), ``f1`` (NaN when undefined), ``n_excluded``,
        ``n_noisy``, ``true_positives``.

    Example
    -------
    >>> detection_scores([1, 2], [2, 3], 5)["precision"]
    0.5
    """
    ex = np.zeros(n_samples, bool)
    ex[np.asarray(excluded, dtype=int)] = True
    noisy = np.zeros(n_samples, bool)
    noisy[np.asarray(noisy_indices, dtype=int)] = True
    tp = int(np.count_nonzero(ex & noisy))
    p = tp / ex.sum() if ex.any() else float("nan")
    r = tp / noisy.sum() if noisy.any() else float("nan")
    f1 = 2 * p * r / (p + r) if (p + r) > 0 else float("nan")
    return {
        "precision": float(p), "recall": float(r), "f1": float(f1),
        "n_excluded": int(ex.sum()), "n_noisy": int(noisy.sum()), "true_positives": tp,
    }

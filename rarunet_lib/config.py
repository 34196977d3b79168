"""Run profiles, the environment banner and seeding.

Four profiles decide how big every computation in the book is:

``quick``
    For a laptop CPU and for CI: 64x64 slices of 12 short cases of the
    randomised phantom, 10 epochs, a network a quarter of the paper's width;
    every model still visibly learns (RAR-U-Net: test Dice about 0.6) in about
    a minute.  Its numbers show that the code works; they are **not**
    paper-scale results.
``cpu``
    The first experiment grid (Tables 1-5) on a 2-core CPU: 64x64 slices, 6
    cases of 64 slices of the paper-like ``"csi"`` phantom, 16 epochs, the
    mean of per-image Dice losses.
    Its runs did not settle (the book's appendix case study); committed under
    ``results/cpu/`` and kept reproducible.
``cpu2``
    As ``cpu`` with one Dice loss over each batch and precise BatchNorm
    statistics: the settled grid of chapters 7-8, committed under
    ``results/cpu2/``.  Not paper scale either.
``full``
    The paper's settings (section 3.1): 256x256 images, batch 8, Adam with
    learning rate 1e-5, Dice loss, 50 epochs.  Meant for a GPU.

The profile is chosen by the environment variable ``RARUNET_PROFILE``; when it
is unset, ``full`` is used where TensorFlow sees a GPU and ``quick`` otherwise.

Importing this module does not import TensorFlow; only the functions that need
it (GPU detection, :func:`describe_environment`, :func:`seed_everything`) do.
"""

from __future__ import annotations

import os
import platform
import random
import warnings
from dataclasses import asdict, dataclass, replace

import numpy as np

__all__ = [
    "PROFILE_ENV_VAR",
    "Profile",
    "PROFILES",
    "WIDTH_MODELS",
    "available_profiles",
    "get_profile",
    "describe_environment",
    "seed_everything",
]

PROFILE_ENV_VAR = "RARUNET_PROFILE"


@dataclass(frozen=True)
class Profile:
    """The sizes of one run of the book.

    Attributes
    ----------
    name : str
        Profile name (``"quick"``, ``"cpu"``, ``"cpu2"`` or ``"full"``).
    description : str
        One line for the banner.
    image_size : int
        Side of the square slices fed to the network (pixels).
    batch_size : int
        Training batch size.
    learning_rate : float
        Adam learning rate.
    epochs : int
        Training epochs.
    n_cases : int
        Synthetic cases (patients) generated when no real data is given.
    slices_per_case : int
        Axial slices per synthetic case.
    slice_spacing : float
        Distance between synthetic slices (mm): wider in the quick profile so that
        a few slices still cross several vertebrae.
    bn_momentum : float
        BatchNormalization momentum: Keras's 0.99 for long runs, 0.9 for runs of a
        few dozen steps (otherwise inference-mode predictions collapse).
    paper_scale : bool
        Whether numbers from this profile may be compared with the paper's.
    dice_over : {"image", "batch"}
        What the training Dice loss is computed over (:class:`rarunet_lib.train.TrainConfig`):
        "batch" (the Keras recipe) everywhere except the ``cpu`` profile, whose
        committed grid was trained with the mean of per-image losses.
    bn_recalibration : bool
        Recompute the BatchNorm statistics after every epoch ("precise BN").
    filters : tuple of 5 ints, optional
        Filters per level (bottleneck last) of the Table 4 family (:data:`WIDTH_MODELS`),
        when the profile trains a narrower network than the paper's (32, 64, 128, 256,
        512); ``None``: the paper's width.  The banner names it.
    phantom : {"random", "csi", "wide"}, default "random"
        The phantom variation its synthetic cases are drawn from
        (:func:`rarunet_lib.data.synthetic_case`): ``"random"`` (every case
        randomised, the default and the ``quick`` profile's) or ``"csi"``, the
        paper-like phantom on which the committed grids of ``cpu``, ``cpu2`` and
        ``full`` were trained, and which those profiles keep.
    """

    name: str
    description: str
    image_size: int
    batch_size: int
    learning_rate: float
    epochs: int
    n_cases: int
    slices_per_case: int
    slice_spacing: float
    bn_momentum: float
    paper_scale: bool
    dice_over: str = "batch"
    bn_recalibration: bool = False
    filters: tuple[int, ...] | None = None
    phantom: str = "random"

    def as_dict(self) -> dict:
        """Return the profile as a plain dict (for JSON provenance)."""
        return asdict(self)

    def train_kwargs(self) -> dict:
        """The :class:`rarunet_lib.train.TrainConfig` fields this profile sets, as keyword arguments.

        Example
        -------
        >>> sorted(PROFILES["cpu2"].train_kwargs())
        ['batch_size', 'bn_momentum', 'bn_recalibration', 'dice_over', 'epochs', 'learning_rate']
        """
        return {"epochs": self.epochs, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "bn_momentum": self.bn_momentum, "dice_over": self.dice_over,
                "bn_recalibration": self.bn_recalibration}

    def model_kwargs(self, model: str) -> dict:
        """The builder keywords this profile sets for ``model``: its width, for the Table 4 family.

        Example
        -------
        >>> PROFILES["quick"].model_kwargs("rar_unet")
        {'filters': [8, 16, 32, 64, 128]}
        >>> PROFILES["cpu2"].model_kwargs("rar_unet"), PROFILES["quick"].model_kwargs("dense_unet")
        ({}, {})
        """
        if self.filters is None or model not in WIDTH_MODELS:
            return {}
        return {"filters": [int(f) for f in self.filters]}


#: Models whose width a profile can set (``filters``): RAR-U-Net and its Table 4 ablations.
#: The other baselines have their published widths only.
WIDTH_MODELS: tuple[str, ...] = ("unet", "residual_unet", "attention_unet_cbam", "rar_unet")


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        description="CPU/CI profile: 64x64 slices of 12 small randomised phantom cases, 10 epochs, a network a "
                    "quarter of the paper's width (filters 8-128), learning rate 3e-3 (not paper scale)",
        image_size=64,
        batch_size=8,
        # What the quick profile trades for speed (chapter 5): a quarter of the width (about a
        # sixteenth of the multiply-adds), a learning rate 300 times the paper's, ten epochs, and
        # twelve short cases (16 slices 4 mm apart) rather than a few long ones: patients, not
        # slices, are what a model needs to segment the held-out case.
        learning_rate=3e-3,
        epochs=10,
        n_cases=12,
        slices_per_case=16,
        slice_spacing=4.0,
        bn_momentum=0.9,
        paper_scale=False,
        bn_recalibration=True,
        filters=(8, 16, 32, 64, 128),
        phantom="random",
    ),
    "cpu": Profile(
        name="cpu",
        description="CPU experiment profile: 64x64 slices, 6 phantom cases x 64 slices, 16 epochs (not paper scale)",
        image_size=64,
        batch_size=8,
        learning_rate=1e-3,
        epochs=16,
        n_cases=6,
        slices_per_case=64,
        slice_spacing=3.0,
        bn_momentum=0.9,
        paper_scale=False,
        # The committed grid (results/cpu) trained on the mean of per-image Dice losses, whose
        # runs never settled (chapter 7); kept so those runs stay reproducible.
        dice_over="image",
        phantom="csi",  # like the grids committed for it and for cpu2
    ),
    "full": Profile(
        name="full",
        description="paper profile: 256x256, batch 8, Adam lr 1e-5, Dice loss, 50 epochs",
        image_size=256,
        batch_size=8,
        learning_rate=1e-5,
        epochs=50,
        n_cases=10,
        slices_per_case=500,
        slice_spacing=1.0,
        bn_momentum=0.99,
        paper_scale=True,
        phantom="csi",  # the paper-like phantom, where no real data is given
    ),
}
# cpu with the two fixes chapter 7 found for runs that never settled, nothing else.
PROFILES["cpu2"] = replace(
    PROFILES["cpu"],
    name="cpu2",
    description="CPU experiment profile, second version: as cpu but one Dice loss over each batch and "
                "precise BatchNorm statistics (64x64 slices, 6 phantom cases x 64 slices, 16 epochs; "
                "not paper scale)",
    dice_over="batch",
    bn_recalibration=True,
)


def available_profiles() -> list[str]:
    """Return the names of the known profiles, sorted.

    Example
    -------
    >>> available_profiles()
    ['cpu', 'cpu2', 'full', 'quick']
    """
    return sorted(PROFILES)


def _gpu_visible() -> bool:
    """Whether TensorFlow is installed and sees at least one GPU."""
    try:
        import tensorflow as tf
    except ImportError:  # the NumPy-only layers work without TensorFlow
        return False
    return bool(tf.config.list_physical_devices("GPU"))


def get_profile(name: str | None = None) -> Profile:
    """Return a run profile.

    Parameters
    ----------
    name : str, optional
        A name from :func:`available_profiles` (case-insensitive).  When omitted, the
        environment variable ``RARUNET_PROFILE`` decides; when that is unset
        too, ``"full"`` if TensorFlow sees a GPU, else ``"quick"``.

    Returns
    -------
    Profile
        The chosen profile.

    Raises
    ------
    ValueError
        If the name (argument or environment variable) is not a known profile.

    Example
    -------
    >>> get_profile("quick").image_size
    64
    >>> get_profile("full").epochs
    50
    """
    source = "name"
    if name is None:
        name = os.environ.get(PROFILE_ENV_VAR, "").strip() or None
        source = f"environment variable {PROFILE_ENV_VAR}"
    if name is None:
        return PROFILES["full" if _gpu_visible() else "quick"]
    if not isinstance(name, str):
        raise TypeError(f"name must be a str or None, got {type(name).__name__}")
    key = name.strip().lower()
    if key not in PROFILES:
        raise ValueError(
            f"{source}={name!r} is not a known profile; valid profiles: "
            f"{', '.join(available_profiles())}"
        )
    return PROFILES[key]


def describe_environment(profile: Profile | str | None = None, *, file=None) -> str:
    """Print and return the banner every notebook shows.

    The banner names the profile, TensorFlow/Keras versions and the devices
    TensorFlow sees, and warns when the numbers below it are not paper scale.

    Parameters
    ----------
    profile : Profile or str, optional
        The profile to describe; by default :func:`get_profile`'s choice.
    file : file-like, optional
        Where to print (default: standard output).  Pass ``False`` to print nothing.

    Returns
    -------
    str
        The banner text.

    Example
    -------
    >>> text = describe_environment("quick", file=False)
    >>> "profile: quick" in text
    True
    """
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    try:
        import keras
        import tensorflow as tf

        tf_line = f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
        devices = tf.config.list_physical_devices()
        dev_line = ", ".join(f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in devices)
    except ImportError:
        tf_line = "TensorFlow not installed (NumPy-only parts of the library still work)"
        dev_line = "n/a"
    rule = "=" * 72
    lines = [
        rule,
        f"RAR-U-Net book | profile: {prof.name}",
        f"  {prof.description}",
        f"Python {platform.python_version()} | NumPy {np.__version__}",
        f"{tf_line} | devices: {dev_line}",
        f"Switch with {PROFILE_ENV_VAR}={'|'.join(available_profiles())} before starting Jupyter.",
    ]
    if not prof.paper_scale:
        lines += [
            f"NOTE: {prof.name}-profile numbers show that the method runs;",
            "      they are NOT the paper-scale result.",
        ]
    lines.append(rule)
    text = "\n".join(lines)
    if file is not False:
        print(text, file=file)
    return text


def seed_everything(seed: int, *, deterministic: bool | str = False) -> None:
    """Seed Python's ``random``, NumPy's legacy global generator and TensorFlow.

    Library functions take explicit ``seed``/``rng`` arguments and never rely on
    global state; this helper is for notebooks and scripts, so that Keras weight
    initialisation and shuffling repeat too.

    Parameters
    ----------
    seed : int
        Non-negative integer seed.
    deterministic : bool or "cpu", default False
        Also ask TensorFlow for deterministic kernels
        (``tf.config.experimental.enable_op_determinism``) and one inter-op
        thread, so that a CPU run repeats to the last digit; slower on GPU.
        ``"cpu"``: only where TensorFlow sees no GPU (what the command-line
        tools use).  Call it before anything else uses TensorFlow (else a
        warning).

    Raises
    ------
    TypeError
        If ``seed`` is not an integer.
    ValueError
        If ``seed`` is negative.

    Example
    -------
    >>> seed_everything(0)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if deterministic not in (True, False, "cpu"):
        raise ValueError(f"deterministic must be True, False or 'cpu', got {deterministic!r}")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeding third-party code that uses the legacy API
    try:
        import keras
        import tensorflow as tf
    except ImportError:
        return
    if deterministic == "cpu":
        deterministic = not _gpu_visible()
    if deterministic:
        # Deterministic kernels are not enough on CPU: with several inter-op threads, independent ops finish in a
        # varying order and gradient sums (residual branches) round differently from run to run (measured: a
        # Residual-UNet's epoch-1 loss varied in the 5th digit).  One inter-op thread fixes it; intra-op threads
        # (the parallel convolutions) stay.  It must be set before TensorFlow starts its runtime.
        try:
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            warnings.warn("seed_everything(deterministic=True) was called after TensorFlow started: runs on CPU "
                          "may differ in the last digits; call it first in the process", RuntimeWarning, stacklevel=2)
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(seed)

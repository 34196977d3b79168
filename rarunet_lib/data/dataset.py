"""The dataset recipe: a named source, preprocessed to the network size, with a patient-wise split.

One function, :func:`load_dataset`, turns a source name and a run profile into
the slices a run trains and is tested on, as a :class:`Dataset`.  NumPy/SciPy
only (no TensorFlow): the same arrays on every machine for the same arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from ..checks import check_choice, check_int
from ..config import Profile
from .case import Case
from .io import demo_names, load_csi2014, load_demo
from .phantom import synthetic_dataset
from .preprocess import prepare

__all__ = ["Dataset", "SOURCES", "TRAIN_SOURCES", "dataset_from_cases", "load_dataset"]

#: Source names besides the per-sample names of :func:`rarunet_lib.data.demo_names`.
SOURCES: tuple[str, ...] = ("phantom", "samples", "csi2014")
#: The sources that have training slices (the shipped samples are test-only).
TRAIN_SOURCES: tuple[str, ...] = ("phantom", "csi2014")


@dataclass(frozen=True)
class Dataset:
    """Training and test slices of one source, preprocessed, split patient-wise.

    Attributes
    ----------
    train_images, test_images : numpy.ndarray of float32, shape (N, size, size)
        Windowed and scaled to [0, 1].
    train_masks, test_masks : numpy.ndarray of uint8, shape (N, size, size)
    test_spacing : (float, float)
        In-plane pixel size in mm of the (first) test case after resizing.
    train_cases, test_cases : tuple of str
        Names of the cases, in the order of their slices.
    source : str
        The source name given to :func:`load_dataset`.
    profile : str
        Name of the profile it was loaded for.
    seed : int
        Seed of the first phantom case (recorded for every source).
    size : int
        Image side in pixels.

    Notes
    -----
    It reads like the dict that ``load_dataset`` returned before this class:
    ``data["train_images"]`` is ``data.train_images``; ``keys()`` and
    ``items()`` list the fields.
    """

    train_images: np.ndarray
    train_masks: np.ndarray
    test_images: np.ndarray
    test_masks: np.ndarray
    test_spacing: tuple[float, float]
    train_cases: tuple[str, ...]
    test_cases: tuple[str, ...]
    source: str
    profile: str
    seed: int
    size: int

    def __getitem__(self, key: str):
        if key not in {f.name for f in fields(self)}:
            raise KeyError(f"Dataset has no field {key!r}; fields: {', '.join(f.name for f in fields(self))}")
        return getattr(self, key)

    def keys(self) -> list[str]:
        """The field names, in order."""
        return [f.name for f in fields(self)]

    def items(self) -> list[tuple[str, object]]:
        """``(name, value)`` of every field, in order."""
        return [(k, getattr(self, k)) for k in self.keys()]

    def describe(self) -> dict:
        """What was loaded, as JSON-ready values (no arrays).

        Example
        -------
        >>> from rarunet_lib.config import get_profile
        >>> load_dataset("upper_abdomen_dicom", get_profile("quick"), size=32).describe()["n_test"]
        20
        """
        return {"source": self.source, "profile": self.profile, "seed": self.seed, "size": self.size,
                "n_train": int(len(self.train_images)), "n_test": int(len(self.test_images)),
                "train_cases": list(self.train_cases), "test_cases": list(self.test_cases),
                "test_spacing": [float(s) for s in self.test_spacing]}


def _check_size(size) -> int:
    size = check_int("size", size, min=16)
    if size % 16:
        raise ValueError(f"size={size} is not allowed; use a positive multiple of 16 (the networks pool four times)")
    return size


def dataset_from_cases(train_cases: Sequence[Case], test_cases: Sequence[Case], size: int, *, source: str,
                       profile: str = "", seed: int = 0) -> Dataset:
    """Preprocess given cases into a :class:`Dataset` (what :func:`load_dataset` does after reading).

    Parameters
    ----------
    train_cases : sequence of Case
        May be empty (a test-only dataset, e.g. the real samples).
    test_cases : sequence of Case
        At least one.
    size : int
        Network input side (a multiple of 16).
    source, profile : str
        Recorded in the result.
    seed : int, default 0
        Recorded in the result.

    Example
    -------
    >>> from rarunet_lib.data import synthetic_dataset
    >>> cases = synthetic_dataset(3, 2, 64, seed=5)
    >>> d = dataset_from_cases(cases[:-1], cases[-1:], 32, source="my phantom")
    >>> d.train_images.shape, d.train_cases == (cases[0].name, cases[1].name), d.test_cases == (cases[2].name,)
    ((4, 32, 32), True, True)
    """
    size = _check_size(size)
    if len(test_cases) == 0:
        raise ValueError("test_cases is empty; give at least one case to test on")
    if train_cases:
        x_tr, y_tr, _ = prepare(train_cases, size)
    else:
        x_tr, y_tr = np.zeros((0, size, size), np.float32), np.zeros((0, size, size), np.uint8)
    x_te, y_te, _ = prepare(test_cases, size)
    c = test_cases[0]
    fov = max(c.hu.shape[1] * c.spacing[1], c.hu.shape[2] * c.spacing[2])
    return Dataset(train_images=x_tr, train_masks=y_tr, test_images=x_te, test_masks=y_te,
                   test_spacing=(fov / size, fov / size), train_cases=tuple(t.name for t in train_cases),
                   test_cases=tuple(t.name for t in test_cases), source=source, profile=profile, seed=int(seed), size=size)


def load_dataset(source: str, profile: Profile, *, seed: int = 0, size: int | None = None,
                 workers: int = 1) -> Dataset:
    """Training and test slices of a named source, preprocessed, with a patient-wise split.

    Parameters
    ----------
    source : str
        ``"phantom"``: ``profile.n_cases`` synthetic cases (rendered at twice
        the network size, at most 512, as the paper's 512 -> 256), the last one
        for testing.  ``"csi2014"``: the paper's data from ``RARUNET_DATA_DIR``,
        cases 1-9 train, case 10 test.  ``"samples"``: every real CT sample
        shipped with the package, all for testing (no training slices);
        a sample's name (:func:`rarunet_lib.data.demo_names`): that sample alone,
        for testing.
    profile : Profile
        Its ``image_size``, ``n_cases``, ``slices_per_case``, ``slice_spacing``
        and ``phantom`` (the phantom's variation) are used.
    seed : int, default 0
        Seed of the first phantom case (case ``i`` has seed ``seed + i``).
    size : int, optional
        Network input side, a multiple of 16 (default ``profile.image_size``).
    workers : int, default 1
        Processes rendering the phantom (the result does not depend on it).

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For an unknown source, a size that is not a positive multiple of 16,
        a negative or non-integer seed or workers, or a phantom profile with
        fewer than 2 cases.

    Example
    -------
    >>> from rarunet_lib.config import get_profile
    >>> d = load_dataset("phantom", get_profile("quick"), size=32)
    >>> d.train_images.shape[1:], d.test_masks.dtype.name, d.train_cases[:1] == (d.test_cases[0],)
    ((32, 32), 'uint8', False)
    >>> load_dataset("phantom", get_profile("quick"), size=40)
    Traceback (most recent call last):
    ...
    ValueError: size=40 is not allowed; use a positive multiple of 16 (the networks pool four times)
    """
    allowed = (*SOURCES, *demo_names())
    check_choice("source", source, allowed)
    if not isinstance(profile, Profile):
        raise ValueError(f"profile={profile!r} is not allowed; use a rarunet_lib.config.Profile (get_profile(name))")
    size = profile.image_size if size is None else size
    size = _check_size(size)
    seed = check_int("seed", seed, min=0)
    workers = check_int("workers", workers, min=1)
    if source == "phantom":
        check_choice("profile.phantom", profile.phantom, ("csi", "wide", "random"))
        if profile.n_cases < 2:
            raise ValueError(f"profile.n_cases={profile.n_cases} is not allowed for the phantom; use at least 2 "
                             "(train and test)")
        cases = synthetic_dataset(profile.n_cases, profile.slices_per_case, min(2 * size, 512), seed=seed,
                                  slice_spacing=profile.slice_spacing, variation=profile.phantom,
                                  workers=workers)
        train_cases, test_cases = cases[:-1], cases[-1:]
    elif source == "csi2014":
        split = load_csi2014()
        train_cases, test_cases = split["train"], split["test"]
    else:
        train_cases, test_cases = [], [load_demo(n) for n in (demo_names() if source == "samples" else [source])]
    return dataset_from_cases(train_cases, test_cases, size, source=source, profile=profile.name, seed=seed)

"""The case object shared by the phantom and the real-data loaders (NumPy only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import ArgumentTypeError, check_array, describe, refuse

__all__ = ["Case"]


@dataclass(frozen=True)
class Case:
    """One CT scan: a stack of axial slices with vertebra labels.

    Attributes
    ----------
    hu : numpy.ndarray of int16, shape (slices, H, W)
        Hounsfield units.  Axial slices first, rows anterior to posterior,
        columns patient right to left (radiological display: anterior up,
        the patient's right on the image's left), slices inferior to superior.
    labels : numpy.ndarray of int, shape (slices, H, W), or None
        0 = background, > 0 = vertebra (one id per vertebra where known).
    spacing : tuple of 3 floats
        Voxel size (z, y, x) in millimetres.
    name : str
        Identifier (file name, ``"phantom-seed3"``...).
    meta : dict
        Provenance and per-case parameters (source, licence, level range...).

    Float ``hu`` is rounded to the nearest integer; NaN, inf and values
    beyond the int16 range (-32768 to 32767) are **refused**, not clipped
    (a cast would turn NaN into 0 HU, water, and wrap 1e6 around).

    Raises
    ------
    TypeError
        If ``hu`` or ``labels`` is not numeric (bool ``hu`` included), the
        spacing is not numbers, ``name`` is not a str or ``meta`` not a dict.
    ValueError
        If the arrays are not 3-D, the case is empty, shapes differ, ``hu``
        holds NaN, inf or values beyond int16, the labels are not
        non-negative integers, or the spacing is not 3 positive numbers.

    Example
    -------
    >>> import numpy as np
    >>> c = Case(np.zeros((2, 16, 16), np.int16), np.zeros((2, 16, 16), np.uint8), (1.0, 0.8, 0.8))
    >>> c.n_slices, c.mask.dtype
    (2, dtype('uint8'))
    """

    hu: np.ndarray
    labels: np.ndarray | None
    spacing: tuple[float, float, float]
    name: str = "case"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        hu = check_array("hu", self.hu, ndim=3, kinds="iuf", nonempty=False)
        if hu.size == 0:
            raise ValueError(f"the case is empty: hu has shape {hu.shape}; use at least one slice of 1x1")
        if hu.dtype != np.int16:
            hu = check_array("hu", hu)  # NaN and inf refused
            if hu.min() < -32768 or hu.max() > 32767:
                raise ValueError(f"hu={describe(hu)} holds values from {hu.min()} to {hu.max()}; "
                                 "use HU within the int16 range -32768 to 32767")
            hu = (np.rint(hu) if hu.dtype.kind == "f" else hu).astype(np.int16)
        object.__setattr__(self, "hu", hu)
        if self.labels is not None:
            lab = check_array("labels", self.labels, kinds="biuf", finite=False, nonempty=False)
            if lab.shape != hu.shape:
                raise ValueError(f"labels shape {lab.shape} does not match image shape {hu.shape} "
                                 "(no broadcasting)")
            if lab.dtype == bool:
                lab = lab.astype(np.uint8)
            if not np.issubdtype(lab.dtype, np.integer):
                if not np.all(np.mod(lab, 1) == 0):
                    raise ValueError(f"labels must be integers, got non-integer values (dtype {lab.dtype})")
                lab = lab.astype(np.int32)
            if lab.min() < 0:
                raise ValueError(f"labels={describe(lab)} holds negative ids (min {lab.min()}); "
                                 "use 0 for background and positive ids for vertebrae")
            object.__setattr__(self, "labels", lab)
        allowed = "3 positive numbers (z, y, x) in mm"
        sp_in = np.asarray(self.spacing)
        if sp_in.dtype.kind not in "iuf":
            raise refuse("spacing", self.spacing, allowed, ArgumentTypeError)
        if sp_in.shape not in ((), (3,)):
            raise refuse("spacing", self.spacing, allowed)
        sp = tuple(float(s) for s in np.broadcast_to(sp_in.astype(float), (3,)))
        if not all(np.isfinite(s) and s > 0 for s in sp):
            raise ValueError(f"spacing must be 3 positive numbers (z, y, x) in mm, got {self.spacing!r}")
        object.__setattr__(self, "spacing", sp)
        if not isinstance(self.name, str):
            raise refuse("name", self.name, "a str", ArgumentTypeError)
        if not isinstance(self.meta, dict):
            raise refuse("meta", self.meta, "a dict", ArgumentTypeError)

    @property
    def n_slices(self) -> int:
        """Number of axial slices."""
        return int(self.hu.shape[0])

    @property
    def mask(self) -> np.ndarray:
        """Binary whole-vertebra mask (labels > 0) as uint8.

        Raises
        ------
        ValueError
            If the case has no labels.
        """
        if self.labels is None:
            raise ValueError(f"case {self.name!r} has no labels")
        return (self.labels > 0).astype(np.uint8)

    def __repr__(self) -> str:
        lab = "no labels" if self.labels is None else f"{int((self.labels > 0).any(axis=(1, 2)).sum())} slices with vertebra"
        return (f"Case({self.name!r}, {self.hu.shape[0]} slices of {self.hu.shape[1]}x{self.hu.shape[2]}, "
                f"spacing {tuple(round(s, 3) for s in self.spacing)} mm, {lab})")

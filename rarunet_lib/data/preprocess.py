"""One preprocessing path for phantom and real CT (NumPy/scikit-image only).

``preprocess`` turns a :class:`~rarunet_lib.data.case.Case` into network input:
HU window -> [0, 1] -> pad to square (air) -> resize to ``size`` x ``size``;
masks become {0, 1} by a documented rule.  Then the dataset helpers: a
patient-wise split, a seeded validation split, +-90 degree rotations and
2.5-D stacks (neighbouring slices as channels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from skimage.transform import resize

from ..checks import (
    ArgumentTypeError,
    check_array,
    check_choice,
    check_int,
    check_mask,
    check_number,
    check_seed,
    describe,
    refuse,
)
from .case import Case

__all__ = [
    "DEFAULT_WINDOW",
    "MASK_RULES",
    "apply_window",
    "resize_masks",
    "preprocess",
    "prepare",
    "validation_split",
    "rotate90",
    "stack_neighbours",
]

#: Default HU window: soft tissue to dense bone (vertebral bodies stay distinct from muscle).
DEFAULT_WINDOW: tuple[float, float] = (-250.0, 1250.0)
#: Mask resizing rules (see :func:`resize_masks`).
MASK_RULES: tuple[str, ...] = ("area", "nearest", "bicubic_gt0")


def _check_window(window) -> tuple[float, float]:
    allowed = "(low, high) in HU, two finite numbers with low < high"
    if isinstance(window, (str, bytes)) or not isinstance(window, (Sequence, np.ndarray)):
        raise refuse("window", window, allowed, ArgumentTypeError)
    if len(window) != 2:
        raise refuse("window", window, allowed)
    lo, hi = (check_number(f"window[{i}]", w) for i, w in enumerate(window))
    if not lo < hi:
        raise ValueError(f"window low end must be below its high end, got window={window!r}")
    return lo, hi


def _check_size(size, *, multiple: int = 1) -> int:
    size = check_int("size", size, min=multiple)
    if size % multiple:
        raise refuse("size", size, f"a positive multiple of {multiple}")
    return size


def apply_window(hu, window=DEFAULT_WINDOW) -> np.ndarray:
    """Clip HU to ``window`` and scale to [0, 1] (float32).

    Raises
    ------
    TypeError
        If ``hu`` is not numeric or ``window`` not a pair of numbers.
    ValueError
        If ``hu`` is empty or holds NaN/inf, or the window is not finite with low < high.

    Example
    -------
    >>> apply_window([-1000, 500, 2000]).tolist()
    [0.0, 0.5, 1.0]
    """
    lo, hi = _check_window(window)
    hu = check_array("hu", hu, kinds="iuf")
    x = (hu.astype(np.float32) - lo) / (hi - lo)
    return np.clip(x, 0.0, 1.0)


def _pad_square(a: np.ndarray, value) -> np.ndarray:
    h, w = a.shape[-2:]
    if h == w:
        return a
    n = max(h, w)
    top, left = (n - h) // 2, (n - w) // 2
    pad = [(0, 0)] * (a.ndim - 2) + [(top, n - h - top), (left, n - w - left)]
    return np.pad(a, pad, constant_values=value)


def resize_masks(masks, size: int, rule: str = "area") -> np.ndarray:
    """Resize binary masks ``(n, H, W)`` to ``(n, size, size)`` (uint8 {0, 1}).

    Parameters
    ----------
    masks : array_like, shape (n, H, W)
        Binary masks (square: pad first).
    size : int
        Output side.
    rule : {"area", "nearest", "bicubic_gt0"}, default "area"
        ``"area"``: a pixel is vertebra when at least half of its area was
        (anti-aliased linear resize, threshold 0.5): unbiased.
        ``"nearest"``: nearest neighbour.
        ``"bicubic_gt0"``: the authors' public code, bicubic resize and
        threshold ``> 0``: every pixel that touches the mask becomes mask, which
        dilates it.

    Raises
    ------
    TypeError, ValueError
        For masks that are not a non-empty stack of square binary masks, a
        size that is not a positive integer, or an unknown rule.

    Example
    -------
    >>> m = np.zeros((1, 8, 8), np.uint8); m[0, 2:6, 2:6] = 1
    >>> int(resize_masks(m, 4)[0].sum()), int(resize_masks(m, 4, "bicubic_gt0")[0].sum())
    (4, 8)
    """
    return _resize_masks(_check_square_masks(masks), _check_size(size), check_choice("rule", rule, MASK_RULES))


def _check_square_masks(masks, name: str = "masks") -> np.ndarray:
    m = check_mask(name, masks, ndim=3, floats=True)
    if m.shape[1] != m.shape[2]:
        raise refuse(name, m, "square masks (n, H, H); pad first")
    return m


def _resize_masks(masks: np.ndarray, size: int, rule: str) -> np.ndarray:
    m = masks.astype(np.float32)
    shape = (m.shape[0], size, size)
    if rule == "nearest":
        out = resize(m, shape, order=0, anti_aliasing=False, preserve_range=True) > 0.5
    elif rule == "area":
        out = resize(m, shape, order=1, anti_aliasing=True, preserve_range=True) >= 0.5
    else:
        out = resize(m, shape, order=3, anti_aliasing=False, preserve_range=True) > 1e-6
    return out.astype(np.uint8)


def preprocess(
    case: Case,
    size: int = 256,
    window: Sequence[float] = DEFAULT_WINDOW,
    *,
    mask_rule: str = "area",
) -> tuple[np.ndarray, np.ndarray]:
    """Window, scale, pad to square and resize a case.

    Parameters
    ----------
    case : Case
        Phantom or real case (with labels).
    size : int, default 256
        Output side; divisible by 16 (the networks pool four times).
    window : (low, high), default (-250, 1250)
        HU window mapped to [0, 1].
    mask_rule : {"area", "nearest", "bicubic_gt0"}, default "area"
        See :func:`resize_masks`.

    Returns
    -------
    images : numpy.ndarray of float32, shape (slices, size, size), in [0, 1]
    masks : numpy.ndarray of uint8, shape (slices, size, size), in {0, 1}

    Raises
    ------
    TypeError
        If ``case`` is not a Case, ``size`` not an int (bools and floats
        refused), ``window`` not a pair of numbers.
    ValueError
        For a size not divisible by 16, a bad window or mask rule, or a case
        without labels.

    Example
    -------
    >>> from rarunet_lib.data import synthetic_case
    >>> x, y = preprocess(synthetic_case(0, n_slices=2, size=64), size=32)
    >>> x.shape, x.dtype.name, y.dtype.name
    ((2, 32, 32), 'float32', 'uint8')
    """
    _check_case(case, "case")
    size = _check_size(size, multiple=16)
    _check_window(window)
    check_choice("mask_rule", mask_rule, MASK_RULES)
    return _preprocess(case, size, window, mask_rule)


def _check_case(case, name: str) -> None:
    if not isinstance(case, Case):
        raise ArgumentTypeError(f"{name} must be a Case, got {type(case).__name__}")
    if case.labels is None:
        raise ValueError(f"{name}={case.name!r} has no labels; preprocess needs a labelled case")


def _preprocess(case: Case, size: int, window, mask_rule: str) -> tuple[np.ndarray, np.ndarray]:
    images = apply_window(_pad_square(case.hu, -1024), window)
    masks = _pad_square(case.mask, 0)
    if images.shape[-1] != size:
        images = resize(images, (images.shape[0], size, size), order=1, anti_aliasing=True,
                        preserve_range=True).astype(np.float32)
        masks = _resize_masks(masks, size, mask_rule)
    return np.clip(images, 0.0, 1.0), masks.astype(np.uint8)


def prepare(cases: Sequence[Case], size: int, window=DEFAULT_WINDOW, *, mask_rule: str = "area"):
    """Preprocess several cases and stack them.

    Returns
    -------
    images : (N, size, size) float32
    masks : (N, size, size) uint8
    case_index : (N,) int
        Which case each slice came from (for patient-wise splits and 2.5-D stacks).

    Example
    -------
    >>> from rarunet_lib.data import synthetic_dataset
    >>> x, y, idx = prepare(synthetic_dataset(2, 3, 32), 32)
    >>> x.shape, idx.tolist()
    ((6, 32, 32), [0, 0, 0, 1, 1, 1])
    """
    if isinstance(cases, (Case, str)) or not isinstance(cases, Sequence):
        raise refuse("cases", cases, "a sequence of Case objects", ArgumentTypeError)
    if len(cases) == 0:
        raise ValueError("cases is empty; use at least one Case")
    for i, c in enumerate(cases):
        _check_case(c, f"cases[{i}]")
    size = _check_size(size, multiple=16)
    _check_window(window)
    check_choice("mask_rule", mask_rule, MASK_RULES)
    parts = [_preprocess(c, size, window, mask_rule) for c in cases]
    images = np.concatenate([p[0] for p in parts])
    masks = np.concatenate([p[1] for p in parts])
    case_index = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
    return images, masks, case_index


def validation_split(n: int, fraction: float = 0.1, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``n`` training slices: (train indices, validation indices).

    The paper validates on 10 % of the training data.  Both index arrays are sorted.

    Example
    -------
    >>> tr, va = validation_split(20, 0.1, seed=0)
    >>> len(tr), len(va)
    (18, 2)
    """
    n = check_int("n", n, min=2)
    fraction = check_number("fraction", fraction, min=0, max=1, min_open=True, max_open=True)
    check_seed("seed", seed, none=False)
    n_val = max(1, round(fraction * n))
    if n_val >= n:
        raise ValueError(f"fraction={fraction!r} of n={n} leaves no training slice; use a smaller fraction")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def rotate90(images, masks, k) -> tuple[np.ndarray, np.ndarray]:
    """Rotate images and masks ``(n, H, W[, C])`` by ``k`` quarter turns (per slice or all).

    ``k`` is an int or an array of ints (one per slice) in {-1, 0, 1} for the
    paper's +-90 degree augmentation (any integer works).

    Example
    -------
    >>> x = np.arange(4).reshape(1, 2, 2)
    >>> rotate90(x, x, 1)[0][0].tolist()
    [[1, 3], [0, 2]]
    """
    x = check_array("images", images, ndim=(3, 4))
    y = check_array("masks", masks, ndim=(3, 4))
    if x.shape[:3] != y.shape[:3]:
        raise ValueError(f"images and masks must have the same (n, H, W), got {x.shape} and {y.shape}")
    kk = np.asarray(k)
    if kk.dtype.kind not in "iu":
        raise refuse("k", k, "an int or an array of ints, one per slice", ArgumentTypeError)
    if kk.shape not in ((), (x.shape[0],)):
        raise refuse("k", k, f"an int or {x.shape[0]} ints (one per slice)")
    ks = np.broadcast_to(kk.astype(int), (x.shape[0],))
    if x.shape[1] != x.shape[2] and np.any(ks % 2):
        raise refuse("images", x, "square slices (n, H, H) for quarter turns")
    xo, yo = x.copy(), y.copy()
    for kk in np.unique(ks):
        sel = ks == kk
        xo[sel] = np.rot90(x[sel], kk, axes=(1, 2))
        yo[sel] = np.rot90(y[sel], kk, axes=(1, 2))
    return xo, yo


def stack_neighbours(images, case_index, k: int = 1) -> np.ndarray:
    """2.5-D input: each slice with its ``k`` neighbours on each side as channels.

    Neighbours never cross from one case into another: at a case's first and
    last slices the edge slice is repeated.

    Parameters
    ----------
    images : (N, H, W)
    case_index : (N,) int
        Case of each slice (slices of a case consecutive and in order).
    k : int, default 1
        Neighbours per side; output has ``2k + 1`` channels, the slice itself
        in the middle.

    Returns
    -------
    numpy.ndarray, shape (N, H, W, 2k + 1)

    Example
    -------
    >>> x = np.arange(3, dtype=float)[:, None, None] * np.ones((3, 2, 2))
    >>> stack_neighbours(x, [0, 0, 0], 1)[0, 0, 0].tolist()
    [0.0, 0.0, 1.0]
    """
    x = check_array("images", images, ndim=3)
    idx = check_array("case_index", case_index, kinds="iu", nonempty=False)
    if idx.shape != (x.shape[0],):
        raise ValueError(f"images must be (N, H, W) and case_index (N,), got {x.shape} and {idx.shape}")
    k = check_int("k", k, min=0)
    starts_of_runs = idx[np.r_[True, idx[1:] != idx[:-1]]]
    if np.unique(starts_of_runs).size != starts_of_runs.size:
        raise ValueError(f"case_index={describe(idx)} is not allowed; use consecutive slices per case "
                         "(each case one run)")
    n = x.shape[0]
    pos = np.arange(n)
    new = np.r_[True, idx[1:] != idx[:-1]]  # first slice of each run of one case
    starts = np.maximum.accumulate(np.where(new, pos, 0))
    last = np.r_[idx[1:] != idx[:-1], True]
    ends = np.minimum.accumulate(np.where(last, pos, n - 1)[::-1])[::-1]
    chans = [x[np.clip(pos + d, starts, ends)] for d in range(-k, k + 1)]
    return np.stack(chans, axis=-1)

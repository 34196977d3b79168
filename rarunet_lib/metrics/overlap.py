"""Inputs and overlap measures (Tables 1, 4, 5): Dice, IoU, accuracy, precision, recall, specificity."""

from __future__ import annotations

import numpy as np

from ..checks import (
    check_mask,
    check_same_shape,
    refuse,
)


# --------------------------------------------------------------------------- inputs
def as_mask(x, name: str = "mask") -> np.ndarray:
    """Validate a binary mask and return it as a boolean array.

    Parameters
    ----------
    x : array_like
        Boolean array, or integer array whose values are only 0 and 1.
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    TypeError
        For float, complex, object or string arrays (and None).
    ValueError
        For integer arrays with values other than 0 and 1, 0-d or empty input.

    Example
    -------
    >>> as_mask([[0, 1], [1, 0]]).dtype
    dtype('bool')
    """
    a = np.asarray(x)
    if a.ndim == 0 and a.dtype.kind in "biu":
        raise ValueError(f"{name}={a.item()!r} is not allowed; use an array with at least one dimension")
    if a.dtype.kind not in "biu":
        raise refuse(name, x if a.ndim else a.item(), "a boolean array or an integer array of 0/1 "
                     "(threshold probabilities first, e.g. prob > 0.5)", TypeError)
    return check_mask(name, a)

def _pair(gt, pred, names: tuple[str, str] = ("gt", "pred")) -> tuple[np.ndarray, np.ndarray]:
    g, m = as_mask(gt, names[0]), as_mask(pred, names[1])
    check_same_shape(names, g, m)
    return g, m

def _crop(g: np.ndarray, m: np.ndarray, margin: int) -> tuple[np.ndarray, np.ndarray]:
    """Crop both masks to the bounding box of their union plus ``margin`` pixels.

    Boundaries, distances between boundaries and window sums only involve
    pixels near the masks, so cropping changes no result (pixels outside the
    array count as background either way) but saves most of the work on
    slices where the spine covers a few percent of the image.
    """
    union = g | m
    if not union.any():
        return g[tuple(slice(0, 0) for _ in g.shape)], m[tuple(slice(0, 0) for _ in m.shape)]
    box = []
    for axis in range(g.ndim):
        other = tuple(a for a in range(g.ndim) if a != axis)
        idx = np.flatnonzero(union.any(axis=other))
        box.append(slice(max(idx[0] - margin, 0), min(idx[-1] + margin + 1, g.shape[axis])))
    box = tuple(box)
    return g[box], m[box]

def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


# --------------------------------------------------------------------------- overlap
def confusion(gt, pred) -> tuple[int, int, int, int]:
    """Return ``(TP, FP, FN, TN)`` pixel counts.

    Example
    -------
    >>> confusion([1, 1, 0, 0], [1, 0, 1, 0])
    (1, 1, 1, 1)
    """
    g, m = _pair(gt, pred)
    tp = int(np.count_nonzero(g & m))
    fp = int(np.count_nonzero(m)) - tp
    fn = int(np.count_nonzero(g)) - tp
    return tp, fp, fn, g.size - tp - fp - fn

def _overlap_from_counts(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    both_empty = tp + fp + fn == 0
    return {
        "dice": 1.0 if both_empty else _ratio(2 * tp, 2 * tp + fp + fn),
        "iou": 1.0 if both_empty else _ratio(tp, tp + fp + fn),
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
    }

def dice(gt, pred) -> float:
    """Dice = 2TP / (2TP + FP + FN); 1 when both masks are empty.

    Example
    -------
    >>> dice([1, 1, 0, 0], [1, 0, 1, 0])
    0.5
    """
    return _overlap_from_counts(*confusion(gt, pred))["dice"]

def iou(gt, pred) -> float:
    """Intersection over union, TP / (TP + FP + FN); 1 when both are empty.

    Example
    -------
    >>> round(iou([1, 1, 0, 0], [1, 0, 1, 0]), 4)
    0.3333
    """
    return _overlap_from_counts(*confusion(gt, pred))["iou"]

def accuracy(gt, pred) -> float:
    """(TP + TN) / all pixels.

    Example
    -------
    >>> accuracy([1, 1, 0, 0], [1, 0, 1, 0])
    0.5
    """
    return _overlap_from_counts(*confusion(gt, pred))["accuracy"]

def precision(gt, pred) -> float:
    """TP / (TP + FP); NaN for an empty prediction.

    Example
    -------
    >>> precision([1, 1, 0, 0], [1, 0, 0, 0])
    1.0
    """
    return _overlap_from_counts(*confusion(gt, pred))["precision"]

def recall(gt, pred) -> float:
    """TP / (TP + FN) (sensitivity); NaN for an empty ground truth.

    Example
    -------
    >>> recall([1, 1, 0, 0], [1, 0, 0, 0])
    0.5
    """
    return _overlap_from_counts(*confusion(gt, pred))["recall"]

def specificity(gt, pred) -> float:
    """TN / (TN + FP); NaN when the ground truth has no background.

    Example
    -------
    >>> specificity([1, 1, 0, 0], [1, 0, 1, 0])
    0.5
    """
    return _overlap_from_counts(*confusion(gt, pred))["specificity"]

"""Segmentation measures of the paper's Tables 1-5 (NumPy/SciPy only).

Overlap (Tables 1, 4, 5): :func:`dice`, :func:`iou`, :func:`accuracy`,
:func:`precision`, :func:`recall`, :func:`specificity`.
Distance (Table 2): :func:`hausdorff`, :func:`hd95`, :func:`assd`, :func:`rvd`.
Boundary Dice family (Table 3, Eqs. 6-7; Yeghiazaryan and Voiculescu 2018):
:func:`dbd_g`, :func:`dbd_m`, :func:`sbd`.
All of them for one pair: :func:`evaluate_pair`; for a stack of slices with a
choice of aggregation: :func:`evaluate`.

Conventions (see the book's chapter 4 and ``shared/spec/metrics-noise-adl.md``)
-------------------------------------------------------------------------------
* Inputs are boolean arrays or integer arrays holding only 0 and 1, of equal
  shape (shapes that only broadcast are refused), 2-D (one slice) or n-D, not
  empty.  Anything else raises ``ValueError``/``TypeError``.
* The boundary of a mask X is X minus its erosion by the cross-shaped
  (face-connected) structuring element, pixels outside the array counting as
  background (medpy's convention with connectivity 1).
* Undefined values are never turned into 0: Dice and IoU are 1 when both masks
  are empty; any other 0/0 is NaN; a distance from an empty mask to a
  non-empty one is +inf, between two empty masks NaN; RVD is NaN when the
  ground truth is empty.
* Distances are in pixels, or in physical units with ``spacing``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from .checks import (
    ArgumentTypeError,
    check_bool,
    check_choice,
    check_int,
    check_mask,
    check_same_shape,
    describe,
    refuse,
)

__all__ = [
    "MEASURES",
    "as_mask",
    "confusion",
    "dice",
    "iou",
    "accuracy",
    "precision",
    "recall",
    "specificity",
    "boundary",
    "surface_distances",
    "hausdorff",
    "hd95",
    "assd",
    "rvd",
    "von_neumann",
    "boundary_dice_scores",
    "dbd_g",
    "dbd_m",
    "sbd",
    "evaluate_pair",
    "evaluate",
    "worst_slices",
]

#: Keys returned by :func:`evaluate_pair`, in order.
MEASURES: tuple[str, ...] = (
    "dice", "iou", "accuracy", "precision", "recall", "specificity",
    "hd", "hd95", "assd", "rvd", "rvd_signed", "dbd_g", "dbd_m", "sbd",
)

_OVERLAP = ("dice", "iou", "accuracy", "precision", "recall", "specificity")


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


# --------------------------------------------------------------------------- distances
def _cross(ndim: int) -> np.ndarray:
    return ndimage.generate_binary_structure(ndim, 1)


def boundary(mask) -> np.ndarray:
    """Inner boundary: the mask minus its erosion by the face-connected cross.

    Pixels outside the array count as background, so foreground on the array
    edge is boundary.

    Example
    -------
    >>> int(boundary(np.ones((3, 3), bool)).sum())  # all but the centre
    8
    """
    return _boundary(as_mask(mask))


def _boundary(m: np.ndarray) -> np.ndarray:
    return m & ~ndimage.binary_erosion(m, structure=_cross(m.ndim), border_value=0)


def _spacing(spacing, ndim: int):
    if spacing is None:
        return None
    allowed = f"{ndim} positive finite numbers (or one)"
    s = np.asarray(spacing)
    if s.dtype.kind not in "iuf":
        raise refuse("spacing", spacing, allowed, ArgumentTypeError)
    s = np.broadcast_to(s.astype(float), (ndim,)) if s.ndim == 0 else s.astype(float)
    if s.shape != (ndim,) or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise refuse("spacing", spacing, allowed)
    return s


def surface_distances(gt, pred, *, spacing=None) -> tuple[np.ndarray, np.ndarray]:
    """Distances from each boundary pixel of one mask to the other's boundary.

    Parameters
    ----------
    gt, pred : array_like
        Binary masks of equal shape.
    spacing : float or sequence of float, optional
        Pixel size per axis; distances are in pixels when omitted.

    Returns
    -------
    (d_pred_to_gt, d_gt_to_pred) : tuple of 1-D float arrays
        For every boundary pixel of ``pred`` (resp. ``gt``), the Euclidean
        distance to the nearest boundary pixel of ``gt`` (resp. ``pred``).
        Empty when the source mask is empty; +inf entries when the target is.

    Example
    -------
    >>> a = np.zeros((5, 5), bool); a[1:4, 1:4] = True
    >>> b = np.roll(a, 1, axis=1)
    >>> [float(d.max()) for d in surface_distances(a, b)]
    [1.0, 1.0]
    """
    g, m = _pair(gt, pred)
    sp = _spacing(spacing, g.ndim)
    g, m = _crop(g, m, 1)
    bg, bm = _boundary(g), _boundary(m)

    def directed(src, dst):
        if not src.any():
            return np.empty(0)
        if not dst.any():
            return np.full(int(src.sum()), np.inf)
        return ndimage.distance_transform_edt(~dst, sampling=sp)[src]

    return directed(bm, bg), directed(bg, bm)


def _distance_summary(d_mg: np.ndarray, d_gm: np.ndarray) -> dict[str, float]:
    """HD, HD95 and ASSD (pooled and mean-of-means) from directed distances."""
    nan = float("nan")
    if d_mg.size == 0 and d_gm.size == 0:
        return {"hd": nan, "hd95": nan, "assd": nan, "assd_mean_of_means": nan}
    if d_mg.size == 0 or d_gm.size == 0:
        inf = float("inf")
        return {"hd": inf, "hd95": inf, "assd": inf, "assd_mean_of_means": inf}
    both = np.concatenate([d_mg, d_gm])
    return {
        "hd": float(max(d_mg.max(), d_gm.max())),
        "hd95": float(np.percentile(both, 95)),
        "assd": float(both.mean()),
        "assd_mean_of_means": float((d_mg.mean() + d_gm.mean()) / 2),
    }


def hausdorff(gt, pred, *, spacing=None) -> float:
    """Hausdorff distance between the boundaries (max of both directed maxima).

    Example
    -------
    >>> a = np.zeros((8, 8), bool); a[2:5, 2:5] = True
    >>> hausdorff(a, np.roll(a, 2, axis=0))
    2.0
    """
    return _distance_summary(*surface_distances(gt, pred, spacing=spacing))["hd"]


def hd95(gt, pred, *, spacing=None) -> float:
    """95th percentile of the pooled boundary distances of both directions.

    Example
    -------
    >>> a = np.zeros((8, 8), bool); a[2:5, 2:5] = True
    >>> hd95(a, a)
    0.0
    """
    return _distance_summary(*surface_distances(gt, pred, spacing=spacing))["hd95"]


def assd(gt, pred, *, spacing=None, variant: str = "pooled") -> float:
    """Average symmetric surface distance.

    Parameters
    ----------
    gt, pred : array_like
        Binary masks.
    spacing : optional
        Pixel size per axis.
    variant : {"pooled", "mean_of_means"}, default "pooled"
        ``"pooled"``: sum of all distances of both directions over the number
        of boundary pixels of both masks.  ``"mean_of_means"``: the mean of
        the two directed means (medpy's ``assd``).

    Example
    -------
    >>> a = np.zeros((8, 8), bool); a[2:5, 2:5] = True
    >>> assd(a, np.roll(a, 1, axis=1))
    0.5
    """
    check_choice("variant", variant, ("pooled", "mean_of_means"))
    s = _distance_summary(*surface_distances(gt, pred, spacing=spacing))
    return s["assd"] if variant == "pooled" else s["assd_mean_of_means"]


def rvd(gt, pred, *, signed: bool = False) -> float:
    """Relative volume difference (|M| - |G|) / |G|; absolute value by default.

    The paper's "RVD in [0, 1], smaller is better" is the absolute value.
    NaN when the ground truth is empty.

    Example
    -------
    >>> rvd([1, 1, 0, 0], [1, 1, 1, 0], signed=True)
    0.5
    """
    g, m = _pair(gt, pred)
    signed = check_bool("signed", signed)
    ng = int(g.sum())
    if ng == 0:
        return float("nan")
    r = (int(m.sum()) - ng) / ng
    return float(r if signed else abs(r))


# --------------------------------------------------------------------------- boundary Dice
def von_neumann(radius: int, ndim: int = 2) -> np.ndarray:
    """The von Neumann neighbourhood {y : |y|_1 <= radius} as a boolean kernel.

    Example
    -------
    >>> von_neumann(1).astype(int)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]])
    """
    radius = check_int("radius", radius, min=0)
    ndim = check_int("ndim", ndim, min=1)
    grid = np.indices((2 * radius + 1,) * ndim) - radius
    return np.abs(grid).sum(axis=0) <= radius


def boundary_dice_scores(gt, pred, *, radius: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Window Dice at every boundary pixel of ``gt`` and of ``pred`` (Eqs. 6-7).

    For a boundary pixel x with window N_x (von Neumann, range ``radius``,
    clipped to the array): ``Dice(N_x) = 2|G & M & N_x| / (|G & N_x| + |M & N_x|)``.

    Returns
    -------
    (scores_on_gt_boundary, scores_on_pred_boundary) : tuple of 1-D arrays

    Example
    -------
    >>> a = np.zeros((6, 6), bool); a[1:5, 1:5] = True
    >>> [float(s.mean()) for s in boundary_dice_scores(a, a)]
    [1.0, 1.0]
    """
    g, m = _pair(gt, pred)
    k = von_neumann(radius, g.ndim).astype(np.int64)  # checks radius
    g, m = _crop(g, m, radius + 1)

    def window_sum(a):
        return ndimage.correlate(a.astype(np.int64), k, mode="constant", cval=0)

    inter, sg, sm = window_sum(g & m), window_sum(g), window_sum(m)

    def at(points):
        den = sg[points] + sm[points]  # >= 1 on either boundary
        return 2.0 * inter[points] / den

    return at(_boundary(g)), at(_boundary(m))


def _boundary_summary(on_g: np.ndarray, on_m: np.ndarray) -> dict[str, float]:
    nan = float("nan")
    n = on_g.size + on_m.size
    return {
        "dbd_g": float(on_g.mean()) if on_g.size else nan,
        "dbd_m": float(on_m.mean()) if on_m.size else nan,
        "sbd": float((on_g.sum() + on_m.sum()) / n) if n else 1.0,
    }


def dbd_g(gt, pred, *, radius: int = 1) -> float:
    """Directed boundary Dice relative to the ground truth (Eq. 6); NaN if G is empty.

    Example
    -------
    >>> a = np.zeros((6, 6), bool); a[1:5, 1:5] = True
    >>> dbd_g(a, a)
    1.0
    """
    return _boundary_summary(*boundary_dice_scores(gt, pred, radius=radius))["dbd_g"]


def dbd_m(gt, pred, *, radius: int = 1) -> float:
    """Directed boundary Dice relative to the machine segmentation; NaN if M is empty.

    Example
    -------
    >>> a = np.zeros((6, 6), bool); a[1:5, 1:5] = True
    >>> dbd_m(a, np.zeros_like(a) | a)
    1.0
    """
    return _boundary_summary(*boundary_dice_scores(gt, pred, radius=radius))["dbd_m"]


def sbd(gt, pred, *, radius: int = 1) -> float:
    """Symmetric boundary Dice (Eq. 7); 1 when both masks are empty.

    Example
    -------
    >>> a = np.zeros((6, 6), bool); a[1:5, 1:5] = True
    >>> sbd(a, np.zeros_like(a))
    0.0
    """
    return _boundary_summary(*boundary_dice_scores(gt, pred, radius=radius))["sbd"]


# --------------------------------------------------------------------------- all together
def evaluate_pair(gt, pred, *, spacing=None, radius: int = 1) -> dict[str, float]:
    """Every measure of the paper for one pair of masks.

    Parameters
    ----------
    gt, pred : array_like
        Binary masks of equal shape (bool, or integers 0/1).
    spacing : float or sequence, optional
        Pixel size per axis for the distance measures (pixels when omitted).
    radius : int, default 1
        Range of the von Neumann window of the boundary Dice family.

    Returns
    -------
    dict
        Keys :data:`MEASURES`: ``dice iou accuracy precision recall
        specificity hd hd95 assd rvd rvd_signed dbd_g dbd_m sbd``.

    Example
    -------
    >>> a = np.zeros((8, 8), bool); a[2:6, 2:6] = True
    >>> r = evaluate_pair(a, a)
    >>> r["dice"], r["hd"], r["sbd"]
    (1.0, 0.0, 1.0)
    """
    g, m = _pair(gt, pred)
    _spacing(spacing, g.ndim)
    check_int("radius", radius, min=0)
    out = _overlap_from_counts(*confusion(g, m))
    dist = _distance_summary(*surface_distances(g, m, spacing=spacing))
    out.update(hd=dist["hd"], hd95=dist["hd95"], assd=dist["assd"])
    out["rvd_signed"] = rvd(g, m, signed=True)
    out["rvd"] = abs(out["rvd_signed"])
    out.update(_boundary_summary(*boundary_dice_scores(g, m, radius=radius)))
    return {k: out[k] for k in MEASURES}


def evaluate(
    gt_stack,
    pred_stack,
    *,
    aggregate: str = "pooled",
    spacing: Sequence[float] | float | None = None,
    radius: int = 1,
) -> dict:
    """Score a stack of slices ``(n, H, W)``.

    Parameters
    ----------
    gt_stack, pred_stack : array_like, shape (n, H, W)
        Binary masks.
    aggregate : {"pooled", "per_slice", "volume"}, default "pooled"
        ``"pooled"``: overlap measures from one confusion matrix summed over
        all slices (what Table 1 implies); distance and boundary measures pool
        the boundary pixels of all slices (distances measured within each
        slice), RVD uses the summed volumes.
        ``"per_slice"``: :func:`evaluate_pair` on every slice, then the mean
        over the slices where a measure is finite (what Table 2 implies).
        ``"volume"``: the stack as one 3-D volume (3-D boundaries, distances
        and windows).
    spacing : optional
        In-plane ``(dy, dx)`` for pooled/per-slice, ``(dz, dy, dx)`` for volume.
    radius : int, default 1
        Boundary Dice window range.

    Returns
    -------
    dict
        The :data:`MEASURES` plus ``n_slices`` and ``skipped``: for each
        measure, how many slices were left out as undefined (per-slice: NaN or
        inf; pooled: slices whose distances are undefined).

    Example
    -------
    >>> g = np.zeros((2, 8, 8), bool); g[0, 2:6, 2:6] = True
    >>> r = evaluate(g, g, aggregate="per_slice")
    >>> r["dice"], r["skipped"]["hd"]
    (1.0, 1)
    """
    check_choice("aggregate", aggregate, ("pooled", "per_slice", "volume"))
    g, m = _pair(gt_stack, pred_stack, ("gt_stack", "pred_stack"))
    if g.ndim != 3:
        raise ValueError(f"gt_stack={describe(g)} is not allowed; use a stack of shape (n, H, W)")
    _spacing(spacing, 3 if aggregate == "volume" else 2)
    check_int("radius", radius, min=0)
    n = g.shape[0]
    if aggregate == "volume":
        out = evaluate_pair(g, m, spacing=spacing, radius=radius)
        out.update(n_slices=n, skipped=dict.fromkeys(MEASURES, 0))
        return out
    if aggregate == "per_slice":
        rows = [evaluate_pair(g[i], m[i], spacing=spacing, radius=radius) for i in range(n)]
        out, skipped = {}, {}
        for key in MEASURES:
            vals = np.array([r[key] for r in rows], dtype=float)
            ok = np.isfinite(vals)
            skipped[key] = int(n - ok.sum())
            out[key] = float(vals[ok].mean()) if ok.any() else float("nan")
        out.update(n_slices=n, skipped=skipped)
        return out
    tp = fp = fn = tn = 0
    d_mg, d_gm, b_g, b_m = [], [], [], []
    skipped_dist = 0
    for i in range(n):
        c = confusion(g[i], m[i])
        tp, fp, fn, tn = tp + c[0], fp + c[1], fn + c[2], tn + c[3]
        a, b = surface_distances(g[i], m[i], spacing=spacing)
        if a.size and b.size:
            d_mg.append(a)
            d_gm.append(b)
        else:
            skipped_dist += 1
        sg, sm = boundary_dice_scores(g[i], m[i], radius=radius)
        b_g.append(sg)
        b_m.append(sm)
    out = _overlap_from_counts(tp, fp, fn, tn)
    if d_mg:
        dist = _distance_summary(np.concatenate(d_mg), np.concatenate(d_gm))
    else:
        dist = _distance_summary(np.empty(0), np.empty(0))
    out.update(hd=dist["hd"], hd95=dist["hd95"], assd=dist["assd"])
    out["rvd_signed"] = rvd(g, m, signed=True)
    out["rvd"] = abs(out["rvd_signed"])
    out.update(_boundary_summary(np.concatenate(b_g), np.concatenate(b_m)))
    skipped = dict.fromkeys(MEASURES, 0)
    for key in ("hd", "hd95", "assd"):
        skipped[key] = skipped_dist
    out = {k: out[k] for k in MEASURES}
    out.update(n_slices=n, skipped=skipped)
    return out


def worst_slices(gt, pred, k: int = 4) -> np.ndarray:
    """Indices of the ``k`` slices with the lowest Dice, among slices where either mask has foreground.

    Parameters
    ----------
    gt, pred : array_like
        Binary masks (see :func:`as_mask`) of one shape ``(n, H, W)``.
    k : int, default 4
        How many slices (fewer if fewer slices have foreground).

    Returns
    -------
    numpy.ndarray of int
        Slice indices, lowest Dice first; ties keep slice order.

    Raises
    ------
    ValueError
        For stacks of different shapes or not 3-D, or ``k`` < 1.

    Example
    -------
    >>> g = np.zeros((3, 4, 4), bool); g[:, 1:3, 1:3] = True
    >>> p = g.copy(); p[1] = False; p[2, 1, 1] = False
    >>> worst_slices(g, p, k=2).tolist()
    [1, 2]
    """
    g = as_mask(gt, "gt")
    p = as_mask(pred, "pred")
    if g.shape != p.shape or g.ndim != 3:
        raise ValueError(f"gt and pred must be (n, H, W) stacks of one shape, got {g.shape} and {p.shape}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    inter = (g & p).sum(axis=(1, 2))
    total = g.sum(axis=(1, 2)) + p.sum(axis=(1, 2))
    idx = np.flatnonzero(total > 0)
    dice = 2 * inter[idx] / total[idx]
    return idx[np.argsort(dice, kind="stable")[:k]]

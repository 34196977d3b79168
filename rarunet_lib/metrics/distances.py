"""Surface distances (Table 2): HD, HD95, ASSD, and the relative volume difference RVD."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..checks import (
    ArgumentTypeError,
    check_bool,
    check_choice,
    refuse,
)
from .overlap import _crop, _pair, as_mask


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

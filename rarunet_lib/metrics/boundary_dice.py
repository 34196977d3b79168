"""The boundary Dice family (Table 3, Eqs. 6-7; Yeghiazaryan and Voiculescu 2018): DBD_G, DBD_M, SBD."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..checks import (
    check_int,
)
from .distances import _boundary
from .overlap import _crop, _pair


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

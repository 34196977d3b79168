"""Every measure for one pair of masks, for a stack of slices, and the worst slices of a stack."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import (
    check_choice,
    check_int,
    describe,
)
from .boundary_dice import _boundary_summary, boundary_dice_scores
from .distances import _distance_summary, _spacing, rvd, surface_distances
from .overlap import _overlap_from_counts, _pair, as_mask, confusion

#: Keys returned by :func:`evaluate_pair`, in order.
MEASURES: tuple[str, ...] = (
    "dice", "iou", "accuracy", "precision", "recall", "specificity",
    "hd", "hd95", "assd", "rvd", "rvd_signed", "dbd_g", "dbd_m", "sbd",
)

_OVERLAP = ("dice", "iou", "accuracy", "precision", "recall", "specificity")


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

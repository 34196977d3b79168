"""Rankings of likely-noisy masks for ADL, and how well a ranking finds the known noisy masks.

NumPy only (cleanlab, an optional extra, for its segmentation label-quality
score).  The paper ranks masks by O2U-Net's normalised cumulative Dice loss.  On
our data that ranking mostly picks small and empty masks: a per-mask Dice loss
is high for a small mask whether or not its label is wrong.  This module adds
rankings that mask size does not fool, each computed from what the training
pass already has (the per-mask loss, the label and the model's per-pixel
probabilities), and the two numbers that judge a ranking against the noise
manifest: ROC-AUC and average precision.

Every ranking gives one score per mask, higher = likelier noisy.  What each
assumes:

``normalised_cumulative`` (the paper, O2U-Net)
    Per-epoch loss minus the epoch's mean loss, summed over epochs.  Assumes a
    noisy mask has a higher loss than a clean one *of any size*.
``last_epoch``
    The latest loss.  Same assumption, no memory.
``random``
    Uniform scores, blind to everything: the control.
``size_adjusted``
    Per epoch, the loss minus the median loss of the masks of similar size
    (the masks' label areas cut into :data:`SIZE_BINS` quantile bins, empty
    masks a bin of their own), averaged over each mask's last :data:`WINDOW`
    recorded epochs.  Assumes that within a size band noisy masks have the
    higher loss; needs no clean set.
``area_ratio``
    ``|log((predicted area + s) / (label area + s))|``, the predicted area
    the sum of the model's probabilities and ``s`` the median label area of the
    non-empty masks, averaged over each mask's last :data:`WINDOW` recorded epochs.  Assumes the
    noise changes a mask's size (erosion, dilation) and that the model predicts
    the true size; it is blind to noise that keeps the area (a pure shift).
``confident_disagreement``
    The pixels where the model is confident (probability >= 0.9 or <= 0.1) and
    the label says the opposite, over ``label area + confident foreground + s``,
    averaged over each mask's last :data:`WINDOW` recorded epochs.  Assumes the model's confident
    pixels are right; a clean mask's errors sit on its boundary, where the model
    is not confident, so they barely count whatever the mask's size.
``cleanlab``
    ``1 -`` cleanlab's segmentation label-quality score
    (:func:`cleanlab.segmentation.rank.get_label_quality_scores`, "softmin":
    a soft minimum over the pixels of the probability the model gives the
    label), averaged over each mask's last :data:`WINDOW` recorded epochs.  The external
    anchor; needs ``pip install 'rarunet_lib[cleanlab]'``.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from .checks import check_array, check_choice, check_int, describe

__all__ = [
    "LOSS_RANKINGS",
    "MAP_RANKINGS",
    "ALL_RANKINGS",
    "MAP_STATISTICS",
    "SIZE_BINS",
    "WINDOW",
    "CONFIDENT",
    "cleanlab_available",
    "mask_statistics",
    "size_bins",
    "last_seen_mean",
    "size_adjusted_loss",
    "map_ranking",
    "roc_auc",
    "average_precision",
    "ranking_quality",
]

#: Rankings computed from the per-mask losses alone (see :func:`rarunet_lib.adl.rank_noisy`).
LOSS_RANKINGS: tuple[str, ...] = ("normalised_cumulative", "last_epoch", "random", "size_adjusted")
#: Rankings that need the model's per-pixel probabilities of the training pass.
MAP_RANKINGS: tuple[str, ...] = ("area_ratio", "confident_disagreement", "cleanlab")
#: Every ranking ADL can use.
ALL_RANKINGS: tuple[str, ...] = LOSS_RANKINGS + MAP_RANKINGS
#: Per-epoch, per-mask statistics :func:`mask_statistics` returns.
MAP_STATISTICS: tuple[str, ...] = ("label_area", "pred_area", "confident_disagreement", "cleanlab")
#: Quantile bins of label area for ``size_adjusted`` (empty masks form one more).
SIZE_BINS = 8
#: Recorded epochs of each mask averaged by ``size_adjusted`` and the map-based rankings.
WINDOW = 3
#: A pixel is confident when its probability is at least this or at most 1 minus this.
CONFIDENT = 0.9


def cleanlab_available() -> bool:
    """Whether the optional cleanlab package is installed (the ``cleanlab`` ranking needs it)."""
    return importlib.util.find_spec("cleanlab") is not None


def _check_maps(labels, probs) -> tuple[np.ndarray, np.ndarray]:
    y = check_array("labels", labels, ndim=3, nonempty=False)
    p = check_array("probs", probs, ndim=3, kinds="f", nonempty=False)
    if y.shape != p.shape:
        raise ValueError(f"labels={describe(y)} and probs={describe(p)} are not allowed; use the same shape")
    return y.astype(bool), p.astype(np.float64)


def mask_statistics(labels, probs, *, smoothing: float | None = None, cleanlab: bool | None = None) -> dict:
    """Per-mask statistics of one epoch from the labels and the model's probabilities.

    Parameters
    ----------
    labels : array (n, H, W) of {0, 1}
        The masks as trained (noisy where the manifest says so).
    probs : array (n, H, W) of float in [0, 1]
        The model's foreground probabilities for the same images.
    smoothing : float, optional
        ``s`` of ``confident_disagreement``'s denominator (default: the median
        area of the non-empty labels, 1 if all are empty).
    cleanlab : bool, optional
        Compute cleanlab's score (default: when cleanlab is installed); NaN otherwise.

    Returns
    -------
    dict of name -> array (n,)
        ``label_area``, ``pred_area`` (sum of probabilities),
        ``confident_disagreement`` and ``cleanlab`` (``1 -`` label quality).

    Example
    -------
    >>> y = np.zeros((2, 4, 4), np.uint8); y[:, :2] = 1
    >>> p = np.where(y == 1, 0.95, 0.05); p[1, :2, :2] = 0.02  # mask 1 half-contradicted
    >>> s = mask_statistics(y, p, smoothing=0, cleanlab=False)
    >>> s["label_area"].tolist(), s["confident_disagreement"].round(3).tolist()
    ([8.0, 8.0], [0.0, 0.333])
    """
    y, p = _check_maps(labels, probs)
    n = y.shape[0]
    area = y.reshape(n, -1).sum(axis=1).astype(float)
    s = _smoothing(area) if smoothing is None else float(smoothing)
    fg, bg = p >= CONFIDENT, p <= 1.0 - CONFIDENT
    wrong = ((fg & ~y) | (bg & y)).reshape(n, -1).sum(axis=1)
    out = {"label_area": area, "pred_area": p.reshape(n, -1).sum(axis=1),
           "confident_disagreement": wrong / (area + fg.reshape(n, -1).sum(axis=1) + max(s, 1e-12)),
           "cleanlab": np.full(n, np.nan)}
    if (cleanlab_available() if cleanlab is None else cleanlab) and n:
        from cleanlab.segmentation.rank import get_label_quality_scores

        quality, _ = get_label_quality_scores(y.astype(int), np.stack([1.0 - p, p], axis=1), verbose=False)
        out["cleanlab"] = 1.0 - np.asarray(quality, dtype=float)
    return out


def _smoothing(areas) -> float:
    a = np.asarray(areas, dtype=float)
    a = a[np.isfinite(a) & (a > 0)]
    return float(np.median(a)) if a.size else 1.0


def size_bins(areas, n_bins: int = SIZE_BINS) -> np.ndarray:
    """Bin of each mask by label area: 0 for empty masks, 1..n_bins by quantile of the others.

    Example
    -------
    >>> size_bins([0, 5, 10, 20, 40], n_bins=2).tolist()
    [0, 1, 1, 2, 2]
    """
    a = check_array("areas", areas, ndim=1, nonempty=False).astype(float)
    n_bins = check_int("n_bins", n_bins, min=1)
    out = np.zeros(a.size, dtype=int)
    full = a > 0
    if full.any():  # quantile edges: masks of equal area share a bin
        edges = np.quantile(a[full], np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
        out[full] = 1 + np.searchsorted(edges, a[full], side="right")
    return out


def last_seen_mean(table, upto: int, window: int = WINDOW) -> np.ndarray:
    """Per mask, the mean of its last ``window`` recorded values among epochs ``1..upto`` (NaN = not recorded).

    A mask that sat out keeps the mean of its latest records instead of losing
    them; a mask never recorded scores ``-inf`` (it ranks last).

    Example
    -------
    >>> last_seen_mean([[1.0, 5.0], [2.0, np.nan], [3.0, np.nan]], 3, window=2).tolist()
    [2.5, 5.0]
    """
    a = np.asarray(table, dtype=float)[: int(upto)]
    total, count = np.zeros(a.shape[1]), np.zeros(a.shape[1], dtype=int)
    for row in a[::-1]:
        take = ~np.isnan(row) & (count < window)
        total[take] += row[take]
        count[take] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), -np.inf)


def size_adjusted_loss(losses, areas, n_bins: int = SIZE_BINS, window: int = WINDOW) -> np.ndarray:
    """``size_adjusted`` scores: per epoch, loss minus the median loss of its size bin; each mask's last ``window`` averaged.

    Parameters
    ----------
    losses : array (epochs, n), NaN where a mask was not seen
    areas : array (n,)
        Label areas (pixels).
    window : int
        Each mask's latest recorded epochs averaged (:func:`last_seen_mean`).

    Example
    -------
    >>> losses = [[0.9, 0.95, 0.2, 0.5]]  # two small masks, two large; the last is noisy
    >>> size_adjusted_loss(losses, [3, 3, 50, 50], n_bins=2).round(3).tolist()
    [-0.025, 0.025, -0.15, 0.15]
    """
    a = check_array("losses", losses, ndim=2, finite=False, nonempty=False).astype(float)
    bins = size_bins(areas, n_bins)
    if bins.size != a.shape[1]:
        raise ValueError(f"areas has {bins.size} entries but losses has {a.shape[1]} columns; use one area per mask")
    residual = np.full(a.shape, np.nan)
    for e, row in enumerate(a):
        for b in np.unique(bins):
            cols = (bins == b) & ~np.isnan(row)
            if cols.any():
                residual[e, cols] = row[cols] - np.median(row[cols])
    return last_seen_mean(residual, a.shape[0], window)


def map_ranking(name: str, stats: dict, upto: int, window: int = WINDOW, smoothing: float | None = None) -> np.ndarray:
    """Scores of a map-based ranking from the per-epoch statistics of epochs ``1..upto``.

    Parameters
    ----------
    name : {"area_ratio", "confident_disagreement", "cleanlab"}
    stats : dict of name -> array (epochs, n)
        :func:`mask_statistics` of each epoch stacked (NaN where unseen).
    upto : int
        Use the epochs up to this one (1-based).
    smoothing : float, optional
        ``s`` of ``area_ratio`` (default: the median non-empty label area recorded).

    Returns
    -------
    array (n,)
        Scores: each mask's last ``window`` recorded epochs averaged
        (:func:`last_seen_mean`); masks never recorded score ``-inf``.

    Example
    -------
    >>> st = {"label_area": np.array([[10.0, 10.0]]), "pred_area": np.array([[10.0, 30.0]])}
    >>> map_ranking("area_ratio", st, 1).round(3).tolist()
    [0.0, 0.693]
    """
    check_choice("name", name, MAP_RANKINGS)
    if name == "area_ratio":
        label, pred = np.asarray(stats["label_area"], float), np.asarray(stats["pred_area"], float)
        s = _smoothing(label[:upto][~np.isnan(label[:upto])]) if smoothing is None else float(smoothing)
        per = np.abs(np.log((pred[:upto] + s) / (label[:upto] + s)))
    else:
        per = np.asarray(stats[name], float)[:upto]
    return last_seen_mean(per, upto, window)


def _check_ranking_inputs(scores, noisy, n: int | None):
    s = check_array("scores", scores, ndim=1, kinds="iuf", finite=False).astype(float)
    if np.isnan(s).any():
        raise ValueError(f"scores={describe(s)} is not allowed; use scores without NaN")
    flags = np.asarray(noisy)
    if flags.dtype == bool:
        if flags.shape != s.shape:
            raise ValueError(f"noisy={describe(flags)} is not allowed; a boolean noisy needs one flag per score")
        return s, flags
    n = s.size if n is None else check_int("n", n, min=1)
    if n != s.size:
        raise ValueError(f"n={n} is not allowed; use the number of scores, {s.size}")
    out = np.zeros(s.size, dtype=bool)
    if flags.size:
        idx = check_array("noisy", flags, ndim=1, kinds="iu")
        if idx.min() < 0 or idx.max() >= s.size:
            raise ValueError(f"noisy={describe(idx)} is not allowed; use indices from 0 to {s.size - 1}")
        out[idx] = True
    return s, out


def roc_auc(scores, noisy, n: int | None = None) -> float:
    """ROC-AUC of ``scores`` for finding the ``noisy`` masks: P(noisy scores above clean), ties count 1/2.

    Parameters
    ----------
    scores : array (n,)
        Higher = likelier noisy (``-inf`` allowed).
    noisy : array of int (indices) or array (n,) of bool
    n : int, optional
        Number of masks (checked against ``scores``).

    Returns
    -------
    float
        NaN when all masks are noisy or none is.

    Example
    -------
    >>> roc_auc([0.9, 0.1, 0.5, 0.5], [0, 2])  # pairs (noisy, clean): 1 + 1 + 1 + 0.5 of 4
    0.875
    """
    s, y = _check_ranking_inputs(scores, noisy, n)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size)
    sorted_s = s[order]
    # midranks of ties (Mann-Whitney U)
    start = np.r_[0, np.flatnonzero(sorted_s[1:] != sorted_s[:-1]) + 1]  # (diff would make -inf - -inf NaN)
    end = np.r_[start[1:], s.size]
    for a, b in zip(start, end, strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def average_precision(scores, noisy, n: int | None = None) -> float:
    """Average precision: the mean over thresholds of precision, weighted by the recall gained.

    ``AP = sum_k (R_k - R_{k-1}) P_k`` over the distinct scores taken as
    thresholds from the highest down (tied masks enter together), the
    definition scikit-learn's ``average_precision_score`` uses; chance is the
    share of noisy masks.

    Example
    -------
    >>> average_precision([0.9, 0.8, 0.7, 0.1], [0, 2])  # precisions 1 and 2/3 at the two noisy hits
    0.8333333333333333
    """
    s, y = _check_ranking_inputs(scores, noisy, n)
    n_pos = int(y.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.flatnonzero(s_sorted[1:] != s_sorted[:-1]), s.size - 1]  # end of each tie group
    tp = np.cumsum(y_sorted)[last]
    precision = tp / (last + 1.0)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def ranking_quality(scores, noisy, n: int | None = None) -> dict[str, float]:
    """``roc_auc`` and ``average_precision`` of one ranking, and ``chance_ap`` (the noisy share).

    Example
    -------
    >>> q = ranking_quality([0.9, 0.8, 0.7, 0.1], [0, 2])
    >>> q["roc_auc"], round(q["average_precision"], 3), q["chance_ap"]
    (0.75, 0.833, 0.5)
    """
    s, y = _check_ranking_inputs(scores, noisy, n)
    return {"roc_auc": roc_auc(s, y), "average_precision": average_precision(s, y),
            "chance_ap": float(y.mean())}

"""What ADL did in the grid: masks left out, their size, and every ADL run against its plain partner.

Diagnostics of adaptive denoising learning read from the committed run files
(:func:`rarunet_lib.experiments.load_results`); NumPy, SciPy and matplotlib only.
"""

from __future__ import annotations

import numpy as np

from .runs import _check_results, _runs
from .stats import stat

__all__ = [
    "adl_activity",
    "size_rank",
    "adl_exclusion_sizes",
    "adl_pairs",
    "ADL_PAIR_MEASURES",
    "plot_adl_pairs",
]


def _adl_runs_per_setting(results: dict, recorded: bool = False):
    """(beta, alpha, the ADL runs of every model there) per Table 5 setting that has any, in Table 5 order.

    ``recorded``: only runs that record which masks they left out (``run["adl"]``).
    """
    from ..experiments import TABLE5_SETTINGS

    _check_results(results)
    for alpha, beta in TABLE5_SETTINGS:
        runs = [r for r in _runs(results, noise_beta=beta, noise_alpha=alpha, adl=True) if r.get("adl") or not recorded]
        if runs:
            yield beta, alpha, runs


def adl_activity(results: dict) -> list[dict]:
    """What ADL did in the committed runs, per noise setting: how many masks it left out and how many were noisy.

    Over the runs with ADL, from their per-epoch history: the masks left out
    per epoch (mean over the epochs that left any out), the *detection
    precision* (share of the left-out masks that were noisy; mean over those
    epochs) beside what a random choice would score (the share of noisy
    training masks), and the share of the noisy masks left out in the last
    epoch (``detection_recall``).

    Parameters
    ----------
    results : dict
        Run id -> run, as :func:`rarunet_lib.experiments.load_results` returns.

    Returns
    -------
    list of dict
        One per (beta, alpha) with ADL runs, in Table 5 order: ``beta, alpha, runs``,
        ``excluded`` (masks per epoch), ``n_fit`` (masks trained on or left out
        in an epoch), ``precision``, ``noisy_share``, ``recall_last``
        (:class:`Stat` over runs, except ``runs``, ``n_fit`` and ``noisy_share``).

    Example
    -------
    >>> run = {"spec": {"noise_beta": 0.5, "noise_alpha": 0.77, "adl": True, "seed": 0},
    ...        "data": {"noisy_masks": 160, "n_train": 320},
    ...        "history": [{"n_excluded": 0, "n_trained": 288},
    ...                    {"n_excluded": 8, "n_trained": 280, "detection_precision": 0.75, "detection_recall": 0.04},
    ...                    {"n_excluded": 8, "n_trained": 280, "detection_precision": 1.0, "detection_recall": 0.05}]}
    >>> (row,) = adl_activity({"unet__b0.50_a0.77__adl__seed0": run})
    >>> row["excluded"].mean, row["n_fit"], row["precision"].mean, row["noisy_share"], row["recall_last"].mean
    (8.0, 288, 0.875, 0.5, 0.05)
    """
    rows = []
    for beta, alpha, runs in _adl_runs_per_setting(results):
        excluded, precision = [], []
        for r in runs:
            active = [e for e in r["history"] if e["n_excluded"] > 0]
            excluded.append(float(np.mean([e["n_excluded"] for e in active])) if active else 0.0)
            p = [e["detection_precision"] for e in active if e.get("detection_precision") is not None]
            precision.append(float(np.mean(p)) if p else None)
        rows.append({"beta": beta, "alpha": alpha, "runs": len(runs), "excluded": stat(excluded),
                     "n_fit": max(e["n_trained"] + e["n_excluded"] for r in runs for e in r["history"]),
                     "precision": stat(precision),
                     "noisy_share": runs[0]["data"]["noisy_masks"] / runs[0]["data"]["n_train"],
                     "recall_last": stat([r["history"][-1].get("detection_recall") for r in runs])})
    return rows


def size_rank(areas) -> np.ndarray:
    """Each mask's size as a rank between 0 (the smallest) and 1 (the largest); ties share their mean rank.

    Parameters
    ----------
    areas : array_like of int
        Foreground pixels of each mask (at least two masks).

    Returns
    -------
    numpy.ndarray
        ``(rank - 1) / (n - 1)`` with ranks from 1 to ``n``, ties averaged.

    Example
    -------
    >>> size_rank([10, 0, 30, 10]).tolist()
    [0.5, 0.0, 1.0, 0.5]
    """
    from scipy.stats import rankdata

    a = np.asarray(areas, dtype=float)
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"areas must be a 1-D sequence of at least two mask sizes, got shape {a.shape}")
    return (rankdata(a, method="average") - 1) / (a.size - 1)


def adl_exclusion_sizes(results: dict) -> list[dict]:
    """How large the masks ADL left out were, per noise setting: does its loss ranking favour small masks?

    For each ADL run that recorded what it left out (``run["adl"]``, written
    since the grid commit that added it), every fitted mask gets its size rank
    (:func:`size_rank` of its *clean* foreground area: 0 the smallest, 1 the
    largest). The rank of the masks left out, pooled over epochs (a mask left
    out in three epochs counts three times), is averaged per run; a choice
    blind to size would average 0.5.

    Parameters
    ----------
    results : dict
        Run id -> run, as :func:`rarunet_lib.experiments.load_results` returns.

    Returns
    -------
    list of dict
        One per (beta, alpha) with recorded ADL runs, in Table 5 order:
        ``beta, alpha, runs``, ``left_out`` (mask-epochs left out, summed over
        runs), ``rank_all``, ``rank_clean``, ``rank_noisy`` (the mean size rank
        of all, of the clean and of the noisy masks left out; :class:`Stat`
        over runs, a run that left out none of a kind is skipped).

    Example
    -------
    >>> run = {"spec": {"noise_beta": 0.5, "noise_alpha": 0.77, "adl": True, "seed": 0},
    ...        "adl": {"excluded": [[], [0, 3], [0]], "noisy": [3, 4],
    ...                "area_clean": [5, 40, 30, 20, 10]}}
    >>> (row,) = adl_exclusion_sizes({"unet__b0.50_a0.77__adl__seed0": run})
    >>> row["left_out"], round(row["rank_all"].mean, 3), row["rank_clean"].mean, row["rank_noisy"].mean
    (3, 0.167, 0.0, 0.5)
    """
    rows = []
    for beta, alpha, runs in _adl_runs_per_setting(results, recorded=True):
        left_out, rank_all, rank_clean, rank_noisy = 0, [], [], []
        for r in runs:
            rec = r["adl"]
            ranks = size_rank(rec["area_clean"])
            out = np.array([i for epoch in rec["excluded"] for i in epoch], dtype=int)
            noisy = np.isin(out, np.asarray(rec["noisy"], dtype=int))
            left_out += int(out.size)
            for dest, pick in ((rank_all, slice(None)), (rank_clean, ~noisy), (rank_noisy, noisy)):
                chosen = ranks[out[pick]]
                if chosen.size:
                    dest.append(float(chosen.mean()))
        rows.append({"beta": beta, "alpha": alpha, "runs": len(runs), "left_out": left_out,
                     "rank_all": stat(rank_all), "rank_clean": stat(rank_clean), "rank_noisy": stat(rank_noisy)})
    return rows


def adl_pairs(results: dict, *, ranking: str | None = None) -> list[dict]:
    """Every ADL run beside the run without ADL that differs from it in nothing else (model, setting, seed).

    The partner is looked up by its run id (:attr:`~rarunet_lib.experiments.RunSpec.run_id` of
    the ADL run's spec without ADL), as :func:`~rarunet_lib.experiments.load_results` keys runs.

    The differences (ADL minus no ADL) are taken four ways, because a test
    IoU taken at one selected epoch of one test case can move by more than
    what is being compared: the test IoU at each run's best-validation epoch
    (what the tables report) and after the last epoch; the best validation
    Dice, and the validation Dice averaged over the epochs once exclusions
    have begun (the measure the selection uses, on slices of the training
    cases).

    Parameters
    ----------
    results : dict
        Run id -> run, as :func:`rarunet_lib.experiments.load_results` returns.
    ranking : str, optional
        Which ADL runs: None (default) those with the paper's ranking;
        ``"random"`` the control runs that leave out masks at random
        (``RunSpec.adl_ranking``).

    Returns
    -------
    list of dict
        One per pair, sorted by model, setting and seed: ``run_id`` (of the
        ADL run), ``model, beta, alpha, seed``, ``test_iou`` (difference at
        the selected epochs), ``test_iou_last`` (after the last epoch),
        ``val_dice_best`` (difference of the best validation Dice) and
        ``val_dice_mean`` (mean over epochs, from the first that left masks
        out, of the per-epoch difference of validation Dice).

    Example
    -------
    >>> def run(adl, iou, last, val):
    ...     spec = {"model": "unet", "table4_row": None, "noise_beta": 0.5, "noise_alpha": 0.77, "seed": 0, "adl": adl}
    ...     return {"spec": spec, "test_pooled": {"iou": iou}, "test_pooled_last_epoch": {"iou": last},
    ...             "history": [{"val_dice": v, "n_excluded": int(adl and e > 0)} for e, v in enumerate(val)]}
    >>> (p,) = adl_pairs({"unet__b0.50_a0.77__adl__seed0": run(True, 0.70, 0.75, [0.5, 0.8, 0.9]),
    ...                   "unet__b0.50_a0.77__seed0": run(False, 0.75, 0.70, [0.5, 0.7, 0.9])})
    >>> round(p["test_iou"], 6), round(p["test_iou_last"], 6), round(p["val_dice_best"], 6), round(p["val_dice_mean"], 6)
    (-0.05, 0.05, 0.0, 0.05)
    """
    from ..experiments import RunSpec

    _check_results(results)
    pairs = []
    for r in results.values():
        spec = r.get("spec", {})
        if not spec.get("adl") or spec.get("adl_ranking") != ranking:
            continue
        # the partner is the run id of the same spec without ADL
        b = results.get(RunSpec(spec["model"], spec["seed"], table4_row=spec.get("table4_row"),
                                noise_beta=spec["noise_beta"], noise_alpha=spec["noise_alpha"]).run_id)
        if b is None:
            continue
        va = np.array([e["val_dice"] for e in r["history"]], dtype=float)
        vb = np.array([e["val_dice"] for e in b["history"]], dtype=float)
        if va.shape != vb.shape:
            raise ValueError(f"run {r.get('run_id')!r} and its partner without ADL have {va.size} and {vb.size} "
                             "epochs; a pair must differ in ADL only")
        active = [i for i, e in enumerate(r["history"]) if e["n_excluded"] > 0]
        first = active[0] if active else len(va)
        pairs.append({"run_id": r.get("run_id"), "model": spec["model"], "beta": spec["noise_beta"],
                      "alpha": spec["noise_alpha"], "seed": spec["seed"],
                      "test_iou": r["test_pooled"]["iou"] - b["test_pooled"]["iou"],
                      "test_iou_last": r["test_pooled_last_epoch"]["iou"] - b["test_pooled_last_epoch"]["iou"],
                      "val_dice_best": float(va.max() - vb.max()),
                      "val_dice_mean": float(np.mean(va[first:] - vb[first:])) if first < len(va) else float("nan")})
    return sorted(pairs, key=lambda p: (p["model"], p["beta"], p["alpha"], p["seed"]))


#: The four ways :func:`adl_pairs` takes an ADL pair's difference, with a label for tables and plots.
ADL_PAIR_MEASURES: dict[str, str] = {
    "test_iou": "test IoU, best-validation epoch",
    "test_iou_last": "test IoU, last epoch",
    "val_dice_best": "best validation Dice",
    "val_dice_mean": "validation Dice, mean over epochs",
}


def plot_adl_pairs(pairs: list[dict], ax=None):
    """Each pair's difference (ADL minus no ADL) measured four ways: one column of dots per measure, one marker per model.

    Parameters
    ----------
    pairs : list of dict
        As :func:`adl_pairs` returns.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    need = {"model", *ADL_PAIR_MEASURES}
    bad = [i for i, p in enumerate(pairs) if not isinstance(p, dict) or not need <= set(p)]
    if bad:
        raise ValueError(f"pairs {bad[:5]} are not adl_pairs() rows: each needs the keys {sorted(need)}")
    from ..plotting import OKABE_ITO as c

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.5))
    models = list(dict.fromkeys(p["model"] for p in pairs))
    styles = list(zip(("o", "s", "^", "D", "v"), (c["blue"], c["vermillion"], c["bluish_green"], c["orange"],
                                                   c["reddish_purple"]), strict=True))
    rng = np.random.default_rng(0)  # horizontal jitter only, so that equal values stay visible
    for j, model in enumerate(models):
        sub = [p for p in pairs if p["model"] == model]
        marker, colour = styles[j % len(styles)]
        for i, key in enumerate(ADL_PAIR_MEASURES):
            y = [p[key] for p in sub]
            ax.plot(i + 0.25 * (j - (len(models) - 1) / 2) + rng.uniform(-0.05, 0.05, len(y)), y, marker,
                    color=colour, mfc="none", ms=6, label=model if i == 0 else None)
    ax.axhline(0, color=c["black"], lw=0.8)
    ax.set_xticks(range(len(ADL_PAIR_MEASURES)), list(ADL_PAIR_MEASURES.values()), fontsize=9)
    ax.set_xlim(-0.5, len(ADL_PAIR_MEASURES) - 0.5)
    ax.set_ylabel("ADL minus no ADL (same model, setting, seed)")
    if models:
        ax.legend(fontsize=8, loc="lower right")
    return ax

"""Tables and figures of the experiment grid beside the paper's numbers (NumPy and matplotlib only).

The chapters on ablations and evaluation call these on the run files that
:mod:`rarunet_lib.experiments` writes (``results/<profile>/*.json``): each
function takes the dict :func:`rarunet_lib.experiments.load_results` returns
and gives rows (plain dicts) or draws on matplotlib axes.  A cell with no run
yet reads "not run", never a made-up number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .paper import TABLE1, TABLE2, TABLE3, TABLE4, TABLE5

__all__ = [
    "Stat",
    "stat",
    "fmt",
    "num",
    "TABLE4_LABELS",
    "paired_gain",
    "table4_rows",
    "table5_rows",
    "table1_rows",
    "table23_rows",
    "markdown_table",
    "plot_table4",
    "plot_table5",
    "plot_curves",
    "profile_note",
    "worst_slices",
    "table4_summary",
    "late_swing",
    "stability_summary",
    "plot_stability",
    "adl_activity",
    "size_rank",
    "adl_exclusion_sizes",
    "adl_pairs",
    "sign_test",
    "ADL_PAIR_MEASURES",
    "plot_adl_pairs",
]

#: Short names of Table 4's rows (what each adds to the U-Net).
TABLE4_LABELS: dict[int, str] = {
    1: "U-Net",
    2: "+ residual encoder",
    3: "+ residual paths",
    4: "+ attention decoder",
    5: "+ res. encoder + attention",
    6: "+ res. encoder + res. paths",
    7: "RAR-U-Net (all three)",
}


@dataclass(frozen=True)
class Stat:
    """Mean, sample standard deviation and count of one measure over seeds.

    ``n_runs`` counts the runs asked about, including those where the measure
    is undefined (None: e.g. the precision of an empty prediction).
    """

    mean: float
    std: float
    n: int
    n_runs: int | None = None

    def __str__(self) -> str:
        return fmt(self)


def stat(values) -> Stat:
    """Mean and sample standard deviation (ddof=1) of the finite values.

    Example
    -------
    >>> s = stat([0.5, 0.7, None])
    >>> round(s.mean, 6), round(s.std, 6), s.n
    (0.6, 0.141421, 2)
    >>> stat([]).n
    0
    """
    a = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if a.size == 0:
        return Stat(float("nan"), float("nan"), 0)
    return Stat(float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else float("nan"), int(a.size))


def fmt(s: Stat, digits: int = 3) -> str:
    """``"0.912 ± 0.010 (3)"``, ``"0.912 (1)"`` or ``"not run"``.

    Example
    -------
    >>> fmt(Stat(0.91234, 0.0101, 3)), fmt(Stat(0.5, float("nan"), 1)), fmt(Stat(float("nan"), float("nan"), 0))
    ('0.912 ± 0.010 (3)', '0.500 (1)', 'not run')
    >>> fmt(Stat(float("nan"), float("nan"), 0, n_runs=2))
    'undefined (2 runs)'
    """
    if s.n == 0:
        return f"undefined ({s.n_runs} run{'s' if s.n_runs > 1 else ''})" if s.n_runs else "not run"
    if s.n == 1 or not math.isfinite(s.std):
        return f"{s.mean:.{digits}f} (1)"
    return f"{s.mean:.{digits}f} ± {s.std:.{digits}f} ({s.n})"


def num(value, digits: int = 3) -> str:
    """A number for a table or a sentence; ``"undefined"`` for None or NaN (an empty prediction has no precision).

    Example
    -------
    >>> num(0.12345), num(None), num(float("nan"), 1)
    ('0.123', 'undefined', 'undefined')
    """
    if value is None or not math.isfinite(float(value)):
        return "undefined"
    return f"{float(value):.{digits}f}"


def _check_results(results) -> None:
    if not isinstance(results, dict):
        raise TypeError(f"results must be a dict of run id -> run (load_results), got {type(results).__name__}")


def _runs(results: dict, **want) -> list[dict]:
    """Runs whose spec has the given fields (unspecified: clean labels, no ADL, no Table 4 row, the paper's ranking)."""
    want = {"table4_row": None, "noise_beta": 0.0, "noise_alpha": None, "adl": False, "adl_ranking": None, **want}
    out = []
    for r in results.values():
        spec = r.get("spec", {})
        ok = True
        for k, v in want.items():
            a = spec.get(k)
            if isinstance(v, float) or isinstance(a, float):
                ok = a is not None and v is not None and abs(float(a) - float(v)) < 1e-9
            else:
                ok = a == v
            if not ok:
                break
        if ok:
            out.append(r)
    return sorted(out, key=lambda r: r["spec"]["seed"])


def _measure(runs: list[dict], key: str, section: str = "test_pooled") -> Stat:
    s = stat([r[section].get(key) for r in runs])
    return Stat(s.mean, s.std, s.n, n_runs=len(runs))


def _table4_filter(row: int) -> dict:
    from .experiments import table_runs

    spec = table_runs("table4", [0])[row - 1]
    return {"model": spec.model, "table4_row": spec.table4_row}


def paired_gain(runs_a: list[dict], runs_b: list[dict], measure: str = "iou") -> Stat:
    """Mean and spread of ``b - a`` over the seeds both lists of runs have (a paired comparison).

    Example
    -------
    >>> a = [{"spec": {"seed": s}, "test_pooled": {"iou": v}} for s, v in [(0, 0.5), (1, 0.6), (2, 0.7)]]
    >>> b = [{"spec": {"seed": s}, "test_pooled": {"iou": v}} for s, v in [(0, 0.6), (1, 0.8)]]
    >>> g = paired_gain(a, b)
    >>> g.n, round(g.mean, 6)
    (2, 0.15)
    """
    va = {r["spec"]["seed"]: r["test_pooled"][measure] for r in runs_a}
    vb = {r["spec"]["seed"]: r["test_pooled"][measure] for r in runs_b}
    return stat([vb[s] - va[s] for s in sorted(set(va) & set(vb)) if va[s] is not None and vb[s] is not None])


def table4_rows(results: dict) -> list[dict]:
    """Table 4 (clean labels): per row, the paper's IoU, recall and parameters beside ours.

    Returns
    -------
    list of dict
        ``row, label, paper_iou, paper_recall, paper_params, iou, recall`` (:class:`Stat`; the model of
        the best validation epoch), ``iou_last`` (the last epoch's model),
        ``params`` (ours, from the runs, or None), ``runs`` (the matching runs).
    """
    rows = []
    for row in range(1, 8):
        runs = _runs(results, **_table4_filter(row))
        p_iou, p_rec, p_params = TABLE4[row]
        rows.append({"row": row, "label": TABLE4_LABELS[row], "paper_iou": p_iou, "paper_recall": p_rec,
                     "paper_params": p_params, "iou": _measure(runs, "iou"), "recall": _measure(runs, "recall"),
                     "iou_last": _measure([r for r in runs if "test_pooled_last_epoch" in r], "iou",
                                          "test_pooled_last_epoch"),
                     "params": runs[0]["params"] if runs else None, "runs": runs})
    return rows


def table5_rows(results: dict) -> list[dict]:
    """Table 5: per setting and model, IoU and recall without and with ADL, paper beside ours.

    Returns
    -------
    list of dict
        ``beta, alpha, model`` (paper name), ``name`` (library name), and for
        ``adl`` in (False, True): ``paper_iou_adl``/``paper_iou_noadl`` (None
        where the paper has no entry), ``iou_adl``/``iou_noadl``, ``recall_adl``/
        ``recall_noadl`` (:class:`Stat`), ``gain`` (mean IoU with minus without
        ADL, over the seeds both have), ``gain_paper``, and from the first run:
        ``noisy_masks``, ``n_train``, ``achieved_alpha`` (mean over noisy masks).
    """
    from .experiments import TABLE5_MODELS, TABLE5_SETTINGS

    rows = []
    for beta, alpha in TABLE5_SETTINGS:
        for paper_name, name in TABLE5_MODELS.items():
            row = {"beta": beta, "alpha": alpha, "model": paper_name, "name": name}
            runs = {}
            for adl in (False, True):
                tag = "adl" if adl else "noadl"
                runs[tag] = _runs(results, model=name, noise_beta=beta, noise_alpha=alpha, adl=adl)
                paper = TABLE5.get((beta, alpha, paper_name, adl))
                row[f"paper_iou_{tag}"] = paper[0] if paper else None
                row[f"paper_recall_{tag}"] = paper[1] if paper else None
                row[f"iou_{tag}"] = _measure(runs[tag], "iou")
                row[f"recall_{tag}"] = _measure(runs[tag], "recall")
            row["gain"] = paired_gain(runs["noadl"], runs["adl"])
            first = (runs["noadl"] or runs["adl"] or [None])[0]
            row["noisy_masks"] = first["data"]["noisy_masks"] if first else None
            row["n_train"] = first["data"]["n_train"] if first else None
            row["achieved_alpha"] = first["data"].get("achieved_alpha_mean") if first else None
            pa, pn = row["paper_iou_adl"], row["paper_iou_noadl"]
            row["gain_paper"] = (pa - pn) if pa is not None and pn is not None else None
            rows.append(row)
    return rows


def _adl_runs_per_setting(results: dict, recorded: bool = False):
    """(beta, alpha, the ADL runs of every model there) per Table 5 setting that has any, in Table 5 order.

    ``recorded``: only runs that record which masks they left out (``run["adl"]``).
    """
    from .experiments import TABLE5_SETTINGS

    _check_results(results)
    for beta, alpha in TABLE5_SETTINGS:
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
    >>> (row,) = adl_activity({"r": run})
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
    >>> (row,) = adl_exclusion_sizes({"r": run})
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
    >>> (p,) = adl_pairs({"a": run(True, 0.70, 0.75, [0.5, 0.8, 0.9]), "b": run(False, 0.75, 0.70, [0.5, 0.7, 0.9])})
    >>> round(p["test_iou"], 6), round(p["test_iou_last"], 6), round(p["val_dice_best"], 6), round(p["val_dice_mean"], 6)
    (-0.05, 0.05, 0.0, 0.05)
    """
    _check_results(results)
    fields = ("model", "table4_row", "noise_beta", "noise_alpha", "seed")
    plain = {tuple(r["spec"].get(k) for k in fields): r for r in results.values()
             if r.get("spec", {}).get("noise_beta") and not r["spec"].get("adl")}
    pairs = []
    for r in results.values():
        spec = r.get("spec", {})
        if not spec.get("adl") or spec.get("adl_ranking") != ranking:
            continue
        b = plain.get(tuple(spec.get(k) for k in fields))
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


def sign_test(differences) -> dict:
    """Two-sided sign test: are positive and negative differences equally likely?

    Zero differences carry no sign and are left out, as is usual.

    Parameters
    ----------
    differences : array_like of float
        Paired differences (e.g. ADL minus no ADL, one per run pair); no NaN.

    Returns
    -------
    dict
        ``up`` (positive), ``down`` (negative), ``n`` (``up + down``) and
        ``p`` (the two-sided binomial probability, 1.0 when ``n`` is 0).

    Example
    -------
    >>> t = sign_test([0.1, -0.2, -0.05, 0.0, -0.3])
    >>> t["up"], t["down"], t["n"], round(t["p"], 4)
    (1, 3, 4, 0.625)
    """
    from scipy.stats import binomtest

    d = np.asarray(differences, dtype=float)
    if d.ndim != 1:
        raise ValueError(f"differences must be a 1-D sequence, got shape {d.shape}")
    if np.isnan(d).any():
        raise ValueError(f"differences must not contain NaN, got {int(np.isnan(d).sum())} NaN of {d.size}")
    up, down = int((d > 0).sum()), int((d < 0).sum())
    p = binomtest(up, up + down).pvalue if up + down else 1.0
    return {"up": up, "down": down, "n": up + down, "p": float(p)}


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
    c = _colours()
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


def table1_rows(results: dict) -> list[dict]:
    """Table 1 analogue: the 2-D models we build on clean labels, the paper's numbers beside ours.

    Returns
    -------
    list of dict
        ``model`` (paper name), ``name``, ``paper`` (dict of dice, accuracy,
        precision, recall, specificity, params_m), ``ours`` (dict of
        :class:`Stat` for the same measures), ``params`` (ours).
    """
    from .experiments import TABLE1_MODELS

    keys = ("dice", "accuracy", "precision", "recall", "specificity")
    rows = []
    for paper_name, name in TABLE1_MODELS.items():
        runs = _runs(results, model=name)
        p = TABLE1.get(paper_name)
        paper = dict(zip((*keys, "params_m"), p, strict=True)) if p else None
        rows.append({"model": paper_name, "name": name, "paper": paper,
                     "ours": {k: _measure(runs, k) for k in keys},
                     "params": runs[0]["params"] if runs else None})
    return rows


def table23_rows(results: dict, model: str = "rar_unet") -> list[dict]:
    """Tables 2-3 analogue for one model: HD, ASSD, RVD (pixels) and DBD_G, DBD_M, SBD.

    Two readings side by side: pooled over all test slices, and the mean of
    per-slice values (over the slices where a measure is defined).

    Returns
    -------
    list of dict
        ``measure, paper, pooled, per_slice`` (:class:`Stat` over seeds).
    """
    runs = _runs(results, model=model)
    paper = {**TABLE2, **TABLE3}
    rows = []
    for key in ("hd", "assd", "rvd", "dbd_g", "dbd_m", "sbd"):
        per_slice = []
        for r in runs:
            v = np.asarray([np.nan if x is None else x for x in r["test_per_slice"][key]], dtype=float)
            per_slice.append(float(np.nanmean(v)) if np.isfinite(v).any() else np.nan)
        ps = stat(per_slice)
        rows.append({"measure": key, "paper": paper[key], "pooled": _measure(runs, key, "test_pooled_pixels"),
                     "per_slice": Stat(ps.mean, ps.std, ps.n, n_runs=len(runs))})
    return rows


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table from a header and rows of cells (anything ``str()`` can print).

    Example
    -------
    >>> print(markdown_table(["a", "b"], [[1, "x"]]))
    | a | b |
    |---|---|
    | 1 | x |
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def profile_note(results: dict) -> str:
    """One line naming the profile(s), devices, commits and dates of a set of runs.

    Example
    -------
    >>> profile_note({})
    'no runs'
    """
    if not results:
        return "no runs"
    prof = sorted({r["profile"]["name"] for r in results.values()})
    dev = sorted({r["provenance"]["device"] for r in results.values()})
    commits = sorted({r["provenance"]["commit"][:8] for r in results.values()})
    dates = sorted(r["provenance"]["time_utc"][:10] for r in results.values())
    desc = sorted({r["profile"]["description"] for r in results.values()})
    return (f"{len(results)} runs, profile {', '.join(prof)} ({'; '.join(desc)}); device {', '.join(dev)}; "
            f"commit {', '.join(commits)}; {dates[0]} to {dates[-1]}")


def _colours():
    from .plotting import OKABE_ITO

    return OKABE_ITO


def plot_table4(rows: list[dict], ax=None, measure: str = "iou"):
    """Paper (bars) beside ours (mean ± sd over seeds, each seed a dot) for Table 4's rows."""
    import matplotlib.pyplot as plt

    c = _colours()
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r[f"paper_{measure}"] for r in rows], 0.4, color=c["sky_blue"], label="paper (one run)")
    means = [r[measure].mean if r[measure].n else np.nan for r in rows]
    sds = [r[measure].std if r[measure].n > 1 else 0.0 for r in rows]
    ax.bar(x + 0.2, means, 0.4, yerr=sds, color=c["orange"], capsize=3, label="ours (mean ± sd over seeds)")
    for i, r in enumerate(rows):
        vals = [run["test_pooled"][measure] for run in r["runs"]]
        ax.plot(np.full(len(vals), x[i] + 0.2), vals, "o", color=c["black"], ms=3)
        if not r["runs"]:
            ax.text(x[i] + 0.2, 0.02, "not run", rotation=90, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [f"{r['row']}: {r['label']}" for r in rows], rotation=25, ha="right", fontsize=9)
    ax.set_ylabel(f"test {measure.upper() if measure == 'iou' else measure} (pooled)")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", fontsize=9)
    return ax


def plot_table5(rows: list[dict], axes=None):
    """One panel per noise setting: IoU without and with ADL per model, paper as hollow markers."""
    import matplotlib.pyplot as plt

    c = _colours()
    settings = list(dict.fromkeys((r["beta"], r["alpha"]) for r in rows))
    if axes is None:
        _, axes = plt.subplots(1, len(settings), figsize=(4 * len(settings), 3.8), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (beta, alpha) in zip(axes, settings, strict=True):
        sub = [r for r in rows if (r["beta"], r["alpha"]) == (beta, alpha)]
        x = np.arange(len(sub))
        for off, tag, colour, label in ((-0.18, "noadl", c["sky_blue"], "ours, no ADL"),
                                        (0.18, "adl", c["bluish_green"], "ours, ADL")):
            m = [r[f"iou_{tag}"].mean if r[f"iou_{tag}"].n else np.nan for r in sub]
            s = [r[f"iou_{tag}"].std if r[f"iou_{tag}"].n > 1 else 0.0 for r in sub]
            ax.bar(x + off, m, 0.36, yerr=s, color=colour, capsize=3, label=label)
            p = [r[f"paper_iou_{tag}"] if r[f"paper_iou_{tag}"] is not None else np.nan for r in sub]
            ax.plot(x + off, p, "D", mfc="none", mec=c["black"], ms=7,
                    label="paper" if tag == "adl" else None)
        ax.set_xticks(x, [r["model"] for r in sub], rotation=20, ha="right", fontsize=9)
        ax.set_title(f"beta = {beta:.2f}, alpha = {alpha:.2f}", fontsize=10)
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("test IoU (pooled)")
    axes[-1].legend(loc="lower right", fontsize=8)
    return axes


def plot_curves(runs: list[dict], key: str = "val_dice", ax=None, labels=None):
    """A per-epoch history value (``val_dice``, ``loss``, ...) of several runs."""
    import matplotlib.pyplot as plt

    c = _colours()
    palette = [c[k] for k in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black")]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    styles = ["-", "--", ":", "-."]
    for i, r in enumerate(runs):
        h = r["history"]
        ax.plot([e["epoch"] for e in h], [e.get(key, np.nan) for e in h], styles[i % 4], marker="o", ms=3,
                color=palette[i % len(palette)], label=(labels[i] if labels else r["run_id"]))
    ax.set_xlabel("epoch")
    ax.set_ylabel(key.replace("_", " "))
    ax.legend(fontsize=8)
    return ax


def worst_slices(gt, pred, k: int = 4) -> np.ndarray:
    """Indices of the ``k`` slices with the lowest Dice, among slices where either mask has foreground.

    Example
    -------
    >>> g = np.zeros((3, 4, 4), bool); g[:, 1:3, 1:3] = True
    >>> p = g.copy(); p[1] = False; p[2, 1, 1] = False
    >>> worst_slices(g, p, k=2).tolist()
    [1, 2]
    """
    g = np.asarray(gt, bool)
    p = np.asarray(pred, bool)
    if g.shape != p.shape or g.ndim != 3:
        raise ValueError(f"gt and pred must be (n, H, W) stacks of one shape, got {g.shape} and {p.shape}")
    inter = (g & p).sum(axis=(1, 2))
    total = g.sum(axis=(1, 2)) + p.sum(axis=(1, 2))
    idx = np.flatnonzero(total > 0)
    dice = 2 * inter[idx] / total[idx]
    return idx[np.argsort(dice, kind="stable")[:k]]


def table4_summary(rows: list[dict]) -> dict:
    """What Table 4's rows say on our data, in three numbers.

    Returns
    -------
    dict
        ``rank_correlation``: Spearman correlation between the paper's IoU and
        our mean IoU over the rows we ran (NaN with fewer than 3 rows);
        ``full_vs_unet``: :func:`paired_gain` of row 7 over row 1;
        ``seed_sd``: the largest standard deviation over seeds of any row (the
        noise floor a difference must clear); ``rows_run``: how many rows have runs.
    """
    from scipy.stats import spearmanr

    ran = [r for r in rows if r["iou"].n]
    rho = float("nan")
    if len(ran) >= 3:
        rho = float(spearmanr([r["paper_iou"] for r in ran], [r["iou"].mean for r in ran]).statistic)
    sds = [r["iou"].std for r in rows if r["iou"].n > 1]
    return {"rank_correlation": rho, "full_vs_unet": paired_gain(rows[0]["runs"], rows[6]["runs"]),
            "seed_sd": max(sds) if sds else float("nan"), "rows_run": len(ran)}


def late_swing(history: list[dict], key: str = "val_dice", tail: float = 0.5) -> float:
    """Mean absolute change of a history value between consecutive epochs, over the last epochs.

    A run whose validation curve has flattened has a late swing near 0; one
    that still jumps from epoch to epoch has a large one.

    Parameters
    ----------
    history : list of dict
        Per-epoch records (a run file's ``history``), in epoch order.
    key : str, default "val_dice"
    tail : float, default 0.5
        Fraction of the epochs, counted from the end, to look at (at least two epochs).

    Returns
    -------
    float
        NaN when fewer than two epochs carry ``key``.

    Raises
    ------
    ValueError
        If ``tail`` is not in (0, 1].

    Example
    -------
    >>> h = [{"val_dice": v} for v in (0.1, 0.5, 0.8, 0.2, 0.6)]
    >>> round(late_swing(h), 3)  # the last 3 epochs: |0.2-0.8|, |0.6-0.2|
    0.5
    """
    if not 0.0 < tail <= 1.0:
        raise ValueError(f"tail must be in (0, 1], got {tail!r}")
    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise TypeError(f"history must be a list of per-epoch dicts, got {type(history).__name__}")
    values = np.array([e.get(key, np.nan) for e in history], dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float("nan")
    k = max(2, math.ceil(tail * values.size))
    return float(np.mean(np.abs(np.diff(values[-k:]))))


def stability_summary(results: dict, collapse_iou: float = 0.2) -> list[dict]:
    """How settled the runs of a grid are at their end, clean-label runs apart from noisy-label ones.

    Parameters
    ----------
    results : dict
        From :func:`rarunet_lib.experiments.load_results`.
    collapse_iou : float, default 0.2
        A last-epoch test IoU below this counts as a run that ended collapsed.

    Returns
    -------
    list of dict
        One row per group (``"clean labels"``, ``"noisy labels"``) with
        ``runs``, ``late_swing`` (:class:`Stat` of :func:`late_swing` of the
        validation Dice), ``best_minus_last`` (:class:`Stat` of the test IoU of
        the selected epoch minus that of the last epoch) and ``ended_collapsed``
        (how many runs have a last-epoch test IoU below ``collapse_iou``).

    Example
    -------
    >>> run = {"spec": {"noise_beta": 0.0}, "history": [{"val_dice": 0.2}, {"val_dice": 0.6}],
    ...        "test_pooled": {"iou": 0.5}, "test_pooled_last_epoch": {"iou": 0.1}}
    >>> row = stability_summary({"r": run})[0]
    >>> row["runs"], round(row["late_swing"].mean, 2), round(row["best_minus_last"].mean, 2), row["ended_collapsed"]
    (1, 0.4, 0.4, 1)
    """
    _check_results(results)
    if not 0.0 <= collapse_iou <= 1.0:
        raise ValueError(f"collapse_iou must be in [0, 1], got {collapse_iou!r}")
    groups: dict[str, list[dict]] = {"clean labels": [], "noisy labels": []}
    for r in results.values():
        groups["noisy labels" if r["spec"].get("noise_beta") else "clean labels"].append(r)
    rows = []
    for name, runs in groups.items():
        if not runs:
            continue
        last = [r.get("test_pooled_last_epoch", {}).get("iou") for r in runs]
        rows.append({
            "group": name,
            "runs": len(runs),
            "late_swing": stat([late_swing(r["history"]) for r in runs]),
            "best_minus_last": stat([r["test_pooled"]["iou"] - v if v is not None else None
                                     for r, v in zip(runs, last, strict=True)]),
            "ended_collapsed": sum(v is not None and v < collapse_iou for v in last),
        })
    return rows


def plot_stability(runs: dict[str, dict], keys: tuple[str, ...] = ("val_dice", "test_dice"), ax=None):
    """Per-epoch curves of :file:`benchmarks/stability.py` runs: one colour per run, one line style per key.

    Parameters
    ----------
    runs : dict
        Label -> the JSON that ``benchmarks/stability.py`` writes (its ``epochs`` list).
    keys : tuple of str
        Per-epoch values to draw (``val_dice``, ``val_dice_batch_stats``,
        ``val_prob_in_mask``, ``test_dice``, ``loss``).
    ax : matplotlib axes, optional

    Returns
    -------
    matplotlib axes

    Example
    -------
    >>> run = {"epochs": [{"epoch": 1, "val_dice": 0.2, "test_dice": 0.3}, {"epoch": 2, "val_dice": 0.6, "test_dice": 0.5}]}
    >>> ax = plot_stability({"a": run})
    >>> [line.get_label() for line in ax.get_lines()]
    ['a: val dice', 'a: test dice']
    """
    import matplotlib.pyplot as plt

    missing = [label for label, run in runs.items() if "epochs" not in run]
    if missing:
        raise ValueError(f"runs {missing} have no 'epochs' list: pass the JSON benchmarks/stability.py writes")
    c = _colours()
    palette = [c[k] for k in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "black")]
    styles = ["-", "--", ":", "-."]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for i, (label, run) in enumerate(runs.items()):
        epochs = [e["epoch"] for e in run["epochs"]]
        for j, key in enumerate(keys):
            ax.plot(epochs, [e.get(key, np.nan) for e in run["epochs"]], styles[j % len(styles)], marker="o", ms=3,
                    color=palette[i % len(palette)], label=f"{label}: {key.replace('_', ' ')}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Dice (thresholded at 0.5)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return ax

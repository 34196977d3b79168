"""How well ADL's rankings find the noisy masks, and what leaving masks out does to test IoU.

Read from run files that record, per epoch and mask, what every ranking is
computed from (``run["adl"]["records"]``; :func:`rescore` recomputes the rankings,
:mod:`rarunet_lib.adl_rankings`); NumPy, SciPy and matplotlib only.
"""

from __future__ import annotations

import numpy as np

from ..adl_rankings import ALL_RANKINGS, ranking_quality
from .runs import _check_results
from .stats import Stat, sign_test, stat

__all__ = [
    "RANKING_LABELS",
    "rescore",
    "ranking_curves",
    "ranking_summary",
    "plot_ranking_curves",
    "loss_size_points",
    "exclusion_persistence",
    "plot_loss_vs_size",
    "ADL_ARMS",
    "adl_arms",
    "adl_verdict",
    "study_summary",
]

#: Ranking name -> label for tables and legends.
RANKING_LABELS: dict[str, str] = {
    "normalised_cumulative": "normalised cumulative loss (paper)",
    "last_epoch": "last-epoch loss",
    "random": "random",
    "size_adjusted": "size-adjusted loss",
    "area_ratio": "predicted / labelled area",
    "confident_disagreement": "confident disagreement",
    "cleanlab": "cleanlab label quality",
}

#: Okabe-Ito colour of each ranking (colour-blind safe; random is black and dashed).
_COLOURS = {"normalised_cumulative": "blue", "last_epoch": "sky_blue", "random": "black",
            "size_adjusted": "bluish_green", "area_ratio": "orange", "confident_disagreement": "vermillion",
            "cleanlab": "reddish_purple"}


def _scored_runs(results: dict):
    _check_results(results)
    for r in results.values():
        adl = r.get("adl") or {}
        if adl.get("records") or adl.get("scores_by_ranking"):
            yield r


def _table(rows, missing: float = -np.inf) -> np.ndarray:
    """A table from JSON, null as ``missing`` (-inf for scores: a mask never seen ranks last; NaN for records)."""
    return np.array([[missing if v is None else v for v in row] for row in rows], dtype=float)


def rescore(run: dict) -> dict[str, np.ndarray]:
    """Every ranking's scores after every epoch, recomputed from a run's records with today's definitions.

    A run records, per epoch and mask, the training loss and the statistics
    of its probabilities (``run["adl"]["records"]``); the rankings
    (:meth:`rarunet_lib.adl.AdlState.ranking_scores`) are computed from
    those alone, so runs written before a ranking's definition changed are
    scored like new ones.  ``cleanlab`` is included where the records hold it
    (the package is not needed to rescore).

    Returns
    -------
    dict of ranking -> array (epochs, masks)
    """
    from ..adl import RANKINGS, AdlState

    adl = run["adl"]
    rec = adl["records"]
    losses = _table(rec["loss"], np.nan)  # null in JSON: not recorded
    epochs, n = losses.shape
    state = AdlState(n, epochs, enabled=False, areas=adl["area_trained"], seed=run["spec"]["seed"])
    state.losses = losses
    seen = ~np.isnan(losses)
    state.stats["label_area"] = np.where(seen, np.asarray(adl["area_trained"], float)[None, :], np.nan)
    for k in ("pred_area", "confident_disagreement", "cleanlab"):
        state.stats[k] = _table(rec[k], np.nan)
    names = [k for k in RANKINGS if k != "cleanlab" or not np.isnan(state.stats["cleanlab"]).all()]
    return {k: np.array([state.ranking_scores(k, t) for t in range(1, epochs + 1)]) for k in names}


def ranking_curves(results: dict) -> list[dict]:
    """ROC-AUC and average precision of every recorded ranking after every epoch, per setting, over runs.

    Parameters
    ----------
    results : dict
        Run id -> run (:func:`rarunet_lib.experiments.load_results`); runs
        without records are skipped.  Scores are recomputed from each run's
        records (:func:`rescore`) where it has them, else read as recorded.

    Returns
    -------
    list of dict
        One per (beta, alpha, ranking), sorted by beta (descending), alpha and
        the order of :data:`rarunet_lib.adl_rankings.ALL_RANKINGS`: ``beta,
        alpha, ranking, runs``, ``roc_auc`` and ``average_precision`` (a
        :class:`Stat` per epoch, over runs), ``chance_ap`` (mean noisy share).

    Example
    -------
    >>> adl = {"noisy": [0], "area_clean": [5, 5], "scores_by_ranking": {"random": [[0.2, 0.1], [0.1, 0.2]]}}
    >>> run = {"spec": {"noise_beta": 0.5, "noise_alpha": 0.7, "seed": 0}, "adl": adl}
    >>> (row,) = ranking_curves({"a": run})
    >>> [s.mean for s in row["roc_auc"]], row["chance_ap"]
    ([1.0, 0.0], 0.5)
    """
    cells: dict = {}
    for r in _scored_runs(results):
        spec, adl = r["spec"], r["adl"]
        n = len(adl["area_clean"])
        tables = rescore(r) if adl.get("records") else {k: _table(v) for k, v in adl["scores_by_ranking"].items()}
        for name, table in tables.items():
            q = [ranking_quality(row, adl["noisy"], n) for row in table]
            cell = cells.setdefault((spec["noise_beta"], spec["noise_alpha"], name), [])
            cell.append(q)
    out = []
    order = {k: i for i, k in enumerate(ALL_RANKINGS)}
    for (beta, alpha, name), runs in sorted(cells.items(), key=lambda kv: (-kv[0][0], kv[0][1], order[kv[0][2]])):
        epochs = min(len(q) for q in runs)
        out.append({"beta": beta, "alpha": alpha, "ranking": name, "runs": len(runs),
                    "roc_auc": [stat([q[e]["roc_auc"] for q in runs]) for e in range(epochs)],
                    "average_precision": [stat([q[e]["average_precision"] for q in runs]) for e in range(epochs)],
                    "chance_ap": float(np.mean([q[0]["chance_ap"] for q in runs]))})
    return out


def ranking_summary(curves: list[dict]) -> list[dict]:
    """Each ranking's ROC-AUC and AP after the last epoch, per setting, and its worst setting.

    The last epoch's ranking is the one a forget rate acts on at the end, and
    every ranking's best (they improve while the model learns, Figure 6.4).

    Parameters
    ----------
    curves : list of dict
        :func:`ranking_curves`.

    Returns
    -------
    list of dict
        One per ranking, in :data:`~rarunet_lib.adl_rankings.ALL_RANKINGS` order: ``ranking``,
        ``settings`` (``(beta, alpha) -> {"roc_auc", "average_precision"}`` as :class:`Stat`
        over runs, and ``chance_ap``) and ``worst_roc_auc`` (the lowest mean over the settings).

    Example
    -------
    >>> from rarunet_lib.report.stats import Stat
    >>> c = [{"beta": 0.5, "alpha": 0.7, "ranking": "random", "chance_ap": 0.5,
    ...       "roc_auc": [Stat(0.4, 0.0, 2), Stat(0.6, 0.0, 2)], "average_precision": [Stat(0.5, 0.0, 2)] * 2}]
    >>> ranking_summary(c)[0]["worst_roc_auc"]
    0.6
    """
    by: dict = {}
    for c in curves:
        by.setdefault(c["ranking"], {})[(c["beta"], c["alpha"])] = {
            "roc_auc": c["roc_auc"][-1], "average_precision": c["average_precision"][-1],
            "chance_ap": c["chance_ap"]}
    return [{"ranking": k, "settings": by[k], "worst_roc_auc": min(v["roc_auc"].mean for v in by[k].values())}
            for k in ALL_RANKINGS if k in by]


def plot_ranking_curves(curves: list[dict], *, measure: str = "roc_auc", rankings=None, axes=None):
    """One panel per setting: a ranking's ``measure`` per epoch, mean over runs with a +-1 SD band.

    Colours are the Okabe-Ito palette (colour-blind safe); the dashed line is chance
    (0.5 for ROC-AUC, the noisy share for average precision).  Returns the figure.
    """
    import matplotlib.pyplot as plt

    from ..plotting import OKABE_ITO

    settings = list(dict.fromkeys((c["beta"], c["alpha"]) for c in curves))
    if axes is None:
        _, axes = plt.subplots(1, len(settings), figsize=(3.4 * len(settings), 3.9), sharey=True, squeeze=False,
                               layout="constrained")
        axes = axes[0]
    names = [k for k in ALL_RANKINGS if rankings is None or k in rankings]
    for ax, (beta, alpha) in zip(axes, settings, strict=True):
        for c in curves:
            if (c["beta"], c["alpha"]) != (beta, alpha) or c["ranking"] not in names:
                continue
            colour = OKABE_ITO[_COLOURS[c["ranking"]]]
            mean = np.array([s.mean for s in c[measure]])
            sd = np.nan_to_num(np.array([s.std for s in c[measure]]))
            t = np.arange(1, mean.size + 1)
            ax.plot(t, mean, color=colour, label=RANKING_LABELS.get(c["ranking"], c["ranking"]),
                    linestyle="--" if c["ranking"] == "random" else "-")
            ax.fill_between(t, mean - sd, mean + sd, color=colour, alpha=0.15, linewidth=0)
            chance = 0.5 if measure == "roc_auc" else c["chance_ap"]
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1)
        ax.set_title(f"beta {beta:.2f}, alpha {alpha:.2f}")
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("ROC-AUC" if measure == "roc_auc" else "average precision")
    fig = axes[0].figure
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    return fig


def loss_size_points(run: dict, epoch: int | None = None) -> dict:
    """Per mask: label area as trained, the training loss of an epoch, and whether it is noisy.

    The loss is the one recorded in the training pass of ``epoch`` (default:
    the last; NaN where a mask was not seen).

    Example
    -------
    >>> adl = {"noisy": [1], "area_trained": [4, 9], "area_clean": [4, 16], "records": {"loss": [[0.3, 0.6]]}}
    >>> p = loss_size_points({"adl": adl})
    >>> p["area"].tolist(), p["loss"].tolist(), p["noisy"].tolist()
    ([4, 9], [0.3, 0.6], [False, True])
    """
    adl = run["adl"]
    table = _table(adl["records"]["loss"], np.nan)
    row = table[-1 if epoch is None else epoch - 1]
    noisy = np.zeros(row.size, dtype=bool)
    noisy[np.asarray(adl["noisy"], dtype=int)] = True
    return {"area": np.asarray(adl["area_trained"]), "loss": row, "noisy": noisy}


def plot_loss_vs_size(run: dict, *, epoch: int | None = None, ax=None):
    """Scatter of per-mask training loss against label area (log scale), noisy masks marked; returns the axes."""
    import matplotlib.pyplot as plt

    from ..plotting import OKABE_ITO

    p = loss_size_points(run, epoch)
    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    ok = np.isfinite(p["loss"])
    area = p["area"] + 1.0  # empty masks at 1 on the log axis
    ax.scatter(area[ok & ~p["noisy"]], p["loss"][ok & ~p["noisy"]], s=9, color=OKABE_ITO["sky_blue"], marker="o",
               label="clean mask", alpha=0.7)
    ax.scatter(area[ok & p["noisy"]], p["loss"][ok & p["noisy"]], s=14, color=OKABE_ITO["vermillion"], marker="x",
               label="noisy mask")
    ax.set_xscale("log")
    ax.set_xlabel("label area + 1 (pixels, log scale)")
    ax.set_ylabel("training Dice loss")
    ax.legend(fontsize=8)
    return ax


def exclusion_persistence(run: dict) -> dict:
    """Per epoch of an ADL run: how many masks sat out, the noisy share among them, and how many sat out before.

    A ranking that judges masks by a model trained without them can lock in its
    first choice: the masks left out are not fitted, so their losses stay high
    and they are left out again.  ``kept`` measures that: the share of an epoch's
    left-out masks that were also left out the epoch before.

    Returns
    -------
    dict of arrays (epochs,)
        ``n_out``, ``precision`` (noisy share among those left out; NaN when none) and
        ``kept`` (NaN in the first epoch that leaves any out).

    Example
    -------
    >>> p = exclusion_persistence({"adl": {"excluded": [[], [0, 1], [1, 2]], "noisy": [1]}})
    >>> p["n_out"].tolist(), p["precision"].tolist()[1:], p["kept"].tolist()[2]
    ([0, 2, 2], [0.5, 0.5], 0.5)
    """
    adl = run["adl"]
    noisy = set(int(i) for i in adl["noisy"])
    n_out, precision, kept, prev = [], [], [], None
    for e in adl["excluded"]:
        cur = set(int(i) for i in e)
        n_out.append(len(cur))
        precision.append(len(cur & noisy) / len(cur) if cur else np.nan)
        kept.append(len(cur & prev) / len(cur) if cur and prev else np.nan)
        prev = cur
    return {"n_out": np.array(n_out), "precision": np.array(precision), "kept": np.array(kept)}


#: The arms of the ADL verdict: label -> (where the runs live, run-id part of the arm).
ADL_ARMS: dict[str, str] = {
    "no ADL": "",
    "Eq. 5, paper's ranking": "adl",
    "Eq. 5, best ranking": "adl-{best}",
    "forget rate, best ranking": "adl-forget-{best}",
    "forget rate, random": "adl-forget-random",
}


def adl_arms(results: dict, best: str, *, model: str = "unet") -> dict:
    """The runs of each arm of :data:`ADL_ARMS` per setting and seed: ``{(beta, alpha): {arm: {seed: run}}}``.

    ``results`` may merge several folders (the Table 5 grid and the ADL study);
    run ids tell the arms apart.
    """
    from ..experiments import TABLE5_SETTINGS

    _check_results(results)
    out = {}
    for alpha, beta in TABLE5_SETTINGS:
        noise = f"b{beta:.2f}_a{alpha:.2f}"
        cell = {}
        for label, arm in ADL_ARMS.items():
            prefix = f"{model}__{noise}" + (f"__{arm.format(best=best)}" if arm else "") + "__seed"
            cell[label] = {int(k[len(prefix):]): run for k, run in results.items()
                           if k.startswith(prefix) and k[len(prefix):].isdigit()}
        out[(beta, alpha)] = cell
    return out


def adl_verdict(arms: dict, *, measure: str = "iou") -> list[dict]:
    """Test IoU of every arm per setting, and each ADL arm against no ADL and the forget rate against random.

    Parameters
    ----------
    arms : dict
        :func:`adl_arms`.

    Returns
    -------
    list of dict
        One per (setting, arm): ``beta, alpha, arm``, ``iou`` (:class:`Stat`
        over seeds), ``gain`` (paired difference to no ADL, :class:`Stat`),
        ``sign`` (:func:`sign_test` of those differences) and, for the forget
        rate with the best ranking, ``gain_vs_random`` and ``sign_vs_random``.

    Example
    -------
    >>> def runs(*v): return {s: {"test_pooled": {"iou": x}} for s, x in enumerate(v)}
    >>> arms = {(0.5, 0.7): {"no ADL": runs(0.5, 0.6), "forget rate, best ranking": runs(0.6, 0.7),
    ...                      "forget rate, random": runs(0.4, 0.5)}}
    >>> rows = adl_verdict(arms)
    >>> [(r["arm"], round(r["gain"].mean, 3)) for r in rows]
    [('no ADL', 0.0), ('forget rate, best ranking', 0.1), ('forget rate, random', -0.1)]
    >>> rows[1]["sign"]["up"], round(rows[1]["gain_vs_random"].mean, 3)
    (2, 0.2)
    """
    rows = []
    for (beta, alpha), cell in arms.items():
        base = {s: r["test_pooled"][measure] for s, r in cell.get("no ADL", {}).items()}
        for arm, runs in cell.items():
            if not runs:
                continue
            v = {s: r["test_pooled"][measure] for s, r in runs.items()}
            d = [v[s] - base[s] for s in sorted(v) if s in base]
            row = {"beta": beta, "alpha": alpha, "arm": arm, "iou": stat(list(v.values())),
                   "gain": stat(d) if d else Stat(float("nan"), float("nan"), 0),
                   "sign": sign_test(d) if d else None}
            if arm == "forget rate, best ranking" and cell.get("forget rate, random"):
                ctrl = {s: r["test_pooled"][measure] for s, r in cell["forget rate, random"].items()}
                dr = [v[s] - ctrl[s] for s in sorted(v) if s in ctrl]
                row["gain_vs_random"], row["sign_vs_random"] = stat(dr), sign_test(dr)
            rows.append(row)
    return rows


def study_summary(study: dict, grid: dict, best: str) -> dict:
    """The ADL study in a few numbers (chapters 6 and 7 quote them).

    Parameters
    ----------
    study : dict
        The study's runs (``results/adlrank/<profile>``).
    grid : dict
        The Table 5 grid's runs (no ADL, and Eq. 5 with the paper's ranking), which take
        precedence over study runs of the same id.
    best : str
        The ranking the study's ``adlbest`` and ``adlforget`` runs use.

    Returns
    -------
    dict
        ``curves`` and ``summary`` (:func:`ranking_curves` and :func:`ranking_summary` of
        the study's runs of the paper's ADL, whose exclusions are few), ``auc_range`` (ranking ->
        (lowest, highest) last-epoch mean ROC-AUC over the settings), ``verdict``
        (:func:`adl_verdict`), and for the forget rate with ``best``: ``wins`` (settings
        where its mean test IoU is above no ADL), ``beats`` (settings where it is above
        its random control), ``settings`` (settings with such runs), ``sign`` and
        ``sign_vs_random`` (:func:`sign_test` over every pair of runs).
    """
    eq5 = {k: r for k, r in study.items()  # the paper's ADL: Eq. 5, its ranking, few masks left out
           if r.get("spec", {}).get("adl_schedule") is None and r.get("spec", {}).get("adl_ranking") is None
           and (r.get("adl") or {}).get("records")}
    curves = ranking_curves(eq5)
    summary = ranking_summary(curves)
    auc_range = {s["ranking"]: (min(v["roc_auc"].mean for v in s["settings"].values()),
                                max(v["roc_auc"].mean for v in s["settings"].values())) for s in summary}
    arms = adl_arms({**study, **grid}, best)
    verdict = adl_verdict(arms)
    diffs, diffs_random = [], []
    for cell in arms.values():
        runs, base, ctrl = (cell[k] for k in ("forget rate, best ranking", "no ADL", "forget rate, random"))
        diffs += [runs[s]["test_pooled"]["iou"] - base[s]["test_pooled"]["iou"] for s in runs if s in base]
        diffs_random += [runs[s]["test_pooled"]["iou"] - ctrl[s]["test_pooled"]["iou"] for s in runs if s in ctrl]
    forget = [r for r in verdict if r["arm"] == "forget rate, best ranking" and r["gain"].n]
    return {"curves": curves, "summary": summary, "auc_range": auc_range, "arms": arms, "verdict": verdict,
            "settings": len(forget), "wins": sum(r["gain"].mean > 0 for r in forget),
            "beats": sum(r["gain_vs_random"].mean > 0 for r in forget if "gain_vs_random" in r),
            "sign": sign_test(diffs) if diffs else None,
            "sign_vs_random": sign_test(diffs_random) if diffs_random else None}

"""The paper's tables beside ours: Tables 1, 2-3, 4 and 5 as rows, Markdown, and figures.

The chapters on ablations and evaluation call these on the run files that
:mod:`rarunet_lib.experiments` writes (``results/<profile>/*.json``): each
function takes the dict :func:`rarunet_lib.experiments.load_results` returns
and gives rows (plain dicts) or draws on matplotlib axes.  A cell with no run
yet reads "not run", never a made-up number.  NumPy and matplotlib only.
"""

from __future__ import annotations

import numpy as np

from ..paper import TABLE1, TABLE2, TABLE3, TABLE4, TABLE5
from .runs import _measure, _runs
from .stats import Stat, paired_gain, stat

__all__ = [
    "TABLE4_LABELS",
    "table4_rows",
    "table5_rows",
    "table1_rows",
    "table23_rows",
    "markdown_table",
    "profile_note",
    "plot_table4",
    "plot_table5",
    "plot_curves",
    "table4_summary",
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


def _table4_filter(row: int) -> dict:
    from ..experiments import table_runs

    spec = table_runs("table4", [0])[row - 1]
    return {"model": spec.model, "table4_row": spec.table4_row}


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
    from ..experiments import TABLE5_MODELS, TABLE5_SETTINGS

    rows = []
    for alpha, beta in TABLE5_SETTINGS:
        for paper_name, name in TABLE5_MODELS.items():
            row = {"beta": beta, "alpha": alpha, "model": paper_name, "name": name}
            runs = {}
            for adl in (False, True):
                tag = "adl" if adl else "noadl"
                runs[tag] = _runs(results, model=name, noise_beta=beta, noise_alpha=alpha, adl=adl)
                paper = TABLE5.get((alpha, beta, paper_name, adl))
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


def table1_rows(results: dict) -> list[dict]:
    """Table 1 analogue: the 2-D models we build on clean labels, the paper's numbers beside ours.

    Returns
    -------
    list of dict
        ``model`` (paper name), ``name``, ``paper`` (dict of dice, accuracy,
        precision, recall, specificity, params_m), ``ours`` (dict of
        :class:`Stat` for the same measures), ``params`` (ours).
    """
    from ..experiments import TABLE1_MODELS

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


def plot_table4(rows: list[dict], ax=None, measure: str = "iou"):
    """Paper (bars) beside ours (mean ± sd over seeds, each seed a dot) for Table 4's rows."""
    import matplotlib.pyplot as plt

    from ..plotting import OKABE_ITO as c

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

    from ..plotting import OKABE_ITO as c

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

    from ..plotting import OKABE_ITO as c

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

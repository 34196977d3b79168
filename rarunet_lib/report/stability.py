"""How settled training runs are at their end: late swings of the validation curve, collapsed runs.

NumPy and matplotlib only.
"""

from __future__ import annotations

import math

import numpy as np

from .runs import _check_results
from .stats import stat

__all__ = [
    "late_swing",
    "stability_summary",
    "plot_stability",
]


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
    """Per-epoch curves of :file:`studies/stability.py` runs: one colour per run, one line style per key.

    Parameters
    ----------
    runs : dict
        Label -> the JSON that ``studies/stability.py`` writes (its ``epochs`` list).
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
        raise ValueError(f"runs {missing} have no 'epochs' list: pass the JSON studies/stability.py writes")
    from ..plotting import OKABE_ITO as c

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

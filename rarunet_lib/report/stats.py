"""Summaries over seeds and paired tests for the report (NumPy/SciPy only).

A measure of one grid cell over its seeds is a :class:`Stat` (mean, sample SD,
count); :func:`fmt` and :func:`num` print it for a table or a sentence;
:func:`paired_gain` and :func:`sign_test` compare two arms seed by seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Stat",
    "stat",
    "fmt",
    "num",
    "paired_gain",
    "sign_test",
]


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

"""Which committed runs a cell of a table reads: looked up by run id.

:func:`rarunet_lib.experiments.load_results` keys every run by its
:attr:`~rarunet_lib.experiments.RunSpec.run_id`, which names the model (or
Table 4 row), the noise setting, the ADL arm and the seed; a cell of a table is
that id with the seed left open.
"""

from __future__ import annotations

import re

from .stats import Stat, stat

#: The grid cell when a field is not named: clean labels, no ADL, no Table 4 row, the paper's ranking.
_CELL_DEFAULTS = {"table4_row": None, "noise_beta": 0.0, "noise_alpha": None, "adl": False, "adl_ranking": None}
#: A registry model name in a run id (``model=None``: any model, but not a Table 4 row's ``rar_unet``).
_ANY_MODEL = r"(?!table4_row\d)[a-z0-9]+(?:_[a-z0-9]+)*"
_MODEL_PLACEHOLDER = "MODEL"


def _check_results(results) -> None:
    if not isinstance(results, dict):
        raise TypeError(f"results must be a dict of run id -> run (load_results), got {type(results).__name__}")


def _run_id_pattern(model: str | None, **want) -> str:
    """A regular expression of the run ids of one grid cell, every seed (and for ``model=None`` every model)."""
    from ..experiments import RunSpec

    cell = {**_CELL_DEFAULTS, **want}
    open_model = model is None and cell["table4_row"] is None
    run_id = RunSpec(_MODEL_PLACEHOLDER if model is None else model, 0, **cell).run_id
    if not run_id.endswith("__seed0"):  # RunSpec.run_id names the seed last
        raise AssertionError(f"run id {run_id!r} does not end with its seed")
    pattern = re.escape(run_id[: -len("0")]) + r"(\d+)"
    if open_model:
        pattern = _ANY_MODEL + pattern[len(_MODEL_PLACEHOLDER):]
    return pattern


def _runs(results: dict, model: str | None = None, **want) -> list[dict]:
    """The runs of one grid cell, every seed of it in seed order, looked up by run id.

    Fields of :class:`~rarunet_lib.experiments.RunSpec` not named are clean
    labels, no ADL, no Table 4 row and the paper's ranking; ``model=None``
    means any model.

    Example
    -------
    >>> res = {k: {"id": k} for k in ("unet__clean__seed1", "unet__clean__seed0", "unet__b0.50_a0.77__seed0",
    ...                               "unet__b0.50_a0.77__adl__seed0", "table4_row3__b0.50_a0.77__adl__seed0",
    ...                               "residual_unet__b0.50_a0.77__adl__seed0", "unet__clean__seed0_old")}
    >>> [r["id"] for r in _runs(res, model="unet")]
    ['unet__clean__seed0', 'unet__clean__seed1']
    >>> [r["id"] for r in _runs(res, noise_beta=0.5, noise_alpha=0.77, adl=True)]
    ['unet__b0.50_a0.77__adl__seed0', 'residual_unet__b0.50_a0.77__adl__seed0']
    """
    pattern = re.compile(_run_id_pattern(model, **want))
    found = []
    for run_id, run in results.items():
        m = pattern.fullmatch(run_id)
        if m:
            found.append((int(m.group(1)), run))
    found.sort(key=lambda seed_run: seed_run[0])  # stable: runs of one seed keep the results' order
    return [run for _, run in found]


def _measure(runs: list[dict], key: str, section: str = "test_pooled") -> Stat:
    s = stat([r[section].get(key) for r in runs])
    return Stat(s.mean, s.std, s.n, n_runs=len(runs))

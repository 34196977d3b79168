"""Chapters 7-8 print the same tables: the report's rows of the committed results, against stored values.

``tests/data/report_tables.json`` was written by this file (``python tests/test_report_tables.py
--write``) from the report code as it stood *before* ``report`` was split into a package and
before its runs were looked up by run id, so it is an independent reference for the refactored
code: every number must agree to 1e-12, every label, count and run id exactly.  Regenerate it only
when the committed results or the meaning of a table change on purpose, never to make this pass.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "data" / "report_tables.json"
TOL = 1e-12


def _plain(value):
    """Rows as JSON: a Stat as its fields, a run as its id, NaN as the string "nan"."""
    from rarunet_lib.report import Stat

    if isinstance(value, Stat):
        return {"mean": _plain(value.mean), "std": _plain(value.std), "n": value.n, "n_runs": value.n_runs}
    if isinstance(value, dict):
        if "run_id" in value and "spec" in value:  # a whole run: its id says which
            return {"run": value["run_id"]}
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item())
    return value


def _tables() -> dict:
    """What chapters 7 and 8 compute from the committed grids (notebooks 07 and 08, ``report.`` calls)."""
    from rarunet_lib import report
    from rarunet_lib.experiments import load_results, results_dir

    out = {}
    for name in ("cpu", "cpu2"):
        res = load_results(results_dir(name))
        assert res, f"no committed results in {results_dir(name)}"
        t4 = report.table4_rows(res)
        pairs = report.adl_pairs(res)
        out[name] = {
            "profile_note": report.profile_note(res),
            "table4_rows": t4,
            "table4_summary": report.table4_summary(t4),
            "table5_rows": report.table5_rows(res),
            "table1_rows": report.table1_rows(res),
            "table23_rows": report.table23_rows(res),
            "adl_activity": report.adl_activity(res),
            "adl_exclusion_sizes": report.adl_exclusion_sizes(res),
            "adl_pairs": pairs,
            "adl_pairs_random": report.adl_pairs(res, ranking="random"),
            "sign_test": report.sign_test([p["test_iou"] for p in pairs]),
            "stability_summary": report.stability_summary(res),
        }
    return _plain(out)


def _compare(got, want, path: str = "") -> list[str]:
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return [f"{path}: keys {sorted(got) if isinstance(got, dict) else type(got)} != {sorted(want)}"]
        return [m for k in want for m in _compare(got[k], want[k], f"{path}.{k}")]
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: {got!r} != {want!r}"]
        return [m for i, (g, w) in enumerate(zip(got, want, strict=True)) for m in _compare(g, w, f"{path}[{i}]")]
    if isinstance(want, float):
        ok = isinstance(got, float) and math.isclose(got, want, rel_tol=TOL, abs_tol=TOL)
        return [] if ok else [f"{path}: {got!r} != {want!r}"]
    if type(got) is not type(want) or got != want:
        return [f"{path}: {got!r} != {want!r}"]
    return []


@pytest.fixture(scope="module")
def stored():
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def computed():
    return _tables()


@pytest.mark.parametrize("profile", ["cpu", "cpu2"])
def test_chapters_7_and_8_print_the_stored_tables(stored, computed, profile):
    diffs = _compare(computed[profile], stored[profile], profile)
    assert not diffs, f"{len(diffs)} differences, first: {diffs[:5]}"


def test_the_stored_tables_are_not_empty(stored):
    """The reference holds real runs: a fixture of "not run" cells would let any refactor pass."""
    t4 = stored["cpu2"]["table4_rows"]
    assert [r["row"] for r in t4] == list(range(1, 8))
    assert all(r["iou"]["n"] == 3 for r in t4)
    assert len(stored["cpu2"]["adl_pairs"]) == 36 and len(stored["cpu2"]["adl_pairs_random"]) > 0
    assert sum(r["iou_adl"]["n"] for r in stored["cpu2"]["table5_rows"]) == 36


def test_compare_sees_a_change_in_the_last_digits():
    assert _compare({"a": [1.0, 0.5]}, {"a": [1.0, 0.5]}) == []
    assert _compare({"a": [1.0, 0.5 + 1e-9]}, {"a": [1.0, 0.5]})
    assert _compare({"a": 3}, {"a": 3.0}) and _compare({"a": 3.0}, {"a": 3})  # a count stays a count, a mean a mean
    assert _compare({"a": "x"}, {"a": "y"}) and _compare({"a": 1}, {"b": 1})


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_report_tables.py --write  (only from the code the fixture pins)")
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(_tables(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {FIXTURE}")

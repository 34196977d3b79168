"""The chapters themselves: structure that nbval cannot check.

nbval (``--nbval-lax``) compares only cells marked ``# NBVAL_CHECK_OUTPUT`` that hold a stored output with an
execution count; a marked cell without one passes vacuously.  These tests make sure every marked cell has a
reference output to be compared with (``tools/store_check_outputs.py`` stores them), and that every chapter has
the parts the book promises.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(nb):
    return json.loads(nb.read_text())["cells"]


def test_all_chapters_are_in_the_table_of_contents():
    toc = (ROOT / "book" / "_toc.yml").read_text()
    assert [p.stem for p in NOTEBOOKS] == [f"{i:02d}_{p.stem[3:]}" for i, p in enumerate(NOTEBOOKS)]
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in toc, nb.name


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_checked_cells_have_reference_outputs(nb):
    for i, c in enumerate(_cells(nb)):
        if c["cell_type"] == "code" and "NBVAL_CHECK_OUTPUT" in "".join(c["source"]):
            assert c.get("execution_count") and c.get("outputs"), \
                f"{nb.name} cell {i} is marked NBVAL_CHECK_OUTPUT but stores no output: run tools/store_check_outputs.py"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_other_cells_store_no_outputs(nb):
    """Outputs come from the build; stored ones would go stale (and bloat the repository)."""
    for i, c in enumerate(_cells(nb)):
        if c["cell_type"] == "code" and "NBVAL_CHECK_OUTPUT" not in "".join(c["source"]):
            assert not c.get("outputs"), f"{nb.name} cell {i} stores outputs"


@pytest.mark.parametrize("nb", [p for p in NOTEBOOKS if p.stem != "00_introduction"], ids=lambda p: p.stem)
def test_chapter_parts(nb):
    text = "\n".join("".join(c["source"]) for c in _cells(nb) if c["cell_type"] == "markdown")
    for part in ("What you will learn", "## Exercises", "## References", ":class: dropdown"):
        assert part in text, f"{nb.name} lacks {part!r}"
    code = "\n".join("".join(c["source"]) for c in _cells(nb) if c["cell_type"] == "code")
    assert "setup_notebook(" in code, f"{nb.name} does not print the profile banner"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapters_are_valid_nbformat_with_unique_cell_ids(nb):
    """nbformat 4.5 cell ids: a cell without one is a warning today and an error in later nbformat versions."""
    import nbformat

    data = json.loads(nb.read_text())
    assert (data["nbformat"], data["nbformat_minor"]) >= (4, 5)
    ids = [c.get("id") for c in data["cells"]]
    assert None not in ids, f"{nb.name}: cells {[i for i, x in enumerate(ids) if x is None]} have no id"
    assert len(set(ids)) == len(ids), f"{nb.name}: duplicate cell ids"
    nbformat.validate(nbformat.reads(nb.read_text(), as_version=4))

"""Execute chapters and store the outputs of their ``# NBVAL_CHECK_OUTPUT`` cells (and only those).

nbval in lax mode compares a cell's output only when the cell is marked
``# NBVAL_CHECK_OUTPUT`` *and* the notebook holds a stored output with an
execution count; without one the check passes vacuously.  This script runs each
notebook in the quick profile (as the book build does) and keeps the fresh
outputs of the marked cells, clearing every other output so that the notebooks
stay small and hold no stale numbers.  ``tests/test_notebooks.py`` fails when a
marked cell has no stored output.

Run after changing a marked cell:  python tools/store_check_outputs.py notebooks/03_architecture.ipynb
(no argument: every chapter).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "NBVAL_CHECK_OUTPUT"


def store(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    run = nbformat.read(path, as_version=4)
    NotebookClient(run, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    n = 0
    for cell, done in zip(nb.cells, run.cells, strict=True):
        if cell.cell_type != "code":
            continue
        if MARK in cell.source:
            cell.outputs = [o for o in done.outputs if o.get("output_type") != "display_data"
                            or "text/plain" in o.get("data", {})]
            cell.execution_count = done.execution_count
            n += 1
        else:
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, path)
    return n


def main(argv: list[str]) -> int:
    os.environ.setdefault("RARUNET_PROFILE", "quick")
    os.environ.pop("MPLBACKEND", None)
    root = Path(__file__).resolve().parents[1]
    paths = [Path(a) for a in argv] or sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for p in paths:
        print(f"{p.name}: {store(p)} checked cell(s) stored", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

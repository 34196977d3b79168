"""The chapters as a class reads them: reading time, length, cited figures, glued numbers, the class path.

Checked on the sources (no execution): nbval runs the cells, these tests check what the prose promises.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_WORDS = 2500
# The library code each chapter shows on the page (d2l's habit), by the name it is shown under.
SHOWN = {
    "02_label_noise": ["noise._rank_morphology", "noise._k_for_alpha"],
    "03_architecture": ["show_source(ResPath", "show_source(CBAM", "show_source(rar_unet"],
    "04_measuring_segmentations": ["show_source(boundary_dice.boundary_dice_scores",
                                   "show_source(boundary_dice._boundary_summary"],
}


def _cells(nb: Path) -> list[dict]:
    return json.loads(nb.read_text())["cells"]


def _markdown(nb: Path) -> str:
    return "\n".join("".join(c["source"]) for c in _cells(nb) if c["cell_type"] == "markdown")


def _code(nb: Path) -> str:
    return "\n".join("".join(c["source"]) for c in _cells(nb) if c["cell_type"] == "code")


def prose_words(markdown: str) -> int:
    """Words of prose: display math and directive fences dropped, inline math one word, table rules dropped."""
    text = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.S)
    text = re.sub(r"\$[^$]+\$", " X ", text)
    lines = [ln for ln in text.splitlines() if not re.match(r"\s*(:::|:class:|\|[-| ]+\|\s*$)", ln)]
    return sum(1 for t in " ".join(lines).split() if re.search(r"[A-Za-z0-9]", t))


def test_prose_words_counts_words_not_math():
    assert prose_words("Two words.\n\n$$x = 1$$\n\n:::{note}\n:::\n| a | b |\n|---|---|") == 4


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_states_its_reading_time_at_the_top(nb):
    first = "".join(next(c for c in _cells(nb) if c["cell_type"] == "markdown")["source"])
    assert re.search(r"Reading time: about \d+ minutes", first), f"{nb.name}: no 'Reading time: about N minutes'"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_prose_is_at_most_2500_words(nb):
    n = prose_words(_markdown(nb))
    assert n <= MAX_WORDS, f"{nb.name}: {n} words of prose (at most {MAX_WORDS})"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_is_cited_in_the_text(nb):
    """A figure number that sits only in alt text or a title is invisible to a reader of the prose."""
    drawn = set()
    for c in _cells(nb):
        if c["cell_type"] == "code":
            alt = json.dumps(c.get("metadata", {}).get("mystnb", {}))
            drawn |= set(re.findall(r"Figure (\d+\.\d+)", alt + "".join(c["source"])))
    text = _markdown(nb)
    missing = sorted(f for f in drawn if not re.search(rf"Figure {re.escape(f)}\b", text))
    assert not missing, f"{nb.name}: figures never cited in the text: {missing}"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_number_is_computed_in_the_chapter(nb):
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", _markdown(nb)))
    code = _code(nb)
    glued = set(re.findall(r"""glue\(\s*["']([A-Za-z0-9_]+)["']""", code))
    glued |= set(re.findall(r"""["']([A-Za-z0-9_]+)["']\s*:""", code))  # keys of glue_all({...})
    assert used <= glued, f"{nb.name}: prose uses numbers no cell glues: {sorted(used - glued)}"


@pytest.mark.parametrize("stem", sorted(SHOWN))
def test_chapter_shows_the_librarys_own_code(stem):
    code = _code(ROOT / "notebooks" / f"{stem}.ipynb")
    assert "from rarunet_lib.notebook import show_source" in code  # the library's own reader
    for name in SHOWN[stem]:
        assert name in code, f"{stem} does not show {name}"


def test_the_class_path_fits_two_hours_and_the_core_reads_in_at_most_150_minutes():
    intro = _markdown(ROOT / "notebooks" / "00_introduction.ipynb")
    section = intro.split("## A two-hour path for a class", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if re.match(r"\|\s*\d+\s*\|", r)]
    minutes = [int(r.strip().strip("|").split("|")[-1]) for r in rows]
    assert rows and sum(minutes) <= 150, minutes
    assert sum(minutes) == 120, f"the path is announced as two hours but adds up to {sum(minutes)} minutes"
    for r in rows:
        for doc in re.findall(r"\{doc\}`([^`]+)`", r):
            assert (ROOT / "notebooks" / f"{doc}.ipynb").exists(), doc


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_code_cells_fit_on_the_page(nb):
    """No code line over 88 characters; the Colab install cell (kept as it is in every chapter) excepted."""
    cells = [c for c in _cells(nb) if c["cell_type"] == "code"][1:]
    long = [(c["id"], len(line)) for c in cells for line in "".join(c["source"]).splitlines() if len(line) > 88]
    assert not long, f"{nb.name}: code lines over 88 characters (cell id, length): {long}"

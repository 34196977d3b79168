"""Numbers in the chapters' prose are computed, and the prose carries no run history.

A result typed into a sentence drifts from the table it came from as soon as a run is added; a number
glued from the code cell that computes it (MyST-NB ``glue`` in the cell, ``{glue:text}`name``` in the
text) cannot.  These tests read the markdown cells of the chapters listed in ``CHECKED`` and fail on

- a decimal number that is neither glued, nor in code (inline or fenced), nor a figure or section
  number ("Figure 7.1"), nor one of the short list of method constants ``CONSTANTS``;
- run history in the prose: commit hashes and phrases that date the text ("so far", "when this was
  written"); provenance is printed by code from the result files.

The paper's own figures are no exception: glue them from :mod:`rarunet_lib.paper`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Chapters whose prose must pass.
CHECKED = ["05_training", "06_adaptive_denoising", "07_ablations", "08_evaluation",
           "09_appendix_unsettled_runs"]

#: Chapters still to be brought under the checks (none left).
TODO: list[str] = []

#: Decimals that may be typed: constants of the method, not results.
CONSTANTS = {
    # Eq. 5's coefficients (0.5 k y, 0.1 k x, 0.6 k y, ...)
    "0.1", "0.5", "0.6",
    # Table 5's noise settings (proportion beta, level alpha), the experiment's design
    "0.25", "0.50", "0.75", "0.55", "0.68", "0.77", "0.85",
    # a last-epoch test IoU below 0.2 counts as collapsed (report.stability_summary's default)
    "0.2",
    # BatchNorm momentum: the grid's 0.9 and Keras's default 0.99
    "0.9", "0.99",
}

_FENCED = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
_GLUE = re.compile(r"\{glue(?::[a-z]+)?\}`[^`]*`")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_NUMBERED = re.compile(r"\b(?:Figures?|Fig\.|Tables?|[Ss]ections?|[Cc]hapters?|Eqs?\.)\s+\d+(?:\.\d+)+")
_DECIMAL = re.compile(r"(?<![\w.])\d*\.\d+(?!\w)(?!\.\d)")  # "0.13." at a sentence's end too
_HASH = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
HISTORY = ("so far", "when this was written", "at the time of writing", "the third seed changed",
           "as far as its re-run", "not yet run", "is still running")


def stray_numbers(markdown: str) -> list[str]:
    """Decimal numbers of ``markdown`` typed by hand: not glued, not code, not a numbered reference or constant.

    Example
    -------
    >>> stray_numbers("IoU {glue:text}`iou:.3f` against 0.822, `lr=0.001`, Figure 7.1, plateau 0.1ky")
    ['0.822']
    """
    text = _FENCED.sub(" ", markdown)
    text = _GLUE.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _NUMBERED.sub(" ", text)
    return [d for d in _DECIMAL.findall(text) if d not in CONSTANTS]


def history_phrases(markdown: str) -> list[str]:
    """Commit hashes and dating phrases in ``markdown`` (code spans included: a hash is history there too).

    Example
    -------
    >>> history_phrases("Runs since commit `0cd9d05` ... so far, seed 2")
    ['0cd9d05', 'so far']
    """
    found = _HASH.findall(_GLUE.sub(" ", markdown))
    low = markdown.lower()
    return found + [p for p in HISTORY if p in low]


def _markdown(stem: str) -> list[tuple[int, str]]:
    cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "markdown"]


def test_the_checker_finds_what_it_should():
    """Independent cases written by hand: the regexes must neither miss a typed number nor flag a glued one."""
    assert stray_numbers("mean gain -0.025, from -0.076 to +0.049") == ["0.025", "0.076", "0.049"]
    assert stray_numbers("about 6.25 % of the pixels; p = 0.13.") == ["6.25", "0.13"]
    assert stray_numbers("version 2.21.0 and (0.822)") == ["0.822"]
    assert stray_numbers("{glue:text}`t4_gain` and {glue}`fig` and {glue:text}`p:.2f`") == []
    assert stray_numbers("$t < 0.5kx$, plateau $0.1ky$, beta 0.75, alpha 0.68") == []
    assert stray_numbers("Figure 7.1, Table 4, section 3.3, chapter 6, Eq. 5") == []
    assert stray_numbers("```python\nx = 0.123\n```\nand `lr=0.001`") == []
    assert stray_numbers("10 % of 320 masks, 64x64 slices, 1.5 epochs") == ["1.5"]
    assert history_phrases("commit 6fff054 changed it") == ["6fff054"]
    assert history_phrases("When this was written, the grid was half done") == ["when this was written"]
    assert history_phrases("IoU 0.822 over 3 seeds; decade 1234567") == []


@pytest.mark.parametrize("stem", CHECKED)
def test_no_hand_typed_numbers_in_prose(stem):
    bad = [(i, d) for i, text in _markdown(stem) for d in stray_numbers(text)]
    assert not bad, (f"{stem}: decimal numbers typed into markdown cells (cell, number): {bad}; glue them "
                     "(myst_nb.glue in a code cell, {glue:text}`name` in the text) or, for a constant of the "
                     "method, add it to CONSTANTS with its reason")


@pytest.mark.parametrize("stem", CHECKED)
def test_no_run_history_in_prose(stem):
    bad = [(i, h) for i, text in _markdown(stem) for h in history_phrases(text)]
    assert not bad, f"{stem}: run history in markdown cells (cell, text): {bad}; print provenance from the results"


def test_the_appendix_is_shorter_than_a_chapter():
    """The appendix teaches one method once (at most 1,500 words of prose; chapters: test_chapters_teach)."""
    from test_chapters_teach import prose_words

    words = prose_words("\n".join(text for _, text in _markdown("09_appendix_unsettled_runs")))
    assert words <= 1500, f"the appendix has {words} words of prose, at most 1500"


def test_todo_chapters_exist():
    """The TODO list names real chapters (so that extending CHECKED is a move, not a guess)."""
    for stem in TODO + CHECKED:
        assert (ROOT / "notebooks" / f"{stem}.ipynb").exists(), stem

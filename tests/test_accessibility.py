"""Accessibility of the figures, checked on the sources (the browser test checks the rendered pages).

- every colour written in a chapter or in the library is from the Okabe-Ito palette (distinguishable with the
  common colour-vision deficiencies) or a grey;
- colour maps are perceptually uniform ones or grey;
- the library's overlay defaults are Okabe-Ito colours;
- every chapter cell that draws a figure gives it alt text (myst-nb ``mystnb.image.alt`` metadata) or a caption.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rarunet_lib.plotting import OKABE_ITO

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LIBRARY = sorted((ROOT / "rarunet_lib").rglob("*.py"))

# Okabe & Ito (2008), "Color Universal Design": the eight colours, independent of the library's copy.
PALETTE = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
NAMED_BAD = {"red", "green", "lime", "magenta", "pink", "purple", "cyan", "yellow", "brown", "olive", "r", "g", "m"}
CMAPS_OK = {"gray", "grey", "Greys", "binary", "viridis", "cividis", "magma", "inferno", "plasma", "bone"}


def _is_grey(hexcode: str) -> bool:
    h = hexcode.lstrip("#").upper()
    return len(h) == 6 and h[0:2] == h[2:4] == h[4:6]


def _sources():
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        for i, c in enumerate(cells):
            if c["cell_type"] == "code":
                yield f"{nb.name} cell {i}", "".join(c["source"])
    for py in LIBRARY:
        yield str(py.relative_to(ROOT)), py.read_text()


def test_the_librarys_palette_is_okabe_ito():
    assert {v.upper() for v in OKABE_ITO.values()} == PALETTE


@pytest.mark.parametrize("where, text", list(_sources()), ids=lambda x: x if len(x) < 60 else None)
def test_colours_are_colour_blind_safe(where, text):
    for h in re.findall(r"#[0-9A-Fa-f]{6}\b", text):
        assert h.upper() in PALETTE or _is_grey(h), f"{where}: colour {h} is neither Okabe-Ito nor grey"
    for name in re.findall(r"""(?:colou?rs?|facecolor|edgecolor|mec|mfc)\s*=\s*\[?["']([A-Za-z]+)["']""", text):
        assert name not in NAMED_BAD, f"{where}: named colour {name!r}; use an Okabe-Ito colour"
    for cmap in re.findall(r"""cmap\s*=\s*["']([A-Za-z_]+)["']""", text):
        assert cmap.removesuffix("_r") in CMAPS_OK, f"{where}: colour map {cmap!r} is not perceptually uniform"
    for cmap in re.findall(r"""get_cmap\(\s*["']([A-Za-z_]+)["']""", text):
        assert cmap.removesuffix("_r") in CMAPS_OK, f"{where}: colour map {cmap!r} is not perceptually uniform"


def test_overlay_defaults_are_okabe_ito():
    import numpy as np

    from rarunet_lib.plotting import show_overlay

    m = np.zeros((16, 16), bool)
    m[4:12, 4:12] = True
    ax = show_overlay(np.zeros((16, 16)), {"a": m, "b": m[::-1]}, style="contour")
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    colours = set()
    for coll in ax.collections:
        for c in np.atleast_2d(coll.get_edgecolor()):
            colours.add(mcolors.to_hex(c[:3]).upper())
    plt.close(ax.figure)
    assert colours and colours <= PALETTE, colours


_DRAWS = re.compile(r"plt\.(subplots|figure|show)\(|\.imshow\(|plot_table|plot_curves|show_overlay|draw_")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_figure_cells_have_alt_text(nb):
    for i, c in enumerate(json.loads(nb.read_text())["cells"]):
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        if not _DRAWS.search(src) or "NBVAL_IGNORE_OUTPUT" in src and "explorer" in src:
            continue
        mystnb = c.get("metadata", {}).get("mystnb", {})
        alt = mystnb.get("image", {}).get("alt") or mystnb.get("figure", {}).get("caption")
        assert alt, f"{nb.name} cell {i} draws a figure without alt text (metadata mystnb.image.alt)"

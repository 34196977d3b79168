"""The live explorers (ipywidgets) redraw when a slider moves; the pre-rendered fallbacks hold every frame.

The book does not execute the live explorers (there is no kernel behind a static page, and nbclient can stall on
Output widgets), so they are tested here.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rarunet_lib import widgets  # noqa: E402


def _slider(box, description):
    for row in box.children:
        for w in getattr(row, "children", ()):
            if getattr(w, "description", None) == description:
                return w
    raise AssertionError(f"no widget {description!r}")


@pytest.fixture
def small():
    masks = np.zeros((6, 32, 32), np.uint8)
    masks[:4, 8:24, 10:22] = 1
    images = np.random.default_rng(0).random((6, 32, 32)).astype(np.float32)
    return images, masks


def test_noise_explorer_redraws_with_the_new_values(monkeypatch, small):
    calls = []

    def fake(images, masks, *, alpha, beta, seed, kinds, axes):
        calls.append((alpha, beta, tuple(kinds)))
        return []

    monkeypatch.setattr(widgets, "draw_noisy_dataset", fake)
    box = widgets.noise_explorer(*small, seed=0)
    assert len(calls) == 1  # drawn once on creation
    _slider(box, "alpha").value = 0.6
    _slider(box, "beta").value = 0.25
    _slider(box, "kind").value = "dilation"
    assert calls[1][0] == pytest.approx(0.6)
    assert calls[2][1] == pytest.approx(0.25)
    assert calls[3][2] == ("dilation",)


def test_noise_explorer_needs_a_non_empty_mask(small):
    images, masks = small
    with pytest.raises(ValueError, match="non-empty"):
        widgets.noise_explorer(images, np.zeros_like(masks))


def test_schedule_explorer_redraws(monkeypatch):
    calls = []
    monkeypatch.setattr(widgets, "draw_schedule", lambda a, b, **k: calls.append((a, b)))
    box = widgets.schedule_explorer(epochs=10, n_masks=100)
    _slider(box, "beta").value = 0.5
    assert calls[-1] == (pytest.approx(0.68), pytest.approx(0.5))


def test_animation_has_one_frame_per_alpha(small):
    images, masks = small
    html = widgets.noise_animation_html(images[0], masks[0], [0.6, 0.8, 0.9], seed=0)
    # matplotlib's to_jshtml: a range slider over the frames and one base64 PNG per frame
    assert 'type="range"' in html
    assert html.count("data:image/png;base64") == 3


def test_animations_need_nothing_from_the_internet(small):
    images, masks = small
    for html in (widgets.noise_animation_html(images[0], masks[0], [0.7, 0.9], seed=0),
                 widgets.schedule_animation_html([(0.68, 0.75), (0.77, 0.5)], epochs=10, n_masks=100)):
        assert "https://" not in html and "http://" not in html
        assert 'class="fa ' not in html  # the Font Awesome icons are replaced by characters
        assert '<img alt="' in html

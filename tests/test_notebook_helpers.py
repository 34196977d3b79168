"""The notebook helpers chapters 5, 6 and 8 call: code excerpts, glue text, figures' bookkeeping."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rarunet_lib import metrics  # noqa: E402
from rarunet_lib.notebook import number_text, profile_table, source_excerpt  # noqa: E402
from rarunet_lib.plotting import plot_sample_losses  # noqa: E402
from rarunet_lib.widgets import draw_schedule  # noqa: E402


def _sample(x):
    y = x + 1
    for i in range(3):
        y += i
        if y > 2:
            y -= 1
    z = y * 2
    return z


def test_excerpt_of_a_block_ends_with_the_block():
    assert source_excerpt(_sample, "for i in") == (
        "for i in range(3):\n    y += i\n    if y > 2:\n        y -= 1")


def test_excerpt_of_a_plain_line_runs_to_the_end_of_its_block():
    assert source_excerpt(_sample, "z = y") == "z = y * 2\nreturn z"


def test_excerpt_between_markers_and_whole_source():
    assert source_excerpt(_sample, "y = x", "y += i") == "y = x + 1\nfor i in range(3):\n    y += i"
    assert source_excerpt(_sample).splitlines()[0] == "def _sample(x):"


def test_excerpt_refuses_a_missing_marker():
    with pytest.raises(ValueError, match="stop='nowhere'"):
        source_excerpt(_sample, "y = x", "nowhere")


def test_the_chapters_markers_exist():
    """The excerpts chapters 5 and 6 show: the markers must name lines of the library's code."""
    from rarunet_lib import adl, train

    assert "tape.gradient" in source_excerpt(train._compile_steps, "def step_fn")
    assert "self.adl.record(t, idx, per)" in source_excerpt(train.Trainer._train_epoch, "while done < steps")
    assert "rank_noisy" in source_excerpt(adl.AdlState.choose, "n_out = ")
    assert "0.1 * k * y" in source_excerpt(adl.removal_count, "alpha = _check_unit")
    assert source_excerpt(adl.select_excluded, "s = check_array", "return np.sort").endswith("order[:n_out])")


def test_number_text_follows_the_metrics_conventions():
    g, empty = np.zeros((8, 8), bool), np.zeros((8, 8), bool)
    g[2:5, 2:5] = True
    assert number_text(metrics.hausdorff(g, empty), 1) == "+inf"  # chapter 4: +inf for one empty mask
    assert number_text(metrics.precision(g, empty)) == "NaN"
    assert number_text(0.12345) == "0.123"


def test_profile_table_reads_the_profiles():
    from rarunet_lib.config import PROFILES

    text = profile_table("quick", "full")
    assert f"| epochs | {PROFILES['quick'].epochs} | {PROFILES['full'].epochs} |" in text
    with pytest.raises(ValueError, match="names"):
        profile_table()


def test_heatmap_tells_adl_exclusions_from_leftovers():
    # 3 epochs, 5 samples; hand-made: epoch 1 has one leftover (sample 4), epoch 2 ADL excluded 0 and
    # sample 3 was left over, epoch 3 nothing missing
    nan = np.nan
    losses = np.array([[0.1, 0.2, 0.3, 0.4, nan],
                       [nan, 0.2, 0.3, nan, 0.5],
                       [0.1, 0.2, 0.3, 0.4, 0.5]])
    out = plot_sample_losses(losses, [[], [0], []], noisy=[2, 4])
    assert out["sat_out"] == [0, 1, 0]
    assert out["left_over"] == [1, 1, 0]
    assert out["order"][:2].tolist() == [4, 2]  # noisy first, highest mean loss first
    plt.close("all")


def test_schedule_breakpoints_are_in_a_legend_not_stacked_labels():
    fig, ax = plt.subplots()
    draw_schedule(0.85, 0.25, epochs=50, n_masks=4000, ax=ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["t = 0.1 k x = 0.19", "t = 0.5 k x = 0.94"]
    assert not ax.texts  # no text drawn beside the lines, where they would overlap
    plt.close(fig)


def test_glue_hands_numpy_scalars_over_as_python_numbers(monkeypatch):
    """NumPy 2 prints np.int64(7): a glued NumPy scalar must reach the prose as 7."""
    from rarunet_lib import notebook

    seen = {}
    monkeypatch.setattr(notebook, "_myst_glue", lambda name, value, display: seen.update({name: value}))
    notebook.glue_all({"n": np.int64(7), "x": np.float32(0.5), "s": "0.912", "k": 3})
    assert seen == {"n": 7, "x": 0.5, "s": "0.912", "k": 3}
    assert type(seen["n"]) is int and type(seen["x"]) is float

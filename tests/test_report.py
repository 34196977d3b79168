"""The report of the experiment grid (rarunet_lib.report): tables, ADL and stability diagnostics.

Every result dict here is keyed by run id, as :func:`rarunet_lib.experiments.load_results` keys
the committed runs: a table's cell reads its runs by id, not by matching spec fields.
"""

from __future__ import annotations

import numpy as np
import pytest

from rarunet_lib.experiments import RunSpec
from rarunet_lib.report import fmt, markdown_table, stat, table4_rows, table5_rows, table23_rows

_SPEC_FIELDS = ("model", "seed", "table4_row", "noise_beta", "noise_alpha", "adl", "adl_ranking")


def _by_id(*runs: dict) -> dict:
    """Runs keyed by the run id of their spec, as load_results keys them."""
    out = {RunSpec(**{k: v for k, v in r["spec"].items() if k in _SPEC_FIELDS}).run_id: r for r in runs}
    assert len(out) == len(runs), "two test runs share a run id"
    return out


def test_stat_is_mean_and_sample_sd():
    s = stat([0.8, 0.9, 1.0, None, float("nan")])
    assert s.n == 3 and s.mean == pytest.approx(0.9) and s.std == pytest.approx(0.1)
    assert fmt(s) == "0.900 ± 0.100 (3)"


def _fake(spec: dict, iou: float, recall: float = 0.9) -> dict:
    full = {"table4_row": None, "noise_beta": 0.0, "noise_alpha": None, "adl": False, **spec}
    per = {k: [1.0, None] for k in ("hd", "assd", "rvd", "dbd_g", "dbd_m", "sbd")}
    pooled = {"iou": iou, "recall": recall, "hd": 4.0, "assd": 1.0, "rvd": 0.1, "dbd_g": 0.8, "dbd_m": 0.7,
              "sbd": 0.75}
    data = {"noisy_masks": 3, "n_train": 6, "achieved_alpha_mean": 0.7}
    return {"spec": full, "params": 1, "test_pooled": pooled, "test_pooled_pixels": pooled, "test_per_slice": per,
            "data": data}


def test_table4_rows_pick_the_right_runs():
    res = _by_id(_fake({"model": "unet", "seed": 0}, 0.5), _fake({"model": "unet", "seed": 1}, 0.7),
                 _fake({"model": "rar_unet", "seed": 0, "table4_row": 3}, 0.6),
                 _fake({"model": "unet", "seed": 0, "noise_beta": 0.5, "noise_alpha": 0.77}, 0.1))
    rows = table4_rows(res)
    assert rows[0]["iou"].n == 2 and rows[0]["iou"].mean == pytest.approx(0.6)  # noisy run not counted
    assert rows[2]["iou"].mean == pytest.approx(0.6) and rows[2]["iou"].n == 1
    assert rows[6]["iou"].n == 0 and fmt(rows[6]["iou"]) == "not run"
    assert rows[6]["paper_iou"] == 0.9193


def test_table5_gain_uses_paired_seeds():
    spec = {"model": "unet", "noise_beta": 0.5, "noise_alpha": 0.77}
    res = _by_id(_fake({**spec, "seed": 0}, 0.60), _fake({**spec, "seed": 0, "adl": True}, 0.65),
                 _fake({**spec, "seed": 1}, 0.50), _fake({**spec, "seed": 1, "adl": True}, 0.60),
                 _fake({**spec, "seed": 2}, 0.10))  # no ADL partner: not in the gain
    row = next(r for r in table5_rows(res) if r["name"] == "unet" and r["beta"] == 0.5)
    assert row["gain"].n == 2 and row["gain"].mean == pytest.approx(0.075)
    assert row["gain_paper"] == pytest.approx(0.8522 - 0.7523)
    assert row["iou_noadl"].n == 3


def test_table23_per_slice_mean_skips_undefined_slices():
    res = _by_id(_fake({"model": "rar_unet", "seed": 0}, 0.9))
    rows = {r["measure"]: r for r in table23_rows(res)}
    assert rows["hd"]["per_slice"].mean == 1.0 and rows["hd"]["pooled"].mean == 4.0
    assert rows["hd"]["paper"] == 10.0110


def test_markdown_table():
    assert markdown_table(["x"], [[1], [2]]).splitlines() == ["| x |", "|---|", "| 1 |", "| 2 |"]


def test_table4_summary_against_hand_values():
    from rarunet_lib.report import table4_summary

    res = _by_id(_fake({"model": "unet", "seed": 0}, 0.50), _fake({"model": "unet", "seed": 1}, 0.60),
                 _fake({"model": "residual_unet", "seed": 0}, 0.70),
                 _fake({"model": "rar_unet", "seed": 0}, 0.90), _fake({"model": "rar_unet", "seed": 1}, 0.80))
    s = table4_summary(table4_rows(res))
    # paper IoU: row 1 0.7182 < row 2 0.7873 < row 7 0.9193; ours 0.55 < 0.70 < 0.85: same order
    assert s["rows_run"] == 3 and s["rank_correlation"] == pytest.approx(1.0)
    assert s["full_vs_unet"].n == 2 and s["full_vs_unet"].mean == pytest.approx(0.30)
    assert s["seed_sd"] == pytest.approx(np.std([0.9, 0.8], ddof=1))


def test_late_swing_against_hand_values():
    from rarunet_lib.report import late_swing

    h = [{"val_dice": v} for v in (0.0, 0.9, 0.1, 0.5, 0.5, 0.7)]
    # last half = last 3 epochs (0.5, 0.5, 0.7): changes 0.0 and 0.2
    assert late_swing(h) == pytest.approx(0.1)
    assert late_swing(h, tail=1.0) == pytest.approx((0.9 + 0.8 + 0.4 + 0.0 + 0.2) / 5)
    assert late_swing([{"val_dice": 0.3}]) != late_swing([{"val_dice": 0.3}])  # NaN
    with pytest.raises(ValueError, match="tail"):
        late_swing(h, tail=0.0)


def test_stability_summary_groups_clean_and_noisy_runs():
    from rarunet_lib.report import stability_summary

    def run(beta, vals, best, last):
        return {"spec": {"noise_beta": beta}, "history": [{"val_dice": v} for v in vals],
                "test_pooled": {"iou": best}, "test_pooled_last_epoch": {"iou": last}}

    res = {"a": run(0.0, (0.5, 0.5), 0.8, 0.8), "b": run(0.0, (0.2, 0.6), 0.7, 0.5),
           "c": run(0.75, (0.1, 0.9, 0.1, 0.9), 0.6, 0.05)}
    clean, noisy = stability_summary(res)
    assert (clean["group"], clean["runs"], noisy["runs"]) == ("clean labels", 2, 1)
    assert clean["late_swing"].mean == pytest.approx(0.2)  # (0.0 + 0.4) / 2
    assert clean["best_minus_last"].mean == pytest.approx(0.1) and clean["ended_collapsed"] == 0
    assert noisy["late_swing"].mean == pytest.approx(0.8) and noisy["ended_collapsed"] == 1


def test_adl_activity_counts_what_adl_left_out_per_setting():
    from rarunet_lib.report import adl_activity

    def run(beta, alpha, adl, seed, excluded, precision, recall_last):
        hist = [{"n_excluded": 0, "n_trained": 288}]
        for n, p in zip(excluded, precision, strict=True):
            hist.append({"n_excluded": n, "n_trained": 288 - n, "detection_precision": p, "detection_recall": 0.0})
        hist[-1]["detection_recall"] = recall_last
        return {"spec": {"model": "unet", "noise_beta": beta, "noise_alpha": alpha, "adl": adl, "seed": seed},
                "data": {"noisy_masks": round(beta * 320), "n_train": 320}, "history": hist}

    a = run(0.75, 0.68, True, 0, [8, 8], [0.5, 1.0], 0.04)
    res = _by_id(a, run(0.75, 0.68, True, 1, [8, 16], [1.0, 1.0], 0.08),
                 run(0.75, 0.68, False, 0, [], [], None),  # without ADL: not counted
                 run(0.25, 0.85, True, 0, [4, 4], [0.25, 0.25], 0.01),
                 {"spec": {"model": "unet", "noise_beta": 0.0, "noise_alpha": None, "adl": False, "seed": 0}})
    second, first = adl_activity(res)  # Table 5 order: beta 0.75 before 0.25
    assert (first["beta"], first["alpha"], first["runs"]) == (0.25, 0.85, 1)
    assert (second["beta"], second["runs"], second["n_fit"], second["noisy_share"]) == (0.75, 2, 288, 0.75)
    assert second["excluded"].mean == pytest.approx((8 + 12) / 2)  # per run: mean over the epochs that left some out
    assert second["precision"].mean == pytest.approx((0.75 + 1.0) / 2)
    assert second["recall_last"].mean == pytest.approx(0.06)
    assert first["precision"].mean == pytest.approx(0.25) and first["noisy_share"] == 0.25
    with pytest.raises(TypeError, match="results must be a dict"):
        adl_activity([a])


def test_size_rank_against_hand_values():
    from rarunet_lib.report import size_rank

    assert size_rank([3, 1, 2]).tolist() == [1.0, 0.0, 0.5]
    assert size_rank([0, 0, 8, 4, 4]).tolist() == [0.125, 0.125, 1.0, 0.625, 0.625]  # ties share ranks 1.5, 3.5
    with pytest.raises(ValueError, match="at least two"):
        size_rank([5])


def test_adl_exclusion_sizes_ranks_the_masks_left_out():
    from rarunet_lib.report import adl_exclusion_sizes

    areas = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]  # size rank of mask i: i / 9

    def run(seed, excluded, noisy, adl=True):
        return {"spec": {"model": "unet", "noise_beta": 0.5, "noise_alpha": 0.77, "adl": adl, "seed": seed},
                "adl": {"excluded": excluded, "noisy": noisy, "area_clean": areas}}

    a = run(0, [[], [0, 9], [0, 1]], [9])             # clean 0, 0, 1; noisy 9
    d = {"spec": {"model": "unet", "noise_beta": 0.5, "noise_alpha": 0.77, "adl": True, "seed": 3}}  # no record
    res = _by_id(a, run(1, [[], [3], [3, 6]], [2, 3]),  # clean 6; noisy 3, 3
                 run(2, [[], [5]], [], adl=False),      # without ADL: not counted
                 d)
    (row,) = adl_exclusion_sizes(res)
    assert (row["beta"], row["alpha"], row["runs"], row["left_out"]) == (0.5, 0.77, 2, 7)
    assert row["rank_all"].mean == pytest.approx(((0 + 9 + 0 + 1) / 4 / 9 + (3 + 3 + 6) / 3 / 9) / 2)
    assert row["rank_clean"].mean == pytest.approx((1 / 3 / 9 + 6 / 9) / 2)
    assert row["rank_noisy"].mean == pytest.approx((1.0 + 3 / 9) / 2)
    assert adl_exclusion_sizes(_by_id(d)) == []
    with pytest.raises(TypeError, match="results must be a dict"):
        adl_exclusion_sizes([a])


def test_adl_pairs_pairs_each_adl_run_with_its_plain_partner():
    from rarunet_lib.report import adl_pairs

    def run(model, seed, adl, iou, last, val, beta=0.5):
        spec = {"model": model, "table4_row": None, "noise_beta": beta, "noise_alpha": 0.77, "seed": seed, "adl": adl}
        return {"run_id": f"{model}{seed}{adl}{beta}", "spec": spec, "test_pooled": {"iou": iou},
                "test_pooled_last_epoch": {"iou": last},
                # exclusions begin in the second epoch of an ADL run
                "history": [{"val_dice": v, "n_excluded": 2 if adl and e else 0} for e, v in enumerate(val)]}

    u0, r0 = run("unet", 0, False, 0.70, 0.60, [0.3, 0.7, 0.7]), run("residual_unet", 0, False, 0.40, 0.45, [0.5] * 3)
    res = _by_id(run("unet", 0, True, 0.60, 0.65, [0.1, 0.6, 0.8]), u0,
                 run("unet", 1, True, 0.80, 0.80, [0.2, 0.5, 0.5]),   # seed 1 has no partner: left out
                 run("residual_unet", 0, True, 0.50, 0.40, [0.4, 0.4, 0.4]), r0,
                 run("unet", 0, False, 0.9, 0.9, [0.9, 0.9, 0.9], beta=0.0))  # clean labels: never a partner
    pairs = adl_pairs(res)
    assert [p["run_id"] for p in pairs] == ["residual_unet0True0.5", "unet0True0.5"]
    r, u = pairs
    assert u["test_iou"] == pytest.approx(-0.10) and u["test_iou_last"] == pytest.approx(0.05)
    assert u["val_dice_best"] == pytest.approx(0.8 - 0.7)
    assert u["val_dice_mean"] == pytest.approx(((0.6 - 0.7) + (0.8 - 0.7)) / 2)  # epoch 1 (no exclusion) not counted
    assert r["test_iou"] == pytest.approx(0.10) and r["val_dice_mean"] == pytest.approx(-0.1)
    assert (u["model"], u["beta"], u["alpha"], u["seed"]) == ("unet", 0.5, 0.77, 0)
    r0["history"] = r0["history"][:2]
    with pytest.raises(ValueError, match="differ in ADL only"):
        adl_pairs(res)
    with pytest.raises(TypeError, match="results must be a dict"):
        adl_pairs([u0])


def test_sign_test_against_the_binomial_by_hand():
    from math import comb

    from rarunet_lib.report import sign_test

    # 12 of 15 one way: P(X >= 12) = (C(15,12) + C(15,13) + C(15,14) + C(15,15)) / 2**15, doubled
    t = sign_test([-1.0] * 12 + [0.5] * 3 + [0.0])
    assert (t["up"], t["down"], t["n"]) == (3, 12, 15)
    assert t["p"] == pytest.approx(2 * (comb(15, 12) + comb(15, 13) + comb(15, 14) + 1) / 2**15)
    assert t["p"] == pytest.approx(0.03516, abs=1e-5)
    assert sign_test([1.0, -1.0])["p"] == pytest.approx(1.0)
    assert sign_test([0.0, 0.0]) == {"up": 0, "down": 0, "n": 0, "p": 1.0}
    with pytest.raises(ValueError, match="NaN"):
        sign_test([0.1, float("nan")])
    with pytest.raises(ValueError, match="1-D"):
        sign_test([[0.1, 0.2]])


def test_plot_adl_pairs_puts_each_difference_in_its_measure_column():
    import matplotlib

    matplotlib.use("Agg")
    from rarunet_lib.report import ADL_PAIR_MEASURES, plot_adl_pairs

    def pair(model, base):
        return {"model": model, **{k: base + i / 100 for i, k in enumerate(ADL_PAIR_MEASURES)}}

    pairs = [pair("unet", 0.1), pair("unet", -0.2), pair("residual_unet", 0.3)]
    ax = plot_adl_pairs(pairs)
    lines = [ln for ln in ax.get_lines() if ln.get_marker() not in ("None", None, "")]
    assert len(lines) == 2 * 4  # one set of dots per model and measure
    unet_cols = [ln for ln in lines if ln.get_color() == lines[0].get_color()]
    for i, ln in enumerate(unet_cols):  # measure i of the two U-Net pairs, in column i
        np.testing.assert_allclose(ln.get_ydata(), [0.1 + i / 100, -0.2 + i / 100])
        assert np.all(np.abs(np.asarray(ln.get_xdata()) - i) < 0.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["unet", "residual_unet"]
    with pytest.raises(ValueError, match=r"pairs \[1\] are not adl_pairs\(\) rows"):
        plot_adl_pairs([pairs[0], {"model": "unet", "test_iou": 0.1}])


def test_plot_stability_draws_one_line_per_run_and_key():
    import matplotlib

    matplotlib.use("Agg")
    from rarunet_lib.report import plot_stability

    run = {"epochs": [{"epoch": 1, "val_dice": 0.1, "test_dice": 0.2}, {"epoch": 2, "val_dice": 0.7}]}
    ax = plot_stability({"base": run, "precise BN": run})
    lines = ax.get_lines()
    assert len(lines) == 4 and lines[2].get_label() == "precise BN: val dice"
    np.testing.assert_array_equal(lines[1].get_ydata(), [0.2, np.nan])  # a missing value is a gap, not a zero
    assert lines[0].get_color() != lines[2].get_color() and lines[0].get_linestyle() != lines[1].get_linestyle()


def test_stability_report_functions_reject_bad_input():
    import matplotlib

    matplotlib.use("Agg")
    from rarunet_lib.report import late_swing, plot_stability, stability_summary

    with pytest.raises(TypeError, match="history must be a list"):
        late_swing("abc")
    with pytest.raises(TypeError, match="results must be a dict"):
        stability_summary([])
    with pytest.raises(ValueError, match="collapse_iou must be in"):
        stability_summary({}, collapse_iou=5.0)
    with pytest.raises(ValueError, match=r"runs \['a'\] have no 'epochs'"):
        plot_stability({"a": {}})


# ------------------------------------------------------------------ runs by id
def test_a_cell_reads_its_runs_by_run_id_not_by_spec_fields():
    """The id names the run: a run filed under another id is not read, whatever its spec says."""
    unet0, unet1 = _fake({"model": "unet", "seed": 0}, 0.5), _fake({"model": "unet", "seed": 1}, 0.7)
    stray = _fake({"model": "unet", "seed": 2}, 0.1)  # a unet spec, but filed as a copy
    res = {"unet__clean__seed1": unet1, "unet__clean__seed0": unet0, "unet__clean__seed2_copy": stray,
           "notes": stray}
    (row1, *_) = table4_rows(res)
    assert [r["test_pooled"]["iou"] for r in row1["runs"]] == [0.5, 0.7]  # seed order, not file order
    # the table5 cell (beta 0.75, alpha 0.68): a spec that rounds to the id's two decimals is found by its id
    noisy = _fake({"model": "unet", "seed": 0, "noise_beta": 0.75 + 1e-7, "noise_alpha": 0.68}, 0.3)
    row = next(r for r in table5_rows({"unet__b0.75_a0.68__seed0": noisy}) if r["name"] == "unet"
               and r["beta"] == 0.75)
    assert row["iou_noadl"].n == 1 and row["iou_noadl"].mean == 0.3


def test_a_cell_with_any_model_leaves_out_table4_rows_and_other_arms():
    from rarunet_lib.report.runs import _runs

    ids = ["unet__b0.25_a0.85__adl__seed0", "attention_unet_cbam__b0.25_a0.85__adl__seed1",
           "table4_row3__b0.25_a0.85__adl__seed0", "unet__b0.25_a0.85__adl-random__seed0",
           "unet__b0.25_a0.85__seed0", "unet__b0.25_a0.55__adl__seed0", "unet__b0.25_a0.85__adl__seed10"]
    res = {i: {"id": i} for i in ids}
    got = [r["id"] for r in _runs(res, noise_beta=0.25, noise_alpha=0.85, adl=True)]
    assert got == ["unet__b0.25_a0.85__adl__seed0", "attention_unet_cbam__b0.25_a0.85__adl__seed1",
                   "unet__b0.25_a0.85__adl__seed10"]
    assert [r["id"] for r in _runs(res, noise_beta=0.25, noise_alpha=0.85, adl=True, adl_ranking="random")] == [
        "unet__b0.25_a0.85__adl-random__seed0"]
    assert [r["id"] for r in _runs(res, model="rar_unet", table4_row=3, noise_beta=0.25, noise_alpha=0.85,
                                   adl=True)] == ["table4_row3__b0.25_a0.85__adl__seed0"]


def test_importing_the_report_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import rarunet_lib.report, sys; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_worst_slices_lives_in_metrics_and_checks_its_input():
    from rarunet_lib import metrics, report

    assert not hasattr(report, "worst_slices")
    g = np.zeros((4, 4, 4), bool)
    g[:, 1:3, 1:3] = True
    p = g.copy()
    p[3] = False          # Dice 0
    p[0, 1, 1] = False    # Dice 6/7
    p[2, 0, 0] = True     # Dice 8/9
    # by hand: slice 3 (0) < slice 0 (0.857) < slice 2 (0.889) < slice 1 (1)
    assert metrics.worst_slices(g, p, k=3).tolist() == [3, 0, 2]
    assert metrics.worst_slices(g, p, k=9).tolist() == [3, 0, 2, 1]
    empty = np.zeros((2, 4, 4), bool)
    assert metrics.worst_slices(empty, empty).tolist() == []  # no foreground: no Dice to rank
    with pytest.raises(ValueError, match="one shape"):
        metrics.worst_slices(g, p[:2])
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        metrics.worst_slices(g, p, k=0)
    with pytest.raises(TypeError, match="pred=.* use a boolean array"):
        metrics.worst_slices(g, p.astype(float))


def test_adl_pairs_finds_the_partner_by_run_id():
    from rarunet_lib.report import adl_pairs

    def run(adl, iou):
        spec = {"model": "unet", "table4_row": None, "noise_beta": 0.5, "noise_alpha": 0.77, "seed": 0, "adl": adl}
        return {"spec": spec, "test_pooled": {"iou": iou}, "test_pooled_last_epoch": {"iou": iou},
                "history": [{"val_dice": iou, "n_excluded": 1}]}

    adl, plain = run(True, 0.6), run(False, 0.5)
    assert adl_pairs({"unet__b0.50_a0.77__adl__seed0": adl, "unet__b0.50_a0.77__seed0_copy": plain}) == []
    (p,) = adl_pairs({"unet__b0.50_a0.77__adl__seed0": adl, "unet__b0.50_a0.77__seed0": plain})
    assert p["test_iou"] == pytest.approx(0.1)

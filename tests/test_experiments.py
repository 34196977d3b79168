"""The experiment grid (Tables 1, 4, 5) and its report: runs, resume, files, summaries."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from rarunet_lib.experiments import RunSpec, grid_specs, load_results, run_specs, table_runs
from rarunet_lib.paper import TABLE4, TABLE5
from rarunet_lib.report import fmt, markdown_table, stat, table4_rows, table5_rows, table23_rows


# ------------------------------------------------------------------ the grid
def test_table_sizes_match_the_paper():
    assert len(table_runs("table4", [0])) == 7
    # four settings x three models x (no ADL, ADL)
    assert len(table_runs("table5", [0])) == 24
    assert len(table_runs("table5", [0, 1, 2])) == 72
    assert len(table_runs("table1", [0])) == 6
    ids = [s.run_id for s in table_runs("table5", [0, 1])]
    assert len(set(ids)) == len(ids)


def test_table5_covers_every_paper_entry_for_its_models():
    runs = {(s.noise_beta, s.noise_alpha, s.model, s.adl) for s in table_runs("table5", [0])}
    names = {"U-Net": "unet", "Residual-UNet": "residual_unet", "Attention-UNet": "attention_unet_cbam"}
    for (beta, alpha, model, adl) in TABLE5:
        if model in names:
            assert (beta, alpha, names[model], adl) in runs


def test_tables_share_runs():
    # Table 1 and Table 4 share U-Net, Residual-UNet and RAR-U-Net: 6 + 7 - 3 runs
    assert len(grid_specs(["table1", "table4"], [0])) == 10
    assert len(grid_specs(["table1", "table4"], [0, 1])) == 20


def test_table4_specs_build_the_papers_parameter_counts():
    """Each Table 4 run builds the network whose trainable count the paper prints (Table 4)."""
    import keras

    from rarunet_lib.models import build, count_trainable

    for row, spec in enumerate(table_runs("table4", [0]), start=1):
        keras.backend.clear_session()
        model = build(spec.model, (32, 32, 1), **spec.model_kwargs())
        assert count_trainable(model) == TABLE4[row][2], f"row {row}: {spec.run_id}"


@pytest.mark.parametrize("kwargs, match", [
    ({"noise_beta": 0.5}, "noise_alpha"),
    ({"adl": True}, "noisy labels"),
])
def test_runspec_rejects_inconsistent_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RunSpec("unet", 0, **kwargs)


def test_unknown_table_is_named():
    with pytest.raises(ValueError, match="table='table9'"):
        table_runs("table9", [0])


# ------------------------------------------------------------------ running and resuming
@pytest.fixture(scope="module")
def tiny_grid(tmp_path_factory):
    from rarunet_lib.config import get_profile

    profile = replace(get_profile("quick"), name="tiny", image_size=32, n_cases=2, slices_per_case=12, epochs=2,
                      batch_size=4, description="test profile")
    out = tmp_path_factory.mktemp("grid")
    specs = [RunSpec("unet", 0), RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.7, adl=True)]
    files = run_specs(specs, profile=profile, output=out, command="pytest", log=lambda s: None, workers=1)
    return profile, out, specs, files


def test_each_run_writes_json_and_predictions(tiny_grid):
    from rarunet_lib.data import load_dataset

    profile, out, specs, files = tiny_grid
    assert [f.name for f in files] == [f"{s.run_id}.json" for s in specs]
    data = load_dataset("phantom", profile, seed=1000)
    for f in files:
        r = json.loads(f.read_text())
        for key in ("command", "commit", "device", "time_utc", "seed"):
            assert key in r["provenance"]
        assert r["profile"]["name"] == "tiny" and r["wall_seconds"] > 0
        assert len(r["history"]) == 2
        # the model tested is the one of the best validation epoch (the first of equals)
        vals = [e["val_dice"] for e in r["history"]]
        assert r["selected_epoch"] == 1 + int(np.argmax(vals)) and r["selected_val_dice"] == max(vals)
        n = len(data["test_masks"])
        assert len(r["test_per_slice"]["dice"]) == n
        # the stored predictions reproduce the stored metrics (pooled Dice by hand)
        with np.load(f.with_suffix(".npz")) as z:
            pred = np.unpackbits(z["test_pred"], axis=-1)[..., :32].astype(bool)
            assert {k for k in z.files if k.startswith("real_pred__")}
        gt = data["test_masks"].astype(bool)
        assert pred.shape == gt.shape
        tp, fp, fn = (pred & gt).sum(), (pred & ~gt).sum(), (~pred & gt).sum()
        dice = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 1.0
        assert r["test_pooled"]["dice"] == pytest.approx(dice)
    adl = json.loads(files[1].read_text())
    assert adl["data"]["noisy_masks"] == round(0.5 * len(data["train_masks"]))
    assert adl["spec"]["adl"] is True and adl["history"][0]["n_excluded"] == 0  # epoch 1 trains on all
    # what ADL left out is recorded per epoch, with the fitted masks' sizes counted here independently
    from rarunet_lib.data.preprocess import validation_split
    from rarunet_lib.noise import make_noisy_labels

    rec = adl["adl"]
    assert [len(e) for e in rec["excluded"]] == [e["n_excluded"] for e in adl["history"]]
    from rarunet_lib.train import TrainConfig

    fraction = TrainConfig(**profile.train_kwargs()).validation_fraction
    fitted, _ = validation_split(len(data["train_masks"]), fraction, seed=0)
    clean = data["train_masks"][fitted]
    assert rec["area_clean"] == [int(np.count_nonzero(m)) for m in clean]
    noisy_masks, manifest = make_noisy_labels(data["train_masks"], alpha=0.7, beta=0.5, seed=0)
    assert rec["area_trained"] == [int(np.count_nonzero(m)) for m in noisy_masks[fitted]]
    assert rec["noisy"] == [i for i, j in enumerate(fitted) if j in {e["index"] for e in manifest}]
    assert "adl" not in json.loads(files[0].read_text())  # runs without ADL carry no record


def test_done_runs_are_skipped_and_missing_ones_rerun(tiny_grid):
    profile, out, specs, files = tiny_grid
    before = {f: f.stat().st_mtime_ns for f in files}
    lines = []
    run_specs(specs, profile=profile, output=out, log=lines.append, workers=1)
    assert "0 to run" in lines[0]
    assert {f: f.stat().st_mtime_ns for f in files} == before
    # an interrupted grid: one run's JSON is missing -> only that one runs again, with the same result
    old = json.loads(files[0].read_text())
    files[0].unlink()
    lines = []
    run_specs(specs, profile=profile, output=out, log=lines.append, workers=1)
    assert "1 to run" in lines[0]
    new = json.loads(files[0].read_text())
    assert new["test_pooled"]["dice"] == pytest.approx(old["test_pooled"]["dice"], abs=1e-6)
    assert files[1].stat().st_mtime_ns == before[files[1]]
    assert set(load_results(out / "tiny")) == {s.run_id for s in specs}


def test_command_line_help_and_dry_run(capsys):
    from rarunet_lib.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["experiments", "--help"])
    assert e.value.code == 0
    assert "resumes" in capsys.readouterr().out
    assert main(["experiments", "table4", "--profile", "cpu", "--seeds", "0", "1", "--output", "/nonexistent",
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "14 runs, 0 done, 14 to run" in out and "table4_row3__clean__seed1" in out
    # --only: Table 5 at beta 0.25 is 2 settings x 3 models x with/without ADL = 12 runs
    assert main(["experiments", "table5", "--profile", "cpu", "--seeds", "1", "--output", "/nonexistent",
                 "--only", "*__b0.25_*", "--dry-run"]) == 0
    lines = [s.split()[-1] for s in capsys.readouterr().out.splitlines() if "would run" in s]
    assert len(lines) == 12 and all("__b0.25_" in s and s.endswith("seed1") for s in lines)
    assert {"unet__b0.25_a0.55__adl__seed1", "attention_unet_cbam__b0.25_a0.85__seed1"} <= set(lines)


def test_only_selects_runs_by_pattern_and_names_a_pattern_that_matches_none():
    from rarunet_lib.experiments import select_specs

    specs = table_runs("table4", [0, 1])
    assert select_specs(specs, None) == specs
    assert [s.run_id for s in select_specs(specs, ["unet__*", "rar_unet__*seed1"])] == [
        "unet__clean__seed0", "unet__clean__seed1", "rar_unet__clean__seed1"]
    with pytest.raises(ValueError, match="'tabel4_row1\\*' matches none"):
        select_specs(specs, ["unet__*", "tabel4_row1*"])
    with pytest.raises(TypeError, match="sequence of patterns"):
        select_specs(specs, "unet__*")


# ------------------------------------------------------------------ the report
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
    res = {"a": _fake({"model": "unet", "seed": 0}, 0.5), "b": _fake({"model": "unet", "seed": 1}, 0.7),
           "c": _fake({"model": "rar_unet", "seed": 0, "table4_row": 3}, 0.6),
           "d": _fake({"model": "unet", "seed": 0, "noise_beta": 0.5, "noise_alpha": 0.77}, 0.1)}
    rows = table4_rows(res)
    assert rows[0]["iou"].n == 2 and rows[0]["iou"].mean == pytest.approx(0.6)  # noisy run not counted
    assert rows[2]["iou"].mean == pytest.approx(0.6) and rows[2]["iou"].n == 1
    assert rows[6]["iou"].n == 0 and fmt(rows[6]["iou"]) == "not run"
    assert rows[6]["paper_iou"] == 0.9193


def test_table5_gain_uses_paired_seeds():
    spec = {"model": "unet", "noise_beta": 0.5, "noise_alpha": 0.77}
    res = {"a": _fake({**spec, "seed": 0}, 0.60), "b": _fake({**spec, "seed": 0, "adl": True}, 0.65),
           "c": _fake({**spec, "seed": 1}, 0.50), "d": _fake({**spec, "seed": 1, "adl": True}, 0.60),
           "e": _fake({**spec, "seed": 2}, 0.10)}  # no ADL partner: not in the gain
    row = next(r for r in table5_rows(res) if r["name"] == "unet" and r["beta"] == 0.5)
    assert row["gain"].n == 2 and row["gain"].mean == pytest.approx(0.075)
    assert row["gain_paper"] == pytest.approx(0.8522 - 0.7523)
    assert row["iou_noadl"].n == 3


def test_table23_per_slice_mean_skips_undefined_slices():
    res = {"a": _fake({"model": "rar_unet", "seed": 0}, 0.9)}
    rows = {r["measure"]: r for r in table23_rows(res)}
    assert rows["hd"]["per_slice"].mean == 1.0 and rows["hd"]["pooled"].mean == 4.0
    assert rows["hd"]["paper"] == 10.0110


def test_markdown_table():
    assert markdown_table(["x"], [[1], [2]]).splitlines() == ["| x |", "|---|", "| 1 |", "| 2 |"]


def test_table4_summary_against_hand_values():
    from rarunet_lib.report import table4_summary

    res = {"a": _fake({"model": "unet", "seed": 0}, 0.50), "b": _fake({"model": "unet", "seed": 1}, 0.60),
           "c": _fake({"model": "residual_unet", "seed": 0}, 0.70),
           "d": _fake({"model": "rar_unet", "seed": 0}, 0.90), "e": _fake({"model": "rar_unet", "seed": 1}, 0.80)}
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
        return {"spec": {"noise_beta": beta, "noise_alpha": alpha, "adl": adl, "seed": seed},
                "data": {"noisy_masks": round(beta * 320), "n_train": 320}, "history": hist}

    res = {"a": run(0.75, 0.68, True, 0, [8, 8], [0.5, 1.0], 0.04),
           "b": run(0.75, 0.68, True, 1, [8, 16], [1.0, 1.0], 0.08),
           "c": run(0.75, 0.68, False, 0, [], [], None),  # without ADL: not counted
           "d": run(0.25, 0.85, True, 0, [4, 4], [0.25, 0.25], 0.01),
           "e": {"spec": {"noise_beta": 0.0, "noise_alpha": None, "adl": False, "seed": 0}}}
    second, first = adl_activity(res)  # Table 5 order: beta 0.75 before 0.25
    assert (first["beta"], first["alpha"], first["runs"]) == (0.25, 0.85, 1)
    assert (second["beta"], second["runs"], second["n_fit"], second["noisy_share"]) == (0.75, 2, 288, 0.75)
    assert second["excluded"].mean == pytest.approx((8 + 12) / 2)  # per run: mean over the epochs that left some out
    assert second["precision"].mean == pytest.approx((0.75 + 1.0) / 2)
    assert second["recall_last"].mean == pytest.approx(0.06)
    assert first["precision"].mean == pytest.approx(0.25) and first["noisy_share"] == 0.25
    with pytest.raises(TypeError, match="results must be a dict"):
        adl_activity([res["a"]])


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
        return {"spec": {"noise_beta": 0.5, "noise_alpha": 0.77, "adl": adl, "seed": seed},
                "adl": {"excluded": excluded, "noisy": noisy, "area_clean": areas}}

    res = {"a": run(0, [[], [0, 9], [0, 1]], [9]),        # clean 0, 0, 1; noisy 9
           "b": run(1, [[], [3], [3, 6]], [2, 3]),       # clean 6; noisy 3, 3
           "c": run(2, [[], [5]], [], adl=False),        # without ADL: not counted
           "d": {"spec": {"noise_beta": 0.5, "noise_alpha": 0.77, "adl": True, "seed": 3}}}  # no record
    (row,) = adl_exclusion_sizes(res)
    assert (row["beta"], row["alpha"], row["runs"], row["left_out"]) == (0.5, 0.77, 2, 7)
    assert row["rank_all"].mean == pytest.approx(((0 + 9 + 0 + 1) / 4 / 9 + (3 + 3 + 6) / 3 / 9) / 2)
    assert row["rank_clean"].mean == pytest.approx((1 / 3 / 9 + 6 / 9) / 2)
    assert row["rank_noisy"].mean == pytest.approx((1.0 + 3 / 9) / 2)
    assert adl_exclusion_sizes({"d": res["d"]}) == []
    with pytest.raises(TypeError, match="results must be a dict"):
        adl_exclusion_sizes([res["a"]])


def test_adl_pairs_pairs_each_adl_run_with_its_plain_partner():
    from rarunet_lib.report import adl_pairs

    def run(model, seed, adl, iou, last, val, beta=0.5):
        spec = {"model": model, "table4_row": None, "noise_beta": beta, "noise_alpha": 0.77, "seed": seed, "adl": adl}
        return {"run_id": f"{model}{seed}{adl}{beta}", "spec": spec, "test_pooled": {"iou": iou},
                "test_pooled_last_epoch": {"iou": last},
                # exclusions begin in the second epoch of an ADL run
                "history": [{"val_dice": v, "n_excluded": 2 if adl and e else 0} for e, v in enumerate(val)]}

    res = {"u0a": run("unet", 0, True, 0.60, 0.65, [0.1, 0.6, 0.8]),
           "u0": run("unet", 0, False, 0.70, 0.60, [0.3, 0.7, 0.7]),
           "u1a": run("unet", 1, True, 0.80, 0.80, [0.2, 0.5, 0.5]),   # seed 1 has no partner: left out
           "r0a": run("residual_unet", 0, True, 0.50, 0.40, [0.4, 0.4, 0.4]),
           "r0": run("residual_unet", 0, False, 0.40, 0.45, [0.5, 0.5, 0.5]),
           "u0c": run("unet", 0, False, 0.9, 0.9, [0.9, 0.9, 0.9], beta=0.0)}  # clean labels: never a partner
    pairs = adl_pairs(res)
    assert [p["run_id"] for p in pairs] == ["residual_unet0True0.5", "unet0True0.5"]
    r, u = pairs
    assert u["test_iou"] == pytest.approx(-0.10) and u["test_iou_last"] == pytest.approx(0.05)
    assert u["val_dice_best"] == pytest.approx(0.8 - 0.7)
    assert u["val_dice_mean"] == pytest.approx(((0.6 - 0.7) + (0.8 - 0.7)) / 2)  # epoch 1 (no exclusion) not counted
    assert r["test_iou"] == pytest.approx(0.10) and r["val_dice_mean"] == pytest.approx(-0.1)
    assert (u["model"], u["beta"], u["alpha"], u["seed"]) == ("unet", 0.5, 0.77, 0)
    res["r0"]["history"] = res["r0"]["history"][:2]
    with pytest.raises(ValueError, match="differ in ADL only"):
        adl_pairs(res)
    with pytest.raises(TypeError, match="results must be a dict"):
        adl_pairs([res["u0"]])


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


def test_adl_control_runs_are_named_kept_apart_and_paired():
    from rarunet_lib.report import adl_pairs

    control = table_runs("adlcontrol", [0, 1])
    assert len(control) == 24 and all(s.adl and s.adl_ranking == "random" for s in control)
    assert control[0].run_id == "unet__b0.75_a0.68__adl-random__seed0"
    # one control per ADL run of Table 5, with the same model, setting and seed
    adl_runs = {(s.model, s.noise_beta, s.noise_alpha, s.seed) for s in table_runs("table5", [0, 1]) if s.adl}
    assert {(s.model, s.noise_beta, s.noise_alpha, s.seed) for s in control} == adl_runs
    assert len(grid_specs(["table5", "adlcontrol"], [0])) == 36  # no id shared with Table 5
    with pytest.raises(ValueError, match="needs adl=True"):
        RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.77, adl_ranking="random")
    with pytest.raises(ValueError, match="not allowed"):
        RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.77, adl=True, adl_ranking="smallest")

    def run(spec, iou):
        return {"run_id": spec.run_id, "spec": {**spec.__dict__}, "test_pooled": {"iou": iou, "recall": iou},
                "test_pooled_last_epoch": {"iou": iou}, "data": {"n_train": 10, "noisy_masks": 5},
                "history": [{"val_dice": iou, "n_excluded": 0, "n_trained": 8}]}

    base = dict(noise_beta=0.75, noise_alpha=0.68)
    specs = [RunSpec("unet", 0, **base), RunSpec("unet", 0, adl=True, **base),
             RunSpec("unet", 0, adl=True, adl_ranking="random", **base)]
    res = {s.run_id: run(s, iou) for s, iou in zip(specs, (0.5, 0.6, 0.8), strict=True)}
    res[specs[1].run_id]["spec"].pop("adl_ranking")  # old run files have no such key: the paper's ranking
    (paper,) = adl_pairs(res)
    (ctrl,) = adl_pairs(res, ranking="random")
    assert paper["test_iou"] == pytest.approx(0.1) and ctrl["test_iou"] == pytest.approx(0.3)
    (row,) = [r for r in table5_rows(res) if r["name"] == "unet" and r["beta"] == 0.75]
    assert row["iou_adl"].mean == pytest.approx(0.6) and row["iou_adl"].n == 1  # the control is not ADL's row


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


def test_every_profile_is_accepted_by_the_command_line(capsys):
    from rarunet_lib.__main__ import main
    from rarunet_lib.config import available_profiles

    for name in available_profiles():
        assert main(["experiments", "table4", "--profile", name, "--output", "/nonexistent", "--dry-run"]) == 0
        assert f"[{name}] 7 runs" in capsys.readouterr().out


def test_committed_grid_runs_name_their_profile_run_and_a_clean_commit():
    """Every committed grid file says which profile and run it is, and comes from a committed tree."""
    from rarunet_lib.config import available_profiles
    from rarunet_lib.experiments import results_dir

    folders = [results_dir(name) for name in available_profiles() if results_dir(name).is_dir()]
    assert folders, "no committed grid folder found"
    for folder in folders:
        for path in folder.glob("*.json"):
            r = json.loads(path.read_text())
            assert r["run_id"] == path.stem and r["profile"]["name"] == folder.name, path
            commit = r["provenance"]["commit"]
            assert len(commit) == 40 and not commit.endswith("+dirty"), (path, commit)
            assert (folder / f"{path.stem}.npz").exists(), f"{path} has no predictions file"


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

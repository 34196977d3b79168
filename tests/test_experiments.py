"""The experiment grid (Tables 1, 4, 5) and its report: runs, resume, files, summaries."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from rarunet_lib.experiments import RunSpec, grid_specs, load_results, run_specs, table_runs
from rarunet_lib.paper import TABLE4, TABLE5
from rarunet_lib.report import table5_rows


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
    for (alpha, beta, model, adl) in TABLE5:
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


def test_a_corrupt_result_file_is_refused_with_its_name(tmp_path):
    (tmp_path / "unet__clean__seed0.json").write_text('{"run_id": "unet__cl')  # cut short
    with pytest.raises(ValueError, match=r"unet__clean__seed0\.json: not a readable result file"):
        load_results(tmp_path)
    (tmp_path / "unet__clean__seed0.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="holds a JSON object, got list"):
        load_results(tmp_path)

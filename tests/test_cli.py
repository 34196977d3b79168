"""The command line ``python -m rarunet_lib train``: flags refused before anything runs, the grid's result file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rarunet_lib.__main__ import main

TRAIN = ["train", "--model", "unet", "--profile", "quick", "--image-size", "32", "--batch-size", "4", "--no-progress"]
GRID_FIELDS = ["provenance", "run_id", "spec", "profile", "params", "data", "history", "train_seconds",
               "selected_epoch", "selected_val_dice", "test_pooled", "test_pooled_last_epoch", "test_pooled_pixels",
               "test_per_slice", "real", "adl", "wall_seconds"]


@pytest.mark.parametrize("flags, message", [
    (["--noise-alpha", "0.7"], "--noise-alpha needs --noise-beta"),
    (["--noise-beta", "0.5"], "--noise-beta needs --noise-alpha"),
    (["--epochs", "0"], "argument --epochs: 0 is not allowed; give an integer > 0"),
    (["--batch-size", "-4"], "argument --batch-size: -4 is not allowed"),
    (["--learning-rate", "0"], "argument --learning-rate: 0 is not allowed; give a finite number > 0"),
    (["--image-size", "0"], "argument --image-size: 0 is not allowed"),
    (["--epochs", "two"], "argument --epochs: 'two' is not an integer"),
    (["--adl"], "--adl needs noisy labels"),
    (["--adl-ranking", "random"], "--adl-ranking random needs --adl"),
    (["--adl-schedule", "forget_rate"], "--adl-schedule forget_rate needs --adl"),
])
def test_bad_flags_are_refused_before_anything_is_written(tmp_path, capsys, flags, message):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        main([*TRAIN, *flags, "--output", str(out)])
    assert e.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_values_the_library_refuses_are_printed_not_trained(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main([*TRAIN, "--output", str(tmp_path / "file" / "run")]) == 2
    assert "--output=" in capsys.readouterr().err
    assert main([*TRAIN, "--image-size", "40", "--output", str(tmp_path / "run")]) == 2
    assert "size=40 is not allowed" in capsys.readouterr().err
    assert main([*TRAIN, "--noise-alpha", "0.7", "--noise-beta", "0.5", "--adl", "--adl-ranking", "area_ratio",
                 "--adl-first-epoch", "scoring_pass", "--output", str(tmp_path / "run")]) == 2
    assert "adl_first_epoch='scoring_pass' is not allowed with adl_ranking='area_ratio'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_train_writes_the_grids_result_and_a_refused_folder_keeps_its_files(tmp_path, capsys):
    out = tmp_path / "run"
    noisy = ["--noise-alpha", "0.7", "--noise-beta", "0.5", "--adl", "--lr-schedule", "cosine",
             "--bn-recalibration", "--epochs", "2"]
    assert main([*TRAIN, *noisy, "--output", str(out)]) == 0
    assert "at epoch" in capsys.readouterr().out
    result = json.loads((out / "result.json").read_text())
    assert list(result) == GRID_FIELDS
    assert result["run_id"] == "unet__b0.50_a0.70__adl__seed0" and result["profile"]["name"] == "quick"
    vals = [e["val_dice"] for e in result["history"]]
    assert len(vals) == 2 and result["selected_epoch"] == 1 + int(np.argmax(vals))
    assert result["data"]["noisy_masks"] > 0 and result["data"]["image_size"] == 32
    config = json.loads((out / "config.json").read_text())  # the flags reached the trainer
    assert (config["lr_schedule"], config["bn_recalibration"], config["adl"], config["epochs"]) == (
        "cosine", True, True, 2)
    manifest = json.loads((out / "noise_manifest.json").read_text())
    assert manifest["alpha"] == 0.7 and manifest["seed"] == 0
    with np.load(out / "result.npz") as z:
        assert "test_pred" in z.files
    # another run (seed 1) into the same folder is refused by the trainer, and overwrites nothing
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main([*TRAIN, *noisy, "--seed", "1", "--output", str(out)]) == 2  # one line, no traceback
    err = capsys.readouterr().err
    assert "another configuration" in err and err.count("\n") == 1 and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    with pytest.raises(ValueError, match="another configuration"):  # --debug: the exception itself
        main([*TRAIN, *noisy, "--seed", "1", "--output", str(out), "--debug"])
    # the selected epoch's model, with a card naming the run, ready for the segment command
    card = json.loads((out / "model.json").read_text())
    assert "model.keras" in before and card["run"]["run_id"] == result["run_id"]
    assert card["run"]["selected_epoch"] == result["selected_epoch"] and card["input_size"] == 32
    assert card["run"]["provenance"] == result["provenance"]


class _Killed(Exception):
    pass


def test_train_resume_continues_a_killed_run_to_the_uninterrupted_result(tmp_path, capsys):
    """A run killed after epoch 1 and resumed with --resume ends with the uninterrupted run's history and score."""
    from rarunet_lib.config import get_profile
    from rarunet_lib.data import load_dataset
    from rarunet_lib.recipe import RunSpec, train_and_score

    flags = [*TRAIN, "--epochs", "2"]
    assert main([*flags, "--output", str(tmp_path / "whole")]) == 0
    whole = json.loads((tmp_path / "whole" / "result.json").read_text())

    def kill(trainer, record):
        raise _Killed

    profile = get_profile("quick")
    data = load_dataset("phantom", profile, seed=1000, size=32)
    settings = {"epochs": 2, "batch_size": 4}
    with pytest.raises(_Killed):  # the same run as the command line's, stopped after its first epoch
        train_and_score(RunSpec("unet", 0), data, profile, run_folder=tmp_path / "cut", settings=settings,
                        on_epoch=kill)
    assert not (tmp_path / "cut" / "result.json").exists()
    assert main([*flags, "--resume", "--output", str(tmp_path / "cut")]) == 0
    cut = json.loads((tmp_path / "cut" / "result.json").read_text())

    def strip(history):
        return [{k: v for k, v in e.items() if k != "seconds"} for e in history]

    assert strip(cut["history"]) == strip(whole["history"])
    assert cut["test_pooled_last_epoch"] == whole["test_pooled_last_epoch"]
    # the best epoch survives the kill (its weights are in the checkpoint): the same model is tested
    assert (cut["selected_epoch"], cut["test_pooled"]) == (whole["selected_epoch"], whole["test_pooled"])
    assert cut["run_id"] == whole["run_id"] and list(cut) == list(whole)

    # --resume on a finished run says so and changes nothing
    files = {p.name: p.read_bytes() for p in (tmp_path / "whole").rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main([*flags, "--resume", "--output", str(tmp_path / "whole")]) == 0
    assert "holds a finished run: nothing trained, nothing written" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (tmp_path / "whole").rglob("*") if p.is_file()} == files


def test_the_grid_writes_no_model_files(tmp_path):
    """results/ must not grow with models: the grid writes its JSON and .npz only (the train command exports)."""
    from dataclasses import replace

    from rarunet_lib.config import get_profile
    from rarunet_lib.data import load_dataset
    from rarunet_lib.experiments import run_one
    from rarunet_lib.recipe import RunSpec

    tiny = replace(get_profile("quick"), name="tiny", image_size=32, n_cases=2, slices_per_case=12, epochs=1,
                   batch_size=4)
    run_one(RunSpec("unet", 0), load_dataset("phantom", tiny, seed=1000), tiny, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unet__clean__seed0.json", "unet__clean__seed0.npz"]


def test_experiments_errors_are_one_line_with_status_2(tmp_path, capsys):
    assert main(["experiments", "table4", "--profile", "quick", "--only", "nomatch*", "--output",
                 str(tmp_path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m rarunet_lib experiments: error: only: the pattern") and err.count("\n") == 1

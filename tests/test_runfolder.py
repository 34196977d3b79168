"""The run folder (NumPy only): fingerprints, configuration checks, atomic checkpoints and what a kill leaves."""

import json
import os

import numpy as np
import pytest

from rarunet_lib import runfolder
from rarunet_lib.runfolder import (
    RunFolder,
    assign_arrays,
    config_differences,
    fingerprint,
    fingerprint_differences,
    history_from_json,
)


class Var:
    """The part of a Keras variable the run folder uses."""

    def __init__(self, path, value):
        self.path, self.value = path, np.asarray(value)
        self.shape = self.value.shape

    def numpy(self):
        return self.value.copy()

    def assign(self, a):
        self.value = np.asarray(a).copy()


def _strict_json(path):
    def no_constants(name):
        raise AssertionError(f"{path} holds the non-JSON token {name}")

    return json.loads(path.read_text(), parse_constant=no_constants)


def _save(rf, epoch, scale=1.0):
    vars_ = {"model/a/kernel": np.full((2, 3), scale, np.float32), "model/bn/moving_mean": np.arange(3.0) * scale}
    history = {"config": {"noise_alpha": None}, "epochs": [{"epoch": e, "detection_f1": float("nan"),
                                                            "val_dice": 0.5} for e in range(1, epoch + 1)]}
    return rf.save_checkpoint(epoch, variables=vars_, state={"best_epoch": epoch}, adl={"losses": np.ones(3)},
                              history=history, sample_losses={"losses": np.full((epoch, 3), np.nan)})


# ---------------------------------------------------------------- what differs
def test_fingerprint_names_what_differs():
    x, y = np.zeros((4, 8, 8), np.float32), np.zeros((4, 8, 8), np.uint8)
    y[0, 2, 2] = 1
    base = fingerprint(x, y, [1, 2])
    assert fingerprint_differences(base, fingerprint(x, y, [2, 1, 2])) == []  # order and repeats do not matter
    assert fingerprint_differences(base, fingerprint(x[:, :4], y[:, :4], [1, 2])) == [
        "images: shape folder [4, 8, 8], given [4, 4, 8]", "masks: shape folder [4, 8, 8], given [4, 4, 8]"]
    assert fingerprint_differences(base, fingerprint(x, 1 - y, [1, 2])) == ["masks: other values (same shape and dtype)"]
    assert fingerprint_differences(base, fingerprint(x.astype(np.float64), y, [1, 2])) == [
        "images: dtype folder float32, given float64"]
    assert fingerprint_differences(base, fingerprint(x, y, [1, 3])) == ["noisy_indices: other indices"]
    assert fingerprint_differences(base, fingerprint(x, y)) == ["noisy_indices: folder 2 indices, given none"]


def test_config_differences_name_each_field_with_both_values():
    assert config_differences({"seed": 0, "epochs": 3, "adl": False}, {"seed": 5, "epochs": 3, "adl": True}) == [
        "seed: folder 0, given 5", "adl: folder False, given True"]
    assert config_differences({"a": 1}, {"a": 1, "b": 2}) == ["b: folder (absent), given 2"]


def test_history_nan_becomes_null_on_disk_and_nan_again_when_read():
    h = {"config": {"noise_alpha": None}, "epochs": [{"epoch": 1, "f1": float("nan"), "x": float("inf")}]}
    back = history_from_json(json.loads(json.dumps(runfolder.json_safe(h))))
    assert back["config"]["noise_alpha"] is None
    assert np.isnan(back["epochs"][0]["f1"]) and np.isnan(back["epochs"][0]["x"])


# ---------------------------------------------------------------- variables
def test_assign_arrays_refuses_missing_extra_and_misshapen_entries_and_assigns_nothing_then():
    v = [Var("a/kernel", np.zeros(2)), Var("bn/moving_mean", np.zeros(3))]
    good = {"model/a/kernel": np.ones(2), "model/bn/moving_mean": np.ones(3)}
    with pytest.raises(ValueError, match=r"f\.npz: .*1 model variables missing \['model/bn/moving_mean'\]"):
        assign_arrays(v, {"model/a/kernel": np.ones(2)}, "model", file="f.npz")
    with pytest.raises(ValueError, match=r"1 not in the model \['model/extra'\]"):
        assign_arrays(v, {**good, "model/extra": np.ones(1)}, "model", file="f.npz")
    with pytest.raises(ValueError, match=r"model/bn/moving_mean has shape \(4,\), the model's variable \(3,\)"):
        assign_arrays(v, {**good, "model/bn/moving_mean": np.ones(4)}, "model", file="f.npz")
    assert all((x.value == 0).all() for x in v)  # nothing half-restored
    assign_arrays(v, good, "model", file="f.npz")
    assert all((x.value == 1).all() for x in v)
    opt = [Var("adam/a_kernel_momentum", np.zeros(2))]
    arrays = runfolder.variable_arrays(opt, "optimizer", strip_first=True)
    assert list(arrays) == ["optimizer/a_kernel_momentum"]  # the optimizer's own name does not matter
    assign_arrays([Var("adam_1/a_kernel_momentum", np.ones(2))], arrays, "optimizer", file="f", strip_first=True)


# ---------------------------------------------------------------- the folder
def test_check_writes_nothing_and_refuses_another_run(tmp_path):
    rf = RunFolder(tmp_path / "run")
    fp = fingerprint(np.zeros(3), np.zeros(3))
    rf.check({"seed": 0}, fp)
    assert not (tmp_path / "run").exists()
    rf.start({"seed": 0}, fp)
    assert sorted(os.listdir(tmp_path / "run")) == ["config.json", "fingerprint.json"]
    rf.check({"seed": 0}, fp)
    with pytest.raises(ValueError, match=r"another configuration \(seed: folder 0, given 5\)"):
        rf.check({"seed": 5}, fp)
    with pytest.raises(ValueError, match=r"other data \(images: other values"):
        rf.check({"seed": 0}, fingerprint(np.ones(3), np.zeros(3)))
    (tmp_path / "run" / "fingerprint.json").unlink()  # a folder from before fingerprints: accepted, with a warning
    with pytest.warns(UserWarning, match="fingerprint.json is missing"):
        rf.check({"seed": 0}, fingerprint(np.ones(3), np.zeros(3)))
    (tmp_path / "run" / "config.json").write_text('{"seed": 0')
    with pytest.raises(ValueError, match=r"config\.json: not valid JSON"):
        rf.check({"seed": 0}, fp)


def test_checkpoint_round_trip_strict_json_and_one_checkpoint_left(tmp_path):
    rf = RunFolder(tmp_path)
    assert rf.load_checkpoint() is None
    _save(rf, 1)
    _save(rf, 2, scale=2.0)
    ck = rf.load_checkpoint()
    assert ck.epoch == 2 and ck.state["best_epoch"] == 2 and ck.state["format"] == 2
    np.testing.assert_array_equal(ck.variables["model/bn/moving_mean"], [0.0, 2.0, 4.0])
    assert np.isnan(ck.history["epochs"][1]["detection_f1"])
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["epoch-0002", "latest.json"]  # no temp, no old
    for f in (tmp_path / "history.json", tmp_path / "checkpoints" / "epoch-0002" / "history.json",
              tmp_path / "checkpoints" / "epoch-0002" / "state.json"):
        assert _strict_json(f)["epochs" if "history" in f.name else "epoch"]
    assert _strict_json(tmp_path / "history.json")["epochs"][0]["detection_f1"] is None
    assert np.load(tmp_path / "sample_losses.npz")["losses"].shape == (2, 3)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    _save(rf, 2, scale=3.0)  # the same epoch again (a run restarted in its folder): replaced
    np.testing.assert_array_equal(rf.load_checkpoint().variables["model/bn/moving_mean"], [0.0, 3.0, 6.0])
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["epoch-0002", "latest.json"]


@pytest.mark.parametrize("stage", ["variables", "state", "rename", "history", "sample_losses", "latest"])
def test_a_kill_at_any_stage_of_a_checkpoint_leaves_the_previous_one(tmp_path, monkeypatch, stage):
    rf = RunFolder(tmp_path)
    _save(rf, 1)

    class Killed(BaseException):
        pass

    def kill(*a, **k):
        raise Killed

    if stage in ("variables", "state"):
        real = runfolder._write_file

        def write(path, fn):
            if path.name == f"{stage}.npz" or path.name == f"{stage}.json":
                with open(path, "wb") as f:
                    f.write(b"PK\x03\x04 half")  # a half-written file, then the process dies
                raise Killed
            real(path, fn)
        monkeypatch.setattr(runfolder, "_write_file", write)
    elif stage == "rename":
        monkeypatch.setattr(runfolder.os, "replace", kill)
    elif stage == "history":
        monkeypatch.setattr(runfolder, "_write_json", kill)
    elif stage == "sample_losses":
        monkeypatch.setattr(runfolder, "atomic_write_npz", kill)
    else:
        monkeypatch.setattr(runfolder, "atomic_write_json", kill)
    with pytest.raises(Killed):
        _save(rf, 2, scale=2.0)
    monkeypatch.undo()
    ck = rf.load_checkpoint()
    assert ck.epoch == 1
    np.testing.assert_array_equal(ck.variables["model/bn/moving_mean"], [0.0, 1.0, 2.0])
    _save(rf, 2, scale=2.0)  # the next save cleans up what the kill left
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["epoch-0002", "latest.json"]
    assert rf.load_checkpoint().epoch == 2


def test_a_kill_that_leaves_a_temp_folder_behind(tmp_path):
    rf = RunFolder(tmp_path)
    _save(rf, 1)
    stale = tmp_path / "checkpoints" / ".tmp-epoch-0002-abc"
    stale.mkdir()
    (stale / "variables.npz").write_bytes(b"PK")
    assert rf.load_checkpoint().epoch == 1
    _save(rf, 2)
    assert not stale.exists()


@pytest.mark.parametrize("damage", ["truncate", "delete_state", "garbage_latest", "latest_elsewhere"])
def test_a_corrupt_checkpoint_is_refused_naming_the_file(tmp_path, damage):
    rf = RunFolder(tmp_path)
    final = _save(rf, 1)
    if damage == "truncate":
        f = final / "variables.npz"
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
        match = r"variables\.npz: cannot read the checkpoint"
    elif damage == "delete_state":
        (final / "state.json").unlink()
        match = r"state\.json is missing"
    elif damage == "garbage_latest":
        (tmp_path / "checkpoints" / "latest.json").write_text("{")
        match = r"latest\.json: not valid JSON"
    else:
        (tmp_path / "checkpoints" / "latest.json").write_text('{"epoch": 1, "path": "epoch-0009"}')
        match = r"epoch-0009, which does not exist"
    with pytest.raises(ValueError, match=match):
        rf.load_checkpoint()

"""Trainer: configuration, ADL bookkeeping, checkpoints and resume, tf.distribute, the training loss."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from rarunet_lib import adl  # noqa: E402
from rarunet_lib.train import TrainConfig, Trainer  # noqa: E402


def toy_data(n=40, size=32, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    x = np.empty((n, size, size), np.float32)
    y = np.empty((n, size, size), np.uint8)
    for i in range(n):
        cy, cx, r = rng.uniform(10, 22), rng.uniform(10, 22), rng.uniform(4, 8)
        m = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        x[i] = 0.2 + 0.6 * m + rng.normal(0, 0.05, m.shape)
        y[i] = m
    return x, y


def cfg(**kw):
    base = dict(model="unet", epochs=3, batch_size=8, learning_rate=1e-3, progress=False, seed=1)
    base.update(kw)
    return TrainConfig(**base)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    ({"model": "vnet"}, "rar_unet"), ({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"),
    ({"adl": True}, "noise_alpha"), ({"adl": True, "noise_alpha": 1.5, "noise_beta": 0.5}, "alpha"),
    ({"strategy": "tpu"}, "strategy"),
])
def test_config_errors(kwargs, match):
    x, y = toy_data(16)
    with pytest.raises(ValueError, match=match):
        Trainer(cfg(**kwargs), x, y)


def test_data_errors():
    x, y = toy_data(16)
    with pytest.raises(ValueError, match="as many"):
        Trainer(cfg(), x, y[:10])
    with pytest.raises(ValueError, match="larger than"):
        Trainer(cfg(batch_size=15), x, y)
    with pytest.raises(ValueError, match="only 0 and 1"):
        Trainer(cfg(), x, y * 2)


def test_nan_loss_names_the_epoch():
    x, y = toy_data(16)
    with pytest.raises(FloatingPointError, match=r"epoch \d"):  # a learning rate that blows up
        Trainer(cfg(epochs=5, learning_rate=1e38, validation_fraction=0.0), x, y).fit()
    x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Trainer(cfg(), x, y)


# ---------------------------------------------------------------- ADL bookkeeping
def test_adl_records_every_kept_sample_once_and_excludes_the_top_ranked():
    x, y = toy_data(40)
    noisy_idx = [0, 1, 2, 3, 4, 5]
    t = Trainer(cfg(epochs=4, adl=True, noise_alpha=0.3, noise_beta=0.6), x, y, noisy_indices=noisy_idx)
    h = t.fit()
    sched = adl.removal_schedule(0.3, 0.6, 4, t.n_train)
    assert [e["planned_exclusions"] for e in h["epochs"]] == sched.tolist()
    assert h["epochs"][0]["n_excluded"] == 0  # epoch 1: no losses yet, everybody trains
    for e in range(4):
        seen = ~np.isnan(t.losses[e])
        excluded = np.array(t.excluded[e], dtype=int)
        kept = t.n_train - excluded.size
        assert seen.sum() == kept - kept % 8 == h["epochs"][e]["n_trained"]  # full batches only
        assert not seen[excluded].any()
        if e > 0:
            assert excluded.size == sched[e]
            score = adl.normalised_cumulative_loss(t.losses[:e])
            np.testing.assert_array_equal(excluded, adl.select_excluded(score, int(sched[e])))
    assert {"detection_precision", "detection_recall", "detection_f1"} <= set(h["epochs"][1])


def test_scoring_pass_excludes_in_epoch_one():
    x, y = toy_data(40)
    t = Trainer(cfg(epochs=1, adl=True, noise_alpha=0.3, noise_beta=0.6, adl_first_epoch="scoring_pass"), x, y)
    h = t.fit()
    assert h["epochs"][0]["n_excluded"] == adl.removal_schedule(0.3, 0.6, 1, t.n_train)[0] > 0


def test_random_control_leaves_out_as_many_masks_chosen_by_seed_not_by_loss():
    x, y = toy_data(40)
    kw = dict(epochs=3, adl=True, noise_alpha=0.3, noise_beta=0.6, adl_ranking="random")
    t = Trainer(cfg(**kw), x, y)
    h = t.fit()
    sched = adl.removal_schedule(0.3, 0.6, 3, t.n_train)
    for e in (1, 2):
        excluded = np.array(t.excluded[e], dtype=int)
        assert excluded.size == sched[e] == h["epochs"][e]["n_excluded"]
        # the choice is the seeded random draw of epoch e + 1, computed here independently
        draw = np.random.default_rng([1, e + 1]).random(t.n_train)
        np.testing.assert_array_equal(excluded, np.sort(np.argsort(-draw, kind="stable")[: sched[e]]))
    t2 = Trainer(cfg(**kw), x, y)
    t2.fit(max_epochs=2)
    assert t2.excluded[1] == t.excluded[1]  # same seed, same choice
    with pytest.raises(ValueError, match="adl_ranking"):
        cfg(adl=True, noise_alpha=0.3, noise_beta=0.6, adl_ranking="smallest").validate()


def test_per_sample_losses_come_from_the_training_pass():
    """With a zero learning rate the recorded loss equals an independent forward pass."""
    x, y = toy_data(16)
    t = Trainer(cfg(epochs=1, learning_rate=1e-12, augment=False, validation_fraction=0.0), x, y)
    t.fit()
    pred = t.model(x[..., None], training=True).numpy()[..., 0]  # BN in training mode, as in the step
    # Dice of each image computed in NumPy (soft Dice, smoothing 1)
    inter = (pred * y).sum(axis=(1, 2))
    ref = 1 - (2 * inter + 1) / (pred.sum(axis=(1, 2)) + y.sum(axis=(1, 2)) + 1)
    # BatchNorm statistics depend on the batch composition, so compare loosely
    np.testing.assert_allclose(t.losses[0], ref, atol=0.05)


# ---------------------------------------------------------------- checkpoints and resume
def _all_variables(trainer):
    """Every model and optimizer variable, found independently of the checkpoint code (by layer walk)."""
    import keras

    out = {f"trainable/{i}": v.numpy() for i, v in enumerate(trainer.model.trainable_variables)}
    for layer in trainer.model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            out[f"bn/{layer.path}/mean"] = layer.moving_mean.numpy()
            out[f"bn/{layer.path}/var"] = layer.moving_variance.numpy()
    out.update({f"optimizer/{i}": v.numpy() for i, v in enumerate(trainer.optimizer.variables)})
    return out


def _records(history):
    return [{k: v for k, v in e.items() if k != "seconds"} for e in history["epochs"]]


def _same_records(a, b):
    assert len(a) == len(b)
    for ea, eb in zip(a, b, strict=True):
        assert ea.keys() == eb.keys()
        for k in ea:  # bitwise, NaN where NaN
            assert ea[k] == eb[k] or (np.isnan(ea[k]) and np.isnan(eb[k])), (ea["epoch"], k, ea[k], eb[k])


_EVERY_MODEL = [(name, {}) for name in __import__("rarunet_lib.models", fromlist=["x"]).available_models()] + [
    (f"table4_row{r}", None) for r in (3, 5, 6)]


@pytest.mark.parametrize("name, kwargs", _EVERY_MODEL, ids=[n for n, _ in _EVERY_MODEL])
def test_every_variable_survives_save_and_resume(tmp_path, name, kwargs):
    """All variables (BatchNorm statistics of residual paths and nested blocks included) restore bitwise."""
    from rarunet_lib.experiments import RunSpec

    model = name
    if kwargs is None:  # a Table 4 row built from rar_unet's flags, as the grid does
        model, kwargs = "rar_unet", RunSpec("rar_unet", 0, table4_row=int(name[-1])).model_kwargs()
    x, y = toy_data(8)
    config = cfg(model=model, model_kwargs=kwargs, epochs=2, batch_size=4, validation_fraction=0.0)
    t = Trainer(config, x, y, output=tmp_path)
    t.fit(max_epochs=1)
    before = _all_variables(t)
    moved = [k for k in before if k.startswith("bn/") and k.endswith("/mean") and np.any(before[k] != 0)]
    assert len(moved) == len([k for k in before if k.endswith("/mean")]) > 0  # every BN layer has statistics
    r = Trainer.resume(tmp_path, x, y)
    after = _all_variables(r)
    assert before.keys() == after.keys()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)
    assert len(r.model.weights) == len(t.model.weights)


_RESUME_CODE = """
import json, os, sys
import numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
from rarunet_lib.config import seed_everything
seed_everything(0, deterministic=True)  # one inter-op thread: residual branches sum their gradients in one order
sys.path.insert(0, sys.argv[2])
from test_train import _records, _same_records, cfg, toy_data
from rarunet_lib.runfolder import history_from_json
from rarunet_lib.train import Trainer, fit_best
from pathlib import Path

tmp = Path(sys.argv[1])
x, y = toy_data(40)
noisy = [0, 1, 2, 3]
y[noisy] = 1 - y[noisy]  # noisy masks: inverted
config = cfg(model="rar_unet", epochs=3, batch_size=8, adl=True, noise_alpha=0.3, noise_beta=0.6,
             learning_rate=3e-3, seed=2)
full = Trainer(config, x, y, output=tmp / "a", noisy_indices=noisy)
best = fit_best(full)
part = Trainer(config, x, y, output=tmp / "b", noisy_indices=noisy)
part.fit(max_epochs=2)
del part
resumed = Trainer.resume(tmp / "b", x, y, noisy_indices=noisy)
assert resumed.epoch == 2 and not resumed.finished
assert fit_best(resumed) == best, (best, resumed.best_epoch, resumed.best_value)
assert full.best_epoch < 3, best  # the best epoch's weights came from the checkpoint, not from memory
_same_records(_records(full.history), _records(resumed.history))
for name in ("a", "b"):
    on_disk = history_from_json(json.loads((tmp / name / "history.json").read_text()))
    _same_records(_records(full.history), _records(on_disk))
for a, b in ((full.model.get_weights(), resumed.model.get_weights()),
             (full.last_epoch_weights, resumed.last_epoch_weights)):
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_array_equal(wa, wb)
np.testing.assert_array_equal(full.losses, resumed.losses)
assert full.excluded == resumed.excluded
assert full.adl.scores and set(full.adl.scores) == set(resumed.adl.scores)
for table in ("scores", "stats"):  # every ranking's scores and what they are computed from
    for k, v in getattr(full.adl, table).items():
        np.testing.assert_array_equal(v, getattr(resumed.adl, table)[k])
assert [c.name for c in (tmp / "b" / "checkpoints").glob("epoch-*")] == ["epoch-0003"]  # old ones replaced
assert not list((tmp / "b" / "checkpoints").glob(".tmp*"))  # no temp folders left
done = Trainer.resume(tmp / "b", x, y, noisy_indices=noisy)
assert done.finished and fit_best(done) == best  # a finished run: the same selection, nothing trained
print("OK", json.dumps({"selected": best, "val_dice": [e["val_dice"] for e in full.history["epochs"]]}))
"""


def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path):
    """RAR-U-Net with ADL on noisy masks, killed after epoch 2 of 3: same history, weights and selected epoch.

    Bitwise, in a fresh process with one inter-op thread (:func:`rarunet_lib.config.seed_everything`); the
    best epoch (1 of 3) lies before the interruption, so its weights must come from the checkpoint.
    Checked to fail with the BatchNorm statistics left out of the checkpoint (the previous behaviour).
    """
    out = subprocess.run([sys.executable, "-c", _RESUME_CODE, str(tmp_path), os.path.dirname(__file__)],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("OK")


def _snapshot(folder):
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def test_a_folder_refuses_other_data_and_another_configuration_before_writing(tmp_path):
    x, y = toy_data(16)
    noisy = [1, 2]
    Trainer(cfg(epochs=2), x, y, output=tmp_path, noisy_indices=noisy).fit(max_epochs=1)
    before = _snapshot(tmp_path)
    bigger_x, bigger_y = toy_data(20)
    for images, masks, idx, match in [
        (x + 0.01, y, noisy, r"images: other values"),
        (x[:, :16, :16], y[:, :16, :16], noisy, r"images: shape folder \[16, 32, 32, 1\], given \[16, 16, 16, 1\]"),
        (x, 1 - y, noisy, r"masks: other values"),
        (bigger_x, bigger_y, noisy, r"images: shape folder \[16,"),
        (x, y, [1, 3], r"noisy_indices: other indices"),
        (x, y, None, r"noisy_indices: folder 2 indices, given none"),
    ]:
        with pytest.raises(ValueError, match=match):
            Trainer.resume(tmp_path, images, masks, noisy_indices=idx)
    with pytest.raises(ValueError, match=r"config differs .*seed: folder 1, given 5"):
        Trainer.resume(tmp_path, x, y, noisy_indices=noisy, config=cfg(epochs=2, seed=5))
    with pytest.raises(ValueError, match=r"another configuration \(epochs: folder 2, given 3; seed: folder 1, "
                                         r"given 4\)"):
        Trainer(cfg(epochs=3, seed=4), x, y, output=tmp_path, noisy_indices=noisy)
    assert _snapshot(tmp_path) == before  # the checks wrote nothing
    t = Trainer.resume(tmp_path, x, y, noisy_indices=noisy, config=cfg(epochs=2))
    assert t.epoch == 1 and _snapshot(tmp_path) == before  # resuming writes nothing before fit
    fresh = tmp_path / "new"
    Trainer(cfg(epochs=2), x, y, output=fresh)
    assert not fresh.exists()  # nothing written before fit() starts


def test_a_finished_run_resumes_and_fit_trains_and_writes_nothing(tmp_path):
    x, y = toy_data(16)
    t = Trainer(cfg(epochs=1), x, y, output=tmp_path)
    t.fit()
    assert t.finished
    before = _snapshot(tmp_path)
    r = Trainer.resume(tmp_path, x, y)
    assert r.finished and r.epoch == 1
    w = r.model.get_weights()
    h = r.fit()
    assert len(h["epochs"]) == 1 and _snapshot(tmp_path) == before
    for a, b in zip(w, r.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_history_json_is_strict_and_resumes_with_nan(tmp_path):
    x, y = toy_data(24)
    t = Trainer(cfg(epochs=2, adl=True, noise_alpha=0.3, noise_beta=0.6), x, y, output=tmp_path, noisy_indices=[0])
    t.fit(max_epochs=1)
    assert np.isnan(t.history["epochs"][0]["detection_precision"])  # nothing excluded in epoch 1
    text = (tmp_path / "history.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    r = Trainer.resume(tmp_path, x, y, noisy_indices=[0])
    assert np.isnan(r.history["epochs"][0]["detection_precision"])
    assert r.history["config"]["noise_beta"] == 0.6


def test_a_corrupt_checkpoint_is_refused_naming_the_file(tmp_path):
    x, y = toy_data(16)
    Trainer(cfg(epochs=2), x, y, output=tmp_path).fit(max_epochs=1)
    f = tmp_path / "checkpoints" / "epoch-0001" / "variables.npz"
    data = dict(np.load(f))
    np.savez(f, **{k: v for k, v in data.items() if "moving_variance" not in k})
    with pytest.raises(ValueError, match=r"variables\.npz: the checkpoint does not match the model: 9 model "
                                         r"variables missing"):
        Trainer.resume(tmp_path, x, y)
    np.savez(f, **data, **{"model/extra/kernel": np.zeros(1)})
    with pytest.raises(ValueError, match=r"1 not in the model \['model/extra/kernel'\]"):
        Trainer.resume(tmp_path, x, y)
    f.write_bytes(f.read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"epoch-0001/variables\.npz: cannot read the checkpoint"):
        Trainer.resume(tmp_path, x, y)


def test_a_run_folder_written_before_fingerprints_and_full_checkpoints_still_resumes(tmp_path):
    """The previous format: tf.train.Checkpoint "state" files, adl.npz with a JSON string, no fingerprint."""
    x, y = toy_data(24)
    config = cfg(epochs=2)
    t = Trainer(config, x, y, output=tmp_path)
    t.fit(max_epochs=1)
    ck = tmp_path / "checkpoints" / "epoch-0001"
    for name in ("variables.npz", "state.json", "adl.npz"):
        (ck / name).unlink()
    tf.train.Checkpoint(model=t.model, optimizer=t.optimizer).write(str(ck / "state"))
    np.savez(ck / "adl.npz", losses=t.losses, excluded=np.array(json.dumps(t.excluded)), epoch=1)
    (tmp_path / "fingerprint.json").unlink()
    with pytest.warns(UserWarning) as caught:
        r = Trainer.resume(tmp_path, x, y)
    text = " ".join(str(w.message) for w in caught)
    assert "fingerprint.json is missing" in text and "before every variable was saved" in text
    assert r.epoch == 1 and r.best_epoch == 1 and r.excluded == t.excluded
    for a, b in zip(t.model.trainable_variables, r.model.trainable_variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert len(r.fit()["epochs"]) == 2


def test_learning_rate_must_be_finite_and_fit_best_tracks_val_dice_only():
    from rarunet_lib.train import fit_best

    for lr in (float("inf"), float("nan"), -1.0, 0.0, True):
        with pytest.raises(ValueError, match=r"learning_rate must be a finite number > 0, got"):
            cfg(learning_rate=lr).validate()
    x, y = toy_data(16)
    with pytest.raises(ValueError, match="key='val_loss' is not tracked"):
        fit_best(Trainer(cfg(), x, y), key="val_loss")


def test_mixed_precision_leaves_the_global_policy_unchanged():
    import keras

    before = keras.mixed_precision.global_policy().name
    x, y = toy_data(8)
    t = Trainer(cfg(epochs=1, batch_size=4, mixed_precision="bfloat16", validation_fraction=0.0), x, y)
    t.fit()
    assert t.precision == "bfloat16"
    assert keras.mixed_precision.global_policy().name == before == "float32"
    assert t.model.get_layer("enc1_conv1").dtype_policy.name == "mixed_bfloat16"
    assert t.model.get_layer("head").dtype_policy.name == "float32"


def test_output_folder_of_another_run_is_refused(tmp_path):
    x, y = toy_data(16)
    Trainer(cfg(epochs=1), x, y, output=tmp_path).fit()
    with pytest.raises(ValueError, match="another configuration"):
        Trainer(cfg(epochs=2), x, y, output=tmp_path).fit()


# ---------------------------------------------------------------- tf.distribute on two logical CPUs
def test_mirrored_strategy_on_two_logical_cpus():
    code = textwrap.dedent("""
        import os, numpy as np
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from rarunet_lib.train import TrainConfig, Trainer
        rng = np.random.default_rng(0)
        x = rng.random((24, 32, 32), dtype=np.float32)
        y = (x > 0.6).astype(np.uint8)
        t = Trainer(TrainConfig(model="unet", epochs=2, batch_size=8, learning_rate=1e-3, progress=False,
                                strategy="mirrored", adl=True, noise_alpha=0.5, noise_beta=0.5), x, y)
        h = t.fit()
        assert t.strategy.num_replicas_in_sync == 2
        assert np.isfinite(t.losses).sum() == sum(e["n_trained"] for e in h["epochs"])
        print("OK", t.strategy.num_replicas_in_sync)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "OK 2" in out.stdout


def test_fit_best_keeps_the_weights_of_the_best_validation_epoch():
    from rarunet_lib.train import fit_best

    x, y = toy_data()
    config = cfg(epochs=3, seed=3)
    t = Trainer(config, x, y)
    epoch, value = fit_best(t)
    vals = [e["val_dice"] for e in t.history["epochs"]]
    assert len(vals) == 3 and epoch == 1 + int(np.argmax(vals)) and value == max(vals)
    # the same seed trained for exactly `epoch` epochs ends with the same weights (CPU is deterministic)
    ref = Trainer(config, x, y)
    ref.fit(max_epochs=epoch)
    for a, b in zip(t.model.get_weights(), ref.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="validation split"):
        fit_best(Trainer(TrainConfig(model="unet", epochs=1, batch_size=4, progress=False,
                                     validation_fraction=0.0), x, y))


def _free_ports(n):
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_multiworker_strategy_two_workers_on_localhost():
    """MultiWorkerMirroredStrategy with the same code: two worker processes on this machine agree."""
    code = textwrap.dedent("""
        import json, os, sys, numpy as np
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        from rarunet_lib.train import TrainConfig, Trainer
        rng = np.random.default_rng(0)
        x = rng.random((32, 32, 32), dtype=np.float32)
        y = (x > 0.6).astype(np.uint8)
        t = Trainer(TrainConfig(model="unet", epochs=2, batch_size=8, learning_rate=1e-3, progress=False,
                                strategy="multiworker", adl=True, noise_alpha=0.5, noise_beta=0.5), x, y)
        h = t.fit()
        # trainable weights only: BatchNorm's moving statistics are updated from each worker's local batches
        w = float(sum(np.abs(v.numpy()).sum() for v in t.model.trainable_weights))
        print("RESULT", json.dumps({"replicas": t.strategy.num_replicas_in_sync, "weights": w,
                                    "loss": [e["loss"] for e in h["epochs"]],
                                    "recorded": int(np.isfinite(t.losses).sum()),
                                    "trained": sum(e["n_trained"] for e in h["epochs"])}))
    """)
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    procs = []
    for i in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}))
        procs.append(subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.split("RESULT", 1)[1]))
    a, b = results
    assert a["replicas"] == b["replicas"] == 2
    assert a["weights"] == pytest.approx(b["weights"], rel=1e-7)  # the workers hold the same trained weights
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)  # and the same (all-gathered) per-sample losses
    assert a["recorded"] == a["trained"]


# ---------------------------------------------------------------- reproducibility on CPU
def test_same_seed_same_numbers_in_separate_processes():
    """Two fresh processes train a Residual-UNet (residual branches: gradient sums) to the same bits.

    Checked to fail without one inter-op thread (``seed_everything(0)`` only): the loss then differed in the 5th
    digit and the summed weights in the 3rd.
    """
    code = textwrap.dedent("""
        import json, os, numpy as np
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        from rarunet_lib.config import seed_everything
        seed_everything(0, deterministic=True)
        from rarunet_lib.train import TrainConfig, Trainer
        rng = np.random.default_rng(0)
        x = rng.random((48, 64, 64), dtype=np.float32)
        y = (x > 0.6).astype(np.uint8)
        t = Trainer(TrainConfig(model="residual_unet", epochs=1, batch_size=8, learning_rate=1e-3,
                                progress=False), x, y)
        h = t.fit()
        w = [float(np.float64(v.numpy()).sum()) for v in t.model.trainable_weights]
        print("RESULT", json.dumps({"loss": [e["loss"] for e in h["epochs"]], "weights": w}))
    """)
    results = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        results.append(json.loads(out.stdout.split("RESULT", 1)[1]))
    assert results[0] == results[1]


def test_cosine_schedule_ends_at_one_percent_and_survives_resume(tmp_path):
    import math

    x, y = toy_data(40)
    config = cfg(epochs=3, lr_schedule="cosine", learning_rate=2e-3, validation_fraction=0.0)
    part = Trainer(config, x, y, output=tmp_path / "run")
    part.fit(max_epochs=1)
    steps = 3 * math.ceil(40 / 8)
    k = int(part.optimizer.iterations.numpy())
    assert k == steps // 3
    # CosineDecay by hand: lr0 * ((1 - a) * (1 + cos(pi k / K)) / 2 + a), a = 0.01
    expected = 2e-3 * (0.99 * (1 + math.cos(math.pi * k / steps)) / 2 + 0.01)
    assert float(part.optimizer.learning_rate) == pytest.approx(expected, rel=1e-5)
    resumed = Trainer.resume(tmp_path / "run", x, y)
    assert int(resumed.optimizer.iterations.numpy()) == k
    resumed.fit()
    assert int(resumed.optimizer.iterations.numpy()) == steps
    assert float(resumed.optimizer.learning_rate) == pytest.approx(2e-5, rel=1e-5)
    with pytest.raises(ValueError, match="lr_schedule"):
        Trainer(cfg(lr_schedule="step"), x, y)


def test_a_run_folder_from_before_a_config_field_existed_still_resumes(tmp_path):
    x, y = toy_data(24)
    Trainer(cfg(epochs=2), x, y, output=tmp_path).fit(max_epochs=1)
    old = json.loads((tmp_path / "config.json").read_text())
    old["dice_over"] = "image"  # what every run before the field existed trained with
    (tmp_path / "config.json").write_text(json.dumps(old))
    Trainer(cfg(epochs=2, dice_over="image"), x, y, output=tmp_path)  # same run: accepted
    for key in ("bn_recalibration", "lr_schedule", "dice_over"):  # fields added in later versions
        del old[key]
    (tmp_path / "config.json").write_text(json.dumps(old))
    t = Trainer.resume(tmp_path, x, y)
    assert t.epoch == 1 and not t.config.bn_recalibration
    assert t.config.dice_over == "image"  # not today's default: the loss that run was trained with
    with pytest.raises(ValueError, match="another configuration .dice_over: folder 'image', given 'batch'"):
        Trainer(cfg(epochs=2), x, y, output=tmp_path)  # today's default differs
    assert len(t.fit()["epochs"]) == 2


# ---------------------------------------------------------------- what the gradient's Dice is computed over
def _hand_gradients(config, x, y, per_sample):
    """Gradients of keras-side DiceLoss for the model the trainer builds, computed eagerly by hand."""
    import keras

    from rarunet_lib.losses import DiceLoss
    from rarunet_lib.models import build, set_batchnorm_momentum

    keras.utils.set_random_seed(config.seed)  # what the trainer does before building
    ref = build("unet", x.shape[1:3] + (1,))
    set_batchnorm_momentum(ref, config.bn_momentum)
    with tf.GradientTape() as tape:
        loss = DiceLoss(per_sample=per_sample)(y[..., None].astype("float32"), ref(x[..., None], training=True))
    return [g.numpy() for g in tape.gradient(loss, ref.trainable_variables)]


def _relative_gap(a_list, b_list):
    return max(float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)) for a, b in zip(a_list, b_list, strict=True))


@pytest.mark.parametrize("dice_over", ["image", "batch"])
def test_the_training_gradient_is_the_chosen_keras_dice_loss(dice_over):
    x, y = toy_data(8)
    config = cfg(epochs=1, batch_size=8, augment=False, validation_fraction=0.0, dice_over=dice_over)
    t = Trainer(config, x, y)
    t.fit()  # one epoch of one batch holding every sample (order matters to neither loss)
    # after one Adam step the first moment is (1 - beta_1) * gradient
    got = [m.numpy() / (1 - t.optimizer.beta_1) for m in t.optimizer._momentums]
    same = _hand_gradients(config, x, y, per_sample=dice_over == "image")
    other = _hand_gradients(config, x, y, per_sample=dice_over != "image")
    assert _relative_gap(got, same) < 5e-3  # float32 rounding of graph versus eager kernels
    assert _relative_gap(got, other) > 5e-2  # the other reading is far off: the test can tell them apart


def test_batch_and_image_dice_train_differently_and_bad_value():
    x, y = toy_data(8)
    runs = [Trainer(cfg(epochs=1, batch_size=8, augment=False, validation_fraction=0.0, dice_over=d), x, y)
            for d in ("image", "batch")]
    for r in runs:
        r.fit()
    assert any(not np.allclose(a.numpy(), b.numpy()) for a, b in
               zip(runs[0].model.trainable_variables, runs[1].model.trainable_variables, strict=True))
    with pytest.raises(ValueError, match="dice_over='pixels' is not allowed"):
        Trainer(cfg(dice_over="pixels"), x, y)


def test_train_config_rejects_an_unknown_adl_ranking_and_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"adl_ranking='loss' is not allowed; use one of .*'random'"):
        TrainConfig(adl_ranking="loss").validate()
    TrainConfig(adl_ranking="random").validate()


def test_tensorboard_is_an_optional_extra_refused_up_front(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    with pytest.raises(ValueError, match=r"pip install 'rarunet_lib\[tensorboard\]'"):
        TrainConfig(model="unet", tensorboard=True).validate()
    TrainConfig(model="unet", tensorboard=False).validate()  # without the feature: nothing to install


def test_cleanlab_is_an_optional_extra_refused_up_front(monkeypatch):
    import importlib.util

    from rarunet_lib.adl import AdlState

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "cleanlab" else real(name, *a))
    with pytest.raises(ValueError, match=r"pip install 'rarunet_lib\[cleanlab\]'"):
        TrainConfig(model="unet", adl=True, noise_alpha=0.7, noise_beta=0.5, adl_ranking="cleanlab").validate()
    with pytest.raises(ValueError, match=r"pip install 'rarunet_lib\[cleanlab\]'"):
        AdlState(8, 2, alpha=0.7, beta=0.5, ranking="cleanlab", areas=[1] * 8)
    TrainConfig(model="unet", adl=True, noise_alpha=0.7, noise_beta=0.5, adl_ranking="size_adjusted").validate()
    assert "cleanlab" not in AdlState(8, 2, alpha=0.7, beta=0.5, areas=[1] * 8).recorded_rankings()

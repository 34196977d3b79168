"""Kill a training process at chosen moments, resume it, and compare with an uninterrupted run.

Not collected by pytest (no ``test_`` prefix): it takes a few minutes on two cores.
Run from the repository root::

    PYTHONPATH=$PWD python tests/kill_resume.py [workdir [stage ...]]

A tiny RAR-U-Net with ADL on noisy (inverted) masks trains for 3 epochs in a
subprocess, selecting the best validation epoch with ``fit_best``.  The child
kills itself with SIGKILL (no clean-up handlers run) at:

* ``epoch``: in the middle of epoch 2 (after its first recorded batch);
* ``variables``: while writing epoch 2's ``variables.npz`` (half a file on disk);
* ``latest``: after epoch 2's checkpoint and top-level copies, before ``latest.json`` switches;
* ``end``: after the last epoch, before the caller scores it.

Each killed folder is then resumed in a fresh process with ``Trainer.resume``
and ``fit_best``; history (every number bitwise), selected epoch, best and last
weights, per-sample losses and exclusions must equal the uninterrupted run's.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

STAGES = ("epoch", "variables", "latest", "end")


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:32, :32]
    x = np.empty((24, 32, 32), np.float32)
    y = np.empty((24, 32, 32), np.uint8)
    for i in range(24):
        cy, cx, r = rng.uniform(10, 22), rng.uniform(10, 22), rng.uniform(4, 8)
        m = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        x[i] = 0.2 + 0.6 * m + rng.normal(0, 0.05, m.shape)
        y[i] = m
    noisy = [0, 1, 2, 3]
    y[noisy] = 1 - y[noisy]
    return x, y, noisy


def _digest(arrays) -> str:
    import numpy as np

    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()[:16]


def child(folder: str, mode: str) -> None:
    """Train (``mode`` = "full" or a kill stage) or resume (``mode`` = "resume") and print the result."""
    import signal

    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    from rarunet_lib.config import seed_everything

    seed_everything(0, deterministic=True)
    from rarunet_lib import adl, runfolder, train

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if mode == "epoch":
        record = adl.AdlState.record

        def record_then_die(self, t, ids, losses):
            record(self, t, ids, losses)
            if t == 2:
                die()
        adl.AdlState.record = record_then_die
    elif mode == "variables":
        write = runfolder._write_file

        def write_half(path, fn):
            if path.name == "variables.npz" and "epoch-0002" in str(path):
                with open(path, "wb") as f:
                    f.write(b"PK\x03\x04" + b"\0" * 4096)
                    f.flush()
                    os.fsync(f.fileno())
                die()
            write(path, fn)
        runfolder._write_file = write_half
    elif mode == "latest":
        write_json = runfolder.atomic_write_json

        def switch(path, obj, **kw):
            if Path(path).name == "latest.json" and obj["epoch"] == 2:
                die()
            return write_json(path, obj, **kw)
        runfolder.atomic_write_json = switch
    x, y, noisy = _data()
    config = train.TrainConfig(model="rar_unet", epochs=3, batch_size=4, learning_rate=3e-3, seed=2, adl=True,
                               noise_alpha=0.3, noise_beta=0.6, progress=False)
    if mode == "resume":
        trainer = train.Trainer.resume(folder, x, y, noisy_indices=noisy, config=config)
        resumed_from = trainer.epoch
    else:
        trainer = train.Trainer(config, x, y, output=folder, noisy_indices=noisy)
        resumed_from = None
    epoch, value = train.fit_best(trainer)
    if mode == "end":
        die()
    print("RESULT", json.dumps({
        "resumed_from": resumed_from, "selected": [epoch, value],
        "history": [{k: repr(v) for k, v in e.items() if k != "seconds"} for e in trainer.history["epochs"]],
        "best_weights": _digest(trainer.model.get_weights()), "last_weights": _digest(trainer.last_epoch_weights),
        "losses": _digest([trainer.losses]), "excluded": trainer.excluded}))


def _run(folder: Path, mode: str) -> tuple[int, dict | None]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, __file__, "--child", str(folder), mode], capture_output=True,
                          text=True, env=env, timeout=900)
    if "RESULT" not in done.stdout:
        return done.returncode, None
    return done.returncode, json.loads(done.stdout.split("RESULT", 1)[1])


def main(work: Path, stages=STAGES) -> int:
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise SystemExit(f"unknown stages {unknown}; choose from {STAGES}")
    work.mkdir(parents=True, exist_ok=True)
    rc, ref = _run(work / "uninterrupted", "full")
    assert rc == 0 and ref is not None, f"the uninterrupted run failed (rc {rc})"
    print(f"uninterrupted: selected epoch {ref['selected'][0]} (val_dice {ref['selected'][1]:.6f}), "
          f"val_dice per epoch {[float(e['val_dice']) for e in ref['history']]}")
    failures = 0
    for i, stage in enumerate(stages):
        folder = work / f"killed-{stage}-{i}"
        rc, _ = _run(folder, stage)
        latest = folder / "checkpoints" / "latest.json"
        at = json.loads(latest.read_text())["epoch"] if latest.exists() else 0
        rc2, got = _run(folder, "resume")
        keys = ("selected", "history", "best_weights", "last_weights", "losses", "excluded")
        differ = [k for k in keys if got is None or got[k] != ref[k]]
        if rc != -9:  # the child must die by the kill, not by an error (then nothing was tested)
            differ.insert(0, f"the child exited with {rc}, not by SIGKILL")
        same = not differ
        failures += not same
        print(f"kill at {stage:9s}: child rc {rc} (SIGKILL = -9), latest.json at epoch {at}, resumed from "
              f"{None if got is None else got['resumed_from']} (rc {rc2}): "
              + ("SAME history, selected epoch, best and last weights, losses, exclusions" if same
                 else f"DIFFERENT {differ}"))
        if got is not None and "history" in differ:
            for a, b in zip(ref["history"], got["history"], strict=True):
                print("   ", {k: (a[k], b[k]) for k in a if a[k] != b[k]})
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="kill_resume-"))
        sys.exit(main(work, tuple(sys.argv[2:]) or STAGES))

"""Cost of precise BatchNorm (``TrainConfig(bn_recalibration=True)``) against one training epoch (CPU).

Times, for each model, one training epoch and one precise-BN pass over the same
training slices at the ``cpu2`` profile's size (64x64, batch 8; ``--n`` slices
of random data, which does not change the cost).  The first epoch and the first
pass (tracing) are not timed; the medians of ``--repeats`` are printed, with the median epoch of a
second run that trains with ``bn_recalibration=True`` (the pass inside ``fit``).

Run: python benchmarks/bench_precise_bn.py [--models unet rar_unet] [--n 320] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from rarunet_lib.train import TrainConfig, Trainer  # noqa: E402


def measure(model: str, n: int, size: int, repeats: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    x = rng.random((n, size, size), dtype=np.float32)
    y = (x > 0.7).astype(np.uint8)
    trainer = Trainer(TrainConfig(model=model, epochs=repeats + 1, batch_size=8, validation_fraction=0.0,
                                  progress=False), x, y)
    trainer.fit(max_epochs=1)  # tracing
    trainer.recalibrate_batchnorm(epoch=0)  # tracing
    epochs, passes = [], []
    for r in range(repeats):
        t0 = time.perf_counter()
        trainer.fit(max_epochs=1)
        epochs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        trainer.recalibrate_batchnorm(epoch=r + 1)
        passes.append(time.perf_counter() - t0)
    # the same, as training runs it: one epoch with the pass inside (bn_recalibration=True)
    trainer = Trainer(TrainConfig(model=model, epochs=repeats + 1, batch_size=8, validation_fraction=0.0,
                                  progress=False, bn_recalibration=True), x, y)
    hist = trainer.fit()
    both = [e["seconds"] for e in hist["epochs"][1:]]
    return float(np.median(epochs)), float(np.median(passes)), float(np.median(both))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["unet", "rar_unet"])
    ap.add_argument("--n", type=int, default=320)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    for model in args.models:
        epoch, bn, both = measure(model, args.n, args.size, args.repeats)
        print(f"{model:10s} epoch {epoch:6.2f} s   precise-BN pass {bn:6.2f} s   "
              f"epoch with the pass {both:6.2f} s   ratio {both / epoch:.2f}")


if __name__ == "__main__":
    main()

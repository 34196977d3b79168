"""Table 4 on a GPU at the paper's image size: the seven architecture rows on clean phantom labels.

A shortened schedule that fits a few minutes of one H100: 10 phantom cases of
200 slices (2 mm apart) rendered at 512 and resized to 256x256, the last case
for testing; 12 epochs, batch 8, Adam 1e-4, Dice loss, +-90 degree rotations,
bfloat16 and XLA.  Runs on Keras 3's JAX backend (no TensorFlow on the device
machines) with ``model.fit``; scores with ``rarunet_lib.metrics`` (pooled, as
Table 4).  Writes one JSON per row as it goes.

Run: KERAS_BACKEND=jax python benchmarks/table4_gpu.py --out DIR [--seed 0] [--epochs 12]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from rarunet_lib import metrics  # noqa: E402
from rarunet_lib.cli import load_dataset, predict_masks  # noqa: E402
from rarunet_lib.config import get_profile  # noqa: E402
from rarunet_lib.data import rotate90  # noqa: E402
from rarunet_lib.losses import DiceLoss, DiceMetric  # noqa: E402
from rarunet_lib.models import count_trainable, table4_model  # noqa: E402
from rarunet_lib.paper import TABLE4  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--rows", type=int, nargs="+", default=list(range(1, 8)))
    ap.add_argument("--cases", type=int, default=10)
    ap.add_argument("--slices", type=int, default=200)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    profile = replace(get_profile("full"), name="table4-gpu-short", epochs=args.epochs, learning_rate=1e-4,
                      n_cases=args.cases, slices_per_case=args.slices, slice_spacing=2.0, paper_scale=False,
                      description=f"256x256, {args.cases} phantom cases x {args.slices} slices, {args.epochs} epochs, "
                                  "lr 1e-4, bf16+XLA, Keras/JAX")
    t0 = time.perf_counter()
    data = load_dataset("phantom", profile, seed=1000, workers=os.cpu_count() or 1)
    print(f"data: {data['train_images'].shape[0]} train, {data['test_images'].shape[0]} test slices "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    rng = np.random.default_rng(args.seed)
    n = data["train_images"].shape[0]
    perm = rng.permutation(n)
    n_val = round(0.1 * n)
    tr, va = perm[n_val:], perm[:n_val]
    # +-90 degree rotations: one random rotation per slice and epoch, drawn up front (seeded)
    for row in args.rows:
        keras.utils.set_random_seed(args.seed)
        model = table4_model(row, (256, 256, 1))
        model.compile(optimizer=keras.optimizers.Adam(profile.learning_rate), loss=DiceLoss(),
                      metrics=[DiceMetric()], jit_compile=True, steps_per_execution=64)
        t0 = time.perf_counter()
        for _epoch in range(profile.epochs):
            k = rng.integers(-1, 2, size=tr.size)
            xe, ye = rotate90(data["train_images"][tr], data["train_masks"][tr], k)
            model.fit(xe[..., None], ye[..., None].astype("float32"), batch_size=8, epochs=1, verbose=0,
                      shuffle=True)
        train_s = time.perf_counter() - t0
        pred = predict_masks(model, data["test_images"], batch_size=64)
        pooled = metrics.evaluate(data["test_masks"], pred, aggregate="pooled")
        val_pred = predict_masks(model, data["train_images"][va], batch_size=64)
        val = metrics.evaluate(data["train_masks"][va], val_pred, aggregate="pooled")
        result = {
            "table": 4, "row": row, "params": count_trainable(model), "paper": dict(zip(("iou", "recall", "params"),
                                                                                      TABLE4[row], strict=True)),
            "test_pooled": {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                            for k, v in pooled.items() if k != "skipped"},
            "val_dice": val["dice"], "train_seconds": train_s, "seed": args.seed, "profile": profile.as_dict(),
            "backend": f"keras {keras.__version__} / {keras.backend.backend()}",
        }
        with open(args.out / f"table4_row{row}_seed{args.seed}.json", "w") as f:
            json.dump(result, f, indent=1)
        print(f"row {row}: IoU {pooled['iou']:.4f} recall {pooled['recall']:.4f} dice {pooled['dice']:.4f} "
              f"(val Dice {val['dice']:.4f}; train {train_s:.0f} s)", flush=True)


if __name__ == "__main__":
    main()

"""Table 4 on a GPU at the paper's image size: the seven architecture rows on clean phantom labels.

A shortened schedule that fits a few minutes of one H100: 10 phantom cases of
200 slices (2 mm apart) rendered at 512 and resized to 256x256, the last case
for testing; 12 epochs, batch 8, Adam 1e-4, Dice loss, +-90 degree rotations,
bfloat16, XLA and 64 steps per call.  Each row is one run of the grid's recipe
(:func:`rarunet_lib.recipe.train_and_score`: the library's trainer, the best
validation epoch tested); writes one JSON per row as it goes, Table 4's
pooled measures beside the paper's numbers.

(The committed ``results/h100/table4_row*_seed0.json`` predate the recipe: they
were trained with ``model.fit`` on Keras 3's JAX backend and tested at the last
epoch; ``val_dice`` there is the last epoch's.)

Run: python studies/table4_gpu.py --out DIR [--seed 0] [--epochs 12] [--rows 1 7]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from rarunet_lib.config import get_profile  # noqa: E402
from rarunet_lib.data import load_dataset  # noqa: E402
from rarunet_lib.experiments import table_runs  # noqa: E402
from rarunet_lib.fileio import atomic_write_json  # noqa: E402
from rarunet_lib.paper import TABLE4  # noqa: E402
from rarunet_lib.recipe import train_and_score  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--rows", type=int, nargs="+", default=list(range(1, 8)), choices=range(1, 8))
    ap.add_argument("--cases", type=int, default=10)
    ap.add_argument("--slices", type=int, default=200)
    ap.add_argument("--image-size", type=int, default=256, help="network input side (smaller only to smoke-test)")
    ap.add_argument("--mixed-precision", default="bfloat16", choices=["auto", "off", "bfloat16", "float16"])
    ap.add_argument("--jit-compile", default="on", choices=["auto", "on", "off"])
    ap.add_argument("--steps-per-execution", type=int, default=64)
    args = ap.parse_args(argv)
    import keras

    args.out.mkdir(parents=True, exist_ok=True)
    profile = replace(get_profile("full"), name="table4-gpu-short", image_size=args.image_size, epochs=args.epochs,
                      batch_size=8, learning_rate=1e-4, n_cases=args.cases, slices_per_case=args.slices,
                      slice_spacing=2.0, paper_scale=False,
                      description=f"{args.image_size}x{args.image_size}, {args.cases} phantom cases x {args.slices} "
                                  f"slices, {args.epochs} epochs, lr 1e-4, {args.mixed_precision}, "
                                  f"XLA {args.jit_compile}, the grid's recipe")
    t0 = time.perf_counter()
    data = load_dataset("phantom", profile, seed=1000, workers=os.cpu_count() or 1)
    print(f"data: {data.train_images.shape[0]} train, {data.test_images.shape[0]} test slices "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    settings = {"mixed_precision": args.mixed_precision,
                "jit_compile": {"auto": "auto", "on": True, "off": False}[args.jit_compile],
                "steps_per_execution": args.steps_per_execution}
    specs = table_runs("table4", [args.seed])
    for row in args.rows:
        run = train_and_score(specs[row - 1], data, profile, settings=settings, batch_size=64)
        pooled = run.test_pooled_pixels
        result = {
            "table": 4, "row": row, "params": run.params,
            "paper": dict(zip(("iou", "recall", "params"), TABLE4[row], strict=True)),
            "test_pooled": {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                            for k, v in pooled.items() if k != "skipped"},
            "val_dice": run.selected_val_dice, "selected_epoch": run.selected_epoch,
            "train_seconds": run.train_seconds, "seed": args.seed, "profile": profile.as_dict(),
            "backend": f"keras {keras.__version__} / {keras.backend.backend()}",
        }
        atomic_write_json(args.out / f"table4_row{row}_seed{args.seed}.json", result)
        print(f"row {row}: IoU {pooled['iou']:.4f} recall {pooled['recall']:.4f} dice {pooled['dice']:.4f} "
              f"(epoch {run.selected_epoch}, val Dice {run.selected_val_dice:.4f}; train {run.train_seconds:.0f} s)",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Realism check of the phantom: a U-Net trained only on phantom slices, scored on real CT.

Trains Table 4 row 1 (U-Net) on synthetic cases at 128x128 with the grid's
recipe (:func:`rarunet_lib.recipe.train_and_score`: Dice loss, Adam, +-90 degree
rotations, the best validation epoch tested), then scores it on the two
real TotalSegmentator samples (whose masks are model predictions), pooled Dice
over all their slices.  Target of the phantom issue: Dice >= 0.75 on both samples.

The real 3 mm sample runs down into the sacrum, whose S1 segment its masks
include; the paper's CSI masks (and the phantom) stop at L5.  The score is
therefore reported twice for it: on every slice, and on the slices without S1
(``real_without_sacrum``).  That second score still holds the 37 pelvic slices
below S1, which hold no vertebra; chapter 1 scores the slices with vertebra from
the predictions the ``.npz`` keeps.

Writes ``--out`` (JSON with provenance) and, beside it, an ``.npz`` of the
real-CT predictions (bit-packed, ``real_pred__<name>``) for the book's figures.

``--variation`` is ``random`` (the default phantom) unless given; ``--seed`` draws other cases and
another initialisation (seed 0 keeps the cases of the committed ``mixed`` run), and
``--without NAME`` turns one randomisation of variation ``random`` off (the ablation).  Variation
``random`` draws its own scan ranges (the whole column, and 30 % abdomen-pelvis scans); the others
start anywhere from T1 to L5 (``wide``: T9 to L5).

Run: python studies/realism.py [--seed 1] [--without fov] [--variation mixed --out results/realism.json]

The default ``--out`` is ``results/realism/<arm>__seed<k>.json``: ``random``, ``random-without-<name>``,
or the variation's name, with ``-<N>cases`` for ``--cases N`` (``random-24cases``: 24 patients of 20 slices)
and ``-<E>epochs`` for ``--epochs E`` other than 15.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from rarunet_lib import metrics  # noqa: E402
from rarunet_lib.config import seed_everything  # noqa: E402
from rarunet_lib.data import (  # noqa: E402
    RANDOMISATIONS,
    dataset_from_cases,
    demo_names,
    load_demo,
    preprocess,
    synthetic_case,
)
from rarunet_lib.fileio import atomic_write_json, atomic_write_npz  # noqa: E402
from rarunet_lib.provenance import provenance  # noqa: E402
from rarunet_lib.recipe import RunSpec, train_and_score  # noqa: E402
from rarunet_lib.report.realism import STUDY_CASES, STUDY_EPOCHS, STUDY_SLICES  # noqa: E402

#: TotalSegmentator's label id of the first sacral segment (S1).
S1_LABEL = 26
KEYS = ("dice", "iou", "precision", "recall")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="JSON to write (default: results/realism/<arm>__seed<k>.json)")
    ap.add_argument("--epochs", type=int, default=STUDY_EPOCHS)
    ap.add_argument("--cases", type=int, default=STUDY_CASES)
    ap.add_argument("--slices", type=int, default=STUDY_SLICES)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--variation", default="random", choices=["csi", "wide", "mixed", "random"],
                    help="phantom variation (see rarunet_lib.data.synthetic_case); random (default): SynthSeg-"
                         "style; mixed: every other training case wide, the others csi (results/realism.json)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the cases and of the model (default 0)")
    ap.add_argument("--without", default=None, choices=RANDOMISATIONS,
                    help="variation random only: switch this randomisation off (ablation)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    ap.add_argument("--lr-schedule", default="cosine", choices=["constant", "cosine"],
                    help="cosine (default): decay to 1 %% over the run, so the last epochs do not swing")
    ap.add_argument("--fov-range", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                    help="field of view range of the phantom cases in mm (default: the variation's)")
    ap.add_argument("--save-model", default=None, help="also save the trained model (.keras) here")
    args = ap.parse_args()
    if args.without and args.variation != "random":
        ap.error(f"--without needs --variation random, got --variation {args.variation}")
    if args.seed < 0:
        ap.error(f"--seed must be >= 0, got {args.seed}")
    if args.out is None:
        arm = args.variation + (f"-without-{args.without}" if args.without else "")
        arm += f"-fov{args.fov_range[0]:g}-{args.fov_range[1]:g}" if args.fov_range else ""
        arm += f"-{args.cases}cases" if args.cases != STUDY_CASES else ""
        arm += f"-{args.slices}slices" if args.cases == STUDY_CASES and args.slices != STUDY_SLICES else ""
        arm += f"-{args.epochs}epochs" if args.epochs != STUDY_EPOCHS else ""
        args.out = f"results/realism/{arm}__seed{args.seed}.json"
    t0 = time.perf_counter()
    seed_everything(args.seed, deterministic=True)  # the same numbers on every CPU run
    kinds = ["csi", "wide"] * args.cases if args.variation == "mixed" else [args.variation] * args.cases
    fov = tuple(args.fov_range) if args.fov_range else None
    switches = sorted(set(RANDOMISATIONS) - {args.without}) if args.variation == "random" else None
    base = 500 + 1000 * args.seed
    cases = [synthetic_case(base + i, args.slices, 2 * args.size, slice_spacing=3.0,
                            level_range={"wide": (8.0, 16.0), "random": None}.get(kinds[i], (0.0, 16.0)),
                            variation=kinds[i], fov_range=fov, randomise=switches) for i in range(args.cases)]
    data = dataset_from_cases(cases[:-1], cases[-1:], args.size, source="phantom", seed=base)
    demos = {name: load_demo(name) for name in demo_names()}
    # BatchNorm momentum 0.9 (a short run; Keras's 0.99 leaves inference-mode statistics behind) and the weights of
    # the best validation epoch (short runs swing from epoch to epoch), as the experiment grid does.
    run = train_and_score(RunSpec("unet", args.seed), data, settings={
        "epochs": args.epochs, "batch_size": 8, "learning_rate": args.lr, "lr_schedule": args.lr_schedule,
        "bn_momentum": 0.9}, real={name: preprocess(case, args.size) for name, case in demos.items()},
        batch_size=16)
    best_epoch, phantom = run.selected_epoch, run.test_pooled_pixels
    real, real_tl, arrays = {}, {}, {}
    for name, case in demos.items():
        _, ry = preprocess(case, args.size)
        rp = run.predictions[f"real__{name}"]
        arrays[f"real_pred__{name}"] = np.packbits(rp.astype(bool), axis=-1)
        real[name] = {k: run.real[name][k] for k in KEYS}
        keep = ~(case.labels == S1_LABEL).any(axis=(1, 2))
        r = metrics.evaluate(ry[keep], rp[keep], aggregate="pooled")
        real_tl[name] = {k: r[k] for k in KEYS} | {"slices": int(keep.sum()), "of": int(len(keep))}
    out = {"provenance": provenance(seed=args.seed), "train_slices": int(len(data.train_images)),
           "image_size": args.size, "epochs": args.epochs, "variation": args.variation, "seed": args.seed,
           "randomise": switches,
           "fov_range_mm": list(args.fov_range) if args.fov_range else None,
           "learning_rate": args.lr, "lr_schedule": args.lr_schedule, "cases": args.cases,
           "slices_per_case": args.slices, "selected_epoch": best_epoch,
           "bn_momentum": 0.9,
           "phantom_test": {k: phantom[k] for k in KEYS},
           "real": real, "real_without_sacrum": real_tl,
           "val_dice": [e.get("val_dice") for e in run.history],
           "seconds": time.perf_counter() - t0}
    if args.save_model:
        run.model.save(args.save_model)
    atomic_write_npz(Path(args.out).with_suffix(".npz"), **arrays)
    atomic_write_json(args.out, out)
    print(f"phantom test Dice {out['phantom_test']['dice']:.3f}; real: " +
          ", ".join(f"{k} Dice {v['dice']:.3f} (P {v['precision']:.2f}, R {v['recall']:.2f}; without S1 "
                    f"{real_tl[k]['dice']:.3f})" for k, v in real.items()) + f" ({out['seconds']:.0f} s)")


if __name__ == "__main__":
    main()

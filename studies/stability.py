"""Why do short CPU runs swing from epoch to epoch?  One run, measured after every epoch.

The ``cpu`` profile's validation Dice jumps between epochs (0.79 -> 0.15 -> 0.71
for a clean U-Net; worse on noisy labels), so each grid run is tested at its best
validation epoch.  This script trains one configuration of the grid with the
grid's recipe (:func:`rarunet_lib.recipe.train_and_score`) and, after every epoch, records:

- ``loss``: the training Dice loss (per-sample soft Dice, training mode);
- ``val_dice``: validation Dice, thresholded at 0.5, in inference mode (BatchNorm
  moving statistics), exactly what the grid selects on;
- ``val_dice_batch_stats``: the same validation slices in training mode (BatchNorm
  statistics of each batch of 8; the moving statistics are restored afterwards);
- ``val_prob_in_mask``: the mean predicted probability inside the true validation
  masks (inference mode): near 0.5 means the threshold cuts through the prediction;
- ``val_prob_outside_mask``: the same outside them (the background);
- ``head_bn_offset``: for a model whose head ends in a BatchNormalization layer named
  ``head_bn`` (MultiResUNet's), that layer's learnt offset (beta), else absent;
- ``test_dice``: pooled test Dice in inference mode;
- ``val_most_false_positives``: the three validation slices with the most false-positive
  pixels (inference mode), as ``[slice, false positives, false negatives, mask pixels]``.

Variants are command-line switches (learning rate, cosine schedule, BatchNorm
momentum), so that one cause at a time can be tested against the grid's setting.

Run: python studies/stability.py --beta 0.75 --alpha 0.68 [--lr-schedule cosine] [--model multires_unet]
     [--model-kwargs '{"head_bn": false}']
     [--bn-momentum 0.99] [--learning-rate 1e-4] [--bn-recalibration] [--out results/stability/NAME.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from rarunet_lib.config import get_profile, seed_everything  # noqa: E402
from rarunet_lib.fileio import atomic_write_json  # noqa: E402
from rarunet_lib.provenance import provenance  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="unet")
    p.add_argument("--model-kwargs", type=json.loads, default={},
                   help="JSON object of keyword arguments for the model builder, e.g. '{\"head_bn\": false}'")
    p.add_argument("--profile", default="cpu")
    p.add_argument("--beta", type=float, default=0.0, help="proportion of noisy masks (0: clean labels)")
    p.add_argument("--alpha", type=float, default=None, help="noise level (IoU of a noisy mask with its clean one)")
    p.add_argument("--learning-rate", type=float, default=None, help="default: the profile's")
    p.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine"])
    p.add_argument("--bn-momentum", type=float, default=None, help="default: the profile's")
    p.add_argument("--bn-recalibration", action="store_true",
                   help="recompute the BatchNorm statistics after every epoch (TrainConfig.bn_recalibration)")
    p.add_argument("--epochs", type=int, default=None, help="default: the profile's")
    p.add_argument("--dice-over", default=None, choices=["image", "batch"],
                   help="the training loss: mean of per-image Dice losses or one Dice over the batch "
                        "(default: the profile's; cpu: image)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="JSON file to write (default: print only)")
    args = p.parse_args(argv)

    if args.beta and args.alpha is None:
        p.error("--beta needs --alpha")
    seed_everything(args.seed, deterministic="cpu")
    import tensorflow as tf

    from rarunet_lib import metrics
    from rarunet_lib.data import load_dataset
    from rarunet_lib.inference import predict_masks
    from rarunet_lib.recipe import RunSpec, train_and_score, train_config

    prof = get_profile(args.profile)
    data = load_dataset("phantom", prof, seed=1000)  # the grid's dataset (experiments.run_specs)
    spec = RunSpec(args.model, args.seed, noise_beta=args.beta, noise_alpha=args.alpha if args.beta else None)
    # the grid's settings for this profile, then the switches given
    settings = {k: v for k, v in (("epochs", args.epochs), ("learning_rate", args.learning_rate),
                                  ("bn_momentum", args.bn_momentum), ("dice_over", args.dice_over)) if v is not None}
    if args.bn_recalibration:
        settings["bn_recalibration"] = True
    settings.update(lr_schedule=args.lr_schedule, model_kwargs=args.model_kwargs)
    cfg = train_config(spec, prof, **settings)
    bs = prof.batch_size

    def val_scores(tr, training: bool) -> tuple[float, float, float, list]:
        m = tr.model
        saved = [v.numpy() for v in m.non_trainable_variables]  # training mode moves the BN statistics
        tp = npred = ngt = 0
        inside, outside, per_slice = [], [], []
        for s in range(0, tr.val_idx.size, bs):
            ids = tr.val_idx[s:s + bs]
            prob = m(tf.constant(tr.x[ids]), training=training).numpy()[..., 0]
            truth = tr.y[ids] > 0.5
            hard = prob > 0.5
            tp += int((hard & truth).sum())
            npred += int(hard.sum())
            ngt += int(truth.sum())
            inside.append(prob[truth])
            outside.append(prob[~truth])
            for j, h, g in zip(ids, hard, truth, strict=True):
                per_slice.append([int(j), int((h & ~g).sum()), int((g & ~h).sum()), int(g.sum())])
        for v, a in zip(m.non_trainable_variables, saved, strict=True):
            v.assign(a)
        worst = sorted(per_slice, key=lambda r: -r[1])[:3]  # [slice, false positives, false negatives, mask pixels]
        return (2 * tp / max(npred + ngt, 1), float(np.concatenate(inside).mean()),
                float(np.concatenate(outside).mean()), worst)

    rows = []
    t0 = time.perf_counter()

    def measure(tr, h: dict) -> None:
        _, prob_in, prob_out, worst = val_scores(tr, False)
        val_bs, _, _, _ = val_scores(tr, True)
        test = metrics.dice(data["test_masks"], predict_masks(tr.model, data["test_images"], batch_size=32))
        row = {"epoch": h["epoch"], "loss": h["loss"], "val_dice": h["val_dice"], "val_dice_batch_stats": val_bs,
               "val_prob_in_mask": prob_in, "val_prob_outside_mask": prob_out, "test_dice": test,
               "seconds": time.perf_counter() - t0, "val_most_false_positives": worst}
        if any(layer.name == "head_bn" for layer in tr.model.layers):
            row["head_bn_offset"] = float(tr.model.get_layer("head_bn").beta.numpy()[0])
        rows.append(row)
        print(" ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)

    run = train_and_score(spec, data, prof, settings=settings, on_epoch=measure)
    print(f"selected epoch {run.selected_epoch} (validation Dice {run.selected_val_dice:.3f}): test Dice "
          f"{run.test_pooled['dice']:.3f}; last epoch {run.test_pooled_last_epoch['dice']:.3f}", flush=True)
    result = {"provenance": provenance(seed=args.seed, profile=prof.name), "args": vars(args),
              "config": {"learning_rate": cfg.learning_rate, "lr_schedule": cfg.lr_schedule,
                         "bn_momentum": cfg.bn_momentum, "bn_recalibration": cfg.bn_recalibration, "dice_over": cfg.dice_over,
                         "epochs": cfg.epochs, "model_kwargs": cfg.model_kwargs},
              "epochs": rows}
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        atomic_write_json(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Score a 552-slice 256x256 test set on every measure; compare with a medpy per-slice loop.

The issue's target: at least 10x faster than medpy.  Both runs use the same
masks (phantom vertebrae; predictions made from them by calibrated erosion or
dilation plus a few false specks), in the same process.

Run: python benchmarks/bench_metrics.py
"""

from __future__ import annotations

import time

import numpy as np
from medpy.metric import binary as mb

from rarunet_lib import metrics
from rarunet_lib.data import preprocess, synthetic_case
from rarunet_lib.noise import corrupt


def make_test_set(n=552, size=256, seed=0):
    case = synthetic_case(seed, n_slices=n, size=size, slice_spacing=0.8, level_range=(0.0, 0.5))
    _, gt = preprocess(case, size)
    rng = np.random.default_rng(seed)
    pred = gt.copy()
    for i in range(n):
        if gt[i].sum() > 20:
            pred[i] = corrupt(gt[i], "dilation" if i % 2 else "erosion", rng.uniform(0.85, 0.97), seed=i)
        if rng.random() < 0.2:  # a false speck
            y, x = rng.integers(0, size - 3, 2)
            pred[i, y:y + 3, x:x + 3] = 1
    return gt.astype(bool), pred.astype(bool)


def medpy_loop(gt, pred):
    out = []
    for g, m in zip(gt, pred, strict=True):
        row = {"dice": mb.dc(m, g), "iou": mb.jc(m, g)}
        if g.any() and m.any():
            row.update(precision=mb.precision(m, g), recall=mb.recall(m, g), specificity=mb.specificity(m, g),
                       hd=mb.hd(m, g), hd95=mb.hd95(m, g), assd=mb.assd(m, g), rvd=mb.ravd(m, g))
        out.append(row)
    return out


def main():
    gt, pred = make_test_set()
    print(f"test set: {gt.shape[0]} slices of {gt.shape[1]}x{gt.shape[2]}, "
          f"{int(gt.any(axis=(1, 2)).sum())} with vertebra, foreground {gt.mean():.2%}")
    t0 = time.perf_counter()
    ours = metrics.evaluate(gt, pred, aggregate="per_slice")
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    metrics.evaluate(gt, pred, aggregate="pooled")
    t_pooled = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = medpy_loop(gt, pred)
    t_medpy = time.perf_counter() - t0
    both = [i for i, r in enumerate(ref) if "hd" in r]
    hd_ref = np.mean([ref[i]["hd"] for i in both])
    print(f"rarunet_lib per-slice, all 14 measures : {t_ours:7.2f} s  (HD mean {ours['hd']:.4f})")
    print(f"rarunet_lib pooled, all 14 measures    : {t_pooled:7.2f} s")
    print(f"medpy per-slice loop, 9 measures       : {t_medpy:7.2f} s  (HD mean {hd_ref:.4f})")
    print(f"speed-up (medpy / rarunet_lib per-slice): {t_medpy / t_ours:.1f}x")


if __name__ == "__main__":
    main()

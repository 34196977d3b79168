"""Time make_noisy_labels on a paper-sized training set: 5,043 masks at 256x256, beta = 0.75.

Target (issue): under 60 s on 2 cores.  The masks are phantom vertebra masks
(600 distinct slices, tiled to 5,043); alpha = 0.68, the paper's hardest level.

Run: python benchmarks/bench_noise.py [workers]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from rarunet_lib.data import prepare, synthetic_dataset
from rarunet_lib.noise import make_noisy_labels


def main(workers: int = 1):
    t0 = time.perf_counter()
    cases = synthetic_dataset(4, 150, 256, seed=100, workers=2, slice_spacing=2.0)
    _, masks, _ = prepare(cases, 256)
    masks = np.resize(masks, (5043, 256, 256))
    print(f"masks: {masks.shape}, {int(masks.any(axis=(1, 2)).sum())} non-empty "
          f"(made in {time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    noisy, manifest = make_noisy_labels(masks, alpha=0.68, beta=0.75, seed=0, workers=workers)
    dt = time.perf_counter() - t0
    ach = np.array([e["achieved_alpha"] for e in manifest])
    kinds = {k: sum(e["kind"] == k for e in manifest) for k in ("erosion", "dilation", "elastic")}
    print(f"make_noisy_labels(alpha=0.68, beta=0.75, workers={workers}): {len(manifest)} masks corrupted "
          f"in {dt:.1f} s ({1000 * dt / len(manifest):.2f} ms/mask); kinds {kinds}")
    print(f"achieved alpha: min {ach.min():.4f} max {ach.max():.4f}; "
          f"not reached: {sum(not e['reached'] for e in manifest)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)

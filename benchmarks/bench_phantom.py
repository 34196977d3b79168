"""Time a paper-sized phantom dataset: 10 cases of 500 slices at 256x256 (target: under 2 minutes on 2 cores).

Rendered directly at 256x256 (the book renders at 2x and resizes when it needs
the 512 -> 256 path; that costs about four times more).  ``--variation`` takes
a comma-separated list: the variations are timed one after the other in the
same run, on the same seeds, and the ratio of each to the first is printed
(on a busy machine only a ratio within one run is a fair comparison).

Run: python benchmarks/bench_phantom.py [workers] [--variation csi,random] [--cases N] [--slices N]
"""

from __future__ import annotations

import argparse
import time

from rarunet_lib.data import synthetic_dataset


def time_variation(variation: str, n_cases: int, n_slices: int, workers: int) -> dict:
    """Render ``n_cases`` cases of ``n_slices`` slices at 256x256; time, foreground share, empty slices."""
    t0 = time.perf_counter()
    cases = synthetic_dataset(n_cases, n_slices, 256, seed=0, workers=workers, variation=variation)
    dt = time.perf_counter() - t0
    n = sum(c.n_slices for c in cases)
    return {"variation": variation, "seconds": dt, "slices": n, "ms_per_slice": 1000 * dt / n,
            "foreground": sum(int(c.mask.sum()) for c in cases) / sum(c.mask.size for c in cases),
            "empty": sum(int((c.mask.sum(axis=(1, 2)) == 0).sum()) for c in cases), "cases": len(cases)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workers", nargs="?", type=int, default=2)
    ap.add_argument("--variation", default="csi,random",
                    help="comma-separated; default csi,random (the profiles' phantom, then the randomised one)")
    ap.add_argument("--cases", type=int, default=10)
    ap.add_argument("--slices", type=int, default=500)
    args = ap.parse_args(argv)
    rows = [time_variation(v, args.cases, args.slices, args.workers) for v in args.variation.split(",")]
    for r in rows:
        print(f"{r['variation']}: {r['cases']} cases, {r['slices']} slices at 256x256 with {args.workers} workers: "
              f"{r['seconds']:.1f} s ({r['ms_per_slice']:.1f} ms per slice); foreground {r['foreground']:.2%}, "
              f"{r['empty']} slices without vertebra ({r['empty'] / r['slices']:.1%})")
    for r in rows[1:]:
        print(f"{r['variation']} / {rows[0]['variation']}: {r['ms_per_slice'] / rows[0]['ms_per_slice']:.2f}x per slice")


if __name__ == "__main__":
    main()

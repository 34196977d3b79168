"""Print phantom-versus-real statistics: variations "csi", "wide" and "random" against the two shipped samples.

Each row is :func:`rarunet_lib.data.stats.case_statistics` pooled over its cases:
vertebra HU (median and IQR), soft-tissue HU (median), noise SD (median over cases),
vertebra area per slice with vertebra, foreground fraction and empty slices.  The
phantom cases run from T11-L3 (the levels of the real samples) at 256x256.

Run: python benchmarks/phantom_vs_real.py [n_cases] [n_slices]
"""

from __future__ import annotations

import sys

import numpy as np

from rarunet_lib.data import demo_names, load_demo, synthetic_case
from rarunet_lib.data.stats import case_statistics


def summarise(name: str, cases) -> str:
    """One table row for ``cases``."""
    st = [case_statistics(c) for c in cases]
    vert = np.concatenate([s["vertebra_hu"] for s in st])
    soft = np.concatenate([s["soft_tissue_hu"] for s in st])
    area = np.concatenate([s["vertebra_area_mm2"] for s in st])
    q1, med, q3 = np.percentile(vert, [25, 50, 75])
    fg = np.mean([s["foreground_fraction"] for s in st])
    empty, n = sum(s["empty_slices"] for s in st), sum(s["n_slices"] for s in st)
    return (f"| {name} | {len(cases)} | {med:.0f} | {q1:.0f}-{q3:.0f} | {np.median(soft):.0f} | "
            f"{np.median([s['noise_sd'] for s in st]):.1f} | {np.median(area):.0f} | {fg:.2%} | {empty}/{n} |")


def main(n_cases: int = 4, n_slices: int = 40) -> None:
    print("| data | cases | vertebra HU median | vertebra HU IQR | soft-tissue HU median | noise SD (HU) | "
          "vertebra mm2 per slice | foreground | empty slices |")
    print("|---|---|---|---|---|---|---|---|---|")
    for variation in ("csi", "wide", "random"):
        cases = [synthetic_case(s, n_slices, 256, level_range=(10.0, 14.0), variation=variation)
                 for s in range(n_cases)]
        print(summarise(f"phantom {variation}", cases))
    for name in demo_names():
        print(summarise(f"real {name}", [load_demo(name)]))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))

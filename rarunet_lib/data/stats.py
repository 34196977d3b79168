"""Statistics that compare phantom and real CT (NumPy/SciPy only)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..checks import (
    ArgumentTypeError,
    check_array,
    check_int,
    check_mask,
    check_number,
    check_same_shape,
    check_seed,
)
from .case import Case

__all__ = ["case_statistics", "noise_sd", "SOFT_TISSUE_HU"]

#: HU range taken as soft tissue (muscle, organs) for histograms and noise estimates.
SOFT_TISSUE_HU: tuple[float, float] = (-30.0, 100.0)


def noise_sd(hu_slice, region, *, smooth_px: float = 2.0) -> float:
    """Robust noise SD (HU) in a homogeneous region of one slice.

    The residual ``hu - gaussian(hu, smooth_px)`` is taken inside ``region``
    (eroded by 3 pixels so edges do not count), and its spread estimated as
    1.4826 x the median absolute deviation.  The same estimator on phantom and
    real slices makes them comparable (it is not an absolute noise measurement:
    it sees only the noise finer than ``smooth_px``).

    Returns NaN when the eroded region has fewer than 50 pixels.

    Raises
    ------
    TypeError, ValueError
        If ``hu_slice`` is not a non-empty finite 2-D array, ``region`` not a
        binary mask of the same shape, or ``smooth_px`` not a positive number.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> flat = np.zeros((64, 64)); reg = np.ones((64, 64), bool)
    >>> a = noise_sd(flat + rng.normal(0, 10, flat.shape), reg)
    >>> b = noise_sd(flat + rng.normal(0, 20, flat.shape), reg)
    >>> round(b / a, 1)
    2.0
    """
    x = check_array("hu_slice", hu_slice, ndim=2, kinds="iuf").astype(np.float64)
    region = check_mask("region", region, floats=True)
    check_same_shape(("hu_slice", "region"), x, region)
    check_number("smooth_px", smooth_px, min=0, min_open=True)
    return _noise_sd(x, region, smooth_px)


def _noise_sd(x: np.ndarray, region: np.ndarray, smooth_px: float) -> float:
    reg = ndimage.binary_erosion(region, iterations=3)
    if reg.sum() < 50:
        return float("nan")
    resid = (x - ndimage.gaussian_filter(x, smooth_px))[reg]
    return float(1.4826 * np.median(np.abs(resid - np.median(resid))))


def case_statistics(case: Case, *, max_slices: int = 40, seed: int = 0) -> dict:
    """Summary numbers of a case for the phantom-versus-real comparison.

    Parameters
    ----------
    case : Case
        With labels.
    max_slices : int, default 40
        Noise and HU samples are taken from at most this many slices (seeded).
    seed : int, default 0

    Returns
    -------
    dict
        ``vertebra_hu`` and ``soft_tissue_hu`` (HU samples, 1-D arrays),
        ``noise_sd`` (median over slices, HU), ``vertebra_area_mm2`` (per slice
        with vertebra), ``foreground_fraction``, ``empty_slices``, ``n_slices``,
        ``pixel_mm``.

    Example
    -------
    >>> from rarunet_lib.data import synthetic_case
    >>> s = case_statistics(synthetic_case(0, n_slices=4, size=64))
    >>> sorted(s)[:3]
    ['empty_slices', 'foreground_fraction', 'n_slices']
    """
    if not isinstance(case, Case):
        raise ArgumentTypeError(f"case must be a Case, got {type(case).__name__}")
    if case.labels is None:
        raise ValueError(f"case {case.name!r} has no labels")
    max_slices = check_int("max_slices", max_slices, min=1)
    check_seed("seed", seed, none=False)
    rng = np.random.default_rng(seed)
    mask = case.mask.astype(bool)
    picks = np.sort(rng.choice(case.n_slices, size=min(max_slices, case.n_slices), replace=False))
    lo, hi = SOFT_TISSUE_HU
    soft = (case.hu >= lo) & (case.hu <= hi) & ~mask
    sds = [_noise_sd(case.hu[i].astype(np.float64), soft[i], 2.0) for i in picks]
    px_area = case.spacing[1] * case.spacing[2]
    areas = mask.sum(axis=(1, 2)) * px_area
    vert = case.hu[picks][mask[picks]]
    st = case.hu[picks][soft[picks]]
    return {
        "vertebra_hu": vert[rng.permutation(vert.size)[:20000]],
        "soft_tissue_hu": st[rng.permutation(st.size)[:20000]],
        "noise_sd": float(np.nanmedian(sds)) if np.isfinite(sds).any() else float("nan"),
        "vertebra_area_mm2": areas[areas > 0],
        "foreground_fraction": float(mask.mean()),
        "empty_slices": int((areas == 0).sum()),
        "n_slices": case.n_slices,
        "pixel_mm": float(case.spacing[1]),
    }

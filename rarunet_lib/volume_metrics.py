"""Measures of a segmented volume against a reference label, in millimetres (NumPy/SciPy only).

A volume is scored as one 3-D object, not slice by slice: the surface of a
mask is its voxels minus its erosion by the face-connected 3-D cross (voxels
outside the volume count as background), and distances are 3-D Euclidean
distances between voxel centres in millimetres, from the scan's own spacing
(:func:`scipy.ndimage.distance_transform_edt` with ``sampling=spacing``), so a
scan of 0.98 mm pixels and 2 mm slices is measured in its true proportions.
The conventions are those of :mod:`rarunet_lib.metrics`, which does the
arithmetic: Dice is 1 when both masks are empty; a distance from an empty
mask to a non-empty one is +inf, between two empty masks NaN.
"""

from __future__ import annotations

import numpy as np

from . import metrics
from .checks import ArgumentTypeError, refuse
from .metrics.distances import _distance_summary

__all__ = ["VOLUME_MEASURES", "volume_measures", "format_measures"]

#: The keys of :func:`volume_measures`, in order.
VOLUME_MEASURES: tuple[str, ...] = ("dice", "hd", "hd95", "assd", "volume_ml", "reference_volume_ml")


def _check_spacing(spacing) -> tuple[float, float, float]:
    allowed = "3 positive finite numbers (z, y, x) in mm"
    s = np.asarray(spacing)
    if s.dtype.kind not in "iuf":
        raise refuse("spacing", spacing, allowed, ArgumentTypeError)
    if s.shape != (3,) or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise refuse("spacing", spacing, allowed)
    return tuple(float(v) for v in s)


def volume_measures(reference, prediction, spacing) -> dict[str, float]:
    """Dice, Hausdorff distance, HD95 and ASSD of a 3-D segmentation, distances in mm.

    Parameters
    ----------
    reference, prediction : array_like, shape (slices, H, W)
        Binary volumes (bool, or integers 0/1) on the same grid.
    spacing : (z, y, x) floats
        Voxel size in mm (:attr:`rarunet_lib.data.Case.spacing`).

    Returns
    -------
    dict
        ``dice``; ``hd`` (the largest surface distance, either way), ``hd95``
        (the 95th percentile of the surface distances of both directions
        pooled) and ``assd`` (their mean, pooled over both directions), in mm;
        ``volume_ml`` and ``reference_volume_ml``, the two masks' volumes in
        millilitres.

    Raises
    ------
    ValueError, TypeError
        For volumes that are not 3-D binary arrays of one shape, or a spacing
        that is not 3 positive numbers.

    Example
    -------
    A 4-voxel cube shifted by one slice, with 2 mm slices of 1 mm pixels:

    >>> ref = np.zeros((8, 8, 8), bool); ref[2:6, 2:6, 2:6] = True
    >>> m = volume_measures(ref, np.roll(ref, 1, axis=0), (2.0, 1.0, 1.0))
    >>> round(m["dice"], 3), m["hd"], m["volume_ml"]
    (0.75, 2.0, 0.128)
    """
    sp = _check_spacing(spacing)
    for name, v in (("reference", reference), ("prediction", prediction)):
        if np.ndim(v) != 3:
            raise ValueError(f"{name} has shape {np.shape(v)}; a volume (slices, H, W) is required")
    g = metrics.as_mask(reference, "reference")
    m = metrics.as_mask(prediction, "prediction")
    if g.shape != m.shape:
        raise ValueError(f"reference and prediction must have the same shape, got {g.shape} and {m.shape}")
    d_mg, d_gm = metrics.surface_distances(g, m, spacing=sp)
    dist = _distance_summary(d_mg, d_gm)
    voxel_ml = sp[0] * sp[1] * sp[2] / 1000.0
    return {"dice": metrics.dice(g, m), "hd": dist["hd"], "hd95": dist["hd95"], "assd": dist["assd"],
            "volume_ml": float(m.sum() * voxel_ml), "reference_volume_ml": float(g.sum() * voxel_ml)}


def format_measures(measures: dict[str, float]) -> str:
    """One line for a terminal: Dice, HD, HD95, ASSD and the volumes.

    Example
    -------
    >>> format_measures({"dice": 0.5, "hd": 12.0, "hd95": 6.25, "assd": 1.5, "volume_ml": 10.0,
    ...                  "reference_volume_ml": 12.5})
    'Dice 0.5000, HD 12.0 mm, HD95 6.2 mm, ASSD 1.50 mm, volume 10.0 mL (reference 12.5 mL)'
    """
    m = measures
    return (f"Dice {m['dice']:.4f}, HD {m['hd']:.1f} mm, HD95 {m['hd95']:.1f} mm, ASSD {m['assd']:.2f} mm, "
            f"volume {m['volume_ml']:.1f} mL (reference {m['reference_volume_ml']:.1f} mL)")

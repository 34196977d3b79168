"""Segmentation measures of the paper's Tables 1-5 (NumPy/SciPy only).

Overlap (Tables 1, 4, 5): :func:`dice`, :func:`iou`, :func:`accuracy`,
:func:`precision`, :func:`recall`, :func:`specificity`.
Distance (Table 2): :func:`hausdorff`, :func:`hd95`, :func:`assd`, :func:`rvd`.
Boundary Dice family (Table 3, Eqs. 6-7; Yeghiazaryan and Voiculescu 2018):
:func:`dbd_g`, :func:`dbd_m`, :func:`sbd`.
All of them for one pair: :func:`evaluate_pair`; for a stack of slices with a
choice of aggregation: :func:`evaluate`.

Conventions (see the book's chapter 4 and ``shared/spec/metrics-noise-adl.md``)
-------------------------------------------------------------------------------
* Inputs are boolean arrays or integer arrays holding only 0 and 1, of equal
  shape (shapes that only broadcast are refused), 2-D (one slice) or n-D, not
  empty.  Anything else raises ``ValueError``/``TypeError``.
* The boundary of a mask X is X minus its erosion by the cross-shaped
  (face-connected) structuring element, pixels outside the array counting as
  background (medpy's convention with connectivity 1).
* Undefined values are never turned into 0: Dice and IoU are 1 when both masks
  are empty; any other 0/0 is NaN; a distance from an empty mask to a
  non-empty one is +inf, between two empty masks NaN; RVD is NaN when the
  ground truth is empty.
* Distances are in pixels, or in physical units with ``spacing``.
"""

from __future__ import annotations

from .boundary_dice import boundary_dice_scores, dbd_g, dbd_m, sbd, von_neumann
from .distances import assd, boundary, hausdorff, hd95, rvd, surface_distances
from .evaluate import MEASURES, evaluate, evaluate_pair, worst_slices
from .overlap import accuracy, as_mask, confusion, dice, iou, precision, recall, specificity

__all__ = [
    "MEASURES",
    "as_mask",
    "confusion",
    "dice",
    "iou",
    "accuracy",
    "precision",
    "recall",
    "specificity",
    "boundary",
    "surface_distances",
    "hausdorff",
    "hd95",
    "assd",
    "rvd",
    "von_neumann",
    "boundary_dice_scores",
    "dbd_g",
    "dbd_m",
    "sbd",
    "evaluate_pair",
    "evaluate",
    "worst_slices",
]

"""One axial slice of a synthetic patient, painted part by part of the anatomy."""

from __future__ import annotations

import numpy as np

from .geometry import _Canvas
from .patient import _spine_pose
from .skeleton import _arm_bones, _attached_ribs, _girdle_bones, _paint_bones, _pelvis_bones, _ribs
from .soft_tissue import (
    _paint_arms,
    _paint_body_wall,
    _paint_great_vessels,
    _paint_lungs,
    _paint_organs,
    _paint_spinal_muscles,
    _paint_table,
)
from .spine import _LABEL_BASE, _column, _paint_canal
from .texture import _scan, _Trabecular


def _render_slice(p: dict, z: float, size: int, rng) -> tuple[np.ndarray, np.ndarray, int]:
    """The slice at depth ``z`` (mm below the top of T1): (HU int16, vertebra mask, the vertebra's label id).

    Painted by :func:`_paint_slice`; the mask is the union of the vertebra parts; then the
    scanner's blur and noise.
    """
    cv, parts, vert = _paint_slice(p, z, size, rng)
    mask = cv.mask([shape for shape, _ in parts]) if parts else np.zeros((size, size), bool)
    return _scan(cv, p, rng), mask, _LABEL_BASE + vert["level"]


def _paint_slice(p: dict, z: float, size: int, rng) -> tuple[_Canvas, list, dict]:
    """The noise-free slice at depth ``z``: (canvas, vertebra parts as (shape, kind), the slice's vertebra).

    Painted from the outside in, each part over what lies below it: table, arms, body wall,
    lungs, organs, muscles, great vessels, discs and canal, then every bone (the vertebra
    parts last).  Variation "random" adds a posture (the spine's position and rotation drift
    with ``z``), a view centred on the spine and ribs attached to their vertebrae
    (:mod:`.randomise`); the other variations have none of these keys in ``p``.
    """
    W, D = p["body_w"] / 2, p["body_d"] / 2
    sx, sy, rot = _spine_pose(p, z)
    if rot != p["spine_rot"]:
        p = {**p, "spine_rot": rot}
    centre = p.get("view_centre") or (p["centre_dx"], sy * p["centre_frac"])
    cv = _Canvas(size, p["fov"] / size, centre, p["angle"])
    theta = z / 25.0
    tex = (np.cos(theta) * p["tex_a"] + np.sin(theta) * p["tex_b"])  # soft-tissue texture, slowly varying in z

    # level of this slice (for region-dependent anatomy)
    vert = max((v for v in p["verts"] if v["top"] <= z), key=lambda v: v["top"])
    level = vert["level"] + min((z - vert["top"]) / (vert["body_h"] + vert["disc_h"]), 1.0)

    _paint_table(cv, p, D)
    _paint_arms(cv, p, W, tex)
    _paint_body_wall(cv, p, W, D, sy, tex)
    _paint_lungs(cv, p, z, level, W, D)
    _paint_organs(cv, p, level, W, D, sx, sy, tex)
    _paint_spinal_muscles(cv, p, level, sx, sy, tex)
    _paint_great_vessels(cv, p, z, level, sx, sy, tex)

    ribs = _attached_ribs(p, z) if "rib_segments" in p else _ribs(p, z, level, W, D, sx, sy)
    bones = ribs + _girdle_bones(p, level, W, D, sx, sy)
    if p["wide"]:
        bones += _pelvis_bones(p, z, sx, sy) + _arm_bones(p, W)
    parts = _column(cv, p, z, sx, sy, tex)  # the vertebral column: discs now, its bone below
    _paint_canal(cv, p, vert, sx, sy, tex)
    _paint_bones(cv, p["hu"], bones + parts, _Trabecular(rng, size, cv.px))
    return cv, parts, vert

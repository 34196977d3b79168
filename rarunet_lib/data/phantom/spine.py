"""The vertebral column of the phantom: sizes by level, the parts of one vertebra, discs and canal.

Sizes follow spec section 3.3 (adult means in mm, T1 to L5, interpolated between anchor
levels and scaled per vertebra).  What of a vertebra an axial slice cuts depends on its depth
within it: pedicle level a closed ring around the canal, lower body the body plus separate
posterior islands, disc level the disc and the articular processes only.
"""

from __future__ import annotations

import numpy as np

from .geometry import _blob, _Canvas, _capsule, _minus

LEVEL_NAMES: tuple[str, ...] = tuple([f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)])
# label ids as in TotalSegmentator-free numbering: T1 = 8 ... T12 = 19, L1 = 20 ... L5 = 24
_LABEL_BASE = 8
#: How far (mm) a stack may run on below L5, into the sacral region without vertebra masks.
_SACRAL_MARGIN = 120.0

# Level tables (index 0 = T1 ... 16 = L5), adult means in mm (spec section 3.3).
_ANCHORS = np.array([0, 3, 7, 11, 12, 14, 16], float)  # T1 T4 T8 T12 L1 L3 L5
_TABLE = {
    "body_w": [27, 30, 34, 40, 42, 47, 50],
    "body_d": [17, 22, 26, 30, 31, 34, 35],
    "body_h": [16, 18, 20, 23, 25, 27, 27],
    "disc_h": [4, 4.5, 5, 6, 8, 10, 11],
    "canal_ap": [15, 15, 15, 17, 16, 15, 16],
    "canal_tr": [17, 15, 15, 20, 21, 23, 27],
    "pedicle_w": [8, 4.5, 5.5, 8, 8, 10, 14],
    "pedicle_len": [6, 7, 8, 9, 9, 10, 9],
    "tp_len": [26, 25, 22, 12, 18, 28, 22],
    "tp_angle": [40, 38, 35, 20, 10, 5, 10],
    "sp_len": [30, 32, 32, 28, 28, 30, 24],
    "sp_slope": [0.9, 1.0, 1.0, 0.5, 0.2, 0.1, 0.1],
}


#: Per-vertebra size factors of the parts (variation "random" draws them; 1.0 elsewhere): body width
#: and depth, canal, pedicle width, lamina thickness, transverse and spinous process length.
SHAPE_FACTORS: tuple[str, ...] = ("w", "d", "canal", "pedicle", "lamina", "tp", "sp")
_UNIT_SHAPE = dict.fromkeys(SHAPE_FACTORS, 1.0)


def _level_value(key: str, level: float) -> float:
    return float(np.interp(level, _ANCHORS, _TABLE[key]))


def _vertebra_parts(v, z, spine_x, spine_y, rot):
    """Shapes (vertebra parts, their bone kinds) of vertebra ``v`` present at depth ``z``."""
    lvl, s = v["level"], v["scale"]
    f = v.get("shape", _UNIT_SHAPE)  # per-part size factors (variation "random"); 1.0 leaves a value exact
    depth = z - v["top"]
    bw, bd = _level_value("body_w", lvl) * s * f["w"] / 2, _level_value("body_d", lvl) * s * f["d"] / 2
    cry, crx = _level_value("canal_ap", lvl) * s * f["canal"] / 2, _level_value("canal_tr", lvl) * s * f["canal"] / 2
    pw = _level_value("pedicle_w", lvl) * s * f["pedicle"]
    c, sn = np.cos(rot), np.sin(rot)

    def at(u, w):  # spine-local (u lateral, w posterior) -> patient
        return spine_x + c * u - sn * w, spine_y + sn * u + c * w

    parts = []  # (shape, kind) kind in body / dense / facet
    in_body = 0 <= depth <= v["body_h"]
    p = depth / v["body_h"] if v["body_h"] > 0 else 0.0
    # the posterior arch (laminae, spinous process) sits lower than the body by ``arch`` body heights and
    # overhangs the disc below (variation "random"; 0 keeps the arch level with the body)
    arch = f.get("arch", 0.0)
    pa = p - arch
    in_arch = 0 <= depth <= v["body_h"] + (v["disc_h"] if arch > 0 else 0.0)
    canal_cy = bd + cry + 0.5 + _level_value("pedicle_len", lvl) * 0.3
    if in_body:
        waist = 0.93 + 0.07 * abs(2 * p - 1)
        bx, by = at(0, 0)
        body = _blob(bx, by, bw * waist, bd * waist, rot, v["harm"])
        if lvl >= 11:  # lumbar bean shape: concave posterior wall
            cx_, cy_ = at(0, bd * 1.25)
            body = _minus(body, _blob(cx_, cy_, bw * 0.45, bd * 0.45, rot))
        endplate = min(depth, v["body_h"] - depth) < 0.8
        parts.append((body, "endplate" if endplate else "body"))
    ped_lat = crx + pw / 2
    if in_body and 0.08 <= p <= 0.5:  # pedicles: the closed ring
        for side in (-1, 1):
            x0, y0 = at(side * ped_lat * 0.9, bd * 0.6)
            x1, y1 = at(side * ped_lat, canal_cy + cry * 0.3)
            parts.append((_capsule(x0, y0, x1, y1, pw / 2), "dense"))
    lam_back = canal_cy + cry + 3.0
    if in_arch and 0.08 <= pa <= 0.9:  # laminae
        for side in (-1, 1):
            x0, y0 = at(side * ped_lat, canal_cy + cry * 0.3)
            x1, y1 = at(0, lam_back)
            parts.append((_capsule(x0, y0, x1, y1, 3.2 * s * f["lamina"]), "dense"))
    if in_body and 0.12 <= p <= 0.45:  # transverse processes
        ang = np.deg2rad(_level_value("tp_angle", lvl))
        length = _level_value("tp_len", lvl) * s * f["tp"]
        for side in (-1, 1):
            x0, y0 = at(side * ped_lat, canal_cy)
            x1, y1 = at(side * (ped_lat + length * np.cos(ang)), canal_cy + length * np.sin(ang))
            parts.append((_capsule(x0, y0, x1, y1, (3.5 if lvl < 12 else 3.0) * s), "dense"))
    # spinous process: attached in the lower body; thoracic ones slope down and
    # continue below the vertebra as a separate island further back.
    sp_len, slope = _level_value("sp_len", lvl) * s * f["sp"], _level_value("sp_slope", lvl)
    sp_start = lam_back - 1.0
    if in_arch and 0.3 <= pa <= 0.95:
        frac = (pa - 0.3) / 0.65
        reach = sp_len * (0.5 + 0.5 * frac) if slope > 0.4 else sp_len
        x0, y0 = at(0, sp_start)
        x1, y1 = at(0, sp_start + reach)
        parts.append((_capsule(x0, y0, x1, y1, 3.0 * s), "dense"))
    below = depth - v["body_h"]
    below_arch = below - arch * v["body_h"]
    tail = slope * (v["disc_h"] + 12.0)
    if slope > 0.4 and 0 < below_arch < tail:  # the sloping tip, an island in lower slices
        frac = below_arch / tail
        w0 = sp_start + sp_len * (0.55 + 0.45 * frac)
        x0, y0 = at(0, w0)
        x1, y1 = at(0, w0 + 8.0 * s)
        parts.append((_capsule(x0, y0, x1, y1, 3.2 * s * (1 - 0.4 * frac)), "dense"))
    # articular processes (facets) around the disc level: superior (p < 0.15) and inferior (below)
    if (in_body and p < 0.15) or (0 < below < v["disc_h"] + 0.5):
        for side in (-1, 1):
            fx, fy = at(side * (ped_lat + pw * 0.3), canal_cy + cry * 0.6)
            elong = 1.8 if lvl >= 12 else 1.0
            parts.append((_blob(fx, fy, 3.0 * s, 3.0 * s * elong, rot), "dense"))
    return parts


def _column(cv: _Canvas, p: dict, z: float, sx: float, sy: float, tex: np.ndarray) -> list:
    """Paint the discs at depth ``z`` and return the vertebra parts there, (shape, kind), to paint and mask."""
    hu = p["hu"]
    parts = []
    for v in p["verts"]:
        if v["top"] - 60 <= z <= v["top"] + v["body_h"] + v["disc_h"] + 40:
            parts += _vertebra_parts(v, z, sx, sy, p["spine_rot"])
        depth = z - v["top"] - v["body_h"]
        if 0 < depth <= v["disc_h"]:
            f = v.get("shape", _UNIT_SHAPE)
            bw = _level_value("body_w", v["level"]) * v["scale"] * f["w"] / 2
            bd = _level_value("body_d", v["level"]) * v["scale"] * f["d"] / 2
            cv.paint(_blob(sx, sy, bw, bd, p["spine_rot"], v["harm"]), hu["disc"] + tex)
    return parts


def _paint_canal(cv: _Canvas, p: dict, vert: dict, sx: float, sy: float, tex: np.ndarray) -> None:
    """The spinal canal of vertebra ``vert``: epidural fat around the thecal sac (CSF)."""
    hu = p["hu"]
    lvl_now = vert["level"]
    s, f = vert["scale"], vert.get("shape", _UNIT_SHAPE)
    cry = _level_value("canal_ap", lvl_now) * s * f["canal"] / 2
    crx = _level_value("canal_tr", lvl_now) * s * f["canal"] / 2
    bd_now = _level_value("body_d", lvl_now) * s * f["d"] / 2
    canal_cy = bd_now + cry + 0.5 + _level_value("pedicle_len", lvl_now) * 0.3
    c, sn = np.cos(p["spine_rot"]), np.sin(p["spine_rot"])
    cv.paint(_blob(sx - sn * canal_cy, sy + c * canal_cy, crx + 2, cry + 2, p["spine_rot"]), hu["fat"] + 20)
    cv.paint(_blob(sx - sn * canal_cy, sy + c * canal_cy, crx * 0.8, cry * 0.8, p["spine_rot"]), hu["csf"] + tex)


def _costal_joints(v: dict) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where a rib meets thoracic vertebra ``v``, in spine-local mm (lateral, posterior), one side.

    The rib head at the posterolateral corner of the body (the costovertebral joint), and the
    tubercle just in front of the transverse process's tip (the costotransverse joint), as in
    the spec's T1-T4 row ("rib necks/tubercles against the TPs; rib heads at the posterolateral
    body").  The same sizes as :func:`_vertebra_parts`.
    """
    lvl, s = v["level"], v["scale"]
    f = v.get("shape", _UNIT_SHAPE)
    bw, bd = _level_value("body_w", lvl) * s * f["w"] / 2, _level_value("body_d", lvl) * s * f["d"] / 2
    cry, crx = _level_value("canal_ap", lvl) * s * f["canal"] / 2, _level_value("canal_tr", lvl) * s * f["canal"] / 2
    ped_lat = crx + _level_value("pedicle_w", lvl) * s * f["pedicle"] / 2
    canal_cy = bd + cry + 0.5 + _level_value("pedicle_len", lvl) * 0.3
    ang = np.deg2rad(_level_value("tp_angle", lvl))
    length = _level_value("tp_len", lvl) * s * f["tp"]
    tip = (ped_lat + length * np.cos(ang), canal_cy + length * np.sin(ang))
    tp_r = 3.5 * s
    return (0.8 * bw, 0.55 * bd), (tip[0] - 0.3 * tp_r, tip[1] - 1.2 * tp_r)

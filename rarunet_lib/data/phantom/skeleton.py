"""The bones around the spine, none of them in the mask: ribs, sternum, scapulae, pelvis, arm bones.

Each is a (shape, kind) pair; :func:`_paint_bones` gives every kind its look (cortex around
marrow), for these and for the vertebra parts of :mod:`.spine` alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .geometry import _blob, _Canvas, _capsule, _Shape, _shell
from .patient import _spine_pose
from .spine import _costal_joints

#: How far round the body wall (0 = posterior midline, pi = sternum) each rib T1..T12 reaches:
#: true ribs to the costal cartilages, T8-T10 a little short, T11-T12 floating.
_RIB_REACH = np.pi * np.array([0.78, 0.84, 0.86, 0.87, 0.87, 0.86, 0.84, 0.78, 0.72, 0.66, 0.5, 0.4])
#: How far (mm) each rib's front end lies below its head: ribs run down and forward.
_RIB_DROP = np.array([30, 45, 60, 70, 80, 85, 85, 85, 80, 70, 45, 30], float)


def _ribs(p: dict, z: float, level: float, W: float, D: float, sx: float, sy: float) -> list:
    """Ribs at thoracic levels: posterior arcs from the costovertebral joint round the side.

    Variation "wide": the lower ribs run steeply down and forward, so an axial slice cuts them
    into short ovals around the body wall.
    """
    bone = []
    if p["wide"] and 8.0 <= level < 13.5:
        # lower ribs run steeply down and forward: an axial slice cuts them into short ovals around the body wall
        for side in (-1, 1):
            wall = W - p["fat"] - 8
            n = int(np.pi * wall / p["rib_step"])
            for j in range(n):
                ang = (j + 0.5 + 0.3 * np.sin(z / 9.0 + j)) / n * np.pi * 0.95
                cx_, cy_ = side * wall * np.sin(ang), (D - p["fat"] - 8) * np.cos(ang) * 0.9
                dx_, dy_ = 4.0 * np.cos(ang) * side, -4.0 * np.sin(ang)
                bone.append((_capsule(cx_ - dx_, cy_ - dy_, cx_ + dx_, cy_ + dy_, 4.0), "rib"))
    elif level < 12.3:
        for side in (-1, 1):
            for k, phase in enumerate((0.0, 0.5)):
                a0 = np.pi * 0.45 * ((z / 22.0 + phase + k * 0.3) % 1.0)
                pts = []
                for t in np.linspace(0, 1, 5):
                    ang = a0 + t * 0.7
                    pts.append((sx + side * (25 + (W - p["fat"] - 20) * np.sin(ang)),
                                sy + 20 - (D * 0.9) * (1 - np.cos(ang)) * 0.6))
                for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:], strict=True):
                    bone.append((_capsule(x0, y0, x1, y1, 5.0), "rib"))
    return bone


def _rib_segments(p: dict, drop_scale: float, radius: float) -> np.ndarray:
    """Every rib of the case as 3-D segments, one row (x0, y0, z0, x1, y1, z1, radius) each (variation "random").

    Each rib T1-T12 starts at its head on the posterolateral vertebral body, runs as the neck to
    the tubercle in front of the transverse process's tip (both at the height of the TPs, where
    the spine lies at that depth), then round the inside of the body wall, falling by
    ``_RIB_DROP * drop_scale`` mm towards its front end.
    """
    W, D = p["body_w"] / 2, p["body_d"] / 2
    a_e, b_e = W - p["fat"] - 10.0, D - p["fat"] - 10.0  # the ellipse the rib shafts follow
    rows = []
    for v in p["verts"][:12]:
        lvl = v["level"]
        z_head = v["top"] + 0.2 * v["body_h"]
        z_tub = v["top"] + 0.3 * v["body_h"]
        sx, sy, rot = _spine_pose(p, z_tub)
        c, sn = np.cos(rot), np.sin(rot)
        (hu_, hw), (tu, tw) = _costal_joints(v)
        for side in (-1, 1):
            # spine-local (lateral, posterior) -> patient, as in spine._vertebra_parts
            head = (sx + c * side * hu_ - sn * hw, sy + sn * side * hu_ + c * hw)
            tub = (sx + c * side * tu - sn * tw, sy + sn * side * tu + c * tw)
            pts = [(*head, z_head), (*tub, z_tub)]
            psi0 = np.arcsin(np.clip((abs(tub[0]) + 14.0) / a_e, 0.2, 0.9))
            psi1 = max(_RIB_REACH[lvl], psi0 + 0.3)
            for t in np.linspace(0.0, 1.0, 9):
                psi = psi0 + t * (psi1 - psi0)
                pts.append((side * a_e * np.sin(psi), b_e * np.cos(psi),
                            z_tub + 2.0 + _RIB_DROP[lvl] * drop_scale * t ** 1.3))
            for (x0, y0, z0), (x1, y1, z1) in zip(pts[:-1], pts[1:], strict=True):
                rows.append((x0, y0, z0, x1, y1, z1, radius * (1.25 if z0 == z_head else 1.0)))
    return np.array(rows, float)


#: Half the height (mm) of a rib's cross-section: the part of a rib within this distance of a slice shows in it.
_RIB_HALF_HEIGHT = 5.0


def _attached_ribs(p: dict, z: float) -> list:
    """The ribs cut by the slice at depth ``z``: the pieces of ``p["rib_segments"]`` within the rib's height."""
    seg = p["rib_segments"]
    h = _RIB_HALF_HEIGHT
    z0, z1 = seg[:, 2], seg[:, 5]
    near = (np.minimum(z0, z1) - h <= z) & (z <= np.maximum(z0, z1) + h)
    bone = []
    for x0, y0, za, x1, y1, zb, r in seg[near]:
        if zb == za:
            ta, tb = 0.0, 1.0
        else:
            ta, tb = sorted(((z - h - za) / (zb - za), (z + h - za) / (zb - za)))
            ta, tb = max(ta, 0.0), min(tb, 1.0)
        bone.append((_capsule(x0 + ta * (x1 - x0), y0 + ta * (y1 - y0),
                              x0 + tb * (x1 - x0), y0 + tb * (y1 - y0), r), "rib"))
    return bone


def _girdle_bones(p: dict, level: float, W: float, D: float, sx: float, sy: float) -> list:
    """Sternum (anterior, above T9), scapulae (upper thorax) and, for variation "csi", the iliac wings."""
    bone = []
    if level < 9.0:  # sternum anterior, scapulae at the upper thorax
        bone.append((_blob(0, -D + p["fat"] + 10, 14, 6), "rib"))
    if level < 4.5:
        for side in (-1, 1):
            bone.append((_capsule(side * W * 0.55, D * 0.35, side * W * 0.8, D * 0.05, 5.0), "rib"))
    if level > 15.0 and not p["wide"]:  # iliac wings
        for side in (-1, 1):
            bone.append((_capsule(sx + side * 60, sy + 20, sx + side * 105, sy - 30, 7.0), "rib"))
    return bone


def _pelvis_bones(p, z, sx, sy):
    """Iliac bones and femoral heads below L5 (variation "wide"); not in the mask, as in CSI."""
    last = p["verts"][-1]
    below = z - (last["top"] + last["body_h"] + last["disc_h"])  # mm below the L5/S1 disc
    if below <= 0:
        return []
    pe, bones = p["pelvis"], []
    taper = float(np.clip(1 - below / 110.0, 0.25, 1))
    # No sacrum: S1 looks like a vertebral body, and an unlabelled look-alike (the CSI masks stop at L5)
    # contradicted the labels of the bodies above it (training stalled).  Its place stays soft tissue.
    back = sy + 0.25 * below
    # iliac bones: long oblique plates lateral to the sacrum, moving forward and down
    w = pe["ilium_w"]
    if below < 140:
        for side in (-1, 1):
            x0, y0 = sx + side * (45 + 10 * taper), back + 10
            x1, y1 = sx + side * (95 * w + 15 * (1 - taper)), sy - 45 + 0.3 * below
            bones += _pelvic(pe, _capsule(x0, y0, x1, y1, 8.0 + 6.0 * (1 - taper)))
    # femoral heads in the lowest part
    if below > 70:
        r = pe["head_r"] * float(np.clip((below - 70) / 15.0, 0.3, 1))
        for side in (-1, 1):
            hx, hy = sx + side * pe["head_dx"], sy - 25
            if "acetabulum_mm" in pe:  # the acetabular cup: a thick medial rim across the joint space
                t, gap = pe["acetabulum_mm"], pe["joint_mm"]
                ring = _shell(_blob(hx, hy, r + gap + t, r + gap + t), t)
                cup = _Shape(lambda x, y, ring=ring, hx=hx, side=side, r=r: np.maximum(
                    ring.sdf(x, y), side * (x - hx) - 0.3 * r), ring.cx, ring.cy, ring.radius)
                bones.append((cup, "pelvic_cortex"))
            bones += _pelvic(pe, _blob(hx, hy, r, r))
    return bones


def _pelvic(pe: dict, shape) -> list:
    """A pelvic bone: a thick bright cortex around dim marrow (variation "random"), else a thin shell."""
    if "cortex_mm" not in pe:
        return [(shape, "cancellous_bone")]
    inner = _Shape(lambda x, y, sh=shape, t=pe["cortex_mm"]: sh.sdf(x, y) + t, shape.cx, shape.cy, shape.radius)
    return [(shape, "pelvic_cortex"), (inner, "pelvic_marrow")]


def _arm_bones(p: dict, W: float) -> list:
    """The humerus of each arm beside the body (variation "wide", when arms are drawn)."""
    if p["arms"] is None:
        return []
    a = p["arms"]
    return [(_blob(side * (W + a["gap"] + a["r"]), a["y"], a["bone_r"], a["bone_r"]), "cancellous_bone")
            for side in (-1, 1)]


def _paint_bones(cv: _Canvas, hu: dict, shapes: list, texture: Callable[[], np.ndarray]) -> None:
    """Paint (shape, kind) bones in order: a bright cortex, then the marrow inside it.

    ``kind``: ``"body"``/``"endplate"`` (vertebral body: thin shell around trabecular bone, an
    endplate brighter), ``"cancellous_bone"`` (pelvis, arms: thin shell around textured marrow),
    ``"rib"`` and anything else (posterior elements: dense cortex around a little marrow).
    ``texture()`` gives the slice's trabecular texture, drawn the first time it is needed.
    """
    for shape, kind in shapes:
        if kind == "body" or kind == "endplate":
            inner = hu["cancellous"] + texture()
            if kind == "endplate":
                inner = inner + 0.3 * (hu["cortex"] - hu["cancellous"])
            cv.paint(shape, hu["cortex"])
            cv.paint(_Shape(lambda x, y, sh=shape: sh.sdf(x, y) + 0.45, shape.cx, shape.cy, shape.radius), inner)
        elif kind == "cancellous_bone":  # large bones of the pelvis: a thin shell around textured marrow
            cv.paint(shape, hu["cortex"])
            cv.paint(_Shape(lambda x, y, sh=shape: sh.sdf(x, y) + 1.2, shape.cx, shape.cy, shape.radius),
                     hu["cancellous"] - 20 + texture())
        elif kind == "pelvic_cortex":  # variation "random": the thick cortex of the pelvis and hips
            cv.paint(shape, hu["pelvic_cortex"])
        elif kind == "pelvic_marrow":
            cv.paint(shape, hu["cancellous"] - 20 + texture())
        elif kind == "rib":
            cv.paint(shape, hu["dense"])
            cv.paint(_Shape(lambda x, y, sh=shape: sh.sdf(x, y) + 1.5, shape.cx, shape.cy, shape.radius),
                     hu["cancellous"] + 40)
        else:  # posterior elements: dense cortex around a little marrow
            cv.paint(shape, hu["dense"])
            cv.paint(_Shape(lambda x, y, sh=shape: sh.sdf(x, y) + 1.5, shape.cx, shape.cy, shape.radius),
                     hu["cancellous"] + 60)

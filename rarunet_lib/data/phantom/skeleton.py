"""The bones around the spine, none of them in the mask: ribs, sternum, scapulae, pelvis, arm bones.

Each is a (shape, kind) pair; :func:`_paint_bones` gives every kind its look (cortex around
marrow), for these and for the vertebra parts of :mod:`.spine` alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .geometry import _blob, _Canvas, _capsule, _Shape


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
            bones.append((_capsule(x0, y0, x1, y1, 8.0 + 6.0 * (1 - taper)), "cancellous_bone"))
    # femoral heads in the lowest part
    if below > 70:
        r = pe["head_r"] * float(np.clip((below - 70) / 15.0, 0.3, 1))
        for side in (-1, 1):
            bones.append((_blob(sx + side * pe["head_dx"], sy - 25, r, r), "cancellous_bone"))
    return bones


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
        elif kind == "rib":
            cv.paint(shape, hu["dense"])
            cv.paint(_Shape(lambda x, y, sh=shape: sh.sdf(x, y) + 1.5, shape.cx, shape.cy, shape.radius),
                     hu["cancellous"] + 40)
        else:  # posterior elements: dense cortex around a little marrow
            cv.paint(shape, hu["dense"])
            cv.paint(_Shape(lambda x, y, sh=shape: sh.sdf(x, y) + 1.5, shape.cx, shape.cy, shape.radius),
                     hu["cancellous"] + 60)

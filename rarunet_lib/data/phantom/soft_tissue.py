"""The soft tissue of the phantom: table, body wall, arms, lungs, organs, muscles and great vessels.

Painted in this order, each over what lies below it (spec section 3.4; sizes in mm, patient
coordinates: x right -> left, y anterior -> posterior, origin at the body's centre).
"""

from __future__ import annotations

import numpy as np

from .geometry import _blob, _Canvas, _Shape, _shell
from .spine import _level_value


def _paint_table(cv: _Canvas, p: dict, D: float) -> None:
    """The CT table: two thin curved shells below the back."""
    hu = p["hu"]
    ty = D + p["table_gap"]
    for off, val in ((0.0, hu["table"]), (25.0, hu["table"])):
        cv.paint(_shell(_blob(0, ty + off + 500, 230, 500), 1.6), val)


def _paint_arms(cv: _Canvas, p: dict, W: float, tex: np.ndarray) -> None:
    """Arms down beside the body (variation "wide", when drawn): fat around muscle; the bone is painted later."""
    if not (p["wide"] and p["arms"] is not None):
        return
    hu, a = p["hu"], p["arms"]
    for side in (-1, 1):
        ax0 = side * (W + a["gap"] + a["r"])
        cv.paint(_blob(ax0, a["y"], a["r"], a["r"] * 1.1), hu["fat"] + tex)
        cv.paint(_blob(ax0, a["y"], a["r"] - 6, a["r"] * 1.1 - 6), hu["muscle"] + tex)


def _paint_body_wall(cv: _Canvas, p: dict, W: float, D: float, sy: float, tex: np.ndarray) -> None:
    """Body outline: skin, subcutaneous fat, the muscle wall and the visceral cavity in front of the spine."""
    hu = p["hu"]
    body = _blob(0, 0, W, D, 0.0, p["harm"])
    cv.paint(body, hu["skin"] + tex)
    cv.paint(_Shape(lambda x, y: body.sdf(x, y) + 2.0, 0, 0, body.radius), hu["fat"] + tex)
    wall = _Shape(lambda x, y: body.sdf(x, y) + p["fat"], 0, 0, body.radius)
    cv.paint(wall, hu["muscle"] + tex)
    # visceral cavity: inside the muscle wall and in front of the spine; behind the
    # spine the wall is the paraspinal muscle mass
    cavity = _Shape(lambda x, y: np.maximum(body.sdf(x, y) + p["fat"] + 12.0, y - (sy + 10.0)),
                    0, 0, body.radius)
    cv.paint(cavity, hu["fat"] + 10 + tex)


def _paint_lungs(cv: _Canvas, p: dict, z: float, level: float, W: float, D: float) -> None:
    """Lungs with bright vessel dots: large in the thorax, lateral-posterior bases at T10-L1."""
    hu = p["hu"]
    lung_amount = float(np.clip((12.2 - level) / 3.0, 0, 1))
    if lung_amount > 0:
        for side in (-1, 1):
            a = W * (0.42 + 0.1 * lung_amount)
            b = D * (0.35 + 0.45 * lung_amount)
            lx, ly = side * W * 0.45, D * (0.25 - 0.3 * lung_amount)
            lung = _blob(lx, ly, a * lung_amount ** 0.3, b, side * 0.2, p["harm"][:2])
            cv.paint(lung, hu["lung"])
            for vx, vy in p["vessels"][: int(30 * lung_amount)]:
                px_, py_ = lx + vx * a * 0.7, ly + vy * b * 0.7
                r = 1.0 + 1.5 * abs(np.sin(vx * 7 + z / 30))
                cv.paint(_blob(px_, py_, r, r), hu["lung"] + 880)


def _paint_organs(cv: _Canvas, p: dict, level: float, W: float, D: float, sx: float, sy: float,
                  tex: np.ndarray) -> None:
    """Mediastinum and abdomen by level: heart, liver, spleen, stomach, kidneys, bowel with gas."""
    hu = p["hu"]
    if 3.5 <= level <= 9.5:  # heart
        cv.paint(_blob(W * 0.15, -D * 0.3, 55, 40, 0.6, p["harm"][:2]), hu["heart"] + tex)
    if level >= 9.0:  # liver and spleen
        amount = float(np.clip((level - 9.0) / 2.0, 0, 1)) * float(np.clip((14.5 - level) / 2.0, 0, 1))
        if amount > 0:
            cv.paint(_blob(-W * 0.45, -D * 0.05, W * 0.5 * amount + 5, D * 0.65 * amount + 5, 0.3, p["harm"][:2]),
                     hu["liver"] + tex)
            cv.paint(_blob(W * 0.55, D * 0.2, 45 * amount + 3, 28 * amount + 3, -0.6), hu["spleen"] + tex)
            cv.paint(_blob(W * 0.3, -D * 0.4, 50 * amount + 3, 35 * amount + 3, 0.2), hu["fluid"] + tex)
            cv.paint(_blob(W * 0.3, -D * 0.6, 35 * amount + 2, 12 * amount + 2, 0.2), -1000.0)
    if 11.0 <= level <= 15.0:  # kidneys
        amount = float(np.clip(1 - abs(level - 13.0) / 2.0, 0, 1))
        for side in (-1, 1):
            kx, ky = sx + side * 62, sy - 5
            cv.paint(_blob(kx, ky, 28 * amount + 2, 20 * amount + 2, side * 0.5), hu["kidney"] + tex)
    if level >= 12.0:  # bowel with gas
        for bx, by, br, gas in p["bowel"]:
            cx_, cy_ = bx * W * 0.6, -D * 0.3 + by * D * 0.35
            r = 10 + 8 * abs(br)
            cv.paint(_blob(cx_, cy_, r, r * 0.8), hu["fluid"] + 15 + tex)
            if gas > 0.2:
                cv.paint(_blob(cx_, cy_ - r * 0.3, r * 0.6, r * 0.4), -1000.0)


def _paint_spinal_muscles(cv: _Canvas, p: dict, level: float, sx: float, sy: float, tex: np.ndarray) -> None:
    """Psoas beside the lumbar bodies (growing downwards) and the erector spinae behind the spine (always)."""
    hu = p["hu"]
    psoas = float(np.clip((level - 11.5) / 3.5, 0, 1))
    if psoas > 0:
        for side in (-1, 1):
            cv.paint(_blob(sx + side * (28 + 10 * psoas), sy - 5, 8 + 14 * psoas, 10 + 16 * psoas), hu["muscle"] + tex)
    for side in (-1, 1):  # a thin fat plane outlines each erector spinae
        cv.paint(_blob(sx + side * 33, sy + 50, 27, 24, side * 0.2), hu["fat"] + 40 + tex)
        cv.paint(_blob(sx + side * 33, sy + 50, 25, 22, side * 0.2), hu["muscle"] + tex)


def _paint_great_vessels(cv: _Canvas, p: dict, z: float, level: float, sx: float, sy: float,
                         tex: np.ndarray) -> None:
    """Aorta left-anterior of the spine (sometimes a calcified dot), IVC right-anterior from T11 down."""
    hu = p["hu"]
    if "aorta" in p:
        _paint_aorta(cv, p, z, level, sx, sy, tex)
    else:
        thorax = level < 11.5
        ax_, ay_ = sx + 22, sy - 30 if thorax else sy - 32
        cv.paint(_blob(ax_, ay_, 12, 12), hu["aorta"] + tex * 0.5)
        if p["calcified"] and np.sin(z / 6.0) > 0.6:
            cv.paint(_blob(ax_ + 9, ay_ - 5, 1.5, 1.5), 600.0)
    if level >= 10.0:
        cv.paint(_blob(sx - 22, sy - 32, 13, 10), hu["ivc"] + tex)


def _paint_aorta(cv: _Canvas, p: dict, z: float, level: float, sx: float, sy: float, tex: np.ndarray) -> None:
    """Variation "random": the aorta in front of the vertebral body, touching it or nearly.

    Its offset to the left (``dx``), gap to the body and radius are drawn per patient (in routine CT
    it often lies right against the body, where an enhanced lumen is as bright as cancellous bone);
    it divides into the common iliac arteries at L4.  Older patients have calcified plaques in its
    wall, bright dots that move round the wall along z.
    """
    a, hu = p["aorta"], p["hu"]
    v = p["verts"][min(int(level), len(p["verts"]) - 1)]
    front = sy - _level_value("body_d", min(level, 16.0)) * v["scale"] / 2  # the body's anterior edge
    if level < 15.3:
        vessels = [(sx + a["dx"], front - a["gap"] - a["r"], a["r"])]
    else:  # the common iliac arteries, moving apart
        apart = 12.0 + 40.0 * min(level - 15.3, 1.5)
        vessels = [(sx + a["dx"] / 2 + side * apart / 2, front - 4.0 - 6.5, 6.5) for side in (-1, 1)]
    for x, y, r in vessels:
        cv.paint(_blob(x, y, r, r), hu["aorta"] + tex * 0.5)
    if a["plaque"] and np.sin(z / 9.0 + a["angle"]) > 0.2:
        x, y, r = vessels[0]
        ang = a["angle"] + z / 40.0
        cv.paint(_blob(x + 0.85 * r * np.cos(ang), y + 0.85 * r * np.sin(ang), 1.8, 1.8), a["plaque_hu"])

"""One synthetic patient: every per-case random parameter (habitus, HU table, column, scanner).

Spec sections 3.2 and 3.5.  The draws happen in a fixed order from the case's generator, so
that the same seed gives the same patient; variation "wide" redraws some from a second one.
"""

from __future__ import annotations

import numpy as np

from .geometry import _harmonics
from .spine import _SACRAL_MARGIN, LEVEL_NAMES, _level_value
from .texture import _smooth_noise


def _draw_patient(rng, size: int, n_slices: int, slice_spacing: float, level_range, fov_range=(200.0, 340.0),
                  wide_rng=None, redraw=None):
    """All per-case random parameters.

    ``wide_rng`` (variation "wide") redraws the bone and scanner parameters over
    the wider ranges of routine body CT, from its own generator, so that the
    default ("csi") cases stay exactly as they are.  ``redraw(p)`` (variation
    "random") does the same with its own generator, at the same point.
    """
    habitus = rng.uniform(0.85, 1.15)
    p = {
        "habitus": habitus,
        "body_w": rng.uniform(290, 350) * habitus,
        "body_d": rng.uniform(205, 255) * habitus,
        "fat": rng.uniform(6, 40) * habitus,
        "age": rng.uniform(18, 80),
        "phase": str(rng.choice(["unenhanced", "portal-venous", "arterial"])),
        "vert_scale": rng.normal(1.0, 0.06),
        "spine_dx": rng.uniform(-12, 12),
        "spine_rot": np.deg2rad(rng.uniform(-6, 6)),
        "angle": np.deg2rad(rng.uniform(-10, 10)),
        "fov": rng.uniform(*fov_range),
        "noise_sd": rng.uniform(12, 30),
        "blur_mm": rng.uniform(0.35, 0.65),
        "nps_cutoff": rng.uniform(0.6, 0.9),
        "harm": _harmonics(rng, 4, 0.05),
        "centre_dx": rng.normal(0, 8),
        "centre_frac": rng.uniform(0.4, 1.0),
        "table_gap": rng.uniform(3, 15),
        "calcified": bool(rng.random() < 0.4),
    }
    cancellous = 226 - 2.5 * (p["age"] - 25) + rng.normal(0, 35)
    p["hu"] = {
        "fat": rng.uniform(-120, -80), "muscle": rng.uniform(25, 60), "skin": rng.uniform(20, 60),
        "lung": rng.uniform(-900, -780), "cancellous": float(np.clip(cancellous, 90, 320)),
        "cortex": rng.uniform(500, 1100), "dense": rng.uniform(700, 1400), "disc": rng.uniform(70, 100),
        "csf": rng.uniform(5, 30), "cartilage": rng.uniform(100, 200), "table": rng.uniform(150, 450),
        "fluid": rng.uniform(0, 25),
    }
    enh = {"unenhanced": (45, 60, 30, 50, 45), "portal-venous": (160, 105, 180, 100, 100),
           "arterial": (300, 70, 150, 80, 70)}[p["phase"]]
    aorta, liver, kidney, spleen, ivc = (v + rng.normal(0, 8) for v in enh)
    p["hu"].update(aorta=aorta, liver=liver, kidney=kidney, spleen=spleen, ivc=ivc,
                   heart=0.6 * aorta + 0.4 * 45)
    # the whole column T1-L5: levels, heights, z positions (z = 0 at the top of T1, going down)
    verts, z = [], 0.0
    for level in range(len(LEVEL_NAMES)):
        s = p["vert_scale"] * rng.normal(1.0, 0.03)
        body_h, disc_h = _level_value("body_h", level) * s, _level_value("disc_h", level) * rng.uniform(0.8, 1.2)
        verts.append({"level": level, "scale": s, "top": z, "body_h": body_h, "disc_h": disc_h,
                      "harm": _harmonics(rng, 3, 0.04)})
        z += body_h + disc_h
    # Below L5 the stack may run on into the sacral region (no vertebra mask) for up to
    # SACRAL_MARGIN mm, as whole-spine scans do.  The first slice is drawn in level_range,
    # moved up as far as needed for the stack to fit.
    def z_of(level_f):
        i = min(int(np.floor(level_f)), len(verts) - 1)
        return verts[i]["top"] + (level_f - i) * (verts[i]["body_h"] + verts[i]["disc_h"])

    length = slice_spacing * (n_slices - 1)
    latest = z + _SACRAL_MARGIN - length
    if latest < 0:
        raise ValueError(
            f"n_slices={n_slices} at slice_spacing={slice_spacing} mm spans {length:.0f} mm, longer than "
            f"the T1-L5 column plus the sacral region ({z + _SACRAL_MARGIN:.0f} mm): at most "
            f"{int((z + _SACRAL_MARGIN) / slice_spacing) + 1} slices fit"
        )
    z_hi = min(z_of(level_range[1]), latest)
    z_lo = min(z_of(level_range[0]), z_hi)
    z0 = rng.uniform(z_lo, z_hi) if z_hi > z_lo else z_hi
    p["z"] = z0 + slice_spacing * np.arange(n_slices)
    p["first_level"] = max(v["level"] for v in verts if v["top"] <= z0 + 1e-9)
    p["verts"] = verts
    p["wide"] = wide_rng is not None
    if wide_rng is not None:
        _widen(p, wide_rng)
    if redraw is not None:
        redraw(p)
    p["tex_a"], p["tex_b"] = (_smooth_noise(rng, (size, size), 10.0 / (p["fov"] / size), 6.0) for _ in range(2))
    p["vessels"] = rng.uniform(-1, 1, size=(60, 2))
    p["bowel"] = rng.uniform(-1, 1, size=(14, 4))
    return p


def _widen(p, rng) -> None:
    """Variation "wide": any adult (18-90 y) on a routine body scanner (see :func:`synthetic_case`)."""
    age = rng.uniform(18, 90)
    cancellous = 226 - 2.5 * (age - 25) + rng.normal(0, 35)
    # On thick (3-5 mm) slices and soft kernels the thin cortical shell is averaged with what lies above and
    # below it: its apparent HU falls towards the cancellous value.  Dense cortex likewise in osteoporotic bone.
    p["age"] = age
    p["hu"]["cancellous"] = float(np.clip(cancellous, 100, 330))
    # (A lower floor, cortex only 100 HU above the cancellous bone and 1.4 mm blur, made vertebrae invisible at
    # 4 mm pixels: contradictory targets, and the U-Net of the realism check collapsed to over-segmentation.)
    p["hu"]["cortex"] = p["hu"]["cancellous"] + rng.uniform(250, 850)
    p["hu"]["dense"] = p["hu"]["cancellous"] + rng.uniform(350, 1100)
    p["blur_mm"] = rng.uniform(0.4, 1.0)
    p["noise_sd"] = rng.uniform(8, 35)
    p["pelvis"] = {"head_r": rng.uniform(21, 26), "head_dx": rng.uniform(80, 95), "ilium_w": rng.uniform(0.9, 1.2)}
    # arms down beside the body (60 % of scans), each with its bone in cross-section
    p["arms"] = {"gap": rng.uniform(5, 40), "r": rng.uniform(35, 48), "bone_r": rng.uniform(8, 13),
                 "y": rng.uniform(-20, 30)} if rng.random() < 0.6 else None
    p["rib_step"] = rng.uniform(28, 40)  # mm between the rib cross-sections along the body wall


def _spine_pose(p: dict, z: float) -> tuple:
    """(x, y, axial rotation) of the spine's centre at depth ``z``, in patient coordinates (mm, radians).

    A slow lateral sway for every variation; variation "random" adds its posture
    (``p["posture"]``): a scoliosis-like lateral and a kyphosis-like AP drift, a tilt of the
    column against the scanner axis, and an axial rotation that drifts with the curve.
    """
    D = p["body_d"] / 2
    sy = D - p["fat"] - 45.0 * p["habitus"] - 8
    sx = p["spine_dx"] + 3.0 * np.sin(z / 170.0)
    rot = p["spine_rot"]
    q = p.get("posture")
    if q is not None:
        wave = np.sin(2 * np.pi * z / q["period"] + q["phase"])
        dz = z - q["z_mid"]
        sx += q["sway"] * wave + q["tilt_x"] * dz
        sy += q["bow"] * np.sin(2 * np.pi * z / q["period"] + q["phase"] + 1.3) + q["tilt_y"] * dz
        rot += q["twist"] * wave
    return sx, sy, rot  # types as drawn: a NumPy float64 keeps the painting in float64 where it was

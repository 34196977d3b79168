"""Variation "random": every case draws its patient and its scan anew, each randomisation a named switch.

SynthSeg-style domain randomisation (Billot et al. 2023: intensities, contrast, resolution,
noise and bias field drawn at random for every sample), within the physiological ranges of
``shared/spec/phantom.md``.  The names of :data:`RANDOMISATIONS`, and what each draws:

``"tissue"``
    Every tissue's HU independently (spec 3.2): fat -120 to -80, muscle 20-60, skin 10-60,
    lung -910 to -700, disc 70-100, CSF 0-30 (measured canal 25 +- 22), cartilage 100-200,
    table 100-450, fluid 0-25, dense cortex 700-1500; the cancellous bone of any adult,
    age 18-90 and 226 - 2.5 (age - 25) +- 44 HU (Jang 2019), within 60-330; the vertebral
    shell 250-850 HU above it, within 400-1100; soft-tissue texture SD 3-8 HU (spec 3.1).
``"contrast"``
    The phase, unenhanced (35 %), portal-venous (45 %) or arterial (20 %), and aorta, IVC,
    liver, spleen and kidney HU within that phase's range (spec 3.2; arterial liver, spleen,
    kidney and IVC ranges are typical values, not measured).
``"noise"``
    Noise SD 15-40 HU at 1 mm, divided by the square root of the slice thickness (spec 3.1.5:
    18-30 HU at 1 mm, 12-20 at 3 mm); its texture: the noise power spectrum
    ``|f|**ramp * Hann(f / cutoff)**2`` with ramp 0.6-1.4 and cutoff 0.35-1.0 cycles/mm.
``"blur"``
    In-plane resolution, a Gaussian of SD 0.3-1.1 mm (spec 3.1.4 gives 0.4-0.6 for a soft-tissue
    kernel and 0.3 for a bone kernel; wider here, as "wide" found 1.0 mm still trainable).
``"thickness"``
    Slice thickness 1-5 mm: each slice is the average of the noise-free anatomy over its
    thickness (partial volume along z), see :mod:`.acquisition`.
``"bias"``
    A smooth multiplicative field on the attenuation (HU + 1000), quadratic in the image
    and slowly varying along z, peak 0-5 % (0 to +-50 HU in soft tissue, none in air).
``"fov"``
    The field of view (spec 3.5): half the cases spine-targeted like CSI, 200-300 mm around the
    spine (the authors' figure measures about 250 mm; the body is cut off at the image edges),
    the others the body view of routine CT, 350-500 mm (``fov_range``, when given, replaces
    both ranges).  Spine-targeted views give about 1.5 % vertebra foreground, body views
    about 0.5 % (the real samples 0.6 % and 1.1 %; the paper's Table 1 implies 4.4 %, more
    than the spec's vertebra sizes give even at 250 mm): the mixture teaches both scales.
``"body"``
    Body size (habitus 0.85-1.2), width 280-360 mm and depth 190-260 mm times the habitus,
    subcutaneous fat 5-50 mm (spec 3.4, 3.5), a more irregular outline, arms down beside the
    body in half the cases (else raised, out of the slice).
``"shape"``
    Per vertebra and per part: body width and depth (SD 7 %), canal (8 %), pedicle width,
    lamina thickness, transverse and spinous process length (12 % each), a more irregular
    body outline, on top of the spec 3.3 sizes by level.
``"posture"``
    Image rotation +-15 deg, spine rotation +-10 deg and lateral offset +-15 mm (spec 3.5), and
    along z a scoliosis-like lateral sway up to 12 mm and AP bow up to 8 mm (period 250-600 mm),
    a tilt up to 3 deg against the scanner axis, and axial rotation drifting by up to 6 deg.
``"coverage"``
    What the scan covers: 30 % of the stacks are abdomen-pelvis scans whose last slice lies
    60-180 mm below the L5/S1 disc (unless ``level_range`` is given), so that the pelvis (iliac
    bones, femoral heads), with no vertebra in the mask, are seen as often as in routine CT (a third of the real 3 mm
    sample's slices); the other stacks start anywhere from T1 to L5 (or in ``level_range``).

A switched-off randomisation leaves that part as variation "csi" draws it.  All the random
draws of the variation come from ``numpy.random.default_rng([seed, 2])`` in a fixed order, the
same whichever switches are on, so that turning one off changes only what it randomises.
Ribs are always attached to their vertebrae (:func:`.skeleton._rib_segments`) and, as in the
other variations, never in the mask; the pelvis below L5 is drawn as in variation "wide".
"""

from __future__ import annotations

import numpy as np

from ...checks import refuse
from .geometry import _harmonics
from .patient import _spine_pose
from .skeleton import _rib_segments
from .spine import SHAPE_FACTORS

__all__ = ["RANDOMISATIONS"]

#: The switches of variation "random", in the order of the module docstring.
RANDOMISATIONS: tuple[str, ...] = ("tissue", "contrast", "noise", "blur", "thickness", "bias", "fov", "body",
                                   "shape", "posture", "coverage")
#: Share of variation "random" stacks that are abdomen-pelvis scans ending in the pelvis ("coverage").
_PELVIC_SHARE = 0.3

_PHASES = ("unenhanced", "portal-venous", "arterial")
# (low, high) HU by phase for aorta, IVC, liver, spleen, kidney (spec 3.2)
_ENHANCEMENT = {
    "unenhanced": {"aorta": (40, 50), "ivc": (40, 50), "liver": (45, 65), "spleen": (35, 55), "kidney": (20, 40)},
    "portal-venous": {"aorta": (150, 180), "ivc": (90, 110), "liver": (90, 120), "spleen": (80, 120),
                      "kidney": (150, 200)},
    "arterial": {"aorta": (250, 400), "ivc": (50, 90), "liver": (60, 80), "spleen": (70, 120), "kidney": (120, 200)},
}
_SHAPE_SD = {"w": 0.07, "d": 0.07, "canal": 0.08, "pedicle": 0.12, "lamina": 0.12, "tp": 0.12, "sp": 0.12}


def _check_randomise(randomise, variation: str) -> frozenset[str]:
    """The switches that are on, from the public ``randomise`` argument (None: all of them)."""
    if variation != "random":
        if randomise is not None:
            raise refuse("randomise", randomise, f'None with variation={variation!r} (the switches belong to '
                         f'variation="random")')
        return frozenset()
    if randomise is None:
        return frozenset(RANDOMISATIONS)
    allowed = f"None (all) or a collection of names from {RANDOMISATIONS}"
    if isinstance(randomise, (str, bytes)) or not hasattr(randomise, "__iter__"):
        raise refuse("randomise", randomise, allowed)
    names = tuple(randomise)
    if not all(isinstance(n, str) and n in RANDOMISATIONS for n in names):
        raise refuse("randomise", randomise, allowed)
    return frozenset(names)


def _redraw(rng, on: frozenset[str], size: int, n_slices: int, slice_spacing: float, fov_range, *,
            pelvic_allowed: bool = True):
    """A function ``redraw(p)`` that randomises the patient ``p`` drawn by variation "csi" (see the module)."""
    del size, n_slices  # the same draws for every size and stack length

    def redraw(p: dict) -> None:
        u = rng.uniform
        # every value is drawn, in this order, whichever switches are on
        # body
        habitus = u(0.85, 1.2)
        body = {"habitus": habitus, "body_w": u(280, 360) * habitus, "body_d": u(190, 260) * habitus,
                "fat": u(5, 50) * habitus, "harm": _harmonics(rng, 4, u(0.03, 0.08))}
        body["fat"] = min(body["fat"], body["body_d"] / 2 - 45.0 * habitus - 40.0)  # the spine stays behind the middle
        arms = {"gap": u(5, 40), "r": u(35, 48), "bone_r": u(8, 13), "y": u(-20, 30)}
        arms_down = rng.random() < 0.5
        # tissue
        age = u(18, 90)
        cancellous = float(np.clip(rng.normal(226 - 2.5 * (age - 25), 44), 60, 330))
        tissue = {"fat": u(-120, -80), "muscle": u(20, 60), "skin": u(10, 60), "lung": u(-910, -700),
                  "cancellous": cancellous, "cortex": float(np.clip(cancellous + u(250, 850), 400, 1100)),
                  "dense": u(700, 1500), "disc": u(70, 100), "csf": u(0, 30), "cartilage": u(100, 200),
                  "table": u(100, 450), "fluid": u(0, 25)}
        tex_sd = u(3, 8)
        # contrast
        phase = _PHASES[int(rng.choice(3, p=[0.35, 0.45, 0.2]))]
        enh = {k: u(*r) for k, r in _ENHANCEMENT[phase].items()}
        # noise, blur, thickness, bias
        noise_1mm, nps_cutoff, nps_ramp = u(15, 40), u(0.35, 1.0), u(0.6, 1.4)
        blur = u(0.3, 1.1)
        thickness = u(1.0, 5.0)
        bias_amp = u(0.0, 0.05)
        bias_coef = rng.normal(0, 1, size=6)
        bias_wave = (u(0.0, 0.5), u(150, 400), u(0, 2 * np.pi))
        # fov
        spine_view = rng.random() < 0.5
        fov_spine, fov_body = u(200, 300), u(350, 500)
        fov_given = u(*fov_range) if fov_range is not None else None
        view_jitter = rng.normal(0, 8, size=2)
        # shape
        shapes = [{k: float(np.clip(rng.normal(1.0, _SHAPE_SD[k]), 0.75, 1.3)) for k in SHAPE_FACTORS}
                  for _ in p["verts"]]
        harms = [_harmonics(rng, 3, 0.06) for _ in p["verts"]]
        # posture
        posture = {"angle": np.deg2rad(u(-15, 15)), "spine_rot": np.deg2rad(u(-10, 10)), "spine_dx": u(-15, 15),
                   "sway": u(0, 12), "bow": u(0, 8), "period": u(250, 600), "phase": u(0, 2 * np.pi),
                   "tilt_x": np.tan(np.deg2rad(u(-3, 3))), "tilt_y": np.tan(np.deg2rad(u(-3, 3))),
                   "twist": np.deg2rad(u(0, 6))}
        # ribs and pelvis (always drawn like this in variation "random")
        rib_drop, rib_r = u(0.8, 1.2), u(3.5, 4.5)
        pelvis = {"head_r": u(21, 26), "head_dx": u(80, 95), "ilium_w": u(0.9, 1.2)}
        # drawn after all of the above, so that those draws stay what they were before these existed
        # coverage
        pelvic_scan, pelvic_end = rng.random() < _PELVIC_SHARE, u(60, 180)
        # pelvic cortex: thick and bright around dim marrow (drawn after the coverage)
        pelvis["cortex_mm"], pelvic_rise = u(2.0, 4.0), u(500, 1000)
        pelvis["acetabulum_mm"], pelvis["joint_mm"] = u(3.0, 5.0), u(1.5, 3.0)

        pelvic_scan = pelvic_scan and pelvic_allowed  # a level_range given holds for every stack
        if "coverage" in on and pelvic_scan:  # an abdomen-pelvis scan: the stack ends in the pelvis
            last = p["verts"][-1]
            end = last["top"] + last["body_h"] + last["disc_h"] + pelvic_end
            z0 = max(end - slice_spacing * (len(p["z"]) - 1), 0.0)
            p["z"] = z0 + slice_spacing * np.arange(len(p["z"]))
            p["first_level"] = max(v["level"] for v in p["verts"] if v["top"] <= z0 + 1e-9)
        p["scan"] = "abdomen-pelvis" if ("coverage" in on and pelvic_scan) else "spine"
        if "body" in on:
            p.update(body)
        p["arms"] = arms if ("body" in on and arms_down) else None
        p["wide"], p["pelvis"] = True, pelvis
        if "tissue" in on:
            p["age"] = age
            p["hu"].update(tissue)
            p["tex_sd"] = tex_sd
        if "contrast" in on:
            p["phase"] = phase
            p["hu"].update(enh)
            p["hu"]["heart"] = 0.6 * enh["aorta"] + 0.4 * 45
        p["thickness"] = thickness if "thickness" in on else 0.0
        if "noise" in on:
            p["noise_sd"] = noise_1mm / np.sqrt(max(p["thickness"], 1.0))
            p["nps_cutoff"], p["nps_ramp"] = nps_cutoff, nps_ramp
        else:
            p["nps_ramp"] = 1.0
        if "blur" in on:
            p["blur_mm"] = blur
        p["bias"] = {"amp": bias_amp if "bias" in on else 0.0, "coef": bias_coef, "wave": bias_wave}
        if "shape" in on:
            for v, f, h in zip(p["verts"], shapes, harms, strict=True):
                v["shape"], v["harm"] = f, h
        z_mid = float(np.mean(p["z"]))
        if "posture" in on:
            p["angle"], p["spine_rot"], p["spine_dx"] = posture["angle"], posture["spine_rot"], posture["spine_dx"]
            p["posture"] = {k: posture[k] for k in ("sway", "bow", "period", "phase", "tilt_x", "tilt_y", "twist")}
            p["posture"]["z_mid"] = z_mid
        p["fov_mode"] = "csi"
        if "fov" in on:
            p["fov_mode"] = "spine" if spine_view else "body"
            p["fov"] = fov_given if fov_given is not None else (fov_spine if spine_view else fov_body)
            if spine_view:
                sx, sy, _ = _spine_pose(p, z_mid)
                p["view_centre"] = (sx + view_jitter[0], sy + 10.0 + view_jitter[1])
        p["hu"]["pelvic_cortex"] = float(np.clip(p["hu"]["cancellous"] + pelvic_rise, 700, 1400))
        p["slice_spacing"] = slice_spacing
        p["rib_segments"] = _rib_segments(p, rib_drop, rib_r)

    return redraw


def _random_meta(p: dict, on: frozenset[str]) -> dict:
    """The drawn parameters of a variation "random" case, rounded, for ``Case.meta``."""
    hu = p["hu"]
    return {
        "randomise": sorted(on),
        "thickness_mm": round(float(p["thickness"]), 2), "blur_mm": round(p["blur_mm"], 3),
        "nps_cutoff": round(p["nps_cutoff"], 3), "nps_ramp": round(p["nps_ramp"], 3),
        "bias_amp": round(p["bias"]["amp"], 4), "fov_mode": p["fov_mode"], "scan": p["scan"],
        "habitus": round(p["habitus"], 3), "body_w_mm": round(p["body_w"], 1), "body_d_mm": round(p["body_d"], 1),
        "fat_mm": round(p["fat"], 1), "arms": p["arms"] is not None,
        "tissue_hu": {k: round(float(v), 1) for k, v in sorted(hu.items())},
        "angle_deg": round(float(np.rad2deg(p["angle"])), 2),
        "spine_rot_deg": round(float(np.rad2deg(p["spine_rot"])), 2), "spine_dx_mm": round(p["spine_dx"], 1),
        "posture": {k: round(float(v), 4) for k, v in p.get("posture", {}).items()},
        "shape": [{k: round(x, 3) for k, x in v["shape"].items()} for v in p["verts"] if "shape" in v],
    }

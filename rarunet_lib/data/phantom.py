"""A synthetic spine-CT phantom with exact whole-vertebra masks (NumPy/SciPy only).

One case is a continuous stack of axial slices through several vertebrae of one
synthetic patient.  The recipe follows ``shared/spec/phantom.md``:

* **geometry in millimetres**, drawn as signed-distance shapes (ellipses with
  irregular outlines, capsules) in patient coordinates; each vertebra has a body
  (thin cortical shell, textured cancellous bone, endplates), pedicles, laminae,
  transverse and spinous processes and articular processes, whose presence
  follows the slice's position within the vertebra (pedicle level: a closed
  ring around the canal; lower body: body plus separate posterior islands;
  disc level: disc and facets only).  Thoracic spinous processes slope down and
  show as separate islands below their vertebra.  Sizes by level follow the
  spec's tables (T1 to L5) with per-case variation.
* **surroundings by region**: skin, subcutaneous fat, muscle wall, paraspinal
  and psoas muscles, lungs with vessels, heart, aorta (three contrast phases),
  IVC, liver, spleen, stomach, kidneys, bowel with gas, ribs (not in the mask),
  sternum, scapulae, iliac wings, and the CT table.
* **rendering**: analytic partial-volume coverage from the signed distances
  (equivalent to supersampling smooth edges), Gaussian blur for the scanner's
  resolution, correlated noise with a ramp-shaped noise power spectrum, int16 HU.
* **mask**: the union of the vertebra parts at 50 % pixel coverage, measured by
  4 x 4 supersampling on the pixels near an edge.  Ribs are not in the mask.
* **per-case variation**: body size and fat, field of view, bone density,
  contrast phase, rotation, offset, first level (thoracic to lumbar), noise level.

Everything random comes from ``numpy.random.default_rng(seed)``: the same seed
gives the same case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .case import Case

__all__ = ["synthetic_case", "synthetic_dataset", "LEVEL_NAMES"]

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


def _level_value(key: str, level: float) -> float:
    return float(np.interp(level, _ANCHORS, _TABLE[key]))


# --------------------------------------------------------------------------- signed distances
def _blob_sdf(u, v, a, b, harm=()):
    """Approximate signed distance to an ellipse (semi-axes a, b) with a wavy outline.

    ``harm`` is a sequence of (order, amplitude, phase): the radius is scaled by
    ``1 + sum(amplitude * cos(order * angle + phase))``.
    """
    un, vn = u / a, v / b
    k = np.sqrt(un * un + vn * vn)
    grad = np.sqrt((un / a) ** 2 + (vn / b) ** 2) / np.maximum(k, 1e-6)
    r = 1.0
    if len(harm):
        phi = np.arctan2(vn, un)
        r = 1.0 + sum(amp * np.cos(order * phi + ph) for order, amp, ph in harm)
    return (k - r) / np.maximum(grad, 1e-6)


def _capsule_sdf(u, v, x0, y0, x1, y1, r):
    """Exact signed distance to a segment (x0, y0)-(x1, y1) thickened by r."""
    dx, dy = x1 - x0, y1 - y0
    L2 = dx * dx + dy * dy
    t = np.clip(((u - x0) * dx + (v - y0) * dy) / L2, 0.0, 1.0) if L2 > 0 else 0.0
    return np.hypot(u - x0 - t * dx, v - y0 - t * dy) - r


def _harmonics(rng, n=3, amp=0.06):
    return tuple((k, float(rng.normal(0, amp / k)), float(rng.uniform(0, 2 * np.pi))) for k in range(2, 2 + n))


@dataclass
class _Shape:
    """A shape in patient coordinates: ``sdf(x, y)``, a centre and a bounding radius."""

    sdf: object
    cx: float
    cy: float
    radius: float


def _blob(cx, cy, a, b, angle=0.0, harm=()):
    c, s = np.cos(angle), np.sin(angle)

    def sdf(x, y):
        dx, dy = x - cx, y - cy
        return _blob_sdf(c * dx + s * dy, -s * dx + c * dy, a, b, harm)

    return _Shape(sdf, cx, cy, 1.3 * max(a, b))


def _capsule(x0, y0, x1, y1, r):
    return _Shape(lambda x, y: _capsule_sdf(x, y, x0, y0, x1, y1, r),
                  0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * np.hypot(x1 - x0, y1 - y0) + r)


def _minus(a: _Shape, b: _Shape) -> _Shape:
    return _Shape(lambda x, y: np.maximum(a.sdf(x, y), -b.sdf(x, y)), a.cx, a.cy, a.radius)


def _shell(a: _Shape, thickness: float) -> _Shape:
    """The rim of ``a`` that is ``thickness`` deep."""
    return _Shape(lambda x, y: np.maximum(a.sdf(x, y), -(a.sdf(x, y) + thickness)), a.cx, a.cy, a.radius)


# --------------------------------------------------------------------------- canvas
class _Canvas:
    """An axial slice in patient coordinates (x: right -> left, y: anterior -> posterior)."""

    def __init__(self, size: int, px: float, centre: tuple[float, float], angle: float):
        self.size, self.px = size, px
        self.c, self.s = np.cos(angle), np.sin(angle)
        self.centre = centre
        j = (np.arange(size, dtype=np.float32) + 0.5 - size / 2) * px
        xi, yi = np.meshgrid(j, j)  # image coordinates (mm) of pixel centres
        # image -> patient: rotate by -angle, then shift
        self.X = (self.c * xi - self.s * yi + centre[0]).astype(np.float32)
        self.Y = (self.s * xi + self.c * yi + centre[1]).astype(np.float32)
        self.hu = np.full((size, size), -1000.0, np.float32)

    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        dx, dy = x - self.centre[0], y - self.centre[1]
        xi, yi = self.c * dx + self.s * dy, -self.s * dx + self.c * dy
        return yi / self.px + self.size / 2, xi / self.px + self.size / 2

    def box(self, shape: _Shape):
        r, c = self.to_pixel(shape.cx, shape.cy)
        h = shape.radius / self.px + 2
        r0, r1 = int(max(r - h, 0)), int(min(r + h + 1, self.size))
        c0, c1 = int(max(c - h, 0)), int(min(c + h + 1, self.size))
        if r0 >= r1 or c0 >= c1:
            return None
        return slice(r0, r1), slice(c0, c1)

    def coverage(self, shape: _Shape):
        """(box, partial-volume coverage in [0, 1]) of a shape, or (None, None)."""
        box = self.box(shape)
        if box is None:
            return None, None
        d = shape.sdf(self.X[box], self.Y[box])
        return box, np.clip(0.5 - d / self.px, 0.0, 1.0)

    def paint(self, shape: _Shape, value) -> None:
        """Composite ``value`` (HU, scalar or full-size field) over the shape."""
        box, cov = self.coverage(shape)
        if box is None:
            return
        v = value[box] if isinstance(value, np.ndarray) else value
        self.hu[box] += cov * (v - self.hu[box])

    def mask(self, shapes: list[_Shape], sub: int = 4) -> np.ndarray:
        """Union of shapes at 50 % coverage, supersampled ``sub x sub`` near edges."""
        out = np.zeros((self.size, self.size), bool)
        boxes = [b for b in (self.box(s) for s in shapes) if b is not None]
        if not boxes:
            return out
        r0, r1 = min(b[0].start for b in boxes), max(b[0].stop for b in boxes)
        c0, c1 = min(b[1].start for b in boxes), max(b[1].stop for b in boxes)
        box = slice(r0, r1), slice(c0, c1)
        X, Y = self.X[box], self.Y[box]
        d = np.min([s.sdf(X, Y) for s in shapes], axis=0)
        m = d < 0
        edge = np.abs(d) < 0.75 * self.px
        if edge.any():
            ys, xs = np.nonzero(edge)
            offs = (np.arange(sub) + 0.5) / sub - 0.5
            oi, oj = np.meshgrid(offs, offs)
            oi, oj = oi.ravel() * self.px, oj.ravel() * self.px  # image-space offsets (mm)
            # image offsets -> patient offsets (rotation by -angle)
            ox, oy = self.c * oj - self.s * oi, self.s * oj + self.c * oi
            px_ = X[ys, xs][:, None] + ox[None, :]
            py_ = Y[ys, xs][:, None] + oy[None, :]
            dd = np.min([s.sdf(px_, py_) for s in shapes], axis=0)
            m[ys, xs] = (dd < 0).mean(axis=1) >= 0.5
        out[box] = m
        return out


# --------------------------------------------------------------------------- textures and noise
def _smooth_noise(rng, shape, sigma_px, sd):
    f = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma_px)
    return f * (sd / max(float(f.std()), 1e-6))


def _ct_noise(rng, size, px, sd, cutoff):
    """Correlated CT noise: NPS ~ |f| * Hann(f / cutoff)^2, scaled to SD ``sd``."""
    f = np.fft.fftfreq(size, d=px)
    fr = np.hypot(f[:, None], f[None, :])
    window = np.where(fr < cutoff, 0.5 * (1 + np.cos(np.pi * fr / cutoff)), 0.0)
    amp = np.sqrt(fr) * window
    n = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * amp))
    return (n * (sd / max(float(n.std()), 1e-9))).astype(np.float32)


# --------------------------------------------------------------------------- the patient
def _draw_patient(rng, size: int, n_slices: int, slice_spacing: float, level_range, fov_range=(200.0, 340.0),
                  wide_rng=None):
    """All per-case random parameters.

    ``wide_rng`` (variation "wide") redraws the bone and scanner parameters over
    the wider ranges of routine body CT, from its own generator, so that the
    default ("csi") cases stay exactly as they are.
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


def _vertebra_parts(v, z, spine_x, spine_y, rot):
    """Shapes (vertebra parts, their bone kinds) of vertebra ``v`` present at depth ``z``."""
    lvl, s = v["level"], v["scale"]
    depth = z - v["top"]
    bw, bd = _level_value("body_w", lvl) * s / 2, _level_value("body_d", lvl) * s / 2
    cry, crx = _level_value("canal_ap", lvl) * s / 2, _level_value("canal_tr", lvl) * s / 2
    pw = _level_value("pedicle_w", lvl) * s
    c, sn = np.cos(rot), np.sin(rot)

    def at(u, w):  # spine-local (u lateral, w posterior) -> patient
        return spine_x + c * u - sn * w, spine_y + sn * u + c * w

    parts = []  # (shape, kind) kind in body / dense / facet
    in_body = 0 <= depth <= v["body_h"]
    p = depth / v["body_h"] if v["body_h"] > 0 else 0.0
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
    if in_body and 0.08 <= p <= 0.9:  # laminae
        for side in (-1, 1):
            x0, y0 = at(side * ped_lat, canal_cy + cry * 0.3)
            x1, y1 = at(0, lam_back)
            parts.append((_capsule(x0, y0, x1, y1, 3.2 * s), "dense"))
    if in_body and 0.12 <= p <= 0.45:  # transverse processes
        ang = np.deg2rad(_level_value("tp_angle", lvl))
        length = _level_value("tp_len", lvl) * s
        for side in (-1, 1):
            x0, y0 = at(side * ped_lat, canal_cy)
            x1, y1 = at(side * (ped_lat + length * np.cos(ang)), canal_cy + length * np.sin(ang))
            parts.append((_capsule(x0, y0, x1, y1, (3.5 if lvl < 12 else 3.0) * s), "dense"))
    # spinous process: attached in the lower body; thoracic ones slope down and
    # continue below the vertebra as a separate island further back.
    sp_len, slope = _level_value("sp_len", lvl) * s, _level_value("sp_slope", lvl)
    sp_start = lam_back - 1.0
    if in_body and 0.3 <= p <= 0.95:
        frac = (p - 0.3) / 0.65
        reach = sp_len * (0.5 + 0.5 * frac) if slope > 0.4 else sp_len
        x0, y0 = at(0, sp_start)
        x1, y1 = at(0, sp_start + reach)
        parts.append((_capsule(x0, y0, x1, y1, 3.0 * s), "dense"))
    below = depth - v["body_h"]
    tail = slope * (v["disc_h"] + 12.0)
    if slope > 0.4 and 0 < below < tail:  # the sloping tip, an island in lower slices
        frac = below / tail
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


def _render_slice(p, z, size, rng):
    hu = p["hu"]
    W, D = p["body_w"] / 2, p["body_d"] / 2
    spine_y = D - p["fat"] - 45.0 * p["habitus"] - 8
    spine_x = p["spine_dx"] + 3.0 * np.sin(z / 170.0)
    centre = (p["centre_dx"], spine_y * p["centre_frac"])
    cv = _Canvas(size, p["fov"] / size, centre, p["angle"])
    theta = z / 25.0
    tex = (np.cos(theta) * p["tex_a"] + np.sin(theta) * p["tex_b"])

    # level of this slice (for region-dependent anatomy)
    vert = max((v for v in p["verts"] if v["top"] <= z), key=lambda v: v["top"])
    level = vert["level"] + min((z - vert["top"]) / (vert["body_h"] + vert["disc_h"]), 1.0)

    # table: two thin curved shells below the back
    ty = D + p["table_gap"]
    for off, val in ((0.0, hu["table"]), (25.0, hu["table"])):
        cv.paint(_shell(_blob(0, ty + off + 500, 230, 500), 1.6), val)

    if p["wide"] and p["arms"] is not None:
        a = p["arms"]
        for side in (-1, 1):
            ax0 = side * (W + a["gap"] + a["r"])
            cv.paint(_blob(ax0, a["y"], a["r"], a["r"] * 1.1), hu["fat"] + tex)
            cv.paint(_blob(ax0, a["y"], a["r"] - 6, a["r"] * 1.1 - 6), hu["muscle"] + tex)
    body = _blob(0, 0, W, D, 0.0, p["harm"])
    cv.paint(body, hu["skin"] + tex)
    cv.paint(_Shape(lambda x, y: body.sdf(x, y) + 2.0, 0, 0, body.radius), hu["fat"] + tex)
    wall = _Shape(lambda x, y: body.sdf(x, y) + p["fat"], 0, 0, body.radius)
    cv.paint(wall, hu["muscle"] + tex)
    sx, sy = spine_x, spine_y
    # visceral cavity: inside the muscle wall and in front of the spine; behind the
    # spine the wall is the paraspinal muscle mass
    cavity = _Shape(lambda x, y: np.maximum(body.sdf(x, y) + p["fat"] + 12.0, y - (sy + 10.0)),
                    0, 0, body.radius)
    cv.paint(cavity, hu["fat"] + 10 + tex)
    thorax = level < 11.5
    # lungs: large in the thorax, lateral-posterior bases at T10-L1
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
    # mediastinum / abdomen organs
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
    if level >= 12.0:  # bowel with gas, psoas
        for bx, by, br, gas in p["bowel"]:
            cx_, cy_ = bx * W * 0.6, -D * 0.3 + by * D * 0.35
            r = 10 + 8 * abs(br)
            cv.paint(_blob(cx_, cy_, r, r * 0.8), hu["fluid"] + 15 + tex)
            if gas > 0.2:
                cv.paint(_blob(cx_, cy_ - r * 0.3, r * 0.6, r * 0.4), -1000.0)
    psoas = float(np.clip((level - 11.5) / 3.5, 0, 1))
    if psoas > 0:
        for side in (-1, 1):
            cv.paint(_blob(sx + side * (28 + 10 * psoas), sy - 5, 8 + 14 * psoas, 10 + 16 * psoas), hu["muscle"] + tex)
    # paraspinal muscles (always), aorta, IVC
    for side in (-1, 1):  # a thin fat plane outlines each erector spinae
        cv.paint(_blob(sx + side * 33, sy + 50, 27, 24, side * 0.2), hu["fat"] + 40 + tex)
        cv.paint(_blob(sx + side * 33, sy + 50, 25, 22, side * 0.2), hu["muscle"] + tex)
    ax_, ay_ = sx + 22, sy - 30 if thorax else sy - 32
    cv.paint(_blob(ax_, ay_, 12, 12), hu["aorta"] + tex * 0.5)
    if p["calcified"] and np.sin(z / 6.0) > 0.6:
        cv.paint(_blob(ax_ + 9, ay_ - 5, 1.5, 1.5), 600.0)
    if level >= 10.0:
        cv.paint(_blob(sx - 22, sy - 32, 13, 10), hu["ivc"] + tex)

    bone = []
    # ribs (thoracic levels): posterior arcs from the costovertebral joint round the side
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
    if level < 9.0:  # sternum anterior, scapulae at the upper thorax
        bone.append((_blob(0, -D + p["fat"] + 10, 14, 6), "rib"))
    if level < 4.5:
        for side in (-1, 1):
            bone.append((_capsule(side * W * 0.55, D * 0.35, side * W * 0.8, D * 0.05, 5.0), "rib"))
    if level > 15.0 and not p["wide"]:  # iliac wings
        for side in (-1, 1):
            bone.append((_capsule(sx + side * 60, sy + 20, sx + side * 105, sy - 30, 7.0), "rib"))
    if p["wide"]:
        bone += _pelvis_bones(p, z, sx, sy)
        if p["arms"] is not None:
            a = p["arms"]
            for side in (-1, 1):
                bone.append((_blob(side * (W + a["gap"] + a["r"]), a["y"], a["bone_r"], a["bone_r"]),
                             "cancellous_bone"))

    # the vertebral column: canal and discs first, then bone
    parts = []
    for v in p["verts"]:
        if v["top"] - 60 <= z <= v["top"] + v["body_h"] + v["disc_h"] + 40:
            parts += _vertebra_parts(v, z, sx, sy, p["spine_rot"])
        depth = z - v["top"] - v["body_h"]
        if 0 < depth <= v["disc_h"]:
            bw = _level_value("body_w", v["level"]) * v["scale"] / 2
            bd = _level_value("body_d", v["level"]) * v["scale"] / 2
            cv.paint(_blob(sx, sy, bw, bd, p["spine_rot"], v["harm"]), hu["disc"] + tex)
    lvl_now = vert["level"]
    s = vert["scale"]
    cry = _level_value("canal_ap", lvl_now) * s / 2
    crx = _level_value("canal_tr", lvl_now) * s / 2
    bd_now = _level_value("body_d", lvl_now) * s / 2
    canal_cy = bd_now + cry + 0.5 + _level_value("pedicle_len", lvl_now) * 0.3
    c, sn = np.cos(p["spine_rot"]), np.sin(p["spine_rot"])
    cv.paint(_blob(sx - sn * canal_cy, sy + c * canal_cy, crx + 2, cry + 2, p["spine_rot"]), hu["fat"] + 20)
    cv.paint(_blob(sx - sn * canal_cy, sy + c * canal_cy, crx * 0.8, cry * 0.8, p["spine_rot"]), hu["csf"] + tex)

    trabecular = None

    def texture():  # band-pass trabecular texture, drawn once per slice when a bone needs it
        nonlocal trabecular
        if trabecular is None:
            t1 = ndimage.gaussian_filter(rng.standard_normal((size, size)).astype(np.float32), 0.7 / cv.px)
            t2 = ndimage.gaussian_filter(t1, 1.6 / cv.px)
            band = t1 - t2
            trabecular = band * (rng.uniform(40, 70) / max(float(band.std()), 1e-6))
        return trabecular

    for shape, kind in bone + parts:
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

    mask = cv.mask([shape for shape, _ in parts]) if parts else np.zeros((size, size), bool)
    # level id of this slice's vertebra where the mask is (the nearest vertebra above owns islands)
    img = ndimage.gaussian_filter(cv.hu, p["blur_mm"] / cv.px)
    img += _ct_noise(rng, size, cv.px, p["noise_sd"], p["nps_cutoff"])
    hu_out = np.clip(np.rint(img), -1024, 3071).astype(np.int16)
    return hu_out, mask, _LABEL_BASE + lvl_now


def synthetic_case(
    seed: int,
    n_slices: int = 64,
    size: int = 512,
    *,
    slice_spacing: float = 1.0,
    level_range: tuple[float, float] = (3.0, 13.0),
    fov_range: tuple[float, float] | None = None,
    variation: str = "csi",
) -> Case:
    """Generate one synthetic spine-CT case.

    Parameters
    ----------
    seed : int
        Seed of the case; the same seed gives the same case.
    n_slices : int, default 64
        Number of consecutive axial slices.
    size : int, default 512
        Slice side in pixels (the field of view is drawn per case from
        ``fov_range``).
    slice_spacing : float, default 1.0
        Distance between slices in mm (1 mm as in the CSI data).
    level_range : (float, float), default (3.0, 13.0)
        Range of the first slice's level (0 = top of T1 ... 16 = top of L5).  A
        long stack starts higher if it must, to fit; it may run up to 120 mm
        beyond L5 into the sacral region (slices with empty masks).
    fov_range : (float, float), optional
        Range (mm) of the square field of view drawn per case.  Default
        (200, 340) for ``variation="csi"``: spine-targeted reconstructions like
        the CSI data (the body is cut off at the image edges); (200, 520) for
        ``variation="wide"``: routine body CT, like the real demo samples,
        shows the whole body in 350-500 mm.
    variation : {"csi", "wide"}, default "csi"
        ``"csi"`` mimics the paper's data: young adults (cancellous bone about
        200-260 HU with age 18-80 around it), thin slices, a sharp bright
        cortex, no pelvis.  ``"wide"`` is domain randomisation towards routine
        body CT of any adult: age 18-90 (cancellous 100-330 HU), an apparent
        cortex only 250-850 HU above the cancellous bone (thick slices, soft
        kernels, osteoporosis), blur 0.4-1.0 mm, noise SD 8-35 HU, the wide
        field of view, arms beside the body (60 % of cases), lower ribs cut
        into short ovals around the body wall, and below L5 the iliac bones
        and femoral heads (not in the mask, like the ribs; no sacrum: the CSI
        masks stop at L5, and an unmasked S1 would contradict the vertebral
        bodies above it).  The
        ``"csi"`` cases are the same with or without this option's code: the
        wide parameters come from a second generator seeded by ``seed``.

    Returns
    -------
    Case
        ``hu`` int16 (n_slices, size, size); ``labels`` with one id per
        vertebra (8 = T1 ... 19 = T12, 20 = L1 ... 24 = L5); ``spacing`` (z, y, x)
        mm; ``meta`` holds the drawn parameters (levels, contrast phase,
        cancellous HU, noise SD...).

    Raises
    ------
    ValueError
        For a size not divisible by 16, non-positive counts, or a stack longer
        than the whole column (T1 to 120 mm below L5).

    Example
    -------
    >>> c = synthetic_case(0, n_slices=4, size=64)
    >>> c.hu.shape, c.hu.dtype.name, bool(c.labels.max() >= 8)
    ((4, 64, 64), 'int16', True)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(n_slices, bool) or not isinstance(n_slices, (int, np.integer)) or n_slices < 1:
        raise ValueError(f"n_slices must be a positive integer, got {n_slices!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 16 or size % 16:
        raise ValueError(f"size must be a positive multiple of 16, got {size!r}")
    if not slice_spacing > 0:
        raise ValueError(f"slice_spacing must be > 0 mm, got {slice_spacing!r}")
    lo, hi = level_range
    if not 0 <= lo <= hi <= len(LEVEL_NAMES) - 1:
        raise ValueError(f"level_range must satisfy 0 <= low <= high <= 16, got {level_range!r}")
    if variation not in ("csi", "wide"):
        raise ValueError(f"variation must be 'csi' or 'wide', got {variation!r}")
    if fov_range is None:
        fov_range = (200.0, 340.0) if variation == "csi" else (200.0, 520.0)
    f_lo, f_hi = fov_range
    if not 100.0 <= f_lo <= f_hi <= 700.0:
        raise ValueError(f"fov_range must satisfy 100 <= low <= high <= 700 (mm), got {fov_range!r}")
    rng = np.random.default_rng(seed)
    wide_rng = np.random.default_rng([int(seed), 1]) if variation == "wide" else None
    p = _draw_patient(rng, int(size), int(n_slices), float(slice_spacing), (lo, hi), (float(f_lo), float(f_hi)),
                      wide_rng)
    hu = np.empty((n_slices, size, size), np.int16)
    labels = np.zeros((n_slices, size, size), np.uint8)
    for i, z in enumerate(p["z"]):
        img, mask, lab = _render_slice(p, float(z), int(size), rng)
        hu[i] = img
        labels[i][mask] = lab
    px = p["fov"] / size
    first = p["first_level"]
    meta = {
        "source": "phantom", "seed": int(seed),
        "levels": f"{LEVEL_NAMES[first]} onwards",
        "contrast_phase": p["phase"], "cancellous_hu": round(p["hu"]["cancellous"], 1),
        "age": round(p["age"], 1), "noise_sd_hu": round(p["noise_sd"], 1), "fov_mm": round(p["fov"], 1),
        "variation": variation,
    }
    # The case runs from top (superior) to bottom; store inferior -> superior like the loaders.
    return Case(hu[::-1].copy(), labels[::-1].copy(), (float(slice_spacing), px, px),
                name=f"phantom-{seed}", meta=meta)


def synthetic_dataset(n_cases: int, n_slices: int, size: int, *, seed: int = 0, workers: int = 1,
                      **kwargs) -> list[Case]:
    """Generate ``n_cases`` cases with seeds ``seed, seed + 1, ...``.

    Parameters
    ----------
    n_cases, n_slices, size : int
        Number of cases, slices per case, slice side.
    seed : int, default 0
        Seed of the first case.
    workers : int, default 1
        Processes to use (cases are independent, so the result does not depend
        on it).
    **kwargs
        Passed to :func:`synthetic_case`.

    Example
    -------
    >>> [c.name for c in synthetic_dataset(2, 2, 32, seed=5)]
    ['phantom-5', 'phantom-6']
    """
    if isinstance(n_cases, bool) or not isinstance(n_cases, (int, np.integer)) or n_cases < 1:
        raise ValueError(f"n_cases must be a positive integer, got {n_cases!r}")
    seeds = [seed + i for i in range(n_cases)]
    if workers <= 1:
        return [synthetic_case(s, n_slices, size, **kwargs) for s in seeds]
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(partial(_case_by_seed, n_slices=n_slices, size=size, kwargs=kwargs), seeds))


def _case_by_seed(s, *, n_slices, size, kwargs):
    return synthetic_case(s, n_slices, size, **kwargs)

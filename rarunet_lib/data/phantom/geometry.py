"""Shapes in millimetres and the canvas they are painted on (partial-volume edges, supersampled mask).

Shapes are signed distances in patient coordinates (x: right -> left, y: anterior ->
posterior): ellipses with wavy outlines, capsules, differences and shells.  A
:class:`_Canvas` is one axial slice: it paints a shape with its analytic partial-volume
coverage and takes the union of shapes at 50 % coverage, supersampled near edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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

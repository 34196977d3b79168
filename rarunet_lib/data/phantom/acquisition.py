"""The scan of a variation "random" case: slice thickness, bias field, resolution and noise, slice by slice.

A slice of thickness ``T`` shows the anatomy averaged over ``T`` along z (partial volume).
The noise-free anatomy is painted on a grid of depths at most the slice spacing and at most
``T`` apart (the stack's own slices when ``T`` is at least the spacing, so thick slices cost
hardly more than thin ones), and each slice is the integral of the linear interpolant of
these samples over its thickness divided by ``T``.  Then, per slice: a smooth multiplicative
bias field on the attenuation, the Gaussian blur of the in-plane resolution, correlated noise
of the drawn noise power spectrum, int16 HU.  The mask is the union of the vertebra parts at
the slice's centre plane, as for the other variations.

Random numbers come from generators seeded by the case's seed and the slice (noise) or
sample (trabecular texture) index, so that switching one randomisation off leaves the
others' draws as they were.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from .render import _paint_slice
from .spine import _LABEL_BASE


def _hat_integral(t: np.ndarray) -> np.ndarray:
    """Integral from -inf to ``t`` of the unit hat function max(0, 1 - |s|)."""
    t = np.clip(t, -1.0, 1.0)
    return np.where(t < 0, 0.5 * (t + 1) ** 2, 1 - 0.5 * (1 - t) ** 2)


def _thickness_weights(n: int, spacing: float, thickness: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample offsets and weights of a stack of ``n`` slices ``spacing`` mm apart, ``thickness`` mm thick.

    Returns ``(offsets, weights)``: ``offsets`` (mm, relative to the first slice's centre) of the
    painted samples, in order, and ``weights`` of shape (n, len(offsets)), each row summing to 1.
    ``thickness`` 0 gives one sample per slice, its centre plane.

    Example
    -------
    >>> off, w = _thickness_weights(3, 1.0, 1.0)
    >>> off.tolist(), w[1].round(3).tolist()
    ([-1.0, 0.0, 1.0, 2.0, 3.0], [0.0, 0.125, 0.75, 0.125, 0.0])
    """
    if thickness <= 0:
        return spacing * np.arange(n, dtype=float), np.eye(n)
    m = max(1, math.ceil(spacing / thickness - 1e-9))  # sub-steps per spacing: samples at most T apart
    h = spacing / m
    half = thickness / (2 * h)
    k = np.arange(-math.ceil(half), (n - 1) * m + math.ceil(half) + 1)
    centres = (np.arange(n) * m)[:, None]
    a, b = centres - half - k[None, :], centres + half - k[None, :]
    w = (_hat_integral(b) - _hat_integral(a)) * h / thickness
    return k * h, w / w.sum(axis=1, keepdims=True)


def _bias_basis(size: int, coef: np.ndarray) -> np.ndarray:
    """A smooth field over the image, quadratic plus a cupping term, scaled to a peak of 1."""
    j = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1
    v, u = np.meshgrid(j, j, indexing="ij")
    r2 = u * u + v * v
    basis = (u, v, u * v, u * u - 1 / 3, v * v - 1 / 3, r2 * r2 - float((r2 * r2).mean()))
    f = sum(float(c) * b for c, b in zip(coef, basis, strict=True))
    return (f / max(float(np.abs(f).max()), 1e-6)).astype(np.float32)


def _noise_filter(size: int, px: float, cutoff: float, ramp: float) -> np.ndarray:
    """Amplitude filter (for ``rfft2``) of CT noise with NPS ~ |f|**ramp * Hann(f / cutoff)**2."""
    fy = np.fft.fftfreq(size, d=px)
    fx = np.fft.rfftfreq(size, d=px)
    fr = np.hypot(fy[:, None], fx[None, :])
    window = np.where(fr < cutoff, 0.5 * (1 + np.cos(np.pi * fr / cutoff)), 0.0)
    return (fr ** (ramp / 2) * window).astype(np.float32)


def _render_random_stack(p: dict, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(HU int16, labels uint8) of a variation "random" case, slices from top to bottom."""
    n = len(p["z"])
    if "tex_sd" in p:  # drawn by "tissue"; the textures were drawn at SD 6
        p["tex_a"], p["tex_b"] = (t * (p["tex_sd"] / 6.0) for t in (p["tex_a"], p["tex_b"]))
    px = p["fov"] / size
    offsets, weights = _thickness_weights(n, p["slice_spacing"], p["thickness"])
    # the sample at each slice's centre plane, where its mask is taken
    centre_of = {int(np.argmin(np.abs(offsets - i * p["slice_spacing"]))): i for i in range(n)}
    bias = p["bias"]
    field = _bias_basis(size, bias["coef"]) * bias["amp"] if bias["amp"] > 0 else None
    noise_amp = _noise_filter(size, px, p["nps_cutoff"], p["nps_ramp"])
    hu = np.empty((n, size, size), np.int16)
    labels = np.zeros((n, size, size), np.uint8)
    acc = {}
    for k, off in enumerate(offsets):
        z = max(float(p["z"][0] + off), 0.0)
        cv, parts, vert = _paint_slice(p, z, size, np.random.default_rng([seed, 4, k]))
        rows = np.nonzero(weights[:, k])[0]
        for i in rows:
            if i not in acc:
                acc[i] = np.zeros((size, size), np.float32)
            acc[i] += np.float32(weights[i, k]) * cv.hu
        if k in centre_of:
            i = centre_of[k]
            if parts:
                labels[i][cv.mask([shape for shape, _ in parts])] = _LABEL_BASE + vert["level"]
        for i in [i for i in acc if weights[i, k + 1:].sum() == 0]:
            img = acc.pop(i)
            if field is not None:
                amp = 1 + bias["wave"][0] * np.sin(2 * np.pi * float(p["z"][i]) / bias["wave"][1] + bias["wave"][2])
                img = (img + 1000) * (1 + np.float32(amp) * field) - 1000
            img = ndimage.gaussian_filter(img, p["blur_mm"] / px)
            rng = np.random.default_rng([seed, 3, int(i)])
            noise = np.fft.irfft2(np.fft.rfft2(rng.standard_normal((size, size)).astype(np.float32)) * noise_amp,
                                  s=(size, size))
            img += noise * np.float32(p["noise_sd"] / max(float(noise.std()), 1e-9))
            hu[i] = np.clip(np.rint(img), -1024, 3071).astype(np.int16)
    return hu, labels

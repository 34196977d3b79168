"""Textures and scanner noise of the phantom: smooth soft-tissue texture, trabecular bone, CT noise.

Everything is drawn from the generator it is given (spec section 3.1, steps 3-6).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .geometry import _Canvas


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


class _Trabecular:
    """Band-pass trabecular texture of one slice, drawn from ``rng`` the first time a bone needs it."""

    def __init__(self, rng, size: int, px: float):
        self.rng, self.size, self.px = rng, size, px
        self.field = None

    def __call__(self) -> np.ndarray:
        if self.field is None:
            t1 = ndimage.gaussian_filter(self.rng.standard_normal((self.size, self.size)).astype(np.float32),
                                         0.7 / self.px)
            t2 = ndimage.gaussian_filter(t1, 1.6 / self.px)
            band = t1 - t2
            self.field = band * (self.rng.uniform(40, 70) / max(float(band.std()), 1e-6))
        return self.field


def _scan(cv: _Canvas, p: dict, rng) -> np.ndarray:
    """The painted slice as the scanner shows it: blurred, with correlated CT noise, as int16 HU."""
    img = ndimage.gaussian_filter(cv.hu, p["blur_mm"] / cv.px)
    img += _ct_noise(rng, cv.size, cv.px, p["noise_sd"], p["nps_cutoff"])
    return np.clip(np.rint(img), -1024, 3071).astype(np.int16)

"""Inference: a trained model's probabilities and thresholded masks for stacks of slices."""

from __future__ import annotations

import numpy as np

__all__ = ["predict_probabilities", "predict_masks"]


def _as_batch(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C), got {np.shape(images)}")
    return x


def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} is not allowed; use an integer >= 1")
    return int(batch_size)


def predict_probabilities(model, images, *, batch_size: int = 16) -> np.ndarray:
    """The model's foreground probability of every pixel, in inference mode.

    Parameters
    ----------
    model : keras.Model
        One sigmoid output channel.
    images : array (N, H, W) or (N, H, W, C)
        Preprocessed slices (float in [0, 1]).
    batch_size : int, default 16
        Slices per forward pass (the result does not depend on it beyond float round-off).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)

    Example
    -------
    >>> from rarunet_lib.models import build
    >>> model = build("unet", (32, 32, 1))
    >>> predict_probabilities(model, np.zeros((3, 32, 32), np.float32)).shape
    (3, 32, 32)
    """
    x = _as_batch(images)
    batch_size = _check_batch_size(batch_size)
    if len(x) == 0:
        return np.zeros(x.shape[:3], np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))[..., 0]


def predict_masks(model, images, *, batch_size: int = 16, threshold: float = 0.5) -> np.ndarray:
    """Threshold a model's probabilities: (N, H, W) uint8 masks, 1 where the probability exceeds ``threshold``.

    Parameters
    ----------
    model : keras.Model
    images : array (N, H, W) or (N, H, W, C)
    batch_size : int, default 16
    threshold : float, default 0.5
        In (0, 1).

    Example
    -------
    >>> from rarunet_lib.models import build
    >>> model = build("unet", (32, 32, 1))
    >>> m = predict_masks(model, np.zeros((2, 32, 32), np.float32))
    >>> m.shape, m.dtype.name
    ((2, 32, 32), 'uint8')
    """
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold={threshold!r} is not allowed; use a number in (0, 1)")
    prob = predict_probabilities(model, images, batch_size=batch_size)
    return (prob > threshold).astype(np.uint8)

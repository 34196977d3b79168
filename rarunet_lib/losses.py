"""Dice loss and Dice metric for Keras (float32 whatever the compute policy).

The paper trains with "a loss function based on the Dice coefficient".  We use
the soft Dice of the whole batch, ``1 - (2 sum(y p) + eps) / (sum(y) + sum(p) + eps)``,
computed in float32 so that mixed-precision training stays stable.  With
``per_sample=True`` (what adaptive denoising needs) one loss per image is
returned instead.  The trainer takes its gradient from the batch Dice and
records the per-image losses from the same forward pass
(``TrainConfig.dice_over``): a gradient from the mean of per-image losses
barely penalises a slice with a tiny or empty mask that is marked entirely.
"""

from __future__ import annotations

import keras
from keras import ops

from .checks import check_bool, check_number

__all__ = ["DiceLoss", "DiceMetric", "soft_dice_per_sample"]


def soft_dice_per_sample(y_true, y_pred, smooth: float = 1.0):
    """Soft Dice coefficient of each image of a batch, in float32.

    Parameters
    ----------
    y_true, y_pred : tensors of shape (batch, H, W[, 1])
        Masks in {0, 1} and probabilities in [0, 1].
    smooth : float, default 1.0
        Added to numerator and denominator; makes two empty masks score 1.

    Returns
    -------
    tensor of shape (batch,)

    Raises
    ------
    TypeError, ValueError
        For a ``smooth`` that is not a non-negative number, or shapes that
        differ where both are known (no broadcasting).
    """
    check_number("smooth", smooth, min=0)
    _check_shapes(y_true, y_pred)
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    n = ops.shape(y_true)[0]
    y_true = ops.reshape(y_true, (n, -1))
    y_pred = ops.reshape(y_pred, (n, -1))
    inter = ops.sum(y_true * y_pred, axis=1)
    denom = ops.sum(y_true, axis=1) + ops.sum(y_pred, axis=1)
    return (2.0 * inter + smooth) / (denom + smooth)


def _check_shapes(y_true, y_pred) -> None:
    """Refuse shapes that differ where both are known (symbolic dimensions are None).

    A trailing channel axis of 1 on one side only is allowed ((B, H, W) against (B, H, W, 1)).
    """
    st, sp = getattr(y_true, "shape", None), getattr(y_pred, "shape", None)
    if st is None or sp is None:
        return
    st, sp = tuple(st), tuple(sp)
    a, b = st, sp
    while len(a) > len(b) and a[-1] == 1:
        a = a[:-1]
    while len(b) > len(a) and b[-1] == 1:
        b = b[:-1]
    if len(a) != len(b) or any(i is not None and j is not None and i != j for i, j in zip(a, b, strict=True)):
        raise ValueError(f"y_true and y_pred must have the same shape, got {st} and {sp} (no broadcasting)")


@keras.saving.register_keras_serializable(package="rarunet")
class DiceLoss(keras.losses.Loss):
    """Soft Dice loss.

    Parameters
    ----------
    smooth : float, default 1.0
        Smoothing term.
    per_sample : bool, default False
        ``False``: one Dice over the whole batch (the usual Keras recipe);
        ``True``: the mean of per-image Dice losses.
    name : str, default "dice_loss"

    Example
    -------
    >>> import numpy as np
    >>> y = np.ones((1, 4, 4, 1), "float32")
    >>> float(DiceLoss()(y, y))
    0.0
    """

    def __init__(self, smooth: float = 1.0, per_sample: bool = False, name: str = "dice_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.smooth = check_number("smooth", smooth, min=0)
        self.per_sample = check_bool("per_sample", per_sample)

    def call(self, y_true, y_pred):
        if self.per_sample:
            return 1.0 - soft_dice_per_sample(y_true, y_pred, self.smooth)
        yt = ops.cast(y_true, "float32")
        yp = ops.cast(y_pred, "float32")
        inter = ops.sum(yt * yp)
        dice = (2.0 * inter + self.smooth) / (ops.sum(yt) + ops.sum(yp) + self.smooth)
        # Keras reduces a per-sample vector; broadcast the batch loss to one.
        return ops.ones((ops.shape(yt)[0],), "float32") * (1.0 - dice)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(smooth=self.smooth, per_sample=self.per_sample)
        return config


@keras.saving.register_keras_serializable(package="rarunet")
class DiceMetric(keras.metrics.Metric):
    """Hard Dice over everything seen (pooled confusion counts), threshold 0.5.

    Matches :func:`rarunet_lib.metrics.dice` on the thresholded predictions
    (1.0 when both are empty).

    Example
    -------
    >>> import numpy as np
    >>> m = DiceMetric()
    >>> m.update_state(np.ones((1, 4, 4, 1)), np.full((1, 4, 4, 1), 0.9))
    >>> float(m.result())
    1.0
    """

    def __init__(self, threshold: float = 0.5, name: str = "dice", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = check_number("threshold", threshold, min=0, max=1, min_open=True, max_open=True)
        self.tp = self.add_variable(shape=(), initializer="zeros", name="tp", dtype="float32")
        self.fp_fn = self.add_variable(shape=(), initializer="zeros", name="fp_fn", dtype="float32")

    def update_state(self, y_true, y_pred, sample_weight=None):
        yt = ops.cast(ops.greater(ops.cast(y_true, "float32"), 0.5), "float32")
        yp = ops.cast(ops.greater(ops.cast(y_pred, "float32"), self.threshold), "float32")
        tp = ops.sum(yt * yp)
        self.tp.assign_add(tp)
        self.fp_fn.assign_add(ops.sum(yt) + ops.sum(yp) - 2.0 * tp)

    def result(self):
        den = 2.0 * self.tp + self.fp_fn
        return ops.where(den > 0, 2.0 * self.tp / ops.maximum(den, 1.0), 1.0)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(threshold=self.threshold)
        return config

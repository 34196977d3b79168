"""Precise BatchNorm: replace moving statistics by their plain average over training batches.

Keras's BatchNormalization keeps exponential moving averages of the batch
mean and variance; in short, high-learning-rate runs they lag behind the
weights and inference-mode predictions swing from epoch to epoch.  After an
epoch, :func:`recalibrate_batchnorm` runs one forward pass in training mode
over the training batches and sets every BN layer's moving mean and variance
to the average of the batch statistics (Wu & Johnson 2021, "precise BN").
The trainable weights do not change.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["batchnorm_layers", "BatchNormPass", "recalibrate_batchnorm"]


def batchnorm_layers(model) -> list:
    """Every BatchNormalization layer of ``model``, nested ones included, in a fixed order.

    Example
    -------
    >>> from rarunet_lib.models import build
    >>> len(batchnorm_layers(build("rar_unet", (32, 32, 1))))
    38
    """
    import keras

    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization)]


class BatchNormPass:
    """A compiled training-mode forward pass that adds every BN layer's batch mean and variance to sums.

    Called with each layer's momentum at 0, so after the forward pass the
    moving statistics hold exactly that batch's moments (``moving * 0 +
    batch * 1``).  Build it once per model and reuse it (it compiles once).

    Parameters
    ----------
    model : keras.Model
    """

    def __init__(self, model):
        import tensorflow as tf

        self.model = model
        self.layers = batchnorm_layers(model)
        self.sums = [(tf.Variable(tf.zeros_like(layer.moving_mean), trainable=False),
                      tf.Variable(tf.zeros_like(layer.moving_variance), trainable=False))
                     for layer in self.layers]
        layers, sums = self.layers, self.sums

        @tf.function(reduce_retracing=True)
        def step(x):
            model(x, training=True)
            for layer, (s_mean, s_var) in zip(layers, sums, strict=True):
                s_mean.assign_add(tf.convert_to_tensor(layer.moving_mean))
                s_var.assign_add(tf.convert_to_tensor(layer.moving_variance))

        self.step = step


def recalibrate_batchnorm(model, batches: Iterable, *, bn_pass: BatchNormPass | None = None) -> int:
    """Set every BN layer's moving statistics to their average over ``batches``.

    Batch ``i`` enters each moving average with weight ``1 / (i + 1)``, so
    afterwards the moving mean and variance are the plain averages of the
    batch statistics.  The layers' momenta are restored, the weights untouched.

    Parameters
    ----------
    model : keras.Model
    batches : iterable
        Image batches, or tuples whose first element is the image batch
        (a ``tf.data`` dataset of ``(images, masks)``).
    bn_pass : BatchNormPass, optional
        A pass built for ``model`` earlier (avoids recompiling).

    Returns
    -------
    int
        The number of batches averaged (0 when the model has no BN layer).

    Example
    -------
    >>> import numpy as np
    >>> from rarunet_lib.models import build
    >>> m = build("unet", (32, 32, 1))
    >>> x = np.random.default_rng(0).random((2, 4, 32, 32, 1), dtype=np.float32)
    >>> recalibrate_batchnorm(m, list(x))
    2
    """
    if bn_pass is None:
        bn_pass = BatchNormPass(model)
    if bn_pass.model is not model:
        raise ValueError("bn_pass was built for another model")
    if not bn_pass.layers:
        return 0
    import tensorflow as tf

    for s_mean, s_var in bn_pass.sums:
        s_mean.assign(tf.zeros_like(s_mean))
        s_var.assign(tf.zeros_like(s_var))
    momenta = [layer.momentum for layer in bn_pass.layers]
    n = 0
    try:
        for layer in bn_pass.layers:
            layer.momentum = 0.0  # each training-mode call leaves exactly this batch's statistics
        for batch in batches:
            bn_pass.step(batch[0] if isinstance(batch, (tuple, list)) else batch)
            n += 1
    finally:
        for layer, m in zip(bn_pass.layers, momenta, strict=True):
            layer.momentum = m
    if n:
        for layer, (s_mean, s_var) in zip(bn_pass.layers, bn_pass.sums, strict=True):
            layer.moving_mean.assign(s_mean / n)
            layer.moving_variance.assign(s_var / n)
    return n

"""Reusable building blocks of RAR-U-Net and its relatives.

Layers (serialisable, registered under the package name ``"rarunet"``):

* :class:`CBAM` -- the convolutional attention module of the decoder
  (section 2.3, Eqs. 2-4), in full CBAM form (Woo et al. 2018, which Table 4's
  parameter counts require) or in the parameter-free form the equations
  literally describe.
* :class:`ResPath` -- the "residual block path" (section 2.2, Eq. 1), after
  MultiResUNet's ResPath: ``length`` residual blocks with a 1x1 shortcut.

Functions (Keras functional style, they add layers to a graph):

* :func:`conv3` -- ``Conv2D(F, 3, padding="same", activation="relu")``.
* :func:`residual_encoder_block` -- two 3x3 convolutions whose output is
  concatenated with the block's input (section 2.1).
* :func:`plain_block` -- two 3x3 convolutions, as in U-Net.

The exact wiring that reproduces Table 4 is documented in
``rarunet_lib.models.rar_unet``.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from ..checks import check_choice

__all__ = ["CBAM", "ResPath", "conv3", "plain_block", "residual_encoder_block"]

_ORDERS = ("channel_first", "spatial_first")
_FORMS = ("cbam", "parameter_free")


@keras.saving.register_keras_serializable(package="rarunet")
class CBAM(layers.Layer):
    """Convolutional block attention module (channel and spatial attention).

    Channel attention weighs each feature map by
    ``sigmoid(MLP(avgpool(F)) + MLP(maxpool(F)))`` (Eq. 3 with CBAM's shared
    MLP); spatial attention weighs each pixel by
    ``sigmoid(conv7x7([mean_c(F), max_c(F)]))`` (Eq. 2 with CBAM's 7x7
    convolution).  Trainable parameters for ``C`` channels and ratio 8:
    ``C**2/4 + C/8 + C + 98`` (390 for C = 32).

    Parameters
    ----------
    ratio : int, default 8
        Reduction ratio of the channel MLP's hidden layer (``C // ratio`` units).
    order : {"channel_first", "spatial_first"}, default "channel_first"
        ``"channel_first"`` is CBAM's order (and the authors' public code);
        ``"spatial_first"`` is the order of the paper's Eq. 4.  The order does
        not change the parameter count.
    form : {"cbam", "parameter_free"}, default "cbam"
        ``"cbam"`` has the shared MLP and the 7x7 convolution (needed to
        reproduce Table 4).  ``"parameter_free"`` is Eqs. 2-4 read literally:
        ``sigmoid(avg + max)`` for both attentions, no weights; it does *not*
        reproduce Table 4.
    kernel_size : int, default 7
        Kernel of the spatial-attention convolution (``form="cbam"``).
    **kwargs
        Standard :class:`keras.layers.Layer` arguments (``name``, ``dtype``...).

    Example
    -------
    >>> import numpy as np
    >>> cbam = CBAM()
    >>> y = cbam(np.ones((1, 8, 8, 32), "float32"))
    >>> tuple(y.shape), cbam.count_params()
    ((1, 8, 8, 32), 390)
    """

    def __init__(
        self,
        ratio: int = 8,
        order: str = "channel_first",
        form: str = "cbam",
        kernel_size: int = 7,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        check_choice("order", order, _ORDERS)
        check_choice("form", form, _FORMS)
        if int(ratio) < 1:
            raise ValueError(f"ratio must be a positive integer, got {ratio!r}")
        self.ratio = int(ratio)
        self.order = order
        self.form = form
        self.kernel_size = int(kernel_size)
        self.mlp_hidden = self.mlp_out = self.spatial_conv = None

    def build(self, input_shape) -> None:
        channels = int(input_shape[-1])
        if self.form == "cbam":
            hidden = max(channels // self.ratio, 1)
            self.mlp_hidden = layers.Dense(hidden, activation="relu", name="mlp_hidden", dtype=self.dtype_policy)
            self.mlp_out = layers.Dense(channels, name="mlp_out", dtype=self.dtype_policy)
            self.spatial_conv = layers.Conv2D(
                1,
                self.kernel_size,
                padding="same",
                activation="sigmoid",
                use_bias=False,
                name="spatial_conv",
                dtype=self.dtype_policy,
            )
            pooled = (input_shape[0], 1, 1, channels)
            self.mlp_hidden.build(pooled)
            self.mlp_out.build((input_shape[0], 1, 1, hidden))
            self.spatial_conv.build(tuple(input_shape[:-1]) + (2,))
        super().build(input_shape)

    # -- the two attentions, exposed for the book's figures -----------------
    def channel_weights(self, x):
        """Per-channel weights in (0, 1), shape ``(batch, 1, 1, C)``."""
        avg = ops.mean(x, axis=(1, 2), keepdims=True)
        mx = ops.max(x, axis=(1, 2), keepdims=True)
        if self.form == "cbam":
            return ops.sigmoid(self.mlp_out(self.mlp_hidden(avg)) + self.mlp_out(self.mlp_hidden(mx)))
        return ops.sigmoid(avg + mx)

    def spatial_map(self, x):
        """Per-pixel weights in (0, 1), shape ``(batch, H, W, 1)``."""
        avg = ops.mean(x, axis=-1, keepdims=True)
        mx = ops.max(x, axis=-1, keepdims=True)
        if self.form == "cbam":
            return self.spatial_conv(ops.concatenate([avg, mx], axis=-1))
        return ops.sigmoid(avg + mx)

    def attention_maps(self, x):
        """Return ``(channel_weights, spatial_map)`` exactly as :meth:`call` uses them."""
        if self.order == "channel_first":
            cw = self.channel_weights(x)
            return cw, self.spatial_map(x * cw)
        sm = self.spatial_map(x)
        return self.channel_weights(x * sm), sm

    def call(self, x):
        cw, sm = self.attention_maps(x)
        return x * cw * sm

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            ratio=self.ratio, order=self.order, form=self.form, kernel_size=self.kernel_size
        )
        return config


@keras.saving.register_keras_serializable(package="rarunet")
class ResPath(layers.Layer):
    """Residual block path between an encoder level and its decoder level.

    ``length`` blocks, each (Eq. 1 with a 1x1 shortcut and batch normalisation,
    as MultiResUNet's ResPath)::

        s = BN(scale=False)(Conv2D(C, 1, use_bias=False)(x))
        m = ReLU(BN(scale=False)(Conv2D(C, 3, padding="same", use_bias=False)(x)))
        x = BN()(ReLU(s + m))

    Parameters
    ----------
    filters : int
        Output channels ``C``.
    length : int
        Number of residual blocks (4, 3, 2, 1 at levels 1-4 in the paper).
    **kwargs
        Standard :class:`keras.layers.Layer` arguments.

    Example
    -------
    >>> import numpy as np
    >>> path = ResPath(32, 4)
    >>> tuple(path(np.ones((1, 8, 8, 32), "float32")).shape)
    (1, 8, 8, 32)
    """

    def __init__(self, filters: int, length: int, **kwargs) -> None:
        super().__init__(**kwargs)
        if int(filters) < 1:
            raise ValueError(f"filters must be a positive integer, got {filters!r}")
        if int(length) < 1:
            raise ValueError(f"length must be a positive integer, got {length!r}")
        self.filters = int(filters)
        self.length = int(length)
        policy = self.dtype_policy
        f, n = self.filters, range(self.length)
        # One flat list per role (Keras tracks lists of layers, not nested dicts).
        self.short_convs = [layers.Conv2D(f, 1, use_bias=False, name=f"b{i}_short_conv", dtype=policy) for i in n]
        self.short_bns = [layers.BatchNormalization(scale=False, name=f"b{i}_short_bn", dtype=policy) for i in n]
        self.main_convs = [
            layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"b{i}_main_conv", dtype=policy) for i in n
        ]
        self.main_bns = [layers.BatchNormalization(scale=False, name=f"b{i}_main_bn", dtype=policy) for i in n]
        self.out_bns = [layers.BatchNormalization(name=f"b{i}_out_bn", dtype=policy) for i in n]

    def _blocks(self):
        return zip(self.short_convs, self.short_bns, self.main_convs, self.main_bns, self.out_bns, strict=False)

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        out_shape = shape[:-1] + (self.filters,)
        for short_conv, short_bn, main_conv, main_bn, out_bn in self._blocks():
            short_conv.build(shape)
            main_conv.build(shape)
            for bn in (short_bn, main_bn, out_bn):
                bn.build(out_shape)
            shape = out_shape
        super().build(input_shape)

    def call(self, x, training=None):
        for short_conv, short_bn, main_conv, main_bn, out_bn in self._blocks():
            s = short_bn(short_conv(x), training=training)
            m = ops.relu(main_bn(main_conv(x), training=training))
            x = out_bn(ops.relu(s + m), training=training)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(filters=self.filters, length=self.length)
        return config


def conv3(x, filters: int, name: str):
    """``Conv2D(filters, 3, padding="same", activation="relu")`` with bias."""
    return layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)(x)


def plain_block(x, filters: int, name: str):
    """Two 3x3 ReLU convolutions (U-Net's block); returns the second output."""
    x = conv3(x, filters, f"{name}_conv1")
    return conv3(x, filters, f"{name}_conv2")


def residual_encoder_block(x, filters: int, name: str):
    """Two 3x3 convolutions, then concatenate the block input with their output.

    This is the "residual interconnection" of section 2.1: a channel
    *concatenation* (DenseNet/Kolarik style), not an addition, which is what the
    Table 4 parameter counts require.

    Returns
    -------
    (concatenated, second_conv)
        The ``C_in + filters``-channel concatenation and the plain second
        convolution output.
    """
    c2 = plain_block(x, filters, name)
    cat = layers.Concatenate(name=f"{name}_residual_concat")([x, c2])
    return cat, c2

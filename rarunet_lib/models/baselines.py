"""Baseline segmentation networks the paper compares against (Table 1, Table 5).

All are 2-D, base 32 filters, ``padding="same"``, sigmoid head, and take the
same ``input_shape`` convention as :func:`~rarunet_lib.models.rar_unet.rar_unet`.

* :func:`attention_unet` -- U-Net with Oktay et al.'s additive attention gates
  on the skips (Table 5's "Attention-UNet" is more plausibly Table 4 row 4, the
  CBAM decoder; both are offered).
* :func:`dense_unet` -- a densely connected U-Net after Kolarik et al. (2019).
* :func:`multires_unet` -- MultiResUNet (Ibtehaz and Rahman 2020), following the
  authors' public Keras code; 7,262,504 parameters in total at one channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from .blocks import ResPath, conv3, plain_block
from .rar_unet import validate_input_shape

__all__ = ["attention_unet", "dense_unet", "multires_unet"]

_FILTERS = (32, 64, 128, 256, 512)


def _head(x):
    x = layers.Conv2D(1, 1, name="head", dtype="float32")(x)
    return layers.Activation("sigmoid", name="probability", dtype="float32")(x)


def _attention_gate(x, g, inter: int, name: str):
    """Additive attention gate (Oktay et al. 2018): weigh skip ``x`` by gating ``g``."""
    theta = layers.Conv2D(inter, 2, strides=2, padding="same", name=f"{name}_theta")(x)
    phi = layers.Conv2D(inter, 1, name=f"{name}_phi")(g)
    f = layers.Activation("relu", name=f"{name}_relu")(layers.Add(name=f"{name}_add")([theta, phi]))
    psi = layers.Conv2D(1, 1, activation="sigmoid", name=f"{name}_psi")(f)
    alpha = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_upsample")(psi)
    y = layers.Multiply(name=f"{name}_weigh")([x, alpha])
    y = layers.Conv2D(int(x.shape[-1]), 1, name=f"{name}_out")(y)
    return layers.BatchNormalization(name=f"{name}_bn")(y)


def attention_unet(input_shape: Sequence[int] = (256, 256, 1), *, name: str = "attention_unet") -> keras.Model:
    """U-Net (conv-conv-BN blocks, as Table 4 row 1) with attention-gated skips.

    Example
    -------
    >>> attention_unet((32, 32, 1)).output_shape
    (None, 32, 32, 1)
    """
    shape = validate_input_shape(input_shape)
    inputs = keras.Input(shape=shape, name="image")
    x, skips = inputs, []
    for level, f in enumerate(_FILTERS[:-1], start=1):
        x = layers.BatchNormalization(name=f"enc{level}_bn")(plain_block(x, f, f"enc{level}"))
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    x = layers.BatchNormalization(name="bottleneck_bn")(plain_block(x, _FILTERS[-1], "bottleneck"))
    for level in range(4, 0, -1):
        f, tag = _FILTERS[level - 1], f"dec{level}"
        gated = _attention_gate(skips[level - 1], x, max(f // 2, 1), f"{tag}_gate")
        up = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"{tag}_up")(x)
        x = layers.Concatenate(name=f"{tag}_concat")([up, gated])
        x = layers.BatchNormalization(name=f"{tag}_bn")(plain_block(x, f, tag))
    return keras.Model(inputs, _head(x), name=name)


def _dense_block(x, filters: int, name: str):
    """Two 3x3 convolutions, the second reading the input and the first's output.

    The block outputs both convolutions' features (``2 * filters`` channels).
    """
    c1 = conv3(x, filters, f"{name}_conv1")
    c2 = conv3(layers.Concatenate(name=f"{name}_cat1")([x, c1]), filters, f"{name}_conv2")
    out = layers.Concatenate(name=f"{name}_cat2")([c1, c2])
    return layers.BatchNormalization(name=f"{name}_bn")(out)


def dense_unet(input_shape: Sequence[int] = (256, 256, 1), *, name: str = "dense_unet") -> keras.Model:
    """Densely connected U-Net (2-D, after Kolarik et al. 2019).

    In each block the second convolution reads the concatenation of the block
    input and the first convolution's output, and the block outputs both
    convolutions' features (16,295,649 trainable parameters).  The paper's
    Table 1 reports 15.47 M for its "Densely-UNet"; the authors' exact variant
    is not public, so this count is not pinned: of the dense wirings we tried
    this one comes closest.

    Example
    -------
    >>> dense_unet((32, 32, 1)).output_shape
    (None, 32, 32, 1)
    """
    shape = validate_input_shape(input_shape)
    inputs = keras.Input(shape=shape, name="image")
    x, skips = inputs, []
    for level, f in enumerate(_FILTERS[:-1], start=1):
        x = _dense_block(x, f, f"enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    x = _dense_block(x, _FILTERS[-1], "bottleneck")
    for level in range(4, 0, -1):
        f, tag = _FILTERS[level - 1], f"dec{level}"
        up = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"{tag}_up")(x)
        x = _dense_block(layers.Concatenate(name=f"{tag}_concat")([up, skips[level - 1]]), f, tag)
    return keras.Model(inputs, _head(x), name=name)


def _conv_bn(x, filters: int, size: int, name: str, activation: str | None = "relu"):
    """MultiResUNet's ``conv2d_bn``: conv without bias, BN without scale, activation."""
    x = layers.Conv2D(filters, size, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(scale=False, name=f"{name}_bn")(x)
    return x if activation is None else layers.Activation(activation, name=f"{name}_act")(x)


def _multires_block(x, units: int, name: str, alpha: float = 1.67):
    w = alpha * units
    f3, f5, f7 = int(w * 0.167), int(w * 0.333), int(w * 0.5)
    shortcut = _conv_bn(x, f3 + f5 + f7, 1, f"{name}_short", activation=None)
    c3 = _conv_bn(x, f3, 3, f"{name}_c3")
    c5 = _conv_bn(c3, f5, 3, f"{name}_c5")
    c7 = _conv_bn(c5, f7, 3, f"{name}_c7")
    out = layers.BatchNormalization(name=f"{name}_cat_bn")(layers.Concatenate(name=f"{name}_cat")([c3, c5, c7]))
    out = layers.Activation("relu", name=f"{name}_relu")(layers.Add(name=f"{name}_add")([shortcut, out]))
    return layers.BatchNormalization(name=f"{name}_out_bn")(out)


def multires_unet(input_shape: Sequence[int] = (256, 256, 1), *, head_bn: bool = True,
                  name: str = "multires_unet") -> keras.Model:
    """MultiResUNet (Ibtehaz and Rahman 2020), as in the authors' Keras code.

    Parameters
    ----------
    input_shape : (H, W, C), default (256, 256, 1)
        H and W divisible by 16.
    head_bn : bool, default True
        The authors' head: a 1x1 convolution without bias, BatchNormalization
        *without scale*, then the sigmoid. Its logits therefore have unit
        variance over each training batch, and only the BN offset decides how
        confident the probabilities can be (chapter 8). ``False`` uses the
        other models' head instead: a 1x1 convolution with bias, then the
        sigmoid (the same number of trainable parameters).
    name : str

    Returns
    -------
    keras.Model

    Example
    -------
    >>> multires_unet((32, 32, 1)).count_params()
    7262504
    >>> multires_unet((32, 32, 1), head_bn=False).count_params()  # minus the head BN's moving mean and variance
    7262502
    """
    if not isinstance(head_bn, bool):
        raise TypeError(f"head_bn must be True or False, got {head_bn!r}")
    shape = validate_input_shape(input_shape)
    inputs = keras.Input(shape=shape, name="image")
    x, skips = inputs, []
    for level, f in enumerate(_FILTERS[:-1], start=1):
        block = _multires_block(x, f, f"enc{level}")
        x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(block)
        skips.append(ResPath(f, 5 - level, name=f"respath{level}")(block))
    x = _multires_block(x, _FILTERS[-1], "bottleneck")
    for level in range(4, 0, -1):
        f, tag = _FILTERS[level - 1], f"dec{level}"
        up = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"{tag}_up")(x)
        x = _multires_block(layers.Concatenate(name=f"{tag}_concat")([up, skips[level - 1]]), f, tag)
    if not head_bn:
        return keras.Model(inputs, _head(x), name=name)
    x = _conv_bn(x, 1, 1, "head", activation=None)
    x = layers.Activation("sigmoid", name="probability", dtype="float32")(x)
    return keras.Model(inputs, x, name=name)

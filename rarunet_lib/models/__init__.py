"""Segmentation networks: RAR-U-Net, its Table 4 ablations and the baselines.

Use :func:`build` with a name from :func:`available_models`, or call the
builders directly (:func:`rar_unet`, :func:`table4_model`, ...).

Example
-------
>>> from rarunet_lib.models import build, count_trainable
>>> count_trainable(build("unet", (32, 32, 1)))
7762465
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import keras
import numpy as np

from .baselines import attention_unet, dense_unet, multires_unet
from .blocks import CBAM, ResPath, conv3, plain_block, residual_encoder_block
from .rar_unet import TABLE4_ROWS, rar_unet, table4_model, validate_input_shape

__all__ = [
    "CBAM",
    "MODELS",
    "ModelInfo",
    "ResPath",
    "TABLE4_ROWS",
    "attention_unet",
    "attention_maps",
    "available_models",
    "build",
    "conv3",
    "count_trainable",
    "dense_unet",
    "multires_unet",
    "plain_block",
    "rar_unet",
    "residual_encoder_block",
    "set_batchnorm_momentum",
    "table4_model",
    "validate_input_shape",
]


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: its builder and what the paper says about it.

    Attributes
    ----------
    builder : callable
        ``builder(input_shape, **kwargs) -> keras.Model``.
    description : str
        One line for tables.
    paper_params_millions : float or None
        The paper's Table 1 parameter figure for the model it names, if any.
    paper_note : str
        Where that figure comes from and how far to trust it.
    """

    builder: Callable[..., keras.Model]
    description: str
    paper_params_millions: float | None
    paper_note: str


MODELS: dict[str, ModelInfo] = {
    "unet": ModelInfo(
        partial(table4_model, 1), "U-Net, conv-conv-BN blocks (Table 4 row 1)", 7.26,
        "Table 1 'UNet 7.26M'; looks swapped with MultiRes UNet (Table 4 row 1 has 7,762,465)",
    ),
    "residual_unet": ModelInfo(
        partial(table4_model, 2), "U-Net + residual encoder (Table 4 row 2)", 9.90,
        "Table 1 'Residual-UNet 9.90M' = Table 4 row 2",
    ),
    "attention_unet_cbam": ModelInfo(
        partial(table4_model, 4), "U-Net + CBAM attention decoder (Table 4 row 4)", None,
        "not in Table 1; Table 4 row 4 has 7,785,157; most plausibly Table 5's 'Attention-UNet'",
    ),
    "attention_unet": ModelInfo(
        attention_unet, "U-Net + additive attention gates (Oktay et al. 2018)", None,
        "Table 1 lists only a 3-D Attention UNet (22.60M), not comparable",
    ),
    "dense_unet": ModelInfo(
        dense_unet, "densely connected U-Net (after Kolarik et al. 2019)", 15.47,
        "Table 1 'Densely-UNet 15.47M'; the authors' variant is not public",
    ),
    "multires_unet": ModelInfo(
        multires_unet, "MultiResUNet (Ibtehaz and Rahman 2020)", 7.76,
        "Table 1 'MultiRes UNet 7.76M'; looks swapped with UNet (MultiResUNet has 7,262,504)",
    ),
    "rar_unet": ModelInfo(
        partial(table4_model, 7), "RAR-U-Net (Table 4 row 7)", 11.79,
        "Table 1 'RAR-U-Net 11.79M' = Table 4 row 7 (11,794,125)",
    ),
}


def available_models() -> list[str]:
    """Names accepted by :func:`build`, in the book's order.

    Example
    -------
    >>> available_models()[:3]
    ['unet', 'residual_unet', 'attention_unet_cbam']
    """
    return list(MODELS)


def build(name: str, input_shape: Sequence[int] = (256, 256, 1), **kwargs) -> keras.Model:
    """Build a registered model by name.

    Parameters
    ----------
    name : str
        One of :func:`available_models`.
    input_shape : (H, W, C), default (256, 256, 1)
        H and W divisible by 16; C >= 1.
    **kwargs
        Passed to the builder (``rar_unet`` options for the Table 4 family).

    Returns
    -------
    keras.Model

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or a bad shape.

    Example
    -------
    >>> build("rar_unet", (32, 32, 1)).name
    'table4_row7'
    """
    if name not in MODELS:
        raise ValueError(f"name={name!r} is not a known model; valid names: {', '.join(MODELS)}")
    return MODELS[name].builder(input_shape, **kwargs)


def set_batchnorm_momentum(model: keras.Model, momentum: float) -> int:
    """Set the momentum of every BatchNormalization layer, nested ones included.

    Keras's default, 0.99, averages the batch statistics over about 100
    steps; a run of a few dozen steps (the quick profile) then evaluates with
    statistics that are still mostly their initial values, and its predictions
    in inference mode collapse.  0.9 averages over about 10 steps.  The
    momentum is not a weight: parameter counts do not change.

    Returns the number of layers changed.

    Example
    -------
    >>> set_batchnorm_momentum(build("unet", (32, 32, 1)), 0.9)
    9
    """
    if not 0.0 <= float(momentum) < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    n = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = float(momentum)
            n += 1
    return n


def count_trainable(model: keras.Model) -> int:
    """Number of trainable parameters (Keras's "Trainable params").

    Example
    -------
    >>> count_trainable(build("rar_unet", (32, 32, 1)))
    11794125
    """
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def attention_maps(model: keras.Model, images, layer_name: str):
    """Channel weights and spatial map of one CBAM layer of a model, for given images.

    Parameters
    ----------
    model : keras.Model
        A model with a :class:`CBAM` layer (e.g. RAR-U-Net: ``"dec1_cbam"`` ...
        ``"dec4_cbam"``).
    images : array_like, shape (n, H, W, C)
        Model inputs.
    layer_name : str
        Name of the CBAM layer.

    Returns
    -------
    channel_weights : numpy.ndarray, shape (n, C_layer)
    spatial_map : numpy.ndarray, shape (n, h, w)
        The weights the layer multiplies in, in (0, 1).

    Example
    -------
    >>> m = rar_unet((32, 32, 1))
    >>> cw, sm = attention_maps(m, np.zeros((1, 32, 32, 1), "float32"), "dec1_cbam")
    >>> cw.shape, sm.shape
    ((1, 32), (1, 32, 32))
    """
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        names = [lay.name for lay in model.layers if isinstance(lay, CBAM)]
        raise ValueError(f"layer_name={layer_name!r} is not a layer of the model; CBAM layers: {names}") from None
    if not isinstance(layer, CBAM):
        raise ValueError(f"layer_name={layer_name!r} is a {type(layer).__name__}, not a CBAM layer")
    features = keras.Model(model.inputs, layer.input)(np.asarray(images, dtype="float32"))
    cw, sm = layer.attention_maps(features)
    return np.asarray(cw)[:, 0, 0, :], np.asarray(sm)[..., 0]

"""RAR-U-Net and its Table 4 ablation family.

The paper's text leaves the wiring open; its Table 4 parameter counts do not.
The wiring below reproduces all seven counts to the unit:

* every block is two ``Conv2D(F, 3, padding="same", relu)``; filters 32, 64,
  128, 256 and a 512 bottleneck; max pooling down, ``Conv2DTranspose(F, 2, 2)``
  up; a ``Conv2D(1, 1)`` sigmoid head;
* **baseline** (no contribution): each of the nine blocks ends in a
  ``BatchNormalization``; the skip is the block output;
* **residual encoder**: each of the five encoder levels and four decoder
  blocks concatenates its *input* with its second convolution's output; BN on
  those concatenations except the bottleneck's; the pooled tensor is the BN'd
  concatenation, the skip the plain second convolution;
* **attention decoder**: :class:`~rarunet_lib.models.blocks.CBAM` on the output
  of each decoder block's two convolutions;
* **residual block paths**: a :class:`~rarunet_lib.models.blocks.ResPath` of
  length 4, 3, 2, 1 replaces each skip; it reads the block output (baseline
  encoder), or, with the residual encoder, the concatenation
  (``respath_input="concat"``, row 7, the published RAR-U-Net) or the second
  convolution (``respath_input="conv"``, row 6).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from ..checks import check_choice
from .blocks import CBAM, ResPath, conv3, plain_block, residual_encoder_block

__all__ = ["rar_unet", "TABLE4_ROWS", "table4_model", "validate_input_shape"]

#: The seven rows of the paper's Table 4: flags, keyword arguments and the
#: published trainable-parameter count.
TABLE4_ROWS: tuple[dict, ...] = (
    {"row": 1, "residual_encoder": False, "residual_paths": False, "attention": False, "params": 7_762_465},
    {"row": 2, "residual_encoder": True, "residual_paths": False, "attention": False, "params": 9_899_625},
    {"row": 3, "residual_encoder": False, "residual_paths": True, "attention": False, "params": 8_912_673},
    {"row": 4, "residual_encoder": False, "residual_paths": False, "attention": True, "params": 7_785_157},
    {"row": 5, "residual_encoder": True, "residual_paths": False, "attention": True, "params": 9_922_317},
    {"row": 6, "residual_encoder": True, "residual_paths": True, "attention": False, "params": 11_049_833,
     "respath_input": "conv"},
    {"row": 7, "residual_encoder": True, "residual_paths": True, "attention": True, "params": 11_794_125},
)

_RESPATH_INPUTS = ("concat", "conv")
_OUTPUTS = ("sigmoid", "logits")


def validate_input_shape(input_shape: Sequence[int], *, levels: int = 4) -> tuple[int, int, int]:
    """Check an ``(H, W, C)`` input shape for a U-Net with ``levels`` poolings.

    Parameters
    ----------
    input_shape : sequence of 3 ints
        Height, width, channels.  Height and width must be divisible by
        ``2**levels`` (16 for the paper's 4 poolings); channels >= 1 (more than
        one for 2.5-D input, neighbouring slices as channels).
    levels : int, default 4
        Number of 2x2 poolings.

    Returns
    -------
    tuple of int
        The validated ``(H, W, C)``.

    Raises
    ------
    ValueError
        If the shape does not have three positive entries or H, W are not
        divisible by ``2**levels``.

    Example
    -------
    >>> validate_input_shape((64, 64, 1))
    (64, 64, 1)
    """
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}") from None
    if len(shape) != 3 or any(s < 1 for s in shape):
        raise ValueError(
            f"input_shape must be (height, width, channels) with positive entries, got {input_shape!r}"
        )
    factor = 2**levels
    h, w, _ = shape
    if h % factor or w % factor:
        raise ValueError(
            f"input_shape height and width must be divisible by {factor} "
            f"({levels} poolings), got {h}x{w}"
        )
    return shape


def rar_unet(
    input_shape: Sequence[int] = (256, 256, 1),
    *,
    residual_encoder: bool = True,
    residual_paths: bool = True,
    attention: bool = True,
    respath_input: str = "concat",
    attention_order: str = "channel_first",
    attention_form: str = "cbam",
    filters: Sequence[int] = (32, 64, 128, 256, 512),
    respath_lengths: Sequence[int] = (4, 3, 2, 1),
    dropout: float = 0.0,
    output: str = "sigmoid",
    name: str | None = None,
) -> keras.Model:
    """Build RAR-U-Net or one of its ablations (Table 4).

    Parameters
    ----------
    input_shape : (H, W, C), default (256, 256, 1)
        H and W divisible by 16; C >= 1.
    residual_encoder : bool, default True
        Contribution 1: concatenate each block's input with its output.
    residual_paths : bool, default True
        Contribution 2: residual block paths instead of plain skips.
    attention : bool, default True
        Contribution 3: CBAM after each decoder block's convolutions.
    respath_input : {"concat", "conv"}, default "concat"
        What the residual paths read when the residual encoder is on too:
        the concatenation (Table 4 row 7) or the second convolution (row 6).
        Ignored otherwise.
    attention_order : {"channel_first", "spatial_first"}, default "channel_first"
        See :class:`~rarunet_lib.models.blocks.CBAM`.
    attention_form : {"cbam", "parameter_free"}, default "cbam"
        See :class:`~rarunet_lib.models.blocks.CBAM`; only "cbam" reproduces
        Table 4.
    filters : sequence of 5 ints, default (32, 64, 128, 256, 512)
        Filters per encoder level, bottleneck last.
    respath_lengths : sequence of 4 ints, default (4, 3, 2, 1)
        Residual blocks per path, level 1 first.
    dropout : float, default 0.0
        Dropout rate after each block (0 disables; the authors' code used 0.1).
    output : {"sigmoid", "logits"}, default "sigmoid"
        Probability output or raw logits.  The head runs in float32 under a
        mixed-precision policy.
    name : str, optional
        Model name (default: derived from the flags).

    Returns
    -------
    keras.Model
        Uncompiled model mapping ``(batch, H, W, C)`` to ``(batch, H, W, 1)``.

    Raises
    ------
    ValueError
        For an invalid input shape or option value.

    Example
    -------
    >>> model = rar_unet((32, 32, 1))
    >>> sum(int(w.numpy().size) for w in model.trainable_weights)
    11794125
    """
    filters = tuple(int(f) for f in filters)
    lengths = tuple(int(n) for n in respath_lengths)
    if len(filters) != 5:
        raise ValueError(f"filters must have 5 entries (4 levels + bottleneck), got {filters}")
    if len(lengths) != 4:
        raise ValueError(f"respath_lengths must have 4 entries, got {lengths}")
    check_choice("respath_input", respath_input, _RESPATH_INPUTS)
    check_choice("output", output, _OUTPUTS)
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    shape = validate_input_shape(input_shape, levels=len(filters) - 1)

    def maybe_dropout(x, tag):
        return layers.Dropout(dropout, name=f"{tag}_dropout")(x) if dropout else x

    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    skips = []
    for level, f in enumerate(filters[:-1], start=1):
        tag = f"enc{level}"
        if residual_encoder:
            cat, conv = residual_encoder_block(x, f, tag)
            out = layers.BatchNormalization(name=f"{tag}_bn")(cat)
            skip = conv
            respath_source = out if respath_input == "concat" else conv
        else:
            out = layers.BatchNormalization(name=f"{tag}_bn")(plain_block(x, f, tag))
            skip = respath_source = out
        if residual_paths:
            skip = ResPath(f, lengths[level - 1], name=f"respath{level}")(respath_source)
        skips.append(skip)
        x = layers.MaxPooling2D(2, name=f"{tag}_pool")(maybe_dropout(out, tag))

    if residual_encoder:
        x, _ = residual_encoder_block(x, filters[-1], "bottleneck")
    else:
        x = layers.BatchNormalization(name="bottleneck_bn")(plain_block(x, filters[-1], "bottleneck"))
    x = maybe_dropout(x, "bottleneck")

    for level in range(len(filters) - 1, 0, -1):
        f, tag = filters[level - 1], f"dec{level}"
        up = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"{tag}_up")(x)
        cat = layers.Concatenate(name=f"{tag}_concat")([up, skips[level - 1]])
        c = conv3(conv3(cat, f, f"{tag}_conv1"), f, f"{tag}_conv2")
        if attention:
            c = CBAM(order=attention_order, form=attention_form, name=f"{tag}_cbam")(c)
        if residual_encoder:
            c = layers.Concatenate(name=f"{tag}_residual_concat")([cat, c])
        x = maybe_dropout(layers.BatchNormalization(name=f"{tag}_bn")(c), tag)

    x = layers.Conv2D(1, 1, name="head", dtype="float32")(x)
    if output == "sigmoid":
        x = layers.Activation("sigmoid", name="probability", dtype="float32")(x)
    if name is None:
        parts = [p for p, on in (("resenc", residual_encoder), ("respath", residual_paths),
                                 ("cbam", attention)) if on]
        name = "rar_unet" if len(parts) == 3 else "unet_" + ("_".join(parts) or "baseline")
    return keras.Model(inputs, x, name=name)


def table4_model(row: int, input_shape: Sequence[int] = (256, 256, 1), **kwargs) -> keras.Model:
    """Build the model of one row (1-7) of the paper's Table 4.

    Parameters
    ----------
    row : int
        Table 4 row, 1 (plain U-Net with BN) to 7 (RAR-U-Net).
    input_shape : (H, W, C), default (256, 256, 1)
    **kwargs
        Passed on to :func:`rar_unet` (e.g. ``output="logits"``).

    Example
    -------
    >>> m = table4_model(1, (32, 32, 1))
    >>> m.name
    'table4_row1'
    """
    if isinstance(row, bool) or not isinstance(row, int) or not 1 <= row <= len(TABLE4_ROWS):
        raise ValueError(f"row must be an integer from 1 to {len(TABLE4_ROWS)}, got {row!r}")
    spec = dict(TABLE4_ROWS[row - 1])
    spec.pop("row")
    spec.pop("params")
    spec.update(kwargs)
    spec.setdefault("name", f"table4_row{row}")
    return rar_unet(input_shape, **spec)

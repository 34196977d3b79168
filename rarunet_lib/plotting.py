"""Figures for the book: colour-blind-safe overlays and labelled panels.

Colours are the Okabe-Ito palette (safe for the common colour-vision
deficiencies); masks are drawn as outlines or translucent fills so that the CT
underneath stays readable.  matplotlib only (no TensorFlow).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["OKABE_ITO", "use_book_style", "show_overlay", "mask_legend_handles"]

#: Okabe-Ito colour-blind-safe palette.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

_DEFAULT_COLOURS = ("sky_blue", "orange", "bluish_green", "reddish_purple", "yellow", "vermillion")


def use_book_style() -> None:
    """Readable defaults: larger fonts, Okabe-Ito colour cycle, tight layouts.

    Example
    -------
    >>> use_book_style()
    """
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 10,
            "figure.constrained_layout.use": True,
            "axes.prop_cycle": mpl.cycler(color=[OKABE_ITO[k] for k in
                                                 ("blue", "orange", "bluish_green", "vermillion",
                                                  "reddish_purple", "sky_blue", "yellow", "black")]),
            "image.cmap": "gray",
        }
    )


def _colour(name_or_hex: str) -> str:
    return OKABE_ITO.get(name_or_hex, name_or_hex)


def show_overlay(
    image,
    masks: Mapping[str, np.ndarray] | None = None,
    *,
    ax=None,
    colours: Mapping[str, str] | None = None,
    style: str = "contour",
    title: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    legend: bool = True,
    linewidth: float = 1.5,
):
    """Show a grey-level slice with binary masks drawn over it.

    Parameters
    ----------
    image : array_like, shape (H, W)
        The slice (any range; ``vmin``/``vmax`` set the grey window).
    masks : mapping of label -> (H, W) binary array, optional
        Masks to draw, in order; labels go into the legend.
    ax : matplotlib Axes, optional
        Where to draw (a new figure when omitted).
    colours : mapping of label -> colour, optional
        Okabe-Ito names or hex codes; by default sky blue, orange, green...
    style : {"contour", "fill"}, default "contour"
        Outlines (best for comparing masks) or translucent fills.
    title : str, optional
    vmin, vmax : float, optional
        Grey window.
    legend : bool, default True
    linewidth : float, default 1.5

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> import numpy as np
    >>> m = np.zeros((32, 32), bool); m[8:24, 8:24] = True
    >>> ax = show_overlay(np.random.default_rng(0).random((32, 32)), {"mask": m})
    """
    if style not in ("contour", "fill"):
        raise ValueError(f"style={style!r} is not allowed; use 'contour' or 'fill'")
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {img.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(img, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
    masks = dict(masks or {})
    colours = dict(colours or {})
    handles = []
    for i, (label, mask) in enumerate(masks.items()):
        m = np.asarray(mask).astype(bool)
        if m.shape != img.shape:
            raise ValueError(f"mask {label!r} has shape {m.shape}, image has {img.shape}")
        c = _colour(colours.get(label, _DEFAULT_COLOURS[i % len(_DEFAULT_COLOURS)]))
        if style == "fill":
            rgba = np.zeros(m.shape + (4,))
            rgba[m] = mpl.colors.to_rgba(c, 0.45)
            ax.imshow(rgba, interpolation="nearest")
        elif m.any() and not m.all():
            ax.contour(m.astype(float), levels=[0.5], colors=[c], linewidths=linewidth)
        handles.append(mpl.lines.Line2D([], [], color=c, lw=3, label=label))
    if legend and handles:
        ax.legend(handles=handles, loc="lower right", framealpha=0.8)
    if title:
        ax.set_title(title)
    ax.set_axis_off()
    return ax


def mask_legend_handles(labels_colours: Mapping[str, str]):
    """Legend handles for a label -> colour mapping (Okabe-Ito names allowed)."""
    return [mpl.lines.Line2D([], [], color=_colour(c), lw=3, label=lab) for lab, c in labels_colours.items()]


def draw_unet_diagram(
    *,
    residual_encoder: bool = True,
    residual_paths: bool = True,
    attention: bool = True,
    ax=None,
    title: str | None = None,
):
    """Schematic of the U-Net family of Table 4 (which contributions are on).

    Encoder blocks descend on the left, decoder blocks ascend on the right;
    skips run across.  Residual encoders are drawn as a "+in" bracket on every
    block, residual block paths as ResPath boxes with their lengths, attention
    as a CBAM tag on each decoder block.  Colours are Okabe-Ito.

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> ax = draw_unet_diagram(attention=False)
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.2))
    filters = (32, 64, 128, 256)
    lengths = (4, 3, 2, 1)
    enc_c, dec_c = OKABE_ITO["sky_blue"], OKABE_ITO["bluish_green"]
    res_c, att_c, path_c = OKABE_ITO["orange"], OKABE_ITO["reddish_purple"], OKABE_ITO["yellow"]

    def block(x, y, text, colour, w=2.6, h=0.6, edge="black", lw=1.0):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                    fc=colour, ec=edge, lw=lw))
        ax.text(x, y, text, ha="center", va="center", fontsize=9)

    def arrow(x0, y0, x1, y1, style="-|>", colour="black", ls="-"):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=10,
                                     color=colour, lw=1.2, linestyle=ls))

    ys = [4.0, 3.0, 2.0, 1.0]
    ex, dx = 1.3, 8.7
    for i, (f, y) in enumerate(zip(filters, ys, strict=True)):
        block(ex, y, f"enc{i + 1}: 2 x conv3, {f}", enc_c)
        dec_text = f"dec{i + 1}: 2 x conv3, {f}" + (" + CBAM" if attention else "")
        block(dx, y, dec_text, dec_c, w=3.3 if attention else 2.6,
              edge=att_c if attention else "black", lw=2.5 if attention else 1.0)
        if residual_encoder:
            ax.text(ex - 1.75, y, "+in", color=res_c, fontsize=10, fontweight="bold", ha="center", va="center")
            ax.text(dx + (2.05 if attention else 1.75), y, "+in", color=res_c, fontsize=10,
                    fontweight="bold", ha="center", va="center")
        if residual_paths:
            block(5.0, y, f"ResPath x {lengths[i]}", path_c, w=1.7, h=0.45)
            arrow(ex + 1.3, y, 4.15, y)
            arrow(5.85, y, dx - (1.65 if attention else 1.3), y)
        else:
            arrow(ex + 1.3, y, dx - (1.65 if attention else 1.3), y, ls="--")
            ax.text(5.0, y + 0.12, "copy (skip)", ha="center", fontsize=8)
        if i < 3:
            arrow(ex, y - 0.3, ex, ys[i + 1] + 0.3)
            arrow(dx, ys[i + 1] + 0.3, dx, y - 0.3)
    block(5.0, 0.0, "bottleneck: 2 x conv3, 512", OKABE_ITO["sky_blue"], w=3.0)
    arrow(ex, 0.7, 3.5, 0.0)
    arrow(6.5, 0.0, dx, 0.7)
    ax.text(ex, -0.6, "max-pool down", ha="center", fontsize=8)
    ax.text(dx, -0.6, "transposed conv up", ha="center", fontsize=8)
    if residual_encoder:
        ax.text(5.0, 4.55, "+in: block input concatenated to its output (residual encoder)",
                ha="center", fontsize=8, color=res_c)
    ax.set_xlim(-0.8, 11.0)
    ax.set_ylim(-0.9, 4.8)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax

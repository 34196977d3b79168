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

__all__ = ["OKABE_ITO", "use_book_style", "show_overlay", "mask_legend_handles", "plot_training_curves",
           "plot_predictions", "plot_sample_losses", "plot_detection"]

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
    if residual_encoder:  # the bottleneck concatenates its input too (without a BN on it)
        ax.text(5.0, -0.5, "+in", color=res_c, fontsize=10, fontweight="bold", ha="center", va="center")
        ax.text(5.0, 4.55, "+in: block input concatenated to its output (residual encoder)",
                ha="center", fontsize=8, color=res_c)
    ax.set_xlim(-0.8, 11.0)
    ax.set_ylim(-0.9, 4.8)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------- training figures (chapters 5, 6)
def plot_training_curves(history: Mapping, *, ax=None):
    """Training and validation Dice loss per epoch of a :class:`~rarunet_lib.train.Trainer` history.

    Example
    -------
    >>> ax = plot_training_curves({"epochs": [{"epoch": 1, "loss": 0.6, "val_loss": 0.5},
    ...                                       {"epoch": 2, "loss": 0.3, "val_loss": 0.35}]})
    >>> ax.get_xlabel(), len(ax.lines)
    ('epoch', 2)
    >>> plt.close(ax.figure)
    """
    epochs = list(history["epochs"])
    if not epochs:
        raise ValueError("history['epochs'] is empty: train at least one epoch first")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    t = [e["epoch"] for e in epochs]
    ax.plot(t, [e["loss"] for e in epochs], "o-", color=OKABE_ITO["blue"], label="training")
    ax.plot(t, [e["val_loss"] for e in epochs], "s--", color=OKABE_ITO["orange"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Dice loss (1 - soft Dice)")
    ax.set_ylim(0, 1)
    ax.legend()
    return ax


def plot_predictions(images, truth, pred, indices, *, axes, label: str = "prediction"):
    """Reference (sky blue) and predicted (orange) outlines on the slices ``indices``, one per axis.

    Each panel's title names the slice and its Dice (NaN where both masks are empty).

    Example
    -------
    >>> img, m = np.zeros((2, 16, 16)), np.zeros((2, 16, 16), bool)
    >>> m[:, 4:10, 4:10] = True
    >>> fig, axes = plt.subplots(1, 2)
    >>> [ax.get_title() for ax in plot_predictions(img, m, m, [0, 1], axes=axes)]
    ['slice 0: Dice 1.00', 'slice 1: Dice 1.00']
    >>> plt.close(fig)
    """
    from .metrics import dice

    axes = list(np.ravel(axes))
    indices = [int(i) for i in indices]
    if len(indices) != len(axes):
        raise ValueError(f"indices has {len(indices)} slices for {len(axes)} axes; give one per axis")
    for n, (ax, i) in enumerate(zip(axes, indices, strict=True)):
        g, p = np.asarray(truth[i]).astype(bool), np.asarray(pred[i]).astype(bool)
        show_overlay(images[i], {"reference": g, label: p}, ax=ax, legend=n == 0,
                     title=f"slice {i}: Dice {dice(g, p):.2f}")
    return axes


def plot_sample_losses(losses, excluded, noisy=None, *, ax=None):
    """Heatmap of every training sample's loss (rows) per epoch (columns), noisy samples first.

    Two kinds of empty cell are drawn apart: grey where ADL left the sample out
    (``excluded``), white where it was one of the fewer-than-a-batch samples left over
    after the last full batch (``drop_remainder``: no loss recorded, not ADL's choice).

    Parameters
    ----------
    losses : array_like, shape (epochs, samples)
        ``Trainer.losses``: NaN where no loss was recorded.
    excluded : sequence of sequences of int
        ``Trainer.excluded``: the samples ADL left out of each epoch.
    noisy : sequence of int, optional
        Samples with corrupted masks, drawn first, below an orange line.

    Returns
    -------
    dict
        ``image`` (the AxesImage, for a colour bar), ``order`` (row order), and per epoch the
        number of cells ``sat_out`` (ADL) and ``left_over`` (last incomplete batch).

    Example
    -------
    >>> loss = np.array([[0.2, 0.9, np.nan], [np.nan, 0.8, 0.1]])
    >>> out = plot_sample_losses(loss, [[], [0]], noisy=[1])
    >>> out["sat_out"], out["left_over"], out["order"].tolist()
    ([0, 1], [1, 0], [1, 0, 2])
    >>> plt.close(out["image"].figure)
    """
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2:
        raise ValueError(f"losses must be (epochs, samples), got shape {losses.shape}")
    n_epochs, n = losses.shape
    if len(excluded) != n_epochs:
        raise ValueError(f"excluded has {len(excluded)} epochs, losses {n_epochs}")
    sat = np.zeros_like(losses, dtype=bool)
    for t, ids in enumerate(excluded):
        sat[t, np.asarray(ids, dtype=int)] = True
    left = np.isnan(losses) & ~sat
    is_noisy = np.zeros(n, bool)
    if noisy is not None:
        is_noisy[np.asarray(noisy, dtype=int)] = True
    seen = np.isfinite(losses)
    mean = np.where(seen, losses, 0.0).sum(axis=0) / np.maximum(seen.sum(axis=0), 1)
    order = np.lexsort((-mean, ~is_noisy))
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5))
    extent = (0.5, n_epochs + 0.5, n, 0)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#FFFFFF")  # left over by the last incomplete batch
    image = ax.imshow(np.ma.masked_invalid(losses[:, order].T), aspect="auto", cmap=cmap, vmin=0, vmax=1,
                      interpolation="nearest", extent=extent)
    grey = np.zeros((n, n_epochs, 4))
    grey[sat[:, order].T] = mpl.colors.to_rgba("#999999")
    ax.imshow(grey, aspect="auto", interpolation="nearest", extent=extent)
    if is_noisy.any():
        ax.axhline(is_noisy.sum(), color=OKABE_ITO["orange"], lw=2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training sample (noisy first, then by mean loss)")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="#999999", label="left out by ADL"),
               Patch(facecolor="#FFFFFF", edgecolor="#000000", label="left over (last batch)")]
    if is_noisy.any():
        handles.append(Line2D([], [], color=OKABE_ITO["orange"], lw=2, label="end of the noisy masks"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8)
    return {"image": image, "order": order, "sat_out": sat.sum(axis=1).tolist(),
            "left_over": left.sum(axis=1).tolist()}


def plot_detection(history: Mapping, *, noisy_share: float | None = None, ax=None):
    """ADL's detection precision and recall per epoch (``detection_*`` of a Trainer history).

    Epochs where ADL left nothing out have no precision (NaN, not drawn).  ``noisy_share``
    draws the precision of a random choice (the share of noisy masks) as a dotted line.

    Example
    -------
    >>> h = {"epochs": [{"epoch": 1}, {"epoch": 2, "detection_precision": 0.6, "detection_recall": 0.1}]}
    >>> ax = plot_detection(h, noisy_share=0.5)
    >>> ax.get_ylabel(), len(ax.lines)
    ('share of masks', 3)
    >>> plt.close(ax.figure)
    """
    epochs = list(history["epochs"])
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    t = [e["epoch"] for e in epochs]
    for key, style, colour, label in (("detection_precision", "o-", "blue", "precision"),
                                      ("detection_recall", "s--", "orange", "recall")):
        ax.plot(t, [e.get(key, np.nan) for e in epochs], style, color=OKABE_ITO[colour], label=label)
    if noisy_share is not None:
        ax.axhline(noisy_share, color=OKABE_ITO["black"], ls=":", lw=1, label="random choice's precision")
    ax.set_ylim(0, 1.05)
    ax.set_xlim(0.5, max(t, default=1) + 0.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("share of masks")
    ax.legend(fontsize=8)
    return ax

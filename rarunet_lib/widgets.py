"""Interactive explorers (ipywidgets) and their kernel-free fallbacks (pre-rendered frames).

A live explorer needs a Jupyter kernel.  The static book has none, so every
explorer comes with a fallback built from the same drawing function: a
matplotlib animation rendered to inline JavaScript (``to_jshtml``: a frame
slider that works offline) or a grid of small multiples.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .noise import CALIBRATED_KINDS, corrupt, make_noisy_labels
from .plotting import OKABE_ITO, show_overlay

__all__ = [
    "draw_noise_panel",
    "noise_animation_html",
    "offline_jshtml",
    "draw_noisy_dataset",
    "noise_explorer",
    "draw_schedule",
    "schedule_animation_html",
    "schedule_explorer",
]


def draw_noise_panel(image, clean, kind: str, alpha: float, *, seed: int = 0, ax=None,
                     overlap: str = "dice") -> float:
    """Draw a slice with its clean mask and a noisy version at level ``alpha``.

    Returns the achieved overlap (Dice by default).  The title states target and
    achieved levels.

    Example
    -------
    >>> m = np.zeros((32, 32), np.uint8); m[8:24, 8:24] = 1
    >>> round(draw_noise_panel(np.zeros((32, 32)), m, "erosion", 0.8), 2)
    0.8
    """
    noisy, info = corrupt(clean, kind, alpha, seed=seed, overlap=overlap, return_info=True)
    achieved = info["achieved_alpha"]
    show_overlay(image, {"clean": clean, f"noisy ({kind})": noisy}, ax=ax,
                 colours={"clean": "sky_blue", f"noisy ({kind})": "orange"},
                 title=f"{kind}: target {alpha:.2f}, achieved {achieved:.3f}"
                 + ("" if info["reached"] else " (NOT reached)"))
    return float(achieved)


def noise_animation_html(image, clean, alphas: Sequence[float], *, kinds: Sequence[str] = CALIBRATED_KINDS,
                         seed: int = 0) -> str:
    """Pre-rendered frames over ``alphas`` (one panel per kind) as inline-JavaScript HTML.

    The frame slider works in a static page without a kernel or a network.

    Example
    -------
    >>> m = np.zeros((32, 32), np.uint8); m[8:24, 8:24] = 1
    >>> html = noise_animation_html(np.zeros((32, 32)), m, [0.9, 0.8], kinds=["erosion"])
    >>> "<script" in html
    True
    """
    from matplotlib import animation

    alphas = [float(a) for a in alphas]
    if not alphas:
        raise ValueError("alphas must hold at least one noise level")
    fig, axes = plt.subplots(1, len(kinds), figsize=(3.6 * len(kinds), 3.9), squeeze=False)
    axes = axes[0]

    def frame(i):
        for ax, kind in zip(axes, kinds, strict=True):
            ax.clear()
            draw_noise_panel(image, clean, kind, alphas[i], seed=seed, ax=ax)
        fig.suptitle(f"noise level alpha = {alphas[i]:.2f} (Dice with the clean mask)")
        return list(axes)

    anim = animation.FuncAnimation(fig, frame, frames=len(alphas), interval=600, blit=False)
    html = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    return offline_jshtml(html, f"Label noise at levels alpha = {', '.join(f'{a:.2f}' for a in alphas)}: "
                                f"{', '.join(kinds)} of one mask, one frame per level")


#: matplotlib's animation buttons use Font Awesome 4 icons from a CDN; offline pages get plain characters instead.
_ICONS = {
    "fa fa-minus": "\u2212", "fa fa-fast-backward": "\u00ab", "fa fa-step-backward": "\u2039",
    "fa fa-play fa-flip-horizontal": "\u25c0", "fa fa-pause": "\u275a\u275a", "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u203a", "fa fa-fast-forward": "\u00bb", "fa fa-plus": "+",
}


def offline_jshtml(html: str, alt: str) -> str:
    """Make matplotlib's ``to_jshtml`` output work offline and describe its frames.

    Drops the Font Awesome style sheet that matplotlib loads from a CDN (a page
    read offline would log an error and show empty buttons), replaces the icons
    by plain characters, and gives the frame image alt text.

    Parameters
    ----------
    html : str
        What ``FuncAnimation.to_jshtml`` returned.
    alt : str
        Alt text of the animation's image.

    Returns
    -------
    str

    Example
    -------
    >>> offline_jshtml('<link rel="stylesheet"\\nhref="https://x/font-awesome.min.css"><img id="_anim_img1">'
    ...                '<i class="fa fa-play"></i>', "frames").count("https")
    0
    """
    import html as _html
    import re

    html = re.sub(r'<link rel="stylesheet"\s*href="[^"]*font-awesome[^"]*">', "", html)
    for cls, char in _ICONS.items():
        html = html.replace(f'<i class="{cls}"></i>', f'<span aria-hidden="true">{char}</span>')
    return re.sub(r'<img id="(_anim_img[0-9a-f]+)"', lambda m: f'<img alt="{_html.escape(alt)}" id="{m.group(1)}"',
                  html)


def draw_noisy_dataset(images, masks, *, alpha: float, beta: float, seed: int = 0,
                       kinds: Sequence[str] = CALIBRATED_KINDS, columns: int = 8, axes=None):
    """Thumbnails of a small dataset, the corrupted masks framed and labelled by kind.

    Returns the manifest of :func:`~rarunet_lib.noise.make_noisy_labels`.

    Example
    -------
    >>> m = np.zeros((4, 32, 32), np.uint8); m[:, 8:24, 8:24] = 1
    >>> len(draw_noisy_dataset(np.zeros((4, 32, 32)), m, alpha=0.8, beta=0.5))
    2
    """
    noisy, manifest = make_noisy_labels(masks, alpha=alpha, beta=beta, seed=seed, kinds=kinds)
    n = len(masks)
    rows = int(np.ceil(n / columns))
    if axes is None:
        _, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.75 * rows), squeeze=False)
    axes = np.asarray(axes).ravel()
    by_index = {e["index"]: e for e in manifest}
    kind_colour = {"erosion": OKABE_ITO["vermillion"], "dilation": OKABE_ITO["blue"],
                   "elastic": OKABE_ITO["reddish_purple"]}
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.set_axis_off()
            continue
        ax.imshow(images[i], cmap="gray")
        e = by_index.get(i)
        if masks[i].any():
            ax.contour(masks[i], levels=[0.5], colors=[OKABE_ITO["sky_blue"]], linewidths=0.8)
        if e is not None:
            ax.contour(noisy[i], levels=[0.5], colors=[OKABE_ITO["orange"]], linewidths=0.8)
            colour = kind_colour.get(e["kind"], "black")
            for spine in ax.spines.values():
                spine.set_edgecolor(colour)
                spine.set_linewidth(3)
            ax.set_title(f"{e['kind']} {e['achieved_alpha']:.2f}", fontsize=8, color=colour)
        else:
            ax.set_title("clean" if masks[i].any() else "empty", fontsize=8)
    return manifest


def noise_explorer(images, masks, *, seed: int = 0):
    """ipywidgets explorer: noise kind, level alpha and proportion beta on a small dataset.

    Needs a live Jupyter kernel (the static book shows pre-rendered frames instead).

    Parameters
    ----------
    images, masks : arrays (n, H, W)
        A small dataset (a few dozen slices at most).
    seed : int, default 0

    Returns
    -------
    ipywidgets.VBox
    """
    import ipywidgets as w

    masks = np.asarray(masks)
    nonempty = [i for i in range(len(masks)) if masks[i].any()]
    if not nonempty:
        raise ValueError("masks must hold at least one non-empty mask")
    kind = w.Dropdown(options=list(CALIBRATED_KINDS), value="erosion", description="kind")
    alpha = w.FloatSlider(value=0.77, min=0.5, max=1.0, step=0.01, description="alpha", continuous_update=False)
    beta = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="beta", continuous_update=False)
    index = w.IntSlider(value=nonempty[0], min=0, max=len(masks) - 1, description="slice", continuous_update=False)
    out = w.Output()

    def update(*_):
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(12, 4.2))
            left = fig.add_subplot(1, 3, 1)
            if masks[index.value].any():
                draw_noise_panel(images[index.value], masks[index.value], kind.value, alpha.value,
                                 seed=seed, ax=left)
            else:
                show_overlay(images[index.value], {}, ax=left, title="empty mask: no noise possible")
            sub = fig.add_gridspec(1, 3)[0, 1:].subgridspec(3, 8)
            axes = [fig.add_subplot(sub[r, c]) for r in range(3) for c in range(8)]
            manifest = draw_noisy_dataset(images[:24], masks[:24], alpha=alpha.value, beta=beta.value,
                                          seed=seed, kinds=[kind.value], axes=axes)
            fig.suptitle(f"{len(manifest)} of {min(24, len(masks))} masks corrupted "
                         f"(beta = {beta.value:.2f}, round(beta * n))")
            plt.show()

    for widget in (kind, alpha, beta, index):
        widget.observe(update, names="value")
    update()
    return w.VBox([w.HBox([kind, alpha, beta, index]), out])


# ---------------------------------------------------------------- ADL schedule
def draw_schedule(alpha: float, beta: float, *, epochs: int = 50, n_masks: int = 5043, ax=None):
    """Plot Eq. 5's N(t): masks left out of each epoch.  Returns the schedule.

    Example
    -------
    >>> draw_schedule(0.68, 0.75, epochs=10, n_masks=100).tolist()[:3]
    [4, 2, 2]
    """
    from .adl import removal_schedule

    sched = removal_schedule(alpha, beta, epochs, n_masks)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    t = np.arange(1, epochs + 1)
    ax.step(t, sched, where="mid", color=OKABE_ITO["blue"], lw=2)
    k = (1 - alpha) * beta
    # The breakpoints are named in a legend, not beside their lines: at small k (alpha 0.85,
    # beta 0.25) both fall within the first epoch, and labels there would overlap.
    for frac, style, colour in ((0.1, "--", OKABE_ITO["orange"]), (0.5, ":", OKABE_ITO["vermillion"])):
        ax.axvline(frac * k * epochs, color=colour, ls=style, lw=1.5,
                   label=f"t = {frac} k x = {frac * k * epochs:.2f}")
    ax.set_xlabel("epoch t")
    ax.set_ylabel("masks left out, N(t)")
    ax.set_title(f"alpha = {alpha:.2f}, beta = {beta:.2f}: {int(sched.sum()):,} sit-outs, "
                 f"noisy masks {round(beta * n_masks):,}")
    ax.set_xlim(0, epochs + 0.5)
    ax.set_ylim(0, max(1, sched.max()) * 1.1)
    ax.legend(loc="best", fontsize=8, title="breakpoints of Eq. 5", title_fontsize=8)
    return sched


def schedule_animation_html(settings: Sequence[tuple[float, float]], *, epochs: int = 50,
                            n_masks: int = 5043) -> str:
    """Pre-rendered Eq. 5 schedules for (alpha, beta) pairs, as inline-JavaScript HTML.

    Example
    -------
    >>> "<script" in schedule_animation_html([(0.68, 0.75), (0.77, 0.5)], epochs=10, n_masks=100)
    True
    """
    from matplotlib import animation

    settings = list(settings)
    if not settings:
        raise ValueError("settings must hold at least one (alpha, beta) pair")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))

    def frame(i):
        ax.clear()
        draw_schedule(*settings[i], epochs=epochs, n_masks=n_masks, ax=ax)
        return [ax]

    anim = animation.FuncAnimation(fig, frame, frames=len(settings), interval=800, blit=False)
    html = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    return offline_jshtml(html, "Eq. 5's schedule N(t) for " + "; ".join(f"alpha {a:.2f}, beta {b:.2f}"
                                                                          for a, b in settings))


def schedule_explorer(*, epochs: int = 50, n_masks: int = 5043):
    """ipywidgets sliders for alpha and beta over Eq. 5 (needs a live kernel)."""
    import ipywidgets as w

    alpha = w.FloatSlider(value=0.68, min=0.05, max=1.0, step=0.01, description="alpha", continuous_update=False)
    beta = w.FloatSlider(value=0.75, min=0.0, max=1.0, step=0.05, description="beta", continuous_update=False)
    out = w.Output()

    def update(*_):
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(7, 3.8))
            draw_schedule(alpha.value, beta.value, epochs=epochs, n_masks=n_masks, ax=ax)
            plt.show()

    alpha.observe(update, names="value")
    beta.observe(update, names="value")
    update()
    return w.VBox([w.HBox([alpha, beta]), out])

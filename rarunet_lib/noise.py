"""Synthetic label noise at an exact level alpha (section 2.4, Fig. 2, Table 5).

The paper corrupts a proportion ``beta`` of the training masks by erosion,
dilation or an elastic transform so that the noisy mask overlaps the clean one
at level ``alpha``, but never says how a noise strength maps to ``alpha``.  Here
the mapping is exact:

* **erosion** removes the ``k`` foreground pixels nearest the background
  (smallest inside distance; ties broken by a seeded random key), **dilation**
  adds the ``k`` background pixels nearest the mask; ``k`` follows in closed
  form from ``alpha`` (Dice: ``k = |G| - alpha |G| / (2 - alpha)`` and
  ``k = 2 |G| (1 - alpha) / alpha``), so the achieved overlap is within
  ``1/|G|`` of ``alpha``; eroded masks lie inside the clean mask, dilated masks
  contain it;
* **elastic** warps the mask with a smooth random displacement field (uniform
  noise blurred by a Gaussian, after Simard et al. 2003) whose strength is found
  by bisection until the overlap is within 0.005 of ``alpha``.

``alpha`` is the Dice overlap by default (a noisy mask at Dice ``alpha`` has
Dice loss exactly ``1 - alpha``); ``overlap="iou"`` measures it as IoU.
The authors' public recipe (20x20 square erosion/dilation, a sinusoidal
per-column shift) is offered as the kinds ``"paper_erosion"``,
``"paper_dilation"`` and ``"paper_elastic"``; those have no level control and
report the level they happen to reach.

Only NumPy and SciPy are used.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage

from .checks import (
    ArgumentTypeError,
    check_bool,
    check_choice,
    check_int,
    check_mask,
    check_number,
    check_same_shape,
    check_seed,
    describe,
    refuse,
)
from .fileio import atomic_write_json

__all__ = [
    "KINDS",
    "CALIBRATED_KINDS",
    "NoiseUnreachableError",
    "overlap_score",
    "corrupt",
    "make_noisy_labels",
    "save_manifest",
    "load_manifest",
]

CALIBRATED_KINDS: tuple[str, ...] = ("erosion", "dilation", "elastic")
PAPER_KINDS: tuple[str, ...] = ("paper_erosion", "paper_dilation", "paper_elastic")
KINDS: tuple[str, ...] = CALIBRATED_KINDS + PAPER_KINDS
_OVERLAPS = ("dice", "iou")
ELASTIC_TOLERANCE = 0.005


class NoiseUnreachableError(ValueError):
    """The requested noise level cannot be reached for this mask."""


# --------------------------------------------------------------------------- checks
def _check_mask(mask, name: str = "mask") -> np.ndarray:
    return check_mask(name, mask, ndim=2, floats=True)


def _check_alpha(alpha) -> float:
    return check_number("alpha", alpha, min=0, max=1, min_open=True)


def _check_kind(kind, name: str = "kind") -> str:
    return check_choice(name, kind, KINDS)


def _check_overlap(overlap) -> str:
    return check_choice("overlap", overlap, _OVERLAPS)


def overlap_score(clean, noisy, overlap: str = "dice") -> float:
    """Dice (default) or IoU between two binary masks; 1.0 if both are empty.

    Example
    -------
    >>> overlap_score([[1, 1], [0, 0]], [[1, 0], [0, 0]])
    0.6666666666666666
    """
    _check_overlap(overlap)
    g = check_mask("clean", clean, floats=True)
    m = check_mask("noisy", noisy, floats=True)
    check_same_shape(("clean", "noisy"), g, m)
    inter = np.count_nonzero(g & m)
    sg, sm = np.count_nonzero(g), np.count_nonzero(m)
    if sg + sm == 0:
        return 1.0
    if overlap == "dice":
        return float(2.0 * inter / (sg + sm))
    return float(inter / (sg + sm - inter))


# --------------------------------------------------------------------------- exact morphology
def _k_for_alpha(n_fg: int, alpha: float, kind: str, overlap: str) -> float:
    """Real-valued number of pixels to remove/add to reach ``alpha``."""
    if kind == "erosion":
        return n_fg - alpha * n_fg / (2 - alpha) if overlap == "dice" else n_fg * (1 - alpha)
    return 2 * n_fg * (1 - alpha) / alpha if overlap == "dice" else n_fg * (1 / alpha - 1)


def _achieved(n_fg: int, k: int, kind: str, overlap: str) -> float:
    if kind == "erosion":
        inter, size = n_fg - k, n_fg - k
    else:
        inter, size = n_fg, n_fg + k
    if overlap == "dice":
        return 2.0 * inter / (n_fg + size)
    return inter / max(n_fg, size)


def _rank_morphology(g: np.ndarray, alpha: float, kind: str, overlap: str, rng) -> tuple[np.ndarray, dict]:
    n_fg = int(g.sum())
    target = _k_for_alpha(n_fg, alpha, kind, overlap)
    lo = int(np.floor(target))
    candidates = [k for k in (lo, lo + 1) if k >= 0]
    k = min(candidates, key=lambda c: (abs(_achieved(n_fg, c, kind, overlap) - alpha), c))
    if kind == "erosion":
        pool = g
        # Distance to the background, the outside of the array counting as background.
        dist = ndimage.distance_transform_edt(np.pad(g, 1))[1:-1, 1:-1]
        if k >= n_fg:
            raise NoiseUnreachableError(
                f"alpha={alpha} would erode all {n_fg} foreground pixels of this mask"
            )
    else:
        pool = ~g
        dist = ndimage.distance_transform_edt(pool)
        if k > pool.sum():
            raise NoiseUnreachableError(
                f"alpha={alpha} needs {k} added pixels but the image has only {int(pool.sum())} background pixels"
            )
    idx = np.flatnonzero(pool)
    order = np.lexsort((rng.random(idx.size), dist.ravel()[idx]))
    chosen = idx[order[:k]]
    noisy = g.copy().ravel()
    noisy[chosen] = kind == "dilation"
    noisy = noisy.reshape(g.shape)
    return noisy, {"pixels_changed": int(k), "max_depth_px": float(dist.ravel()[chosen].max()) if k else 0.0}


# --------------------------------------------------------------------------- elastic
def _smooth_field(shape, sigma: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two smooth displacement components, each scaled to max |value| = 1."""
    out = []
    for _ in range(2):
        f = ndimage.gaussian_filter(rng.uniform(-1.0, 1.0, size=shape), sigma, mode="reflect")
        out.append(f / max(np.abs(f).max(), 1e-12))
    return out[0], out[1]


def _warp(g: np.ndarray, dy: np.ndarray, dx: np.ndarray, strength: float, box) -> np.ndarray:
    """Warp mask ``g`` by ``strength * (dy, dx)``, evaluated inside ``box`` only."""
    (y0, y1), (x0, x1) = box
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(float)
    coords = np.stack([yy + strength * dy[y0:y1, x0:x1], xx + strength * dx[y0:y1, x0:x1]])
    warped = ndimage.map_coordinates(g.astype(np.float32), coords, order=1, mode="constant", cval=0.0)
    out = np.zeros_like(g)
    out[y0:y1, x0:x1] = warped >= 0.5
    return out


def _elastic(g: np.ndarray, alpha: float, overlap: str, rng, sigma: float | None,
             max_tries: int = 4) -> tuple[np.ndarray, dict, bool]:
    h, w = g.shape
    if sigma is None:
        sigma = 14.0 * max(h, w) / 256.0
    ys, xs = np.nonzero(g)
    max_strength = 0.25 * max(h, w)
    best = (np.inf, g.copy(), {})
    for attempt in range(max_tries):
        dy, dx = _smooth_field(g.shape, sigma, rng)
        margin = int(np.ceil(max_strength)) + 2
        box = ((max(ys.min() - margin, 0), min(ys.max() + margin + 1, h)),
               (max(xs.min() - margin, 0), min(xs.max() + margin + 1, w)))
        lo, hi = 0.0, max_strength
        noisy_hi = _warp(g, dy, dx, hi, box)
        if overlap_score(g, noisy_hi, overlap) > alpha:
            continue  # this field cannot push the overlap low enough: draw another
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            noisy = _warp(g, dy, dx, mid, box)
            score = overlap_score(g, noisy, overlap)
            err = abs(score - alpha)
            if err < best[0]:
                best = (err, noisy, {"strength_px": mid, "sigma_px": sigma, "attempt": attempt})
            if err <= ELASTIC_TOLERANCE:
                return noisy, best[2], True
            if score > alpha:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-3:
                break
    return best[1], best[2], False


# --------------------------------------------------------------------------- the authors' recipe
def _paper_recipe(g: np.ndarray, kind: str, rng, size: int, amplitude: float, period: float):
    if kind == "paper_erosion":
        return ndimage.binary_erosion(g, structure=np.ones((size, size), bool)), {"square_px": size}
    if kind == "paper_dilation":
        return ndimage.binary_dilation(g, structure=np.ones((size, size), bool)), {"square_px": size}
    phase = float(rng.uniform(0, 2 * np.pi))
    shifts = np.rint(amplitude * np.sin(2 * np.pi * np.arange(g.shape[1]) / period + phase)).astype(int)
    out = np.zeros_like(g)
    for col, s in enumerate(shifts):
        out[:, col] = np.roll(g[:, col], s)
    return out, {"amplitude_px": amplitude, "period_px": period, "phase": phase}


# --------------------------------------------------------------------------- public API
def corrupt(
    mask,
    kind: str,
    alpha: float | None = None,
    *,
    seed=None,
    overlap: str = "dice",
    sigma: float | None = None,
    paper_size: int = 20,
    paper_amplitude: float = 6.0,
    paper_period: float = 48.0,
    return_info: bool = False,
):
    """Corrupt one binary mask at noise level ``alpha``.

    Parameters
    ----------
    mask : array_like, shape (H, W)
        Clean binary mask (bool or 0/1), with at least one foreground pixel.
    kind : str
        ``"erosion"``, ``"dilation"`` or ``"elastic"`` (calibrated), or the
        authors' uncalibrated ``"paper_erosion"``, ``"paper_dilation"``,
        ``"paper_elastic"``.
    alpha : float in (0, 1]
        Target overlap between the noisy and the clean mask (required for the
        calibrated kinds, ignored by the paper kinds).  1 returns the mask.
    seed : int, numpy.random.Generator or None
        Randomness for tie-breaking and the elastic field.
    overlap : {"dice", "iou"}, default "dice"
        How ``alpha`` is measured.
    sigma : float, optional
        Smoothness (Gaussian sigma in pixels) of the elastic field; default
        ``14 * max(H, W) / 256``.
    paper_size, paper_amplitude, paper_period : optional
        Parameters of the authors' recipe (square side; shift amplitude and
        period in pixels).
    return_info : bool, default False
        Also return a dict with the achieved overlap and the parameters used.

    Returns
    -------
    noisy : numpy.ndarray of uint8, shape (H, W)
        The noisy mask, values 0/1.
    info : dict, only with ``return_info=True``
        ``kind``, ``target_alpha``, ``achieved_alpha``, ``overlap``, ``reached``
        and the kind's parameters.

    Raises
    ------
    TypeError
        For arguments of the wrong type (a string ``alpha``, a float seed...).
    ValueError
        For a mask that is not 2-D binary or is empty, an unknown kind or
        overlap, ``alpha`` outside (0, 1], a negative seed, a non-positive
        ``sigma``, ``paper_size`` or ``paper_period``.
    NoiseUnreachableError
        (a ``ValueError``) when ``alpha`` cannot be reached for this mask (an
        empty mask, a mask of a few pixels, a dilation larger than the image).

    Example
    -------
    >>> m = np.zeros((64, 64), np.uint8); m[16:48, 20:44] = 1
    >>> noisy, info = corrupt(m, "erosion", 0.8, seed=0, return_info=True)
    >>> round(float(info["achieved_alpha"]), 3), bool((noisy <= m).all())
    (0.8, True)
    """
    g = _check_mask(mask)
    kind = _check_kind(kind)
    overlap = _check_overlap(overlap)
    check_seed("seed", seed)
    if kind in CALIBRATED_KINDS and alpha is not None:
        _check_alpha(alpha)
    if sigma is not None:
        check_number("sigma", sigma, min=0, min_open=True)
    check_int("paper_size", paper_size, min=1)
    check_number("paper_amplitude", paper_amplitude)
    check_number("paper_period", paper_period, min=0, min_open=True)
    return_info = check_bool("return_info", return_info)
    rng = np.random.default_rng(seed)
    if not g.any():
        raise NoiseUnreachableError("mask has no foreground pixel: no noise level can be reached")
    if kind in PAPER_KINDS:
        noisy, params = _paper_recipe(g, kind, rng, paper_size, paper_amplitude, paper_period)
        target, reached = None, True
    else:
        if alpha is None:
            raise ValueError(f"alpha is required for kind={kind!r}; give a number in (0, 1]")
        target = _check_alpha(alpha)
        if target == 1.0:
            noisy, params, reached = g.copy(), {}, True
        elif kind == "elastic":
            noisy, params, reached = _elastic(g, target, overlap, rng, sigma)
            if not reached and not return_info:
                raise NoiseUnreachableError(
                    f"elastic noise could not reach alpha={target} within {ELASTIC_TOLERANCE} "
                    f"for this mask ({int(g.sum())} pixels)"
                )
        else:
            noisy, params = _rank_morphology(g, target, kind, overlap, rng)
            reached = True
    info = {
        "kind": kind,
        "overlap": overlap,
        "target_alpha": target,
        "achieved_alpha": overlap_score(g, noisy, overlap),
        "reached": bool(reached),
        "params": params,
    }
    out = noisy.astype(np.uint8)
    return (out, info) if return_info else out


def make_noisy_labels(
    masks,
    *,
    alpha: float,
    beta: float,
    kinds: Sequence[str] = CALIBRATED_KINDS,
    seed: int = 0,
    overlap: str = "dice",
    on_unreachable: str = "flag",
    workers: int = 1,
) -> tuple[np.ndarray, list[dict]]:
    """Corrupt exactly ``round(beta * n)`` of ``n`` training masks.

    Parameters
    ----------
    masks : array_like, shape (n, H, W)
        Clean binary masks.
    alpha : float in (0, 1]
        Noise level (overlap of each noisy mask with its clean one).
    beta : float in [0, 1]
        Proportion of masks to corrupt.  Exactly ``round(beta * n)`` masks are
        corrupted (Python's ``round``: halves go to the even integer).
    kinds : sequence of str, default ("erosion", "dilation", "elastic")
        Noise kinds, assigned in equal shares (as equal as the count allows)
        in a seeded random order.
    seed : int, default 0
        Seeds the choice of masks, the kinds and every mask's own noise.
    overlap : {"dice", "iou"}, default "dice"
    on_unreachable : {"flag", "raise"}, default "flag"
        When a mask cannot reach ``alpha`` (an elastic warp of a tiny mask):
        ``"flag"`` keeps the closest result, marks it ``reached: False`` in the
        manifest and warns once; ``"raise"`` raises
        :class:`NoiseUnreachableError`.
    workers : int, default 1
        Processes to use.  Every mask's randomness is drawn up front, so the
        result does not depend on the number of workers.

    Returns
    -------
    noisy : numpy.ndarray of uint8, shape (n, H, W)
        The training masks, noisy where chosen, clean elsewhere.
    manifest : list of dict
        One entry per corrupted mask, ordered by index: ``index``, ``kind``,
        ``target_alpha``, ``achieved_alpha``, ``overlap``, ``reached``,
        ``seed`` (reproduces the mask with :func:`corrupt`) and ``params``.

    Notes
    -----
    Masks with no foreground (disc levels, slices beyond the spine) cannot be
    made noisy at any level, so the corrupted masks are drawn from the
    non-empty ones only; if there are fewer than ``round(beta * n)`` of those,
    a ``ValueError`` is raised.

    Example
    -------
    >>> m = np.zeros((4, 32, 32), np.uint8); m[:, 8:24, 8:24] = 1
    >>> noisy, manifest = make_noisy_labels(m, alpha=0.8, beta=0.5, seed=1)
    >>> len(manifest), sorted(e["index"] for e in manifest) == [e["index"] for e in manifest]
    (2, True)
    """
    a = np.asarray(masks)
    if a.ndim != 3 or a.size == 0:
        raise refuse("masks", a, "a non-empty stack of binary masks of shape (n, H, W)")
    alpha = _check_alpha(alpha)
    beta_f = check_number("beta", beta, min=0, max=1)
    if isinstance(kinds, str) or not isinstance(kinds, Sequence):
        raise refuse("kinds", kinds, f"a sequence of kinds from {KINDS}", ArgumentTypeError)
    if len(kinds) == 0:
        raise refuse("kinds", kinds, f"a non-empty sequence of kinds from {KINDS}")
    for i, k in enumerate(kinds):
        _check_kind(k, f"kinds[{i}]")
    _check_overlap(overlap)
    check_seed("seed", seed, none=False, generator=False)
    check_choice("on_unreachable", on_unreachable, ("flag", "raise"))
    workers = check_int("workers", workers, min=1)
    clean = check_mask("masks", a, ndim=3, floats=True)

    n = clean.shape[0]
    n_noisy = round(beta_f * n)
    nonempty = np.flatnonzero(clean.reshape(n, -1).any(axis=1))
    if n_noisy > nonempty.size:
        raise ValueError(
            f"beta={beta} asks for {n_noisy} noisy masks but only {nonempty.size} of {n} masks "
            "have foreground (empty masks cannot be corrupted)"
        )
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(nonempty, size=n_noisy, replace=False))
    assigned = rng.permutation(np.resize(np.asarray(kinds, dtype=object), n_noisy))
    child_seeds = rng.integers(0, 2**63 - 1, size=n_noisy)

    jobs = [(clean[idx], str(kind), alpha, int(child), overlap, int(idx))
            for idx, kind, child in zip(chosen, assigned, child_seeds, strict=True)]
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=int(workers)) as pool:
            results = list(pool.map(_corrupt_job, jobs, chunksize=max(1, len(jobs) // (8 * workers))))
    else:
        results = [_corrupt_job(job) for job in jobs]

    noisy = clean.astype(np.uint8)
    manifest: list[dict] = []
    misses = 0
    for (_, kind, _, child, _, idx), (out, info) in zip(jobs, results, strict=True):
        if not info["reached"]:
            if on_unreachable == "raise":
                raise NoiseUnreachableError(
                    f"masks[{idx}]: {kind} could not reach alpha={alpha} "
                    f"(closest {info['achieved_alpha']:.4f})"
                )
            misses += 1
        noisy[idx] = out
        manifest.append({"index": int(idx), "seed": child, **info})
    if misses:
        warnings.warn(
            f"{misses} of {n_noisy} noisy masks could not reach alpha={alpha}; "
            "they are flagged reached=False in the manifest",
            stacklevel=2,
        )
    return noisy, manifest


def _corrupt_job(job):
    mask, kind, alpha, child, overlap, idx = job
    try:
        return corrupt(mask, kind, alpha, seed=child, overlap=overlap, return_info=True)
    except NoiseUnreachableError as err:
        raise NoiseUnreachableError(f"masks[{idx}]: {err}") from None


def save_manifest(manifest: list[dict], path, **metadata) -> Path:
    """Write a noise manifest to JSON atomically.

    Parameters
    ----------
    manifest : list of dict
        As returned by :func:`make_noisy_labels`.
    path : str or Path
        Destination file.
    **metadata
        Extra top-level fields (``alpha``, ``beta``, ``seed``, ``n_masks``...).

    Returns
    -------
    Path

    Example
    -------
    >>> import tempfile, os
    >>> p = save_manifest([], os.path.join(tempfile.mkdtemp(), "m.json"), alpha=0.8)
    >>> load_manifest(p)
    []
    """
    if not isinstance(manifest, list) or not all(isinstance(e, dict) for e in manifest):
        raise refuse("manifest", manifest, "a list of dicts (as returned by make_noisy_labels)", ArgumentTypeError)
    if not isinstance(path, (str, os.PathLike)):
        raise refuse("path", path, "a str or os.PathLike path", ArgumentTypeError)
    doc = {"format": "rarunet-noise-manifest/1", **metadata, "entries": manifest}
    return atomic_write_json(path, doc)


def load_manifest(path) -> list[dict]:
    """Read a manifest written by :func:`save_manifest`; returns the entries.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not valid JSON (truncated, empty), not a noise
        manifest, or its entries are not a list of dicts with an ``index``;
        the message names the file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise refuse("path", path, "a str or os.PathLike path", ArgumentTypeError)
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"path={str(p)!r} does not exist")
    if not p.is_file():
        raise ValueError(f"path={str(p)!r} is not a file; use a noise manifest (.json)")
    try:
        doc = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{p}: not valid JSON ({err}); is the file truncated?") from err
    if not isinstance(doc, dict) or doc.get("format") != "rarunet-noise-manifest/1":
        raise ValueError(f"{p}: not a rarunet noise manifest (no format 'rarunet-noise-manifest/1')")
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise ValueError(f"{p}: 'entries' is {describe(entries)}; a list of entries is required")
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "index" not in e:
            raise ValueError(f"{p}: entries[{i}]={describe(e)} is not a manifest entry (a dict with 'index')")
    return entries

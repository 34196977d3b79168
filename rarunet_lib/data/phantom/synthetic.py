"""The phantom's public functions: one synthetic spine-CT case, or several by consecutive seeds."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..case import Case
from .acquisition import _render_random_stack
from .patient import _draw_patient
from .randomise import RANDOMISATIONS, _check_randomise, _random_meta, _redraw
from .render import _render_slice
from .spine import LEVEL_NAMES

__all__ = ["synthetic_case", "synthetic_dataset", "RANDOMISATIONS"]


def synthetic_case(
    seed: int,
    n_slices: int = 64,
    size: int = 512,
    *,
    slice_spacing: float = 1.0,
    level_range: tuple[float, float] | None = None,
    fov_range: tuple[float, float] | None = None,
    variation: str = "random",
    randomise: Iterable[str] | None = None,
) -> Case:
    """Generate one synthetic spine-CT case.

    Parameters
    ----------
    seed : int
        Seed of the case; the same seed gives the same case.
    n_slices : int, default 64
        Number of consecutive axial slices.
    size : int, default 512
        Slice side in pixels (the field of view is drawn per case from
        ``fov_range``).
    slice_spacing : float, default 1.0
        Distance between slices in mm (1 mm as in the CSI data).
    level_range : (float, float), optional
        Range of the first slice's level (0 = top of T1 ... 16 = top of L5).  A
        long stack starts higher if it must, to fit; it may run up to 120 mm
        beyond L5 into the sacral region (slices with empty masks).  Default
        (3.0, 13.0) for ``"csi"`` and ``"wide"``; for ``"random"`` the whole
        column, (0.0, 16.0), and (its ``"coverage"``) 30 % of the stacks are
        abdomen-pelvis scans that end 60-180 mm below L5 instead; a given
        range holds for every stack.
    fov_range : (float, float), optional
        Range (mm) of the square field of view drawn per case.  Default
        (200, 340) for ``variation="csi"``: spine-targeted reconstructions like
        the CSI data (the body is cut off at the image edges); (200, 520) for
        ``variation="wide"``: routine body CT, like the real demo samples,
        shows the whole body in 350-500 mm.  For ``variation="random"`` the
        default is a mixture: half the cases spine-targeted views of 200-300 mm
        (like CSI), the others 350-500 mm around the body (like routine CT);
        a given range replaces both.
    variation : {"random", "csi", "wide"}, default "random"
        ``"random"``, the default, varies every case (below); the committed
        grids of the ``cpu``, ``cpu2`` and ``full`` profiles were drawn from
        ``"csi"``, which mimics the paper's data: young adults (cancellous bone about
        200-260 HU with age 18-80 around it), thin slices, a sharp bright
        cortex, no pelvis.  ``"wide"`` is domain randomisation towards routine
        body CT of any adult: age 18-90 (cancellous 100-330 HU), an apparent
        cortex only 250-850 HU above the cancellous bone (thick slices, soft
        kernels, osteoporosis), blur 0.4-1.0 mm, noise SD 8-35 HU, the wide
        field of view, arms beside the body (60 % of cases), lower ribs cut
        into short ovals around the body wall, and below L5 the iliac bones
        and femoral heads (not in the mask, like the ribs; no sacrum: the CSI
        masks stop at L5, and an unmasked S1 would contradict the vertebral
        bodies above it).  ``"random"`` randomises every case SynthSeg-style
        (Billot et al. 2023) within physiological ranges: tissue HU, contrast
        phase, noise level and texture, blur, slice thickness (partial volume
        along z), a bias field, field of view, body size, vertebra shape by
        part, posture (rotation, offset, tilt, scoliosis-like drift along z);
        its ribs are attached to their vertebrae (heads on the bodies, necks
        against the transverse processes), below L5 it has the iliac bones
        of ``"wide"`` and below them the hip joints, and a share of its stacks
        cover the pelvis (``"coverage"``); see :mod:`rarunet_lib.data.phantom.randomise` for the
        ranges and their sources.  The ``"csi"`` cases are the same with or
        without the other options' code: the parameters of ``"wide"`` and
        ``"random"`` come from further generators seeded by ``seed``.
    randomise : collection of str, optional
        Variation ``"random"`` only: the randomisations to switch on, names
        from :data:`~rarunet_lib.data.phantom.RANDOMISATIONS` (``"tissue"``,
        ``"contrast"``, ``"noise"``, ``"blur"``, ``"thickness"``, ``"bias"``,
        ``"fov"``, ``"body"``, ``"shape"``, ``"posture"``, ``"coverage"``);
        default all.  A
        switched-off one is drawn as for ``"csi"``, and the others are drawn
        exactly as with it on (for ablations).

    Returns
    -------
    Case
        ``hu`` int16 (n_slices, size, size); ``labels`` with one id per
        vertebra (8 = T1 ... 19 = T12, 20 = L1 ... 24 = L5); ``spacing`` (z, y, x)
        mm; ``meta`` holds the drawn parameters (levels, contrast phase,
        cancellous HU, noise SD...); for ``"random"`` also the switches and the
        scan, body, tissue and posture parameters.

    Raises
    ------
    ValueError
        For a size not divisible by 16, non-positive counts, a stack longer
        than the whole column (T1 to 120 mm below L5), or ``randomise`` given
        with another variation than ``"random"`` or naming unknown switches.

    Example
    -------
    >>> case = synthetic_case(0, n_slices=4, size=64)
    >>> case.hu.shape, case.hu.dtype.name, bool(case.labels.max() >= 8), case.meta["variation"]
    ((4, 64, 64), 'int16', True, 'random')
    >>> csi = synthetic_case(0, n_slices=4, size=64, variation="csi")

    The randomised default, and the same case without its bias field:

    >>> r = synthetic_case(0, n_slices=4, size=64, variation="random")
    >>> r.meta["randomise"] == sorted(RANDOMISATIONS)
    True
    >>> flat = synthetic_case(0, n_slices=4, size=64, variation="random",
    ...                       randomise=set(RANDOMISATIONS) - {"bias"})
    >>> flat.meta["bias_amp"], bool((flat.labels == r.labels).all())
    (0.0, True)
    >>> "randomise" in csi.meta
    False
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(n_slices, bool) or not isinstance(n_slices, (int, np.integer)) or n_slices < 1:
        raise ValueError(f"n_slices must be a positive integer, got {n_slices!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 16 or size % 16:
        raise ValueError(f"size must be a positive multiple of 16, got {size!r}")
    if not slice_spacing > 0:
        raise ValueError(f"slice_spacing must be > 0 mm, got {slice_spacing!r}")
    levels_given = level_range is not None
    if level_range is None:
        level_range = (0.0, 16.0) if variation == "random" else (3.0, 13.0)
    lo, hi = level_range
    if not 0 <= lo <= hi <= len(LEVEL_NAMES) - 1:
        raise ValueError(f"level_range must satisfy 0 <= low <= high <= 16, got {level_range!r}")
    if variation not in ("csi", "wide", "random"):
        raise ValueError(f"variation must be 'csi', 'wide' or 'random', got {variation!r}")
    on = _check_randomise(randomise, variation)
    given_fov = fov_range
    if fov_range is None:
        fov_range = (200.0, 340.0) if variation in ("csi", "random") else (200.0, 520.0)
    f_lo, f_hi = fov_range
    if not 100.0 <= f_lo <= f_hi <= 700.0:
        raise ValueError(f"fov_range must satisfy 100 <= low <= high <= 700 (mm), got {fov_range!r}")
    rng = np.random.default_rng(seed)
    p = _patient(rng, int(seed), int(n_slices), int(size), float(slice_spacing), (lo, hi), (float(f_lo), float(f_hi)),
                 variation, on, given_fov is not None, levels_given)
    if variation == "random":
        hu, labels = _render_random_stack(p, int(size), int(seed))
    else:
        hu = np.empty((n_slices, size, size), np.int16)
        labels = np.zeros((n_slices, size, size), np.uint8)
        for i, z in enumerate(p["z"]):
            img, mask, lab = _render_slice(p, float(z), int(size), rng)
            hu[i] = img
            labels[i][mask] = lab
    px = p["fov"] / size
    first = p["first_level"]
    meta = {
        "source": "phantom", "seed": int(seed),
        "levels": f"{LEVEL_NAMES[first]} onwards",
        "contrast_phase": p["phase"], "cancellous_hu": round(p["hu"]["cancellous"], 1),
        "age": round(p["age"], 1), "noise_sd_hu": round(float(p["noise_sd"]), 1), "fov_mm": round(p["fov"], 1),
        "variation": variation,
    }
    if variation == "random":
        meta.update(_random_meta(p, on))
    # The case runs from top (superior) to bottom; store inferior -> superior like the loaders.
    return Case(hu[::-1].copy(), labels[::-1].copy(), (float(slice_spacing), px, px),
                name=f"phantom-{seed}", meta=meta)


def _patient(rng, seed: int, n_slices: int, size: int, slice_spacing: float, level_range, fov_range,
             variation: str, on: frozenset[str], fov_given: bool, levels_given: bool = False) -> dict:
    """The drawn parameters of a case (``rng`` is the case's generator, the later slices draw from it too)."""
    wide_rng = np.random.default_rng([seed, 1]) if variation == "wide" else None
    redraw = None
    if variation == "random":
        redraw = _redraw(np.random.default_rng([seed, 2]), on, size, n_slices, slice_spacing,
                         fov_range if fov_given else None, pelvic_allowed=not levels_given)
    return _draw_patient(rng, size, n_slices, slice_spacing, level_range, fov_range, wide_rng, redraw)


def synthetic_dataset(n_cases: int, n_slices: int, size: int, *, seed: int = 0, workers: int = 1,
                      **kwargs) -> list[Case]:
    """Generate ``n_cases`` cases with seeds ``seed, seed + 1, ...``.

    Parameters
    ----------
    n_cases, n_slices, size : int
        Number of cases, slices per case, slice side.
    seed : int, default 0
        Seed of the first case.
    workers : int, default 1
        Processes to use (cases are independent, so the result does not depend
        on it).
    **kwargs
        Passed to :func:`synthetic_case`.

    Example
    -------
    >>> [c.name for c in synthetic_dataset(2, 2, 32, seed=5)]
    ['phantom-5', 'phantom-6']
    """
    if isinstance(n_cases, bool) or not isinstance(n_cases, (int, np.integer)) or n_cases < 1:
        raise ValueError(f"n_cases must be a positive integer, got {n_cases!r}")
    seeds = [seed + i for i in range(n_cases)]
    if workers <= 1:
        return [synthetic_case(s, n_slices, size, **kwargs) for s in seeds]
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(partial(_case_by_seed, n_slices=n_slices, size=size, kwargs=kwargs), seeds))


def _case_by_seed(s, *, n_slices, size, kwargs):
    return synthetic_case(s, n_slices, size, **kwargs)

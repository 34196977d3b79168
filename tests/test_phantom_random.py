"""Variation "random" of the phantom: seeded, within its ranges, ribs attached and unmasked, switches that work.

Small cases (32-64 px, a few slices) keep this file to seconds; the foreground band is
measured on 16 cases of 24 slices at 64x64 (about 3 s on one core).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from rarunet_lib import data
from rarunet_lib.data.phantom import RANDOMISATIONS
from rarunet_lib.data.phantom.acquisition import _thickness_weights
from rarunet_lib.data.phantom.render import _paint_slice
from rarunet_lib.data.phantom.skeleton import _attached_ribs
from rarunet_lib.data.phantom.synthetic import _patient

ALL = frozenset(RANDOMISATIONS)
THORAX = (3.0, 8.0)  # T4 to T9: every slice has ribs


def _random(seed, n=4, size=64, **kw):
    return data.synthetic_case(seed, n_slices=n, size=size, variation="random", **kw)


def _thoracic_slices(seed, n=30, size=96):
    """(patient, [(vertebra mask, rib mask, depth z)]) of a thoracic random case, slices top to bottom."""
    p = _patient(np.random.default_rng(seed), seed, n, size, 1.0, THORAX, (200.0, 340.0), "random", ALL, False,
                 levels_given=True)
    out = []
    for z in p["z"]:
        cv, parts, _ = _paint_slice(p, float(z), size, np.random.default_rng(0))
        out.append((cv.mask([s for s, _ in parts]), cv.mask([s for s, _ in _attached_ribs(p, float(z))]), z))
    return p, out


def test_same_seed_gives_the_same_case_and_other_seeds_differ():
    a, b, c = _random(3), _random(3), _random(4)
    assert np.array_equal(a.hu, b.hu) and np.array_equal(a.labels, b.labels) and a.meta == b.meta
    assert not np.array_equal(a.hu, c.hu)
    assert a.meta["variation"] == "random" and a.hu.dtype == np.int16 and a.labels.dtype == np.uint8


def test_the_default_phantom_is_the_randomised_one():
    # what a user gets without naming a variation, and what the quick profile trains on
    default = data.synthetic_case(3, n_slices=2, size=32)
    assert default.meta["variation"] == "random"
    assert np.array_equal(default.hu, _random(3, n=2, size=32).hu)
    assert [c.meta["variation"] for c in data.synthetic_dataset(2, 2, 32, seed=9)] == ["random", "random"]


def test_the_dataset_passes_the_variation_on():
    cases = data.synthetic_dataset(2, 2, 32, seed=9, variation="random")
    assert [c.meta["variation"] for c in cases] == ["random", "random"]
    assert np.array_equal(cases[1].hu, _random(10, n=2, size=32).hu)


@pytest.mark.parametrize("seed", range(12))
def test_drawn_parameters_stay_in_their_ranges(seed):
    m = _random(seed, n=2, size=32).meta
    hu = m["tissue_hu"]
    assert 1.0 <= m["thickness_mm"] <= 5.0
    assert 0.3 <= m["blur_mm"] <= 1.1 and 0.35 <= m["nps_cutoff"] <= 1.0 and 0.6 <= m["nps_ramp"] <= 1.4
    assert 15 / np.sqrt(m["thickness_mm"]) - 0.1 <= m["noise_sd_hu"] <= 40 / np.sqrt(m["thickness_mm"]) + 0.1
    assert 0.0 <= m["bias_amp"] <= 0.05
    assert m["fov_mode"] in ("spine", "body")
    assert (200 <= m["fov_mm"] <= 300) if m["fov_mode"] == "spine" else (350 <= m["fov_mm"] <= 500)
    assert -120 <= hu["fat"] <= -80 and 20 <= hu["muscle"] <= 60 and -910 <= hu["lung"] <= -700
    assert 60 <= hu["cancellous"] <= 330 and 400 <= hu["cortex"] <= 1100 and 700 <= hu["dense"] <= 1500
    assert 70 <= hu["disc"] <= 100 and 0 <= hu["csf"] <= 30 and 18 <= m["age"] <= 90
    aorta = {"unenhanced": (40, 50), "portal-venous": (150, 180), "arterial": (250, 400)}[m["contrast_phase"]]
    assert aorta[0] <= hu["aorta"] <= aorta[1]
    assert 0.85 <= m["habitus"] <= 1.2 and m["fat_mm"] <= 50 * 1.2
    assert abs(m["angle_deg"]) <= 15 and abs(m["spine_rot_deg"]) <= 10 and abs(m["spine_dx_mm"]) <= 15
    assert 0 <= m["posture"]["sway"] <= 12 and 0 <= m["posture"]["bow"] <= 8
    assert len(m["shape"]) == 17 and all(0.75 <= f <= 1.3 for v in m["shape"] for f in v.values())


def test_ribs_touch_their_vertebrae_in_a_thoracic_case():
    _, slices = _thoracic_slices(1)
    touching = [bool((ndimage.binary_dilation(v, iterations=1) & r & ~v).any()) for v, r, _ in slices]
    # the rib heads and necks show in the slices through the upper part of each body
    assert 0.15 <= np.mean(touching) <= 0.8, touching


def test_the_mask_excludes_the_ribs():
    seed, n, size = 2, 30, 96
    _, slices = _thoracic_slices(seed, n, size)
    case = data.synthetic_case(seed, n, size, variation="random", level_range=THORAX)
    labels = case.labels[::-1]  # the case is stored bottom to top
    rib_only = np.array([r & ~v for v, r, _ in slices])
    assert rib_only.sum() > 50 * n  # ribs are there, outside the vertebra...
    assert not labels[rib_only].any()  # ...and none of them is labelled
    assert np.median(case.hu[::-1][rib_only]) > 250  # and they look like bone
    assert np.array_equal(labels > 0, np.array([v for v, _, _ in slices]))  # the mask is the vertebra


def test_foreground_share_and_slice_coverage_are_in_the_stated_band():
    cases = data.synthetic_dataset(16, 24, 64, seed=500, variation="random")
    fg = np.mean([c.mask.mean() for c in cases])
    coverage = np.mean([(c.mask.sum(axis=(1, 2)) > 0).mean() for c in cases])
    # half spine-targeted views (about 1.5 %, like variation "csi"), half body views (about 0.5 %);
    # the real samples measure 0.64 % (500 mm view) and 1.1 % (366 mm view)
    assert 0.006 <= fg <= 0.02, fg
    # 30 % abdomen-pelvis scans, whose 24 mm stacks lie below L5; the real 3 mm sample: 67 %
    assert 0.55 <= coverage <= 0.85, coverage
    csi = np.mean([c.mask.mean() for c in data.synthetic_dataset(16, 24, 64, seed=500, variation="csi")])
    assert fg < csi, (fg, csi)  # the body views show the vertebra smaller than CSI's


def test_the_bias_field_changes_the_image_smoothly_and_nothing_else():
    on = _random(5, n=3)
    off = _random(5, n=3, randomise=ALL - {"bias"})
    assert off.meta["bias_amp"] == 0.0 and on.meta["bias_amp"] > 0.005
    assert np.array_equal(on.labels, off.labels)
    d = on.hu.astype(float) - off.hu
    body = off.hu > -500
    assert np.abs(d[body]).mean() > 2.0  # some HU in the body...
    # ...bounded by the multiplicative field on the attenuation (plus rounding and blur spill)
    limit = on.meta["bias_amp"] * 1.5 * (off.hu.astype(float) + 1000) + 40
    assert (np.abs(d) <= limit).all()


def test_slice_thickness_averages_along_z():
    on = _random(6, n=6)
    off = _random(6, n=6, randomise=ALL - {"thickness"})
    assert off.meta["thickness_mm"] == 0.0 and on.meta["thickness_mm"] >= 1.0
    assert np.array_equal(on.labels, off.labels)  # the mask is the centre plane's
    assert np.abs(on.hu.astype(float) - off.hu).mean() > 1.0


def test_thickness_weights_integrate_the_box_profile():
    off, w = _thickness_weights(4, 1.0, 3.0)
    assert np.allclose(w.sum(axis=1), 1.0)
    assert np.allclose(w @ off, np.arange(4.0))  # symmetric about each slice's centre
    assert np.allclose(w[0][:5] * 3, [0.125, 0.875, 1.0, 0.875, 0.125])
    off, w = _thickness_weights(3, 4.0, 1.0)  # thin slices far apart: sub-samples 1 mm apart
    assert np.allclose(np.diff(off), 1.0) and np.allclose(w @ off, [0.0, 4.0, 8.0])
    assert np.array_equal(_thickness_weights(3, 2.0, 0.0)[1], np.eye(3))


@pytest.mark.parametrize("name", RANDOMISATIONS)
def test_each_randomisation_can_be_switched_off_and_changes_the_case(name):
    seed = 8 if name != "coverage" else 14  # case 14 is an abdomen-pelvis scan (8 is not)
    full, less = _random(seed, n=2, size=128), _random(seed, n=2, size=128, randomise=ALL - {name})
    assert less.meta["randomise"] == sorted(ALL - {name})
    assert not np.array_equal(full.hu, less.hu)


def test_all_switches_off_gives_the_csi_patient_with_attached_ribs():
    m = _random(4, n=2, size=32, randomise=(), level_range=(3.0, 13.0)).meta  # csi's default level range
    csi = data.synthetic_case(4, n_slices=2, size=32, variation="csi").meta
    for key in ("contrast_phase", "cancellous_hu", "age", "noise_sd_hu", "fov_mm", "levels"):
        assert m[key] == csi[key], key
    assert m["thickness_mm"] == 0.0 and m["bias_amp"] == 0.0 and m["fov_mode"] == "csi" and m["shape"] == []


@pytest.mark.parametrize(("kwargs", "pattern"), [
    (dict(variation="csi", randomise=("bias",)), r"randomise=.*variation='csi'"),
    (dict(variation="random", randomise=("bias", "colour")), r"randomise=.*'tissue'"),
    (dict(variation="random", randomise="bias"), r"randomise='bias' is not allowed"),
    (dict(variation="random", randomise=3), r"randomise=3 is not allowed"),
    (dict(variation="randomised"), r"variation must be 'csi', 'wide' or 'random'"),
])
def test_bad_switches_are_refused_by_name(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        data.synthetic_case(0, n_slices=2, size=32, **kwargs)


def _stack_end_below_l5(seed, n, spacing, **kw):
    """How far (mm) the last slice of a random case lies below the L5/S1 disc (negative: above it)."""
    p = _patient(np.random.default_rng(seed), seed, n, 32, spacing, kw.get("level_range", (0.0, 16.0)),
                 (200.0, 340.0), "random", ALL, False, levels_given="level_range" in kw)
    last = p["verts"][-1]
    return float(p["z"][-1] - (last["top"] + last["body_h"] + last["disc_h"])), p["scan"]


def test_a_share_of_the_stacks_are_abdomen_pelvis_scans_ending_in_the_pelvis():
    ends = [_stack_end_below_l5(s, 20, 3.0) for s in range(60)]
    pelvic = [e for e, scan in ends if scan == "abdomen-pelvis"]
    assert 0.15 <= len(pelvic) / len(ends) <= 0.45  # drawn with probability 0.3
    assert all(60.0 - 1e-6 <= e <= 180.0 + 1e-6 for e in pelvic), pelvic
    assert all(e < 120.0 for e, scan in ends if scan == "spine")  # the others stay within the sacral margin
    # a level range that is given holds for every stack
    assert {scan for _, scan in (_stack_end_below_l5(s, 20, 3.0, level_range=(0.0, 16.0)) for s in range(20))} \
        == {"spine"}


"""Calibrated label noise: exact levels, subset relations, reproducibility, errors."""

import numpy as np
import pytest
from scipy import ndimage

from rarunet_lib import noise
from rarunet_lib.metrics import dice, iou


def vertebra_like(size=64, seed=0):
    """A body disc, a ring and a thin process: shapes where integer kernels fail."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    cy, cx = 0.4 + 0.05 * rng.random(), 0.5
    body = (yy - cy) ** 2 + (xx - cx) ** 2 < 0.02
    ring = np.abs(np.hypot(yy - 0.65, xx - cx) - 0.09) < 0.025
    process = (np.abs(xx - cx) < 0.02) & (yy > 0.7) & (yy < 0.9)
    return (body | ring | process).astype(np.uint8)


@pytest.mark.parametrize("kind", ["erosion", "dilation"])
@pytest.mark.parametrize("alpha", [0.55, 0.68, 0.77, 0.85, 0.97])
@pytest.mark.parametrize("overlap", ["dice", "iou"])
def test_rank_morphology_hits_alpha_within_one_over_g(kind, alpha, overlap):
    g = vertebra_like()
    noisy = noise.corrupt(g, kind, alpha, seed=1, overlap=overlap)
    measure = dice if overlap == "dice" else iou
    assert abs(measure(g, noisy) - alpha) <= 1 / g.sum()
    assert noisy.dtype == np.uint8 and set(np.unique(noisy)) <= {0, 1}
    if kind == "erosion":
        assert np.all(noisy <= g)
    else:
        assert np.all(noisy >= g)


def test_erosion_removes_outer_pixels_first():
    g = np.zeros((40, 40), np.uint8)
    g[10:30, 10:30] = 1
    noisy = noise.corrupt(g, "erosion", 0.9, seed=0)
    removed = (g == 1) & (noisy == 0)
    inside = ndimage.distance_transform_edt(g)
    assert inside[removed].max() <= inside[noisy == 1].min()


def test_integer_kernels_cannot_hit_068():
    # the motivation: binary erosion with integer radii jumps over alpha = 0.68
    g = vertebra_like(128).astype(bool)
    levels = []
    er = g
    while er.any():
        er = ndimage.binary_erosion(er)
        levels.append(dice(g, er))
    assert min(abs(v - 0.68) for v in levels) > 1 / g.sum()
    assert abs(dice(g, noise.corrupt(g, "erosion", 0.68, seed=0)) - 0.68) <= 1 / g.sum()


@pytest.mark.parametrize("alpha", [0.6, 0.77, 0.9])
def test_elastic_hits_alpha_within_0005(alpha):
    g = vertebra_like(96, seed=2)
    noisy, info = noise.corrupt(g, "elastic", alpha, seed=3, return_info=True)
    assert info["reached"]
    assert abs(dice(g, noisy) - alpha) <= 0.005
    assert info["achieved_alpha"] == pytest.approx(dice(g, noisy))
    assert info["params"]["strength_px"] > 0


def test_unreachable_levels_are_errors_not_silent():
    tiny = np.zeros((32, 32), np.uint8)
    tiny[10, 10] = 1
    with pytest.raises(noise.NoiseUnreachableError):
        noise.corrupt(tiny, "elastic", 0.7, seed=0)
    _, info = noise.corrupt(tiny, "elastic", 0.7, seed=0, return_info=True)
    assert info["reached"] is False
    with pytest.raises(noise.NoiseUnreachableError, match="foreground"):
        noise.corrupt(np.zeros((8, 8), np.uint8), "erosion", 0.8)
    full = np.ones((8, 8), np.uint8)
    full[0, 0] = 0
    with pytest.raises(noise.NoiseUnreachableError, match="background"):
        noise.corrupt(full, "dilation", 0.5)


def test_same_seed_same_output_different_seed_different():
    g = vertebra_like()
    for kind in noise.CALIBRATED_KINDS:
        a = noise.corrupt(g, kind, 0.8, seed=5)
        b = noise.corrupt(g, kind, 0.8, seed=5)
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(noise.corrupt(g, "elastic", 0.8, seed=5), noise.corrupt(g, "elastic", 0.8, seed=6))


def test_paper_recipe_kinds():
    g = np.zeros((128, 128), np.uint8)
    g[30:90, 30:100] = 1
    er, info = noise.corrupt(g, "paper_erosion", seed=0, return_info=True)
    assert er.sum() == (60 - 19) * (70 - 19) and info["target_alpha"] is None
    dil = noise.corrupt(g, "paper_dilation")
    assert dil.sum() == (60 + 19) * (70 + 19)
    el = noise.corrupt(g, "paper_elastic", seed=1)
    assert el.sum() == g.sum()  # a per-column shift moves pixels, never adds any


def make_stack(n=12, empty=(3, 7)):
    masks = np.stack([vertebra_like(48, seed=i) for i in range(n)])
    masks[list(empty)] = 0
    return masks


def test_make_noisy_labels_counts_and_manifest(tmp_path):
    masks = make_stack()
    noisy, manifest = noise.make_noisy_labels(masks, alpha=0.77, beta=0.5, seed=0)
    assert len(manifest) == round(0.5 * 12)
    idx = [e["index"] for e in manifest]
    assert idx == sorted(idx) and not {3, 7} & set(idx)  # empty masks are never chosen
    changed = [i for i in range(12) if not np.array_equal(noisy[i], masks[i])]
    assert changed == idx
    for e in manifest:
        assert {"index", "kind", "target_alpha", "achieved_alpha", "params", "seed"} <= set(e)
        assert abs(dice(masks[e["index"]], noisy[e["index"]]) - 0.77) <= 0.005
        # each manifest entry reproduces its mask on its own
        again = noise.corrupt(masks[e["index"]], e["kind"], 0.77, seed=e["seed"])
        np.testing.assert_array_equal(again, noisy[e["index"]])
    assert sorted({e["kind"] for e in manifest}) == ["dilation", "elastic", "erosion"]
    path = noise.save_manifest(manifest, tmp_path / "m.json", alpha=0.77, beta=0.5)
    assert noise.load_manifest(path) == manifest


def test_make_noisy_labels_reproducible_and_beta_edges():
    masks = make_stack()
    a = noise.make_noisy_labels(masks, alpha=0.7, beta=0.25, seed=3)
    b = noise.make_noisy_labels(masks, alpha=0.7, beta=0.25, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]
    none, man = noise.make_noisy_labels(masks, alpha=0.7, beta=0.0)
    np.testing.assert_array_equal(none, masks) and man == []
    with pytest.raises(ValueError, match="only 10 of 12"):
        noise.make_noisy_labels(masks, alpha=0.7, beta=1.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": 0.0}, "alpha"), ({"alpha": 1.2}, "alpha"), ({"alpha": "x"}, "alpha"),
    ({"beta": -0.1}, "beta"), ({"beta": 1.5}, "beta"), ({"kinds": ("blur",)}, "kind"),
    ({"overlap": "jaccard"}, "overlap"),
])
def test_make_noisy_labels_bad_arguments(kwargs, match):
    args = {"alpha": 0.8, "beta": 0.5} | kwargs
    with pytest.raises(ValueError, match=match):
        noise.make_noisy_labels(make_stack(), **args)


def test_corrupt_bad_masks():
    with pytest.raises(ValueError, match="2-D"):
        noise.corrupt(np.zeros((2, 8, 8)), "erosion", 0.8)
    with pytest.raises(ValueError, match="binary"):
        noise.corrupt(np.full((8, 8), 0.5), "erosion", 0.8)
    with pytest.raises(ValueError, match="kind"):
        noise.corrupt(np.ones((8, 8)), "shear", 0.8)
    with pytest.raises(ValueError, match="alpha"):
        noise.corrupt(np.ones((8, 8)), "erosion", None)


def test_manifest_round_trip_and_seeds_of_every_accepted_form(tmp_path):
    entries = [{"index": 3, "kind": "erosion", "seed": 7}]
    path = noise.save_manifest(entries, tmp_path / "m.json", alpha=0.8)
    assert noise.load_manifest(path) == entries
    m = np.zeros((32, 32), np.uint8)
    m[8:24, 8:24] = 1
    ref = noise.corrupt(m, "erosion", 0.8, seed=5)
    for seed in (np.int64(5), [5], np.random.default_rng(5)):  # the same stream as seed=5
        np.testing.assert_array_equal(noise.corrupt(m, "erosion", 0.8, seed=seed), ref)
    np.testing.assert_array_equal(noise.corrupt(m.astype(float), "erosion", 0.8, seed=5), ref)

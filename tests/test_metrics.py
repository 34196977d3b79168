"""Measures against medpy, hand-computed cases, identities and literal loops."""

import numpy as np
import pytest

from rarunet_lib import metrics as M

medpy_binary = pytest.importorskip("medpy.metric.binary")


def random_blobs(seed, shape=(40, 48), n=3):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    out = np.zeros(shape, bool)
    for _ in range(n):
        cy, cx = rng.uniform(5, shape[0] - 5), rng.uniform(5, shape[1] - 5)
        ry, rx = rng.uniform(2, 9, size=2)
        out |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    return out


def _pair(seed):
    g = random_blobs(seed)
    shift = tuple(np.random.default_rng(seed).integers(-3, 4, size=2))
    return g, np.roll(g, shift, axis=(0, 1)) ^ random_blobs(seed + 100, n=1)


PAIRS = [_pair(s) for s in range(8)]


# ---------------------------------------------------------------- hand-computed
def test_confusion_and_overlap_by_hand():
    g = np.array([[1, 1, 1, 0], [0, 0, 0, 0]])
    m = np.array([[0, 1, 1, 1], [1, 0, 0, 0]])
    # TP=2, FP=2, FN=1, TN=3
    assert M.confusion(g, m) == (2, 2, 1, 3)
    r = M.evaluate_pair(g, m)
    assert r["dice"] == pytest.approx(4 / 7)
    assert r["iou"] == pytest.approx(2 / 5)
    assert r["accuracy"] == pytest.approx(5 / 8)
    assert r["precision"] == pytest.approx(2 / 4)
    assert r["recall"] == pytest.approx(2 / 3)
    assert r["specificity"] == pytest.approx(3 / 5)
    assert r["rvd_signed"] == pytest.approx(1 / 3) and r["rvd"] == pytest.approx(1 / 3)


def test_hausdorff_of_shifted_square_by_hand():
    a = np.zeros((20, 20), bool)
    a[5:10, 5:10] = True
    b = np.roll(a, 3, axis=1)
    assert M.hausdorff(a, b) == 3.0
    assert M.hausdorff(a, b, spacing=(1.0, 0.5)) == 1.5


# ---------------------------------------------------------------- medpy oracle
@pytest.mark.parametrize("g, m", PAIRS)
def test_distances_match_medpy(g, m):
    assert M.hausdorff(g, m) == pytest.approx(medpy_binary.hd(m, g), abs=1e-12)
    assert M.hd95(g, m) == pytest.approx(medpy_binary.hd95(m, g), abs=1e-12)
    assert M.assd(g, m) == pytest.approx(medpy_binary.assd(m, g), abs=1e-12)
    mom = (medpy_binary.asd(m, g) + medpy_binary.asd(g, m)) / 2
    assert M.assd(g, m, variant="mean_of_means") == pytest.approx(mom, abs=1e-12)
    assert M.rvd(g, m, signed=True) == pytest.approx(medpy_binary.ravd(m, g), abs=1e-12)


def test_distances_with_spacing_match_medpy():
    g, m = PAIRS[0]
    sp = (0.7, 1.3)
    assert M.hausdorff(g, m, spacing=sp) == pytest.approx(medpy_binary.hd(m, g, voxelspacing=sp))
    assert M.assd(g, m, spacing=sp) == pytest.approx(medpy_binary.assd(m, g, voxelspacing=sp))


# ---------------------------------------------------------------- identities
@pytest.mark.parametrize("g, m", PAIRS)
def test_overlap_identities(g, m):
    r = M.evaluate_pair(g, m)
    p, rc, d = r["precision"], r["recall"], r["dice"]
    assert d == pytest.approx(2 * p * rc / (p + rc), abs=1e-12)
    assert r["iou"] == pytest.approx(d / (2 - d), abs=1e-12)


@pytest.mark.parametrize("g, m", PAIRS)
def test_boundary_family_invariants(g, m):
    r = M.evaluate_pair(g, m)
    for k in ("dbd_g", "dbd_m", "sbd"):
        assert 0.0 <= r[k] <= 1.0
    assert min(r["dbd_g"], r["dbd_m"]) - 1e-12 <= r["sbd"] <= max(r["dbd_g"], r["dbd_m"]) + 1e-12
    assert M.dbd_g(g, m) == pytest.approx(M.dbd_m(m, g), abs=1e-15)
    assert M.sbd(g, m) == pytest.approx(M.sbd(m, g), abs=1e-15)


def test_boundary_family_extremes():
    g = np.zeros((30, 30), bool)
    g[3:8, 3:8] = True
    far = np.roll(g, 15, axis=1)  # more than 2r away
    assert (M.dbd_g(g, g), M.dbd_m(g, g), M.sbd(g, g)) == (1.0, 1.0, 1.0)
    assert (M.dbd_g(g, far), M.dbd_m(g, far), M.sbd(g, far)) == (0.0, 0.0, 0.0)


def _literal_boundary_dice(g, m, r):
    """Eqs. 6-7 as loops: window by |dy| + |dx| <= r, clipped to the image."""
    def bnd(x):
        out = []
        h, w = x.shape
        for i in range(h):
            for j in range(w):
                if not x[i, j]:
                    continue
                nb = [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
                if any(not (0 <= a < h and 0 <= b < w) or not x[a, b] for a, b in nb):
                    out.append((i, j))
        return out

    def dice_at(i, j):
        inter = sg = sm = 0
        for a in range(g.shape[0]):
            for b in range(g.shape[1]):
                if abs(a - i) + abs(b - j) <= r:
                    inter += g[a, b] and m[a, b]
                    sg += g[a, b]
                    sm += m[a, b]
        return 2 * inter / (sg + sm)

    on_g = [dice_at(i, j) for i, j in bnd(g)]
    on_m = [dice_at(i, j) for i, j in bnd(m)]
    return (sum(on_g) / len(on_g), sum(on_m) / len(on_m), (sum(on_g) + sum(on_m)) / (len(on_g) + len(on_m)))


@pytest.mark.parametrize("radius", [1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_boundary_dice_equals_literal_loop(seed, radius):
    g, m = random_blobs(seed, (18, 20)), random_blobs(seed + 50, (18, 20))
    ref = _literal_boundary_dice(g, m, radius)
    got = (M.dbd_g(g, m, radius=radius), M.dbd_m(g, m, radius=radius), M.sbd(g, m, radius=radius))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- empty masks
def test_empty_mask_policy():
    e = np.zeros((10, 10), bool)
    g = e.copy()
    g[2:5, 2:5] = True
    both = M.evaluate_pair(e, e)
    assert both["dice"] == 1.0 and both["iou"] == 1.0
    assert np.isnan(both["precision"]) and np.isnan(both["recall"])
    assert np.isnan(both["hd"]) and np.isnan(both["assd"]) and np.isnan(both["rvd"])
    assert np.isnan(both["dbd_g"]) and np.isnan(both["dbd_m"]) and both["sbd"] == 1.0
    miss = M.evaluate_pair(g, e)  # prediction empty
    assert miss["dice"] == 0.0 and np.isnan(miss["precision"]) and miss["recall"] == 0.0
    assert miss["hd"] == np.inf and miss["assd"] == np.inf
    assert miss["dbd_g"] == 0.0 and np.isnan(miss["dbd_m"]) and miss["sbd"] == 0.0
    fp = M.evaluate_pair(e, g)  # ground truth empty
    assert np.isnan(fp["recall"]) and np.isnan(fp["rvd"]) and fp["hd"] == np.inf
    assert np.isnan(fp["dbd_g"]) and fp["dbd_m"] == 0.0 and fp["sbd"] == 0.0


# ---------------------------------------------------------------- aggregation
def test_pooled_per_slice_and_volume_aggregation():
    g = np.stack([PAIRS[0][0], PAIRS[1][0], np.zeros((40, 48), bool)])
    m = np.stack([PAIRS[0][1], PAIRS[1][1], np.zeros((40, 48), bool)])
    pooled = M.evaluate(g, m, aggregate="pooled")
    tp = int((g & m).sum())
    assert pooled["dice"] == pytest.approx(2 * tp / (g.sum() + m.sum()))
    assert pooled["skipped"]["hd"] == 1 and pooled["n_slices"] == 3
    per = M.evaluate(g, m, aggregate="per_slice")
    d = [M.dice(g[i], m[i]) for i in range(3)]
    assert per["dice"] == pytest.approx(np.mean(d))  # empty/empty slice counts as Dice 1
    assert per["hd"] == pytest.approx(np.mean([M.hausdorff(g[i], m[i]) for i in range(2)]))
    assert per["skipped"]["hd"] == 1 and per["skipped"]["precision"] == 1
    vol = M.evaluate(g, m, aggregate="volume")
    assert vol["dice"] == pytest.approx(pooled["dice"])
    assert vol["hd"] == pytest.approx(medpy_binary.hd(m, g))


# ---------------------------------------------------------------- bad input
def test_bad_inputs_are_refused():
    g = np.zeros((5, 5), np.uint8)
    with pytest.raises(ValueError, match="same shape"):
        M.dice(g, np.zeros((5, 6), np.uint8))
    with pytest.raises(TypeError, match="threshold"):
        M.dice(g, np.zeros((5, 5), float))
    with pytest.raises(ValueError, match="only 0 and 1"):
        M.dice(g, np.full((5, 5), 2))
    with pytest.raises(ValueError, match="aggregate"):
        M.evaluate(g[None], g[None], aggregate="mean")
    with pytest.raises(ValueError, match="spacing"):
        M.hausdorff(g, g, spacing=(1, -1))
    with pytest.raises(ValueError, match="radius"):
        M.sbd(g, g, radius=-1)


# ---------------------------------------------------------------- Keras loss/metric
def test_keras_dice_metric_and_loss_agree_with_numpy():
    pytest.importorskip("keras")
    from rarunet_lib.losses import DiceLoss, DiceMetric

    g = np.stack([PAIRS[i][0] for i in range(4)]).astype("float32")[..., None]
    prob = np.stack([PAIRS[i][1] for i in range(4)]).astype("float32")[..., None] * 0.8 + 0.1
    metric = DiceMetric()
    metric.update_state(g[:2], prob[:2])
    metric.update_state(g[2:], prob[2:])
    assert float(metric.result()) == pytest.approx(M.dice(g[..., 0] > 0, prob[..., 0] > 0.5), abs=1e-6)
    # the soft loss of hard predictions is 1 - Dice (up to the smoothing term)
    hard = (prob > 0.5).astype("float32")
    loss = float(DiceLoss(smooth=0.0)(g, hard))
    assert loss == pytest.approx(1 - M.dice(g[..., 0] > 0, hard[..., 0] > 0), abs=1e-6)
    per = np.asarray(DiceLoss(smooth=0.0, per_sample=True).call(g, hard))
    ref = [1 - M.dice(g[i, ..., 0] > 0, hard[i, ..., 0] > 0) for i in range(4)]
    np.testing.assert_allclose(per, ref, atol=1e-6)


def test_shapes_that_only_broadcast_are_refused_not_broadcast():
    """A (1, H, W) truth against (N, H, W) predictions would score every slice against slice 0."""
    g = np.zeros((1, 6, 6), bool)
    g[0, 1:4, 1:4] = True
    p = np.repeat(g, 3, axis=0)
    with pytest.raises(ValueError, match="gt and pred.*no broadcasting"):
        M.dice(g, p)
    with pytest.raises(ValueError, match="gt_stack and pred_stack"):
        M.evaluate(g, p)
    assert M.evaluate(np.repeat(g, 3, axis=0), p)["dice"] == 1.0  # the same data, same shapes
    assert M.dice(g.astype(np.uint8), g) == 1.0  # integer 0/1 and bool both accepted

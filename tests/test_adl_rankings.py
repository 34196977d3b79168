"""ADL's rankings and their judges (ROC-AUC, average precision), against hand-computed cases and scikit-learn."""

import numpy as np
import pytest

from rarunet_lib import adl
from rarunet_lib import adl_rankings as rk


def test_roc_auc_and_ap_by_hand():
    # noisy = {0, 1}; order by score: 0 (noisy), 2, 1 (noisy), 3
    s, noisy = [0.9, 0.5, 0.7, 0.1], [0, 1]
    # pairs (noisy, clean): (0.9>0.7), (0.9>0.1), (0.5<0.7), (0.5>0.1) -> 3/4
    assert rk.roc_auc(s, noisy) == 0.75
    # precision 1 at rank 1, 2/3 at rank 3; each hit adds recall 1/2
    assert rk.average_precision(s, noisy) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # a perfect and a reversed ranking
    assert rk.roc_auc([3, 2, 1, 0], [0, 1]) == 1.0 and rk.roc_auc([0, 1, 2, 3], [0, 1]) == 0.0
    assert rk.average_precision([3, 2, 1, 0], [0, 1]) == 1.0
    # all tied: ROC-AUC 1/2, AP the noisy share
    assert rk.roc_auc([1, 1, 1, 1], [0]) == 0.5 and rk.average_precision([1, 1, 1, 1], [0]) == 0.25
    # -inf scores rank last and tie with each other; boolean flags are accepted
    assert rk.roc_auc([-np.inf, 1.0, 2.0], np.array([True, False, False])) == 0.0
    assert rk.roc_auc([-np.inf, -np.inf, 1.0], [0]) == 0.25
    assert rk.average_precision([-np.inf, -np.inf, 1.0], [0]) == pytest.approx(1 / 3)
    assert np.isnan(rk.roc_auc([1, 2], [])) and np.isnan(rk.average_precision([1, 2], []))


def test_against_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(2, 60))
        y = rng.random(n) < rng.uniform(0.1, 0.9)
        if y.all() or not y.any():
            continue
        s = rng.integers(0, 6, n).astype(float) if trial % 2 else rng.normal(size=n) + y  # ties on odd trials
        assert rk.roc_auc(s, y) == pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)
        assert rk.average_precision(s, y) == pytest.approx(metrics.average_precision_score(y, s), abs=1e-12)


def test_ranking_inputs_refused():
    with pytest.raises(ValueError, match="scores"):
        rk.roc_auc([np.nan, 1.0], [0])
    with pytest.raises(ValueError, match="noisy"):
        rk.roc_auc([1.0, 2.0], [5])
    with pytest.raises(ValueError, match="n=3"):
        rk.ranking_quality([1.0, 2.0], [0], n=3)


def test_size_adjusted_removes_the_size_effect():
    # small masks have high losses whatever their label; within each size the noisy one is highest
    losses = np.array([[0.8, 0.85, 0.95, 0.1, 0.12, 0.4]])
    areas = [5, 5, 5, 100, 100, 100]
    noisy = [2, 5]
    raw = adl.rank_noisy(losses, method="normalised_cumulative")
    adjusted = adl.rank_noisy(losses, method="size_adjusted", areas=areas)
    assert rk.roc_auc(raw, noisy) < 1.0  # the small clean masks outrank the large noisy one
    assert rk.roc_auc(adjusted, noisy) == 1.0
    with pytest.raises(ValueError, match="areas"):
        adl.rank_noisy(losses, method="size_adjusted")


def test_size_bins_put_empty_masks_apart():
    bins = rk.size_bins([0, 0, 1, 2, 3, 4, 5, 6], n_bins=3)
    assert bins[:2].tolist() == [0, 0] and set(bins[2:]) == {1, 2, 3}
    assert np.all(np.diff(bins[2:]) >= 0)


def _masks():
    """Eight 16x16 squares of 2..9 px side, a model that predicts them exactly, two labels corrupted."""
    n, size = 8, 16
    clean = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        clean[i, 2:4 + i, 2:4 + i] = 1
    probs = np.where(clean == 1, 0.97, 0.03)
    labels = clean.copy()
    labels[6, 2:8, 2:8] = 0  # eroded: 36 of its 8x8 pixels gone (a large mask)
    labels[1, 2:9, 2:9] = 1  # dilated from 3x3 to 7x7 (a small mask)
    return labels, probs, clean, [1, 6]


def test_map_statistics_find_corrupted_masks():
    labels, probs, clean, noisy = _masks()
    st = rk.mask_statistics(labels, probs, smoothing=4.0, cleanlab=False)
    assert st["label_area"].tolist() == labels.reshape(8, -1).sum(axis=1).tolist()
    assert st["pred_area"] == pytest.approx(probs.reshape(8, -1).sum(axis=1))
    clean_rows = [i for i in range(8) if i not in noisy]
    assert np.all(st["confident_disagreement"][clean_rows] == 0)
    # mask 6: 36 of its 64 pixels labelled background where the model is confidently foreground;
    # denominator: label area 28 + confident foreground 64 + smoothing 4
    assert st["confident_disagreement"][6] == pytest.approx(36 / (28 + 64 + 4))
    stats = {k: v[None] for k, v in st.items()}
    for name in ("area_ratio", "confident_disagreement"):
        assert rk.roc_auc(rk.map_ranking(name, stats, 1), noisy) == 1.0


def test_cleanlab_score_when_installed():
    pytest.importorskip("cleanlab")
    labels, probs, _, noisy = _masks()
    st = rk.mask_statistics(labels, probs, cleanlab=True)
    assert np.all(np.isfinite(st["cleanlab"]))
    assert rk.roc_auc(st["cleanlab"], noisy) == 1.0


def test_map_ranking_averages_each_masks_last_records():
    cd = np.array([[9.0, 0.0], [1.0, 0.0], [2.0, 4.0], [3.0, np.nan]])
    stats = {"confident_disagreement": cd}
    # column 1 sat out epoch 4: its last three records are epochs 1-3
    assert rk.map_ranking("confident_disagreement", stats, 4, window=3) == pytest.approx([2.0, 4 / 3])
    assert rk.map_ranking("confident_disagreement", stats, 1, window=3).tolist() == [9.0, 0.0]
    assert rk.map_ranking("confident_disagreement", {"confident_disagreement": np.full((2, 2), np.nan)},
                          2).tolist() == [-np.inf, -np.inf]


def test_forget_schedule_ramps_to_beta():
    s = adl.forget_schedule(0.25, 16, 200)
    assert s.tolist() == [round(min(t / 8, 1) * 0.25 * 200) for t in range(1, 17)]
    assert s[-1] == 50 and adl.forget_schedule(0.5, 10, 10, ramp_epochs=10).tolist()[:2] == [0, 1]
    with pytest.raises(ValueError, match="beta"):
        adl.forget_schedule(1.5, 10, 10)


def test_state_records_every_ranking_and_resumes():
    labels, probs, _, noisy = _masks()
    areas = labels.reshape(8, -1).sum(axis=1)
    state = adl.AdlState(8, 3, alpha=0.5, beta=0.25, ranking="confident_disagreement", schedule="forget_rate",
                         forget_epochs=1, areas=areas, noisy=noisy, keep=2)
    assert state.schedule.tolist() == [2, 2, 2]
    for t in (1, 2):
        out = state.choose(t)
        ids = np.setdiff1d(np.arange(8), out)
        state.record(t, ids, np.linspace(0.1, 0.9, ids.size))
        state.record_maps(t, ids, labels[ids], probs[ids])
        state.finish_epoch(t, out)
    assert state.excluded[1] == noisy  # epoch 2 leaves out the two corrupted masks
    assert set(state.scores) >= {"normalised_cumulative", "size_adjusted", "area_ratio", "random"}
    assert all(np.isfinite(v[:2]).all() or k == "last_epoch" for k, v in state.scores.items())
    back = adl.AdlState(8, 3, alpha=0.5, beta=0.25, ranking="confident_disagreement", schedule="forget_rate",
                        forget_epochs=1, areas=areas, noisy=noisy, keep=2)
    back.from_arrays(state.to_arrays())
    assert back.choose(3).tolist() == state.choose(3).tolist()
    for k in state.scores:
        np.testing.assert_array_equal(back.scores[k], state.scores[k])


def test_state_refuses_what_cannot_work():
    with pytest.raises(ValueError, match="areas"):
        adl.AdlState(8, 3, alpha=0.5, beta=0.25, ranking="area_ratio")
    with pytest.raises(ValueError, match="scoring_pass"):
        adl.AdlState(8, 3, alpha=0.5, beta=0.25, ranking="area_ratio", first_epoch="scoring_pass", areas=[1] * 8)
    with pytest.raises(ValueError, match="schedule"):
        adl.AdlState(8, 3, alpha=0.5, beta=0.25, schedule="linear")


def test_the_training_pass_hands_adl_the_labels_and_probabilities():
    """The statistics ADL records come from the rotated labels of the same forward pass: areas match the masks."""
    from rarunet_lib.train import TrainConfig, Trainer

    rng = np.random.default_rng(0)
    x = rng.random((24, 32, 32), dtype=np.float32)
    y = (x > 0.75).astype(np.uint8)
    y[::5] = 0  # some empty masks
    cfg = TrainConfig(model="unet", epochs=2, batch_size=4, learning_rate=1e-3, progress=False, adl=True,
                      noise_alpha=0.7, noise_beta=0.5, adl_ranking="area_ratio", adl_schedule="forget_rate",
                      model_kwargs={"filters": (4, 8, 16, 32, 64)})
    t = Trainer(cfg, x, y, noisy_indices=[1, 2, 3])
    t.fit()
    areas = y[t.train_idx].reshape(t.n_train, -1).sum(axis=1)
    for e in range(2):
        seen = ~np.isnan(t.adl.losses[e])
        assert seen.sum() >= cfg.batch_size
        np.testing.assert_array_equal(t.adl.stats["label_area"][e][seen], areas[seen])  # rotations keep areas
        np.testing.assert_array_equal(np.isnan(t.adl.stats["pred_area"][e]), ~seen)
        assert np.all((t.adl.stats["pred_area"][e][seen] >= 0) & (t.adl.stats["pred_area"][e][seen] <= 32 * 32))
    assert t.excluded[1] == adl.select_excluded(t.adl.scores["area_ratio"][0], t.adl.schedule[1]).tolist()
    assert t.history["epochs"][1]["n_excluded"] == t.adl.schedule[1] == round(0.5 * t.n_train)


def test_the_forget_rate_gives_left_out_masks_no_weight_but_still_scores_them():
    """Masks of weight 0 do not move the model: relabelling them leaves the weights after an epoch unchanged."""
    from rarunet_lib.train import TrainConfig, Trainer

    rng = np.random.default_rng(1)
    x = rng.random((20, 16, 16), dtype=np.float32)
    y = (x > 0.6).astype(np.uint8)
    cfg = TrainConfig(model="unet", epochs=2, batch_size=4, learning_rate=1e-2, progress=False, adl=True,
                      noise_alpha=0.7, noise_beta=0.5, adl_schedule="forget_rate",
                      model_kwargs={"filters": (4, 8, 16, 32, 64)})
    train_idx = Trainer(cfg, x, y).train_idx
    left_out = np.arange(0, train_idx.size, 3)
    out = {}
    for name, zero in (("weighted", True), ("relabelled", True), ("control", False)):
        labels = y.copy()
        if name != "weighted":
            labels[train_idx[left_out]] = 1 - labels[train_idx[left_out]]
        t = Trainer(cfg, x, labels)
        t._setup()
        w = np.ones(t.n_train, np.float32)
        if zero:
            w[left_out] = 0.0
        t._loss_weights.assign(w)
        steps = t.n_train // cfg.batch_size
        t._train_epoch(1, np.arange(t.n_train), steps)
        assert np.isnan(t.adl.losses[0]).sum() == t.n_train - steps * cfg.batch_size  # left-out masks scored too
        out[name] = t.model.get_weights()
    for a, b in zip(out["weighted"], out["relabelled"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(out["weighted"], out["control"], strict=True))


def test_map_statistics_do_not_depend_on_how_the_maps_are_buffered():
    labels, probs, _, noisy = _masks()
    areas = labels.reshape(8, -1).sum(axis=1)
    tables = []
    for chunk in (1, 3, 1000):
        state = adl.AdlState(8, 1, alpha=0.5, beta=0.25, areas=areas)
        state.map_chunk = chunk
        for part in (slice(0, 3), slice(3, 5), slice(5, 8)):
            ids = np.arange(8)[part]
            state.record_maps(1, ids, labels[ids], probs[ids])
        if chunk == 1000:
            assert np.isnan(state.stats["pred_area"]).all()  # still buffered
        state.finish_epoch(1, [])
        tables.append(state.stats)
    for k in rk.MAP_STATISTICS:
        np.testing.assert_array_equal(tables[0][k], tables[1][k])
        np.testing.assert_array_equal(tables[0][k], tables[2][k])
    assert np.isfinite(tables[0]["pred_area"]).all()

"""ADL's bookkeeping object (NumPy only): choices, records, detection and checkpoint arrays, against hand values."""

import numpy as np
import pytest

from rarunet_lib.adl import AdlState


def test_first_epoch_trains_everyone_then_the_highest_losses_sit_out():
    # k = (1 - 0.3) * 0.6 = 0.42; with x = 2 epochs every t > 0.5 k x: N(t) = round(0.1 k y) = 4 of y = 100
    s = AdlState(100, 2, alpha=0.3, beta=0.6, keep=8)
    assert s.schedule.tolist() == [4, 4]
    assert s.choose(1).tolist() == []
    seen = np.arange(90)  # 90..99 sat out (not seen): their normalised cumulative loss is 0
    losses = np.where(seen % 2, 1.0, 0.0)  # mean 0.5: odd ids score +0.5, even ids -0.5
    losses[[10, 20]] = 0.9  # ... and these two score +0.4
    s.record(1, seen, losses[seen])
    assert s.finish_epoch(1, []) == {"n_excluded": 0, "planned_exclusions": 4}
    assert np.isnan(s.losses[0, 90:]).all() and s.epoch_loss(1) == pytest.approx(losses.mean())
    assert s.choose(2).tolist() == [1, 3, 5, 7]  # ties at +0.5 broken by the lower id


def test_at_least_keep_samples_always_train():
    s = AdlState(100, 2, alpha=0.3, beta=0.6, keep=98)  # Eq. 5 asks for 4, only 2 may sit out
    s.record(1, np.arange(100), np.arange(100) / 100)
    s.finish_epoch(1, [])
    assert s.choose(2).tolist() == [98, 99]


def test_random_ranking_is_the_seeded_draw():
    s = AdlState(100, 2, alpha=0.3, beta=0.6, ranking="random", seed=7, keep=1)
    s.record(1, np.arange(100), np.arange(100.0))
    s.finish_epoch(1, [])
    draw = np.random.default_rng([7, 2]).random(100)
    assert s.choose(2).tolist() == sorted(np.argsort(-draw, kind="stable")[:4].tolist())


def test_scoring_pass_only_for_epoch_one_when_asked():
    calls = []

    def scoring():
        calls.append(1)
        return np.arange(10.0)

    s = AdlState(100, 2, alpha=0.3, beta=0.6, first_epoch="scoring_pass", keep=1)
    assert s.choose(1, lambda: scoring()[::-1].repeat(10)).tolist() == [0, 1, 2, 3]  # the first 10 score 9
    assert calls == [1]
    assert AdlState(100, 2, alpha=0.3, beta=0.6).choose(1, scoring).tolist() == [] and calls == [1]


def test_detection_scores_and_disabled_state():
    s = AdlState(5, 1, alpha=0.3, beta=0.6, noisy=[2, 3])
    assert s.detection([1, 2]) == {"detection_precision": 0.5, "detection_recall": 0.5, "detection_f1": 0.5}
    off = AdlState(5, 2, enabled=False, noisy=[2, 3])
    assert off.schedule.tolist() == [0, 0] and off.detection([1]) == {} and off.choose(2).tolist() == []


def test_arrays_round_trip_including_empty_epochs_and_the_older_format():
    s = AdlState(6, 4, alpha=0.3, beta=0.6)
    s.record(1, [0, 1, 2], [0.1, 0.2, np.float32(0.3)])
    for t, ex in ((1, []), (2, [4, 5]), (3, [])):
        s.finish_epoch(t, ex)
    r = AdlState(6, 4, alpha=0.3, beta=0.6)
    r.from_arrays(s.to_arrays())
    np.testing.assert_array_equal(r.losses, s.losses)  # NaN in the same places, same bits elsewhere
    assert r.excluded == [[], [4, 5], []]
    old = {"losses": s.losses, "excluded": np.array('[[], [4, 5], []]'), "epoch": 3}
    r2 = AdlState(6, 4, alpha=0.3, beta=0.6)
    r2.from_arrays(old)
    assert r2.excluded == [[], [4, 5], []]
    with pytest.raises(ValueError, match=r"losses must have shape \(4, 6\)"):
        r.from_arrays({**s.to_arrays(), "losses": np.zeros((4, 5))})
    with pytest.raises(ValueError, match="ranking='loss' is not allowed"):
        AdlState(6, 4, alpha=0.3, beta=0.6, ranking="loss")

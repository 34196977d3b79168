"""ADL schedule (Eq. 5) against the spec's reference values and hand computations."""

import numpy as np
import pytest

from rarunet_lib import adl

# shared/spec/metrics-noise-adl.md, x = 50 epochs, y = 4000 masks
REFERENCE = {
    (0.75, 0.68): [480, 416, 336, 256, 176] + [96] * 45,
    (0.50, 0.77): [196, 116] + [46] * 48,
    (0.25, 0.55): [190, 110] + [45] * 48,
    (0.25, 0.85): [15] * 50,
}


@pytest.mark.parametrize("beta, alpha", list(REFERENCE))
def test_reference_schedules(beta, alpha):
    assert adl.removal_schedule(alpha, beta, 50, 4000).tolist() == REFERENCE[(beta, alpha)]


def test_round_not_int():
    # 0.5 * 0.24 * 4000 is 479.99999999999994 in floating point
    assert adl.removal_count(1, 0.68, 0.75, 50, 4000) < 480
    assert adl.removal_schedule(0.68, 0.75, 50, 4000)[0] == 480


def test_no_noise_means_no_removal():
    assert adl.removal_schedule(1.0, 0.5, 10, 100).sum() == 0
    assert adl.removal_schedule(0.7, 0.0, 10, 100).sum() == 0


def test_schedule_is_continuous_at_breakpoints():
    alpha, beta, x, y = 0.2, 1.0, 1000, 10000
    k = (1 - alpha) * beta
    t1, t2 = 0.1 * k * x, 0.5 * k * x  # 80 and 400: integers here
    assert adl.removal_count(int(t1), alpha, beta, x, y) == pytest.approx(0.5 * k * y)
    assert adl.removal_count(int(t2), alpha, beta, x, y) == pytest.approx(0.1 * k * y)


@pytest.mark.parametrize("args, match", [
    ((0.0, 0.5, 10, 100), "alpha"), ((0.5, 1.5, 10, 100), "beta"),
    ((0.5, 0.5, 0, 100), "epochs"), ((0.5, 0.5, 10, 0), "n_masks"), ((0.5, 0.5, 10.0, 100), "epochs"),
])
def test_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        adl.removal_schedule(*args)


def test_normalised_cumulative_loss_by_hand():
    losses = np.array([[0.2, 0.4, 0.9], [0.1, np.nan, 0.5]])
    # epoch means 0.5 and 0.3 (the NaN sample sat out)
    np.testing.assert_allclose(adl.normalised_cumulative_loss(losses), [-0.3 - 0.2, -0.1, 0.4 + 0.2])
    np.testing.assert_allclose(adl.rank_noisy(losses, method="last_epoch"), [0.1, 0.4, 0.5])
    with pytest.raises(ValueError, match="method"):
        adl.rank_noisy(losses, method="median")


def test_select_and_detection():
    assert adl.select_excluded([0.3, 0.1, 0.3, 0.9], 2).tolist() == [0, 3]
    s = adl.detection_scores([0, 3], [3, 2], 4)
    assert (s["precision"], s["recall"], s["f1"]) == (0.5, 0.5, 0.5)
    assert np.isnan(adl.detection_scores([], [1], 4)["precision"])
    with pytest.raises(ValueError, match="n_out"):
        adl.select_excluded([1, 2], 3)


def test_random_ranking_is_blind_to_the_losses_seeded_and_uniform():
    losses = np.array([[0.9, 0.1, 0.5, 0.2]])
    a = adl.rank_noisy(losses, method="random", seed=[3, 2])
    np.testing.assert_array_equal(a, adl.rank_noisy(losses[:, ::-1], method="random", seed=[3, 2]))  # losses unused
    assert not np.array_equal(a, adl.rank_noisy(losses, method="random", seed=[3, 3]))
    with pytest.raises(ValueError, match="needs a seed"):
        adl.rank_noisy(losses, method="random")
    with pytest.raises(ValueError, match="shape"):
        adl.rank_noisy([0.1, 0.2], method="random", seed=0)
    # every mask equally likely to sit out: 3 of 12 over 4,000 draws -> each about 1,000 times;
    # a binomial(4000, 1/4) has sd 27, so 5 sd either side
    counts = np.zeros(12)
    for s in range(4000):
        counts[adl.select_excluded(adl.rank_noisy(np.zeros((1, 12)), method="random", seed=s), 3)] += 1
    assert np.all(np.abs(counts - 1000) < 5 * 27.4), counts

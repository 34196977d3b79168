"""The ADL study's report: rescoring from records, ranking curves, the verdict of the arms."""

import numpy as np
import pytest

from rarunet_lib import adl, report
from rarunet_lib.adl_rankings import roc_auc


def _state_and_run(seed=3):
    rng = np.random.default_rng(seed)
    n, epochs = 30, 4
    labels = np.zeros((n, 12, 12), np.uint8)
    for i in range(n):
        s = 2 + i % 8
        labels[i, 1:1 + s, 1:1 + s] = 1
    labels[::7] = 0  # empty masks
    noisy = [1, 4, 9, 15, 22]
    areas = labels.reshape(n, -1).sum(axis=1)
    state = adl.AdlState(n, epochs, alpha=0.6, beta=0.3, areas=areas, noisy=noisy, seed=seed, keep=4)
    for t in range(1, epochs + 1):
        out = state.choose(t)
        ids = np.setdiff1d(np.arange(n), out)[:-2]  # two left over after the last batch
        probs = np.clip(labels[ids] + rng.normal(0, 0.3, labels[ids].shape), 0, 1)
        probs[np.isin(ids, noisy)] = 1 - probs[np.isin(ids, noisy)]
        state.record(t, ids, rng.random(ids.size))
        state.record_maps(t, ids, labels[ids], probs)
        state.finish_epoch(t, out)
    records = {"loss": state.losses.tolist(),
               **{k: v.tolist() for k, v in state.stats.items() if k != "label_area"}}
    run = {"spec": {"seed": seed, "noise_beta": 0.3, "noise_alpha": 0.6, "adl_schedule": None},
           "adl": {"records": records, "area_trained": areas.tolist(), "area_clean": areas.tolist(),
                   "noisy": noisy, "scores_by_ranking": {k: v.tolist() for k, v in state.scores.items()}}}
    return state, run


def test_rescore_reproduces_the_scores_recorded_during_training():
    state, run = _state_and_run()
    again = report.rescore(run)
    assert set(again) == set(state.scores)
    for k, v in state.scores.items():
        np.testing.assert_allclose(again[k], v, rtol=1e-12, atol=1e-12, err_msg=k)


def test_ranking_curves_judge_each_epoch_against_the_manifest():
    state, run = _state_and_run()
    curves = report.ranking_curves({"a": run})
    by = {c["ranking"]: c for c in curves}
    for k, table in state.scores.items():
        expect = [roc_auc(np.where(np.isnan(row), -np.inf, row), run["adl"]["noisy"]) for row in table]
        assert [s.mean for s in by[k]["roc_auc"]] == pytest.approx(expect), k
    assert by["random"]["chance_ap"] == pytest.approx(5 / 30)
    summary = {s["ranking"]: s for s in report.ranking_summary(curves)}
    assert summary["area_ratio"]["worst_roc_auc"] == pytest.approx(by["area_ratio"]["roc_auc"][-1].mean)


def _iou_run(iou):
    return {"test_pooled": {"iou": iou}}


def test_adl_arms_find_runs_by_id_and_the_verdict_pairs_them_by_seed():
    results = {}
    for seed, (base, forget, ctrl) in enumerate([(0.60, 0.70, 0.55), (0.62, 0.66, 0.64), (0.58, 0.57, 0.50)]):
        results[f"unet__b0.75_a0.68__seed{seed}"] = _iou_run(base)
        results[f"unet__b0.75_a0.68__adl-forget-size_adjusted__seed{seed}"] = _iou_run(forget)
        results[f"unet__b0.75_a0.68__adl-forget-random__seed{seed}"] = _iou_run(ctrl)
    results["unet__b0.75_a0.68__adl-forget-area_ratio__seed0"] = _iou_run(0.99)  # another ranking: not an arm
    arms = report.adl_arms(results, "size_adjusted")
    cell = arms[(0.75, 0.68)]
    assert sorted(cell["forget rate, best ranking"]) == [0, 1, 2] and not cell["Eq. 5, best ranking"]
    rows = {r["arm"]: r for r in report.adl_verdict({(0.75, 0.68): cell})}
    fr = rows["forget rate, best ranking"]
    assert fr["gain"].mean == pytest.approx((0.10 + 0.04 - 0.01) / 3)
    assert (fr["sign"]["up"], fr["sign"]["down"]) == (2, 1)
    assert fr["gain_vs_random"].mean == pytest.approx((0.15 + 0.02 + 0.07) / 3)
    assert fr["sign_vs_random"]["up"] == 3


def test_study_summary_takes_the_paper_runs_for_curves_and_the_grid_for_no_adl():
    _, scored = _state_and_run()
    scored = {**scored, "spec": {**scored["spec"], "noise_beta": 0.75, "noise_alpha": 0.68, "adl_ranking": None},
              **_iou_run(0.6)}
    other = {**scored, "spec": {**scored["spec"], "adl_ranking": "size_adjusted"}}  # Eq. 5, best: not in curves
    study = {"unet__b0.75_a0.68__adl__seed0": scored, "unet__b0.75_a0.68__adl-size_adjusted__seed0": other}
    grid = {}
    for seed, (base, forget, ctrl) in enumerate([(0.6, 0.5, 0.55), (0.6, 0.75, 0.5)]):
        grid[f"unet__b0.75_a0.68__seed{seed}"] = _iou_run(base)
        study[f"unet__b0.75_a0.68__adl-forget-size_adjusted__seed{seed}"] = _iou_run(forget)
        study[f"unet__b0.75_a0.68__adl-forget-random__seed{seed}"] = _iou_run(ctrl)
    s = report.study_summary(study, grid, "size_adjusted")
    assert {c["runs"] for c in s["curves"]} == {1}
    assert s["settings"] == 1 and s["wins"] == 1 and s["beats"] == 1  # mean gain +0.025, vs random +0.1
    assert (s["sign"]["up"], s["sign"]["down"]) == (1, 1)
    assert (s["sign_vs_random"]["up"], s["sign_vs_random"]["down"]) == (1, 1)

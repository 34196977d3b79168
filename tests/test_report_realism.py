"""The realism study's summary: arms named from the switches, Dice over seeds by hand."""

import math

import pytest

from rarunet_lib.data import RANDOMISATIONS
from rarunet_lib.report import (
    load_realism_runs,
    realism_ablation,
    realism_ablation_table,
    realism_arm,
    realism_arms,
    realism_rows,
    realism_table,
)


def _run(seed, up, low, *, without=None, variation="random", phantom=0.9, low_tl=None):
    switches = [s for s in RANDOMISATIONS if s != without] if variation == "random" else None
    run = {"variation": variation, "randomise": switches, "seed": seed, "phantom_test": {"dice": phantom},
           "real": {"upper_abdomen_dicom": {"dice": up}, "abdomen_3mm": {"dice": low}}}
    if low_tl is not None:
        run["real_without_sacrum"] = {"abdomen_3mm": {"dice": low_tl}}
    return run


def test_arms_are_named_by_the_switch_turned_off():
    assert realism_arm(_run(0, 0.5, 0.5)) == "random"
    assert realism_arm(_run(0, 0.5, 0.5, without="posture")) == "random without posture"
    assert realism_arm(_run(0, 0.5, 0.5, variation="mixed")) == "mixed"
    assert realism_arm({"variation": "random", "randomise": []}) == "random without " + ", ".join(
        sorted(RANDOMISATIONS))
    assert realism_arm({}) == "csi"  # the oldest runs named no variation
    wide = _run(0, 0.5, 0.5) | {"fov_range_mm": [250.0, 500.0]}
    assert realism_arm(wide) == "random, views 250-500 mm"
    assert len(realism_arms({"a": _run(0, 0.5, 0.5), "b": wide})) == 2  # not one arm with seed 0 twice
    many = _run(0, 0.5, 0.5) | {"cases": 24, "slices_per_case": 20}
    assert realism_arm(many) == "random, 24 cases of 20 slices"
    assert realism_arm(_run(0, 0.5, 0.5) | {"cases": 8, "slices_per_case": 60}) == "random"  # the default
    # a longer training is another arm: its seeds do not pool with the 15-epoch runs
    assert realism_arm(many | {"epochs": 45}) == "random, 24 cases of 20 slices, 45 epochs"
    assert realism_arm(many | {"epochs": 15}) == "random, 24 cases of 20 slices"
    assert len(realism_arms({"a": many, "b": many | {"epochs": 45}})) == 2
    # runs of a phantom version that was tried and reverted name it, and are not the default's seeds
    v2 = _run(0, 0.5, 0.5) | {"phantom_version": 2, "randomise": sorted(RANDOMISATIONS) + ["coverage"]}
    assert realism_arm(v2) == "random v2"
    assert realism_arm(v2 | {"randomise": sorted(RANDOMISATIONS)}) == "random v2 without coverage"
    assert len(realism_arms({"a": _run(0, 0.5, 0.5), "b": v2})) == 2
    # a single change tried on a branch is named by the commit its run records, whatever its switches
    tried = _run(0, 0.5, 0.5) | {"provenance": {"commit": "27bb4be364fa089bf543ef129fbd73b0c44b6517"}}
    assert realism_arm(tried) == "random v1 + cortex 450-1100 HU"
    assert realism_arm(tried | {"cases": 24, "slices_per_case": 20}) == \
        "random v1 + cortex 450-1100 HU, 24 cases of 20 slices"
    assert realism_arm(_run(0, 0.5, 0.5) | {"provenance": {"commit": "a79f950" + "0" * 33}}) == "random"
    assert len(realism_arms({"a": _run(0, 0.5, 0.5), "b": tried})) == 2


def test_rows_are_means_and_sample_sds_over_seeds():
    runs = {"r0": _run(0, 0.80, 0.60, low_tl=0.62), "r1": _run(1, 0.70, 0.80, low_tl=0.84),
            "r2": _run(2, 0.90, 0.70, low_tl=0.70), "n0": _run(0, 0.1, 0.2, without="bias")}
    rows = {r["arm"]: r for r in realism_rows(runs)}
    assert list(rows) == ["random", "random without bias"]
    r = rows["random"]
    assert r["seeds"] == [0, 1, 2]
    assert r["upper_abdomen_dicom"].mean == pytest.approx(0.8)
    assert r["upper_abdomen_dicom"].std == pytest.approx(0.1)  # sqrt(((-0)^2 + 0.1^2 + 0.1^2) / 2)
    assert r["abdomen_3mm_without_s1"].mean == pytest.approx(0.72)
    assert r["worst_real"].mean == pytest.approx((0.60 + 0.70 + 0.70) / 3)  # each seed's lower sample
    b = rows["random without bias"]
    assert b["worst_real"].n == 1 and math.isnan(b["worst_real"].std)
    assert b["abdomen_3mm_without_s1"].n == 0


def test_a_seed_twice_in_one_arm_and_a_foreign_file_are_refused():
    with pytest.raises(ValueError, match="more than once"):
        realism_arms({"a": _run(0, 0.5, 0.5), "b": _run(0, 0.6, 0.6)})
    with pytest.raises(ValueError, match=r"results\['x'\] is not a realism run"):
        realism_arms({"x": {"run_id": "unet__clean__seed0"}})


def test_committed_runs_are_loaded_by_file_and_the_first_check_as_mixed(tmp_path):
    import json

    (tmp_path / "realism").mkdir()
    (tmp_path / "realism" / "random__seed1.json").write_text(json.dumps(_run(1, 0.6, 0.4)))
    (tmp_path / "realism.json").write_text(json.dumps({"real": {}, "phantom_test": {"dice": 0.7}}))
    runs = load_realism_runs(tmp_path)
    assert sorted(runs) == ["mixed", "random__seed1"]
    assert realism_arm(runs["mixed"]) == "mixed" and runs["random__seed1"]["seed"] == 1
    (tmp_path / "realism" / "ablation").mkdir()  # a batch of its own: neither in the default folder, nor mixed
    (tmp_path / "realism" / "ablation" / "random__seed2.json").write_text(json.dumps(_run(2, 0.5, 0.3)))
    assert sorted(load_realism_runs(tmp_path)) == ["mixed", "random__seed1"]
    assert sorted(load_realism_runs(tmp_path, "realism/ablation")) == ["random__seed2"]
    with pytest.raises(ValueError, match=r"folder: 'realism/ablations' is not a folder under"):
        load_realism_runs(tmp_path, "realism/ablations")  # a typo, not an empty table
    (tmp_path / "realism" / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="broken.json"):
        load_realism_runs(tmp_path)


def test_the_table_reads_mean_and_sd_one_value_or_a_dash():
    rows = realism_rows({"s0": _run(0, 0.8, 0.6), "s1": _run(1, 0.7, 0.8), "m": _run(0, 0.5, 0.25, variation="mixed")})
    header, cells = realism_table(rows, ["upper_abdomen_dicom", "abdomen_3mm_without_s1"])
    assert header == ["phantom trained on", "seeds", "Dice: upper abdomen", "Dice: 3 mm without S1"]
    # sd of 0.8 and 0.7 with ddof=1: 0.0707
    assert cells == [["mixed", "1", "0.50", "-"], ["random", "2", "0.75 ± 0.07", "-"]]
    with pytest.raises(ValueError, match="measures"):
        realism_table(rows, ["dice"])


def test_the_ablation_pairs_each_switch_with_the_default_of_its_seed_and_protocol():
    many = {"cases": 24, "slices_per_case": 20}
    tried = {"provenance": {"commit": "27bb4be364fa089bf543ef129fbd73b0c44b6517"}}
    runs = {"d0": _run(0, 0.60, 0.50), "d1": _run(1, 0.70, 0.40),
            "m0": _run(0, 0.55, 0.61) | many, "m1": _run(1, 0.67, 0.53) | many, "m2": _run(2, 0.66, 0.34) | many,
            "c0": _run(0, 0.99, 0.99) | many | tried,  # a tried change: neither a default nor an ablation
            "t0": _run(0, 0.45, 0.58, without="tissue") | many, "t1": _run(1, 0.77, 0.23, without="tissue") | many,
            "t3": _run(3, 0.10, 0.10, without="tissue") | many,  # no default seed 3: unpaired
            "f0": _run(0, 0.59, 0.53, without="fov")}
    rows = {(r["protocol"], r["switch"]): r for r in realism_ablation(runs)}
    assert list(rows) == [("random", "fov"), ("random, 24 cases of 20 slices", "tissue")]
    f = rows["random", "fov"]
    assert f["seeds"] == [0] and f["unpaired"] == []
    assert f["upper_abdomen_dicom_change"].mean == pytest.approx(-0.01)  # 0.59 - 0.60
    assert f["abdomen_3mm_change"].mean == pytest.approx(0.03)  # 0.53 - 0.50
    assert f["worst_change"].mean == pytest.approx(0.03)  # min(0.59, 0.53) - min(0.60, 0.50)
    assert f["default_worst"].mean == pytest.approx(0.45)  # (0.50 + 0.40) / 2
    t = rows["random, 24 cases of 20 slices", "tissue"]
    assert t["seeds"] == [0, 1] and t["unpaired"] == [3]
    assert t["upper_abdomen_dicom"].mean == pytest.approx(0.61)  # (0.45 + 0.77) / 2, seed 3 left out
    # changes per seed: 3 mm 0.58 - 0.61 = -0.03 and 0.23 - 0.53 = -0.30; worse: 0.45 - 0.55, 0.23 - 0.53
    assert t["abdomen_3mm_change"].mean == pytest.approx(-0.165)
    assert t["abdomen_3mm_change"].std == pytest.approx(0.27 / math.sqrt(2))
    assert t["worst_change"].mean == pytest.approx((-0.10 - 0.30) / 2)
    assert t["default_worst"].mean == pytest.approx((0.55 + 0.53 + 0.34) / 3)
    assert f["apart"] == 1 and t["apart"] == 1  # fov: -0.01 and +0.03; tissue seed 1: +0.10 and -0.30
    header, cells = realism_ablation_table([f])
    assert header[:3] == ["randomisation off", "training patients", "seeds"]
    assert realism_ablation_table([t])[1][0][1:3] == ["24 of 20 slices", "0, 1"]
    assert cells == [["fov", "8 of 60 slices", "0", "0.59", "\u22120.01", "0.53", "+0.03"]]

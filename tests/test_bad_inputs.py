"""Bad input is refused at the door: a table of (call, exception type, message pattern).

Every case calls one public function of the NumPy layer or the file loaders
with one bad argument and expects the right exception type with a message that
names the argument (or the file).  The corrupt files are built in a temporary
folder from the shipped samples (a truncated NIfTI, a header-only NIfTI, a
MetaImage whose ``.raw`` is missing or short, DICOM series with a missing,
duplicated or shifted slice, broken noise manifests).

Recount without pytest (how many cases are refused clearly, which are not)::

    PYTHONPATH=$PWD python tests/test_bad_inputs.py
"""

from __future__ import annotations

import gzip
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from rarunet_lib import adl, adl_rankings, metrics, noise
from rarunet_lib.data import case as case_mod
from rarunet_lib.data import io, stats, synthetic_case

# ``rarunet_lib.data.preprocess`` the module (the package re-exports a function of that name)
preprocess = importlib.import_module("rarunet_lib.data.preprocess")

SAMPLES = Path(__file__).resolve().parents[1] / "rarunet_lib" / "data" / "samples" / "totalseg"
Case = case_mod.Case


# --------------------------------------------------------------------------- the corrupt files
def build_files(d: Path) -> Path:
    """Write every corrupt file of the sweep into ``d``; returns ``d``."""
    import SimpleITK as sitk

    raw = gzip.open(SAMPLES / "ct_3mm.nii.gz").read()
    (d / "half.nii").write_bytes(raw[: len(raw) // 2])
    (d / "header_only.nii").write_bytes(raw[:352])
    (d / "short_gz.nii.gz").write_bytes(gzip.compress(raw[: len(raw) // 2]))
    gz = (SAMPLES / "ct_3mm.nii.gz").read_bytes()
    (d / "cut_stream.nii.gz").write_bytes(gz[: len(gz) // 2])
    (d / "empty.nii").write_bytes(b"")
    (d / "garbage.nii.gz").write_bytes(b"not an image at all" * 10)
    vol = np.zeros((4, 8, 8), np.float32)
    vol[1, 2, 2] = np.nan
    sitk.WriteImage(sitk.GetImageFromArray(vol), str(d / "nan_ct.nii.gz"))
    vol[1, 2, 2] = 1e6
    sitk.WriteImage(sitk.GetImageFromArray(vol), str(d / "huge_ct.nii.gz"))
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((8, 8), np.int16)), str(d / "flat2d.nii.gz"))
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 8, 8), np.int16)), str(d / "ok_ct.nii.gz"))
    lab = np.zeros((4, 8, 8), np.float32)
    lab[1, 2:4, 2:4] = 1.5
    sitk.WriteImage(sitk.GetImageFromArray(lab), str(d / "frac_labels.nii.gz"))
    lab[1, 2:4, 2:4] = -3
    sitk.WriteImage(sitk.GetImageFromArray(lab.astype(np.int16)), str(d / "neg_labels.nii.gz"))
    # MetaImage: .raw missing, .raw short
    img = sitk.GetImageFromArray(np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6))
    for stem in ("missing", "short"):
        sitk.WriteImage(img, str(d / f"{stem}.mhd"))
    (d / "missing.raw").unlink()
    (d / "short.raw").write_bytes((d / "short.raw").read_bytes()[:100])
    # DICOM: one slice missing, a slice duplicated, a slice shifted by 1 mm, an empty folder
    files = sorted((SAMPLES / "ct_dicom").iterdir())
    for name in ("dcm_gap", "dcm_dup", "dcm_uneven"):
        shutil.copytree(SAMPLES / "ct_dicom", d / name)
    (d / "dcm_gap" / files[7].name).unlink()
    shutil.copy(d / "dcm_dup" / files[5].name, d / "dcm_dup" / "copy_of_slice")
    p = d / "dcm_uneven" / files[1].name
    blob = p.read_bytes()
    assert blob.count(b"-437.51171875\\-768.5") == 1
    p.write_bytes(blob.replace(b"-437.51171875\\-768.5", b"-437.51171875\\-769.5"))
    (d / "dcm_empty").mkdir()
    (d / "not_a_dir.txt").write_text("x")
    # noise manifests
    (d / "cut.json").write_text('{"format": "rarunet-noise-manifest/1", "entries": [')
    (d / "list.json").write_text("[1, 2]")
    (d / "noformat.json").write_text('{"entries": []}')
    (d / "noentries.json").write_text('{"format": "rarunet-noise-manifest/1"}')
    (d / "badentries.json").write_text('{"format": "rarunet-noise-manifest/1", "entries": {"a": 1}}')
    (d / "noindex.json").write_text('{"format": "rarunet-noise-manifest/1", "entries": [{"kind": "erosion"}]}')
    (d / "blank.json").write_text("")
    (d / "csi_empty").mkdir()
    return d


# --------------------------------------------------------------------------- inputs
def sq(n: int = 16) -> np.ndarray:
    m = np.zeros((n, n), np.uint8)
    m[n // 4: 3 * n // 4, n // 4: 3 * n // 4] = 1
    return m


def stack(k: int = 3, n: int = 16) -> np.ndarray:
    return np.stack([sq(n)] * k)


def good_case(labels=True) -> Case:
    hu = np.full((2, 32, 32), -1000, np.int16)
    hu[:, 8:24, 8:24] = 300
    return Case(hu, stack(2, 32) if labels else None, (1.0, 1.0, 1.0))


NAN = float("nan")
INF = float("inf")
B = stack()
FNAN = np.where(sq() > 0, np.nan, 0.0)
LOSSES = np.array([[0.1, 0.2, 0.3], [0.2, 0.1, 0.4]])
X3 = np.zeros((2, 8, 8), np.float32)
T = TypeError
V = ValueError
F = FileNotFoundError


def _c(cid, call, exc, pattern):
    return pytest.param(call, exc, pattern, id=cid)


CASES = [
    # ------------------------------------------------------------------ metrics
    _c("dice-broadcast-stack", lambda d: metrics.dice(np.ones((1, 8, 8), int), np.ones((3, 8, 8), int)), V, r"\bgt\b.*\bpred\b"),
    _c("dice-empty", lambda d: metrics.dice(np.zeros((0, 8), int), np.zeros((0, 8), int)), V, r"\bgt\b"),
    _c("dice-probabilities", lambda d: metrics.dice(np.full((4, 4), 0.7), sq(4)), T, r"\bgt\b"),
    _c("dice-pred-2", lambda d: metrics.dice(sq(), 2 * sq()), V, r"\bpred\b"),
    _c("dice-scalar", lambda d: metrics.dice(1, 1), V, r"\bgt\b"),
    _c("dice-strings", lambda d: metrics.dice(np.array(["a", "b"]), np.array([0, 1])), T, r"\bgt\b"),
    _c("iou-shape", lambda d: metrics.iou(np.ones((8, 8), int), np.ones((8, 9), int)), V, r"\bgt\b.*\bpred\b"),
    _c("iou-nan-pred", lambda d: metrics.iou(sq(), FNAN), T, r"\bpred\b"),
    _c("confusion-negative", lambda d: metrics.confusion(sq(), -sq()), V, r"\bpred\b"),
    _c("confusion-complex", lambda d: metrics.confusion(sq().astype(complex), sq()), T, r"\bgt\b"),
    _c("accuracy-empty", lambda d: metrics.accuracy(np.zeros(0, int), np.zeros(0, int)), V, r"\bgt\b"),
    _c("precision-object", lambda d: metrics.precision(np.array([None, 1]), np.array([0, 1])), T, r"\bgt\b"),
    _c("recall-none", lambda d: metrics.recall(sq(), None), T, r"\bpred\b"),
    _c("specificity-str-list", lambda d: metrics.specificity(["0", "1"], [0, 1]), T, r"\bgt\b"),
    _c("specificity-zero-size-slice", lambda d: metrics.specificity(np.zeros((8, 0), int), np.zeros((8, 0), int)), V, r"\bgt\b"),
    _c("boundary-empty", lambda d: metrics.boundary(np.zeros((0, 0), bool)), V, r"\bmask\b"),
    _c("boundary-float", lambda d: metrics.boundary(np.ones((3, 3))), T, r"\bmask\b"),
    _c("boundary-three-values", lambda d: metrics.boundary(np.array([[0, 1, 2]])), V, r"\bmask\b"),
    _c("surface-spacing-nan", lambda d: metrics.surface_distances(sq(), sq(), spacing=(NAN, 1)), V, r"\bspacing\b"),
    _c("surface-spacing-negative", lambda d: metrics.surface_distances(sq(), sq(), spacing=-1), V, r"\bspacing\b"),
    _c("surface-spacing-length", lambda d: metrics.surface_distances(sq(), sq(), spacing=(1, 1, 1)), V, r"\bspacing\b"),
    _c("surface-spacing-zero", lambda d: metrics.surface_distances(sq(), sq(), spacing=(0, 1)), V, r"\bspacing\b"),
    _c("surface-spacing-str", lambda d: metrics.surface_distances(sq(), sq(), spacing="1"), T, r"\bspacing\b"),
    _c("surface-spacing-inf", lambda d: metrics.surface_distances(sq(), sq(), spacing=(1, INF)), V, r"\bspacing\b"),
    _c("surface-spacing-bool", lambda d: metrics.surface_distances(sq(), sq(), spacing=True), T, r"\bspacing\b"),
    _c("surface-spacing-2d", lambda d: metrics.surface_distances(sq(), sq(), spacing=[[1, 1]]), V, r"\bspacing\b"),
    _c("hausdorff-broadcast-column", lambda d: metrics.hausdorff(np.ones((8, 1), int), np.ones((8, 8), int)), V, r"\bgt\b.*\bpred\b"),
    _c("hd95-pred-float", lambda d: metrics.hd95(sq(), sq().astype(float)), T, r"\bpred\b"),
    _c("assd-variant", lambda d: metrics.assd(sq(), sq(), variant="mean"), V, r"\bvariant\b"),
    _c("assd-variant-none", lambda d: metrics.assd(sq(), sq(), variant=None), V, r"\bvariant\b"),
    _c("rvd-signed-str", lambda d: metrics.rvd(sq(), sq(), signed="yes"), T, r"\bsigned\b"),
    _c("rvd-empty", lambda d: metrics.rvd(np.zeros(0, int), np.zeros(0, int)), V, r"\bgt\b"),
    _c("von-neumann-negative", lambda d: metrics.von_neumann(-1), V, r"\bradius\b"),
    _c("von-neumann-float", lambda d: metrics.von_neumann(1.5), T, r"\bradius\b"),
    _c("von-neumann-bool", lambda d: metrics.von_neumann(True), T, r"\bradius\b"),
    _c("von-neumann-ndim-0", lambda d: metrics.von_neumann(1, 0), V, r"\bndim\b"),
    _c("von-neumann-ndim-float", lambda d: metrics.von_neumann(1, 2.0), T, r"\bndim\b"),
    _c("bds-radius-negative", lambda d: metrics.boundary_dice_scores(sq(), sq(), radius=-2), V, r"\bradius\b"),
    _c("dbd-g-radius-str", lambda d: metrics.dbd_g(sq(), sq(), radius="1"), T, r"\bradius\b"),
    _c("dbd-m-shape", lambda d: metrics.dbd_m(sq(16), sq(8)), V, r"\bgt\b.*\bpred\b"),
    _c("sbd-pred-2", lambda d: metrics.sbd(sq(), 2 * sq()), V, r"\bpred\b"),
    _c("pair-radius-none", lambda d: metrics.evaluate_pair(sq(), sq(), radius=None), T, r"\bradius\b"),
    _c("pair-spacing-nan", lambda d: metrics.evaluate_pair(sq(), sq(), spacing=NAN), V, r"\bspacing\b"),
    _c("pair-empty", lambda d: metrics.evaluate_pair(np.zeros((0, 4), int), np.zeros((0, 4), int)), V, r"\bgt\b"),
    _c("evaluate-aggregate", lambda d: metrics.evaluate(B, B, aggregate="mean"), V, r"\baggregate\b"),
    _c("evaluate-aggregate-none", lambda d: metrics.evaluate(B, B, aggregate=None), V, r"\baggregate\b"),
    _c("evaluate-2d", lambda d: metrics.evaluate(sq(), sq()), V, r"\bgt_stack\b"),
    _c("evaluate-broadcast-stack", lambda d: metrics.evaluate(B[:1], B), V, r"\bgt_stack\b.*\bpred_stack\b"),
    _c("evaluate-no-slices", lambda d: metrics.evaluate(B[:0], B[:0]), V, r"\bgt_stack\b"),
    _c("evaluate-zero-size-slices", lambda d: metrics.evaluate(np.zeros((2, 0, 8), int), np.zeros((2, 0, 8), int)), V, r"\bgt_stack\b"),
    _c("evaluate-spacing-3-pooled", lambda d: metrics.evaluate(B, B, spacing=(1, 1, 1)), V, r"\bspacing\b"),
    _c("evaluate-radius-negative", lambda d: metrics.evaluate(B, B, radius=-1), V, r"\bradius\b"),
    _c("evaluate-pred-float", lambda d: metrics.evaluate(B, B.astype(np.float32)), T, r"\bpred_stack\b"),
    _c("evaluate-gt-non-binary", lambda d: metrics.evaluate(3 * B, B), V, r"\bgt_stack\b"),
    _c("as-mask-float", lambda d: metrics.as_mask(np.array([0.5])), T, r"\bmask\b"),
    _c("as-mask-empty", lambda d: metrics.as_mask(np.zeros(0, bool)), V, r"\bmask\b"),
    # ------------------------------------------------------------------ ADL
    _c("count-alpha-nan", lambda d: adl.removal_count(1, NAN, 0.5, 10, 100), V, r"\balpha\b"),
    _c("count-alpha-zero", lambda d: adl.removal_count(1, 0.0, 0.5, 10, 100), V, r"\balpha\b"),
    _c("count-alpha-str", lambda d: adl.removal_count(1, "0.5", 0.5, 10, 100), T, r"\balpha\b"),
    _c("count-alpha-bool", lambda d: adl.removal_count(1, True, 0.5, 10, 100), T, r"\balpha\b"),
    _c("count-beta-negative", lambda d: adl.removal_count(1, 0.5, -0.1, 10, 100), V, r"\bbeta\b"),
    _c("count-beta-inf", lambda d: adl.removal_count(1, 0.5, INF, 10, 100), V, r"\bbeta\b"),
    _c("count-beta-none", lambda d: adl.removal_count(1, 0.5, None, 10, 100), T, r"\bbeta\b"),
    _c("count-epochs-zero", lambda d: adl.removal_count(1, 0.5, 0.5, 0, 100), V, r"\bepochs\b"),
    _c("count-epochs-float", lambda d: adl.removal_count(1, 0.5, 0.5, 10.0, 100), T, r"\bepochs\b"),
    _c("count-epochs-bool", lambda d: adl.removal_count(1, 0.5, 0.5, True, 100), T, r"\bepochs\b"),
    _c("count-n-masks-negative", lambda d: adl.removal_count(1, 0.5, 0.5, 10, -5), V, r"\bn_masks\b"),
    _c("count-t-zero", lambda d: adl.removal_count(0, 0.5, 0.5, 10, 100), V, r"\bt\b"),
    _c("count-t-bool", lambda d: adl.removal_count(True, 0.5, 0.5, 10, 100), T, r"\bt\b"),
    _c("count-t-float", lambda d: adl.removal_count(1.0, 0.5, 0.5, 10, 100), T, r"\bt\b"),
    _c("count-t-beyond", lambda d: adl.removal_count(11, 0.5, 0.5, 10, 100), V, r"\bt\b"),
    _c("schedule-epochs-zero", lambda d: adl.removal_schedule(0.5, 0.5, 0, 100), V, r"\bepochs\b"),
    _c("schedule-n-masks-float", lambda d: adl.removal_schedule(0.5, 0.5, 10, 1.5), T, r"\bn_masks\b"),
    _c("schedule-alpha-above-1", lambda d: adl.removal_schedule(1.5, 0.5, 10, 100), V, r"\balpha\b"),
    _c("schedule-beta-nan", lambda d: adl.removal_schedule(0.5, NAN, 10, 100), V, r"\bbeta\b"),
    _c("ncl-1d", lambda d: adl.normalised_cumulative_loss([0.1, 0.2]), V, r"\blosses\b"),
    _c("ncl-inf", lambda d: adl.normalised_cumulative_loss([[0.1, INF]]), V, r"\blosses\b"),
    _c("ncl-no-samples", lambda d: adl.normalised_cumulative_loss(np.zeros((2, 0))), V, r"\blosses\b"),
    _c("ncl-strings", lambda d: adl.normalised_cumulative_loss([["a", "b"]]), T, r"\blosses\b"),
    _c("rank-method", lambda d: adl.rank_noisy(LOSSES, method="o2u"), V, r"\bmethod\b"),
    _c("rank-random-no-seed", lambda d: adl.rank_noisy(LOSSES, method="random"), V, r"\bseed\b"),
    _c("rank-seed-negative", lambda d: adl.rank_noisy(LOSSES, method="random", seed=-1), V, r"\bseed\b"),
    _c("rank-seed-float", lambda d: adl.rank_noisy(LOSSES, method="random", seed=1.5), T, r"\bseed\b"),
    _c("rank-seed-bool", lambda d: adl.rank_noisy(LOSSES, method="random", seed=True), T, r"\bseed\b"),
    _c("rank-losses-3d", lambda d: adl.rank_noisy(LOSSES[None], method="normalised_cumulative"), V, r"\blosses\b"),
    _c("rank-losses-inf", lambda d: adl.rank_noisy([[0.1, -INF]], method="last_epoch"), V, r"\blosses\b"),
    _c("select-n-out-negative", lambda d: adl.select_excluded([0.1, 0.2], -1), V, r"\bn_out\b"),
    _c("select-n-out-float", lambda d: adl.select_excluded([0.1, 0.2], 1.0), T, r"\bn_out\b"),
    _c("select-n-out-bool", lambda d: adl.select_excluded([0.1, 0.2], True), T, r"\bn_out\b"),
    _c("select-n-out-too-many", lambda d: adl.select_excluded([0.1, 0.2], 3), V, r"\bn_out\b"),
    _c("select-scores-nan", lambda d: adl.select_excluded([0.1, NAN], 1), V, r"\bscores\b"),
    _c("select-scores-2d", lambda d: adl.select_excluded([[0.1, 0.2]], 1), V, r"\bscores\b"),
    _c("detect-index-beyond", lambda d: adl.detection_scores([5], [1], 5), V, r"\bexcluded\b"),
    _c("detect-index-negative", lambda d: adl.detection_scores([1], [-1], 5), V, r"\bnoisy_indices\b"),
    _c("detect-index-float", lambda d: adl.detection_scores([1.5], [1], 5), T, r"\bexcluded\b"),
    _c("detect-n-zero", lambda d: adl.detection_scores([], [], 0), V, r"\bn_samples\b"),
    _c("detect-n-bool", lambda d: adl.detection_scores([0], [0], True), T, r"\bn_samples\b"),
    _c("detect-indices-2d", lambda d: adl.detection_scores([0], [[0, 1]], 5), V, r"\bnoisy_indices\b"),
    _c("phantom-randomise-unknown", lambda d: synthetic_case(0, 2, 32, variation="random", randomise=["x"]), V,
       r"\brandomise\b"),
    _c("phantom-randomise-str", lambda d: synthetic_case(0, 2, 32, variation="random", randomise="tissue"), V,
       r"\brandomise\b"),
    _c("phantom-randomise-csi", lambda d: synthetic_case(0, 2, 32, variation="csi", randomise=["tissue"]), V, r"\brandomise\b"),
    _c("forget-beta-over", lambda d: adl.forget_schedule(1.5, 10, 100), V, r"\bbeta\b"),
    _c("forget-ramp-zero", lambda d: adl.forget_schedule(0.5, 10, 100, ramp_epochs=0), V, r"\bramp_epochs\b"),
    _c("rank-size-no-areas", lambda d: adl.rank_noisy(LOSSES, method="size_adjusted"), V, r"\bareas\b"),
    _c("auc-scores-nan", lambda d: adl_rankings.roc_auc([NAN, 1.0], [0]), V, r"\bscores\b"),
    _c("auc-noisy-out-of-range", lambda d: adl_rankings.roc_auc([0.1, 1.0], [2]), V, r"\bnoisy\b"),
    _c("auc-noisy-flags-short", lambda d: adl_rankings.roc_auc([0.1, 1.0], np.array([True])), V, r"\bnoisy\b"),
    _c("ap-scores-2d", lambda d: adl_rankings.average_precision([[0.1, 1.0]], [0]), V, r"\bscores\b"),
    _c("maps-shape", lambda d: adl_rankings.mask_statistics(np.zeros((2, 4, 4)), np.zeros((2, 4, 5))), V,
       r"\blabels\b"),
    _c("maps-probs-int", lambda d: adl_rankings.mask_statistics(np.zeros((2, 4, 4)), np.zeros((2, 4, 4), int)), T,
       r"\bprobs\b"),
    _c("map-ranking-name", lambda d: adl_rankings.map_ranking("loss", {}, 1), V, r"\bname\b"),
    # ------------------------------------------------------------------ label noise
    _c("overlap-shape", lambda d: noise.overlap_score(sq(16), sq(8)), V, r"\bclean\b.*\bnoisy\b"),
    _c("overlap-broadcast", lambda d: noise.overlap_score(sq(16)[:1], sq(16)), V, r"\bclean\b.*\bnoisy\b"),
    _c("overlap-non-binary", lambda d: noise.overlap_score(3 * sq(), sq()), V, r"\bclean\b"),
    _c("overlap-kind", lambda d: noise.overlap_score(sq(), sq(), "dsc"), V, r"\boverlap\b"),
    _c("overlap-empty", lambda d: noise.overlap_score(np.zeros((0, 4)), np.zeros((0, 4))), V, r"\bclean\b"),
    _c("overlap-nan", lambda d: noise.overlap_score(sq(), FNAN), V, r"\bnoisy\b"),
    _c("corrupt-3d", lambda d: noise.corrupt(B, "erosion", 0.8), V, r"\bmask\b"),
    _c("corrupt-non-binary", lambda d: noise.corrupt(2 * sq(), "erosion", 0.8), V, r"\bmask\b"),
    _c("corrupt-nan-mask", lambda d: noise.corrupt(FNAN, "erosion", 0.8), V, r"\bmask\b"),
    _c("corrupt-empty", lambda d: noise.corrupt(np.zeros((0, 0)), "erosion", 0.8), V, r"\bmask\b"),
    _c("corrupt-kind", lambda d: noise.corrupt(sq(), "blur", 0.8), V, r"\bkind\b"),
    _c("corrupt-alpha-zero", lambda d: noise.corrupt(sq(), "erosion", 0.0), V, r"\balpha\b"),
    _c("corrupt-alpha-nan", lambda d: noise.corrupt(sq(), "erosion", NAN), V, r"\balpha\b"),
    _c("corrupt-alpha-str", lambda d: noise.corrupt(sq(), "erosion", "0.8"), T, r"\balpha\b"),
    _c("corrupt-seed-negative", lambda d: noise.corrupt(sq(), "erosion", 0.8, seed=-1), V, r"\bseed\b"),
    _c("corrupt-seed-float", lambda d: noise.corrupt(sq(), "erosion", 0.8, seed=1.5), T, r"\bseed\b"),
    _c("corrupt-seed-bool", lambda d: noise.corrupt(sq(), "erosion", 0.8, seed=True), T, r"\bseed\b"),
    _c("corrupt-sigma-negative", lambda d: noise.corrupt(sq(), "elastic", 0.8, sigma=-1.0), V, r"\bsigma\b"),
    _c("corrupt-sigma-nan", lambda d: noise.corrupt(sq(), "elastic", 0.8, sigma=NAN), V, r"\bsigma\b"),
    _c("corrupt-paper-size-zero", lambda d: noise.corrupt(sq(), "paper_erosion", paper_size=0), V, r"\bpaper_size\b"),
    _c("corrupt-paper-size-float", lambda d: noise.corrupt(sq(), "paper_dilation", paper_size=2.5), T, r"\bpaper_size\b"),
    _c("corrupt-paper-amplitude-inf", lambda d: noise.corrupt(sq(), "paper_elastic", paper_amplitude=INF), V, r"\bpaper_amplitude\b"),
    _c("corrupt-paper-period-zero", lambda d: noise.corrupt(sq(), "paper_elastic", paper_period=0), V, r"\bpaper_period\b"),
    _c("corrupt-return-info-str", lambda d: noise.corrupt(sq(), "erosion", 0.8, return_info="yes"), T, r"\breturn_info\b"),
    _c("corrupt-overlap", lambda d: noise.corrupt(sq(), "erosion", 0.8, overlap="x"), V, r"\boverlap\b"),
    _c("noisy-2d", lambda d: noise.make_noisy_labels(sq(), alpha=0.8, beta=0.5), V, r"\bmasks\b"),
    _c("noisy-no-masks", lambda d: noise.make_noisy_labels(B[:0], alpha=0.8, beta=0.5), V, r"\bmasks\b"),
    _c("noisy-non-binary", lambda d: noise.make_noisy_labels(2 * B, alpha=0.8, beta=0.5), V, r"\bmasks\b"),
    _c("noisy-alpha-none", lambda d: noise.make_noisy_labels(B, alpha=None, beta=0.5), T, r"\balpha\b"),
    _c("noisy-beta-above-1", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=1.5), V, r"\bbeta\b"),
    _c("noisy-beta-nan", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=NAN), V, r"\bbeta\b"),
    _c("noisy-kinds-str", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=0.5, kinds="erosion"), T, r"\bkinds\b"),
    _c("noisy-kinds-unknown", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=0.5, kinds=("erosion", "blur")), V, r"\bkinds\b"),
    _c("noisy-seed-negative", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=0.5, seed=-1), V, r"\bseed\b"),
    _c("noisy-seed-float", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=0.5, seed=2.5), T, r"\bseed\b"),
    _c("noisy-workers-zero", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=0.5, workers=0), V, r"\bworkers\b"),
    _c("noisy-workers-bool", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=0.5, workers=True), T, r"\bworkers\b"),
    _c("noisy-on-unreachable", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=0.5, on_unreachable="skip"), V, r"\bon_unreachable\b"),
    _c("noisy-overlap", lambda d: noise.make_noisy_labels(B, alpha=0.8, beta=0.5, overlap="jaccard"), V, r"\boverlap\b"),
    _c("save-manifest-dict", lambda d: noise.save_manifest({"index": 0}, d / "m.json"), T, r"\bmanifest\b"),
    _c("save-manifest-entries", lambda d: noise.save_manifest([1, 2], d / "m.json"), T, r"\bmanifest\b"),
    _c("save-manifest-path-none", lambda d: noise.save_manifest([], None), T, r"\bpath\b"),
    _c("load-manifest-missing", lambda d: noise.load_manifest(d / "nope.json"), F, r"nope\.json"),
    _c("load-manifest-truncated", lambda d: noise.load_manifest(d / "cut.json"), V, r"cut\.json"),
    _c("load-manifest-blank", lambda d: noise.load_manifest(d / "blank.json"), V, r"blank\.json"),
    _c("load-manifest-list", lambda d: noise.load_manifest(d / "list.json"), V, r"list\.json"),
    _c("load-manifest-format", lambda d: noise.load_manifest(d / "noformat.json"), V, r"noformat\.json"),
    _c("load-manifest-no-entries", lambda d: noise.load_manifest(d / "noentries.json"), V, r"noentries\.json"),
    _c("load-manifest-entries-dict", lambda d: noise.load_manifest(d / "badentries.json"), V, r"badentries\.json"),
    _c("load-manifest-entry-no-index", lambda d: noise.load_manifest(d / "noindex.json"), V, r"noindex\.json"),
    _c("load-manifest-folder", lambda d: noise.load_manifest(d / "csi_empty"), V, r"csi_empty"),
    # ------------------------------------------------------------------ Case
    _c("case-hu-2d", lambda d: Case(np.zeros((8, 8), np.int16), None, (1, 1, 1)), V, r"\bhu\b"),
    _c("case-hu-empty", lambda d: Case(np.zeros((0, 8, 8), np.int16), None, (1, 1, 1)), V, r"\bhu\b"),
    _c("case-hu-zero-size-slice", lambda d: Case(np.zeros((2, 0, 8), np.int16), None, (1, 1, 1)), V, r"\bhu\b"),
    _c("case-hu-nan", lambda d: Case(np.full((1, 4, 4), NAN), None, (1, 1, 1)), V, r"\bhu\b"),
    _c("case-hu-1e6", lambda d: Case(np.full((1, 4, 4), 1e6), None, (1, 1, 1)), V, r"\bhu\b"),
    _c("case-hu-bool", lambda d: Case(np.zeros((1, 4, 4), bool), None, (1, 1, 1)), T, r"\bhu\b"),
    _c("case-hu-str", lambda d: Case(np.full((1, 4, 4), "a"), None, (1, 1, 1)), T, r"\bhu\b"),
    _c("case-labels-shape", lambda d: Case(np.zeros((1, 4, 4), np.int16), np.zeros((1, 4, 5), int), (1, 1, 1)), V, r"\blabels\b"),
    _c("case-labels-broadcast", lambda d: Case(np.zeros((3, 4, 4), np.int16), np.zeros((1, 4, 4), int), (1, 1, 1)), V, r"\blabels\b"),
    _c("case-labels-fraction", lambda d: Case(np.zeros((1, 4, 4), np.int16), np.full((1, 4, 4), 0.5), (1, 1, 1)), V, r"\blabels\b"),
    _c("case-labels-negative", lambda d: Case(np.zeros((1, 4, 4), np.int16), np.full((1, 4, 4), -1), (1, 1, 1)), V, r"\blabels\b"),
    _c("case-labels-nan", lambda d: Case(np.zeros((1, 4, 4), np.int16), np.full((1, 4, 4), NAN), (1, 1, 1)), V, r"\blabels\b"),
    _c("case-spacing-length", lambda d: Case(np.zeros((1, 4, 4), np.int16), None, (1, 1)), V, r"\bspacing\b"),
    _c("case-spacing-nan", lambda d: Case(np.zeros((1, 4, 4), np.int16), None, (1, NAN, 1)), V, r"\bspacing\b"),
    _c("case-spacing-negative", lambda d: Case(np.zeros((1, 4, 4), np.int16), None, (1, -1, 1)), V, r"\bspacing\b"),
    _c("case-spacing-str", lambda d: Case(np.zeros((1, 4, 4), np.int16), None, "abc"), T, r"\bspacing\b"),
    _c("case-name-int", lambda d: Case(np.zeros((1, 4, 4), np.int16), None, (1, 1, 1), name=3), T, r"\bname\b"),
    _c("case-meta-list", lambda d: Case(np.zeros((1, 4, 4), np.int16), None, (1, 1, 1), meta=[]), T, r"\bmeta\b"),
    # ------------------------------------------------------------------ preprocess
    _c("window-hu-nan", lambda d: preprocess.apply_window([0, NAN]), V, r"\bhu\b"),
    _c("window-hu-empty", lambda d: preprocess.apply_window([]), V, r"\bhu\b"),
    _c("window-hu-str", lambda d: preprocess.apply_window(["a"]), T, r"\bhu\b"),
    _c("window-one-value", lambda d: preprocess.apply_window([0], (1,)), V, r"\bwindow\b"),
    _c("window-nan", lambda d: preprocess.apply_window([0], (NAN, 100)), V, r"\bwindow\b"),
    _c("window-reversed", lambda d: preprocess.apply_window([0], (100, -100)), V, r"\bwindow\b"),
    _c("window-inf", lambda d: preprocess.apply_window([0], (-INF, 100)), V, r"\bwindow\b"),
    _c("window-str", lambda d: preprocess.apply_window([0], "ab"), T, r"\bwindow\b"),
    _c("resize-2d", lambda d: preprocess.resize_masks(sq(), 8), V, r"\bmasks\b"),
    _c("resize-non-binary", lambda d: preprocess.resize_masks(3 * B, 8), V, r"\bmasks\b"),
    _c("resize-empty", lambda d: preprocess.resize_masks(B[:0], 8), V, r"\bmasks\b"),
    _c("resize-not-square", lambda d: preprocess.resize_masks(B[:, :, :8], 8), V, r"\bmasks\b"),
    _c("resize-size-zero", lambda d: preprocess.resize_masks(B, 0), V, r"\bsize\b"),
    _c("resize-size-float", lambda d: preprocess.resize_masks(B, 2.5), T, r"\bsize\b"),
    _c("resize-size-bool", lambda d: preprocess.resize_masks(B, True), T, r"\bsize\b"),
    _c("resize-rule", lambda d: preprocess.resize_masks(B, 8, "cubic"), V, r"\brule\b"),
    _c("preprocess-not-case", lambda d: preprocess.preprocess(np.zeros((2, 32, 32)), 32), T, r"\bcase\b"),
    _c("preprocess-size-20", lambda d: preprocess.preprocess(good_case(), 20), V, r"\bsize\b"),
    _c("preprocess-size-bool", lambda d: preprocess.preprocess(good_case(), True), T, r"\bsize\b"),
    _c("preprocess-size-float", lambda d: preprocess.preprocess(good_case(), 32.0), T, r"\bsize\b"),
    _c("preprocess-window-nan", lambda d: preprocess.preprocess(good_case(), 32, (NAN, 1)), V, r"\bwindow\b"),
    _c("preprocess-mask-rule", lambda d: preprocess.preprocess(good_case(), 16, mask_rule="x"), V, r"\bmask_rule\b"),
    _c("preprocess-no-labels", lambda d: preprocess.preprocess(good_case(False), 32), V, r"\bcase\b"),
    _c("prepare-empty", lambda d: preprocess.prepare([], 32), V, r"\bcases\b"),
    _c("prepare-a-case", lambda d: preprocess.prepare(good_case(), 32), T, r"\bcases\b"),
    _c("prepare-not-case", lambda d: preprocess.prepare([good_case(), "x"], 32), T, r"\bcases\[1\]"),
    _c("prepare-size", lambda d: preprocess.prepare([good_case()], -16), V, r"\bsize\b"),
    _c("prepare-mask-rule", lambda d: preprocess.prepare([good_case()], 16, mask_rule="x"), V, r"\bmask_rule\b"),
    _c("split-n-one", lambda d: preprocess.validation_split(1), V, r"\bn\b"),
    _c("split-n-bool", lambda d: preprocess.validation_split(True), T, r"\bn\b"),
    _c("split-n-float", lambda d: preprocess.validation_split(10.0), T, r"\bn\b"),
    _c("split-fraction-zero", lambda d: preprocess.validation_split(10, 0.0), V, r"\bfraction\b"),
    _c("split-fraction-nan", lambda d: preprocess.validation_split(10, NAN), V, r"\bfraction\b"),
    _c("split-fraction-str", lambda d: preprocess.validation_split(10, "0.1"), T, r"\bfraction\b"),
    _c("split-fraction-empties-train", lambda d: preprocess.validation_split(2, 0.9), V, r"\bfraction\b"),
    _c("split-seed-negative", lambda d: preprocess.validation_split(10, seed=-1), V, r"\bseed\b"),
    _c("split-seed-float", lambda d: preprocess.validation_split(10, seed=1.5), T, r"\bseed\b"),
    _c("rotate-shape", lambda d: preprocess.rotate90(X3, X3[:1], 1), V, r"\bimages\b.*\bmasks\b"),
    _c("rotate-k-float", lambda d: preprocess.rotate90(X3, X3, 1.5), T, r"\bk\b"),
    _c("rotate-k-bool", lambda d: preprocess.rotate90(X3, X3, True), T, r"\bk\b"),
    _c("rotate-k-length", lambda d: preprocess.rotate90(X3, X3, [1, 0, 1]), V, r"\bk\b"),
    _c("rotate-2d", lambda d: preprocess.rotate90(X3[0], X3[0], 1), V, r"\bimages\b"),
    _c("rotate-empty", lambda d: preprocess.rotate90(X3[:0], X3[:0], 1), V, r"\bimages\b"),
    _c("rotate-not-square", lambda d: preprocess.rotate90(X3[:, :, :4], X3[:, :, :4], 1), V, r"\bimages\b"),
    _c("neighbours-2d", lambda d: preprocess.stack_neighbours(X3[0], [0] * 8), V, r"\bimages\b"),
    _c("neighbours-index-length", lambda d: preprocess.stack_neighbours(X3, [0]), V, r"\bcase_index\b"),
    _c("neighbours-k-negative", lambda d: preprocess.stack_neighbours(X3, [0, 0], -1), V, r"\bk\b"),
    _c("neighbours-k-bool", lambda d: preprocess.stack_neighbours(X3, [0, 0], True), T, r"\bk\b"),
    _c("neighbours-k-float", lambda d: preprocess.stack_neighbours(X3, [0, 0], 1.5), T, r"\bk\b"),
    _c("neighbours-nan", lambda d: preprocess.stack_neighbours(np.full((2, 4, 4), NAN), [0, 0]), V, r"\bimages\b"),
    _c("neighbours-index-float", lambda d: preprocess.stack_neighbours(X3, [0.5, 1.5]), T, r"\bcase_index\b"),
    _c("neighbours-index-not-consecutive", lambda d: preprocess.stack_neighbours(np.zeros((3, 4, 4)), [0, 1, 0]), V, r"\bcase_index\b"),
    _c("neighbours-empty", lambda d: preprocess.stack_neighbours(X3[:0], []), V, r"\bimages\b"),
    # ------------------------------------------------------------------ stats
    _c("noise-sd-3d", lambda d: stats.noise_sd(np.zeros((2, 8, 8)), np.ones((2, 8, 8), bool)), V, r"\bhu_slice\b"),
    _c("noise-sd-region-shape", lambda d: stats.noise_sd(np.zeros((8, 8)), np.ones((8, 9), bool)), V, r"\bregion\b"),
    _c("noise-sd-region-non-binary", lambda d: stats.noise_sd(np.zeros((8, 8)), np.full((8, 8), 2)), V, r"\bregion\b"),
    _c("noise-sd-nan", lambda d: stats.noise_sd(np.full((8, 8), NAN), np.ones((8, 8), bool)), V, r"\bhu_slice\b"),
    _c("noise-sd-smooth-negative", lambda d: stats.noise_sd(np.zeros((8, 8)), np.ones((8, 8), bool), smooth_px=-1.0), V, r"\bsmooth_px\b"),
    _c("noise-sd-smooth-nan", lambda d: stats.noise_sd(np.zeros((8, 8)), np.ones((8, 8), bool), smooth_px=NAN), V, r"\bsmooth_px\b"),
    _c("noise-sd-empty", lambda d: stats.noise_sd(np.zeros((0, 8)), np.ones((0, 8), bool)), V, r"\bhu_slice\b"),
    _c("stats-not-case", lambda d: stats.case_statistics(np.zeros((2, 8, 8))), T, r"\bcase\b"),
    _c("stats-max-slices-zero", lambda d: stats.case_statistics(good_case(), max_slices=0), V, r"\bmax_slices\b"),
    _c("stats-max-slices-bool", lambda d: stats.case_statistics(good_case(), max_slices=True), T, r"\bmax_slices\b"),
    _c("stats-seed-negative", lambda d: stats.case_statistics(good_case(), seed=-1), V, r"\bseed\b"),
    _c("stats-no-labels", lambda d: stats.case_statistics(good_case(False)), V, r"\bcase\b"),
    # ------------------------------------------------------------------ file loaders
    _c("load-missing", lambda d: io.load_case(d / "nope.nii.gz"), F, r"nope\.nii\.gz"),
    _c("load-path-none", lambda d: io.load_case(None), T, r"\bimage_path\b"),
    _c("load-path-int", lambda d: io.load_case(3), T, r"\bimage_path\b"),
    _c("load-labels-missing", lambda d: io.load_case(d / "ok_ct.nii.gz", d / "nope_lab.nii.gz"), F, r"nope_lab\.nii\.gz"),
    _c("load-hu-offset-nan", lambda d: io.load_case(d / "ok_ct.nii.gz", hu_offset=NAN), V, r"\bhu_offset\b"),
    _c("load-hu-offset-word", lambda d: io.load_case(d / "ok_ct.nii.gz", hu_offset="abc"), V, r"\bhu_offset\b"),
    _c("load-hu-offset-bool", lambda d: io.load_case(d / "ok_ct.nii.gz", hu_offset=True), T, r"\bhu_offset\b"),
    _c("load-hu-offset-inf", lambda d: io.load_case(d / "ok_ct.nii.gz", hu_offset=INF), V, r"\bhu_offset\b"),
    _c("load-keep-labels-float", lambda d: io.load_case(d / "ok_ct.nii.gz", keep_labels=[1.5]), T, r"\bkeep_labels\b"),
    _c("load-keep-labels-negative", lambda d: io.load_case(d / "ok_ct.nii.gz", keep_labels=[-1]), V, r"\bkeep_labels\b"),
    _c("load-keep-labels-str", lambda d: io.load_case(d / "ok_ct.nii.gz", keep_labels="26"), T, r"\bkeep_labels\b"),
    _c("load-name-int", lambda d: io.load_case(d / "ok_ct.nii.gz", name=5), T, r"\bname\b"),
    _c("load-nifti-truncated", lambda d: io.load_case(d / "half.nii"), V, r"half\.nii"),
    _c("load-nifti-header-only", lambda d: io.load_case(d / "header_only.nii"), V, r"header_only\.nii"),
    _c("load-nifti-gz-short", lambda d: io.load_case(d / "short_gz.nii.gz"), V, r"short_gz\.nii\.gz"),
    _c("load-nifti-gz-cut-stream", lambda d: io.load_case(d / "cut_stream.nii.gz"), V, r"cut_stream\.nii\.gz"),
    _c("load-nifti-empty-file", lambda d: io.load_case(d / "empty.nii"), V, r"empty\.nii"),
    _c("load-nifti-garbage", lambda d: io.load_case(d / "garbage.nii.gz"), V, r"garbage\.nii\.gz"),
    _c("load-nifti-nan-hu", lambda d: io.load_case(d / "nan_ct.nii.gz"), V, r"nan_ct\.nii\.gz"),
    _c("load-nifti-hu-beyond-int16", lambda d: io.load_case(d / "huge_ct.nii.gz"), V, r"huge_ct\.nii\.gz"),
    _c("load-nifti-2d", lambda d: io.load_case(d / "flat2d.nii.gz"), V, r"flat2d\.nii\.gz"),
    _c("load-labels-truncated", lambda d: io.load_case(SAMPLES / "ct_3mm.nii.gz", d / "half.nii"), V, r"half\.nii"),
    _c("load-labels-fraction", lambda d: io.load_case(d / "ok_ct.nii.gz", d / "frac_labels.nii.gz"), V, r"frac_labels\.nii\.gz"),
    _c("load-labels-negative", lambda d: io.load_case(d / "ok_ct.nii.gz", d / "neg_labels.nii.gz"), V, r"neg_labels\.nii\.gz"),
    _c("load-mhd-raw-missing", lambda d: io.load_case(d / "missing.mhd"), F, r"missing\.raw"),
    _c("load-mhd-raw-short", lambda d: io.load_case(d / "short.mhd"), V, r"short\.(raw|mhd)"),
    _c("load-dicom-gap", lambda d: io.load_case(d / "dcm_gap"), V, r"dcm_gap.*(gap|missing)"),
    _c("load-dicom-duplicate", lambda d: io.load_case(d / "dcm_dup"), V, r"dcm_dup.*(duplicate|twice|same position)"),
    _c("load-dicom-uneven", lambda d: io.load_case(d / "dcm_uneven"), V, r"dcm_uneven.*(uneven|spacing)"),
    _c("load-dicom-empty-folder", lambda d: io.load_case(d / "dcm_empty"), V, r"dcm_empty"),
    _c("find-root-missing", lambda d: io.find_csi2014(d / "nowhere"), F, r"nowhere"),
    _c("find-root-file", lambda d: io.find_csi2014(d / "not_a_dir.txt"), F, r"not_a_dir\.txt"),
    _c("find-root-int", lambda d: io.find_csi2014(5), T, r"\broot\b"),
    _c("csi-hu-offset-nan", lambda d: io.load_csi2014(d / "csi_empty", hu_offset=NAN), V, r"\bhu_offset\b"),
    _c("csi-hu-offset-str", lambda d: io.load_csi2014(d / "csi_empty", hu_offset="x"), T, r"\bhu_offset\b"),
    _c("demo-unknown", lambda d: io.load_demo("nope"), V, r"\bname\b"),
    _c("demo-int", lambda d: io.load_demo(3), V, r"\bname\b"),
    # ------------------------------------------------------------------ TensorFlow edges: pipeline, losses
    _c("dataset-images-nan", lambda d: _pipeline()(np.full((2, 8, 8), NAN), X3, batch_size=1), V, r"\bimages\b"),
    _c("dataset-images-empty", lambda d: _pipeline()(X3[:0], X3[:0], batch_size=1), V, r"\bimages\b"),
    _c("dataset-masks-non-binary", lambda d: _pipeline()(X3, X3 + 0.5, batch_size=1), V, r"\bmasks\b"),
    _c("dataset-batch-zero", lambda d: _pipeline()(X3, X3, batch_size=0), V, r"\bbatch_size\b"),
    _c("dataset-batch-bool", lambda d: _pipeline()(X3, X3, batch_size=True), T, r"\bbatch_size\b"),
    _c("dataset-seed-negative", lambda d: _pipeline()(X3, X3, batch_size=1, seed=-1), V, r"\bseed\b"),
    _c("dataset-weights-nan", lambda d: _pipeline()(X3, X3, batch_size=1, weights=[1, NAN]), V, r"\bweights\b"),
    _c("dataset-weights-negative", lambda d: _pipeline()(X3, X3, batch_size=1, weights=[1, -1]), V, r"\bweights\b"),
    _c("dataset-shuffle-str", lambda d: _pipeline()(X3, X3, batch_size=1, shuffle="no"), T, r"\bshuffle\b"),
    _c("dice-loss-smooth-negative", lambda d: _losses().DiceLoss(smooth=-1.0), V, r"\bsmooth\b"),
    _c("dice-loss-smooth-nan", lambda d: _losses().DiceLoss(smooth=NAN), V, r"\bsmooth\b"),
    _c("dice-loss-per-sample-str", lambda d: _losses().DiceLoss(per_sample="yes"), T, r"\bper_sample\b"),
    _c("dice-metric-threshold", lambda d: _losses().DiceMetric(threshold=1.5), V, r"\bthreshold\b"),
    _c("dice-metric-threshold-nan", lambda d: _losses().DiceMetric(threshold=NAN), V, r"\bthreshold\b"),
    _c("soft-dice-shapes", lambda d: _losses().soft_dice_per_sample(np.ones((2, 4, 4, 1)), np.ones((1, 4, 4, 1))), V, r"\by_true\b.*\by_pred\b"),
    _c("soft-dice-smooth-str", lambda d: _losses().soft_dice_per_sample(np.ones((2, 4, 4, 1)), np.ones((2, 4, 4, 1)), "1"), T, r"\bsmooth\b"),
]


def _pipeline():
    from rarunet_lib.data.pipeline import make_dataset

    return make_dataset


def _losses():
    from rarunet_lib import losses

    return losses


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    return build_files(tmp_path_factory.mktemp("bad_inputs"))


@pytest.mark.parametrize(("call", "exc", "pattern"), CASES)
def test_bad_input_is_refused_with_a_message_naming_it(call, exc, pattern, bad_files):
    with pytest.raises(exc, match=pattern):
        call(bad_files)


def test_the_sweep_is_large_enough():
    assert len(CASES) >= 150


def test_edge_values_that_are_allowed_still_pass():
    """The checks must not refuse what is legal: -inf scores, no epochs yet, seed lists, empty masks."""
    assert adl.select_excluded([-INF, 0.5, -INF, 0.2], 2).tolist() == [1, 3]  # unseen samples score -inf
    assert adl.rank_noisy(np.zeros((0, 3)), method="last_epoch").tolist() == [-INF] * 3
    assert adl.normalised_cumulative_loss(np.zeros((0, 2))).tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(adl.rank_noisy(LOSSES, method="random", seed=[3, np.int64(2)]),
                                  np.random.default_rng([3, 2]).random(3))
    det = adl.detection_scores(np.array([], dtype=float), [], 5)  # nothing excluded, nothing noisy
    assert det["n_excluded"] == 0 and np.isnan(det["precision"])
    assert adl.removal_schedule(1.0, 0.0, 3, 1).tolist() == [0, 0, 0]
    empty = np.zeros((4, 4), bool)
    assert metrics.dice(empty, empty) == 1.0 and np.isnan(metrics.rvd(empty, empty))
    a = np.zeros((5, 5), bool)
    a[1:4, 1:4] = True
    assert metrics.hausdorff(a, np.roll(a, 1, axis=1), spacing=np.float32(0.5)) == 0.5
    assert Case(np.zeros((1, 2, 2), np.int16), None, 2.0).spacing == (2.0, 2.0, 2.0)
    tr, va = preprocess.validation_split(np.int64(10), 0.5, seed=np.int64(1))
    assert sorted(tr.tolist() + va.tolist()) == list(range(10)) and len(va) == 5
    x = np.arange(6.0).reshape(1, 2, 3)
    assert preprocess.rotate90(x, x, 2)[0][0].tolist() == [[5.0, 4.0, 3.0], [2.0, 1.0, 0.0]]  # half turn, not square
    np.testing.assert_array_equal(noise.corrupt(sq(), "erosion", 1.0), sq())
    _, manifest = noise.make_noisy_labels(B, alpha=0.8, beta=0.0, kinds=["erosion"])
    assert manifest == []
    c = io.load_case(SAMPLES / "ct_3mm.nii.gz", SAMPLES / "ct_3mm_vertebrae.nii.gz", hu_offset=0,
                     keep_labels=np.array([26, 27]))
    assert set(np.unique(c.labels)) <= {0, 26, 27} and c.meta["hu_offset"] == 0.0


def test_check_choice_message_and_the_type_error_that_is_also_a_value_error():
    from rarunet_lib.checks import ArgumentTypeError, check_choice, check_int

    assert check_choice("rule", "area", ("area", "nearest")) == "area"
    with pytest.raises(ValueError, match=r"^alpha=1\.5 is not allowed; use one of \(0\.5, 1\.0\)$"):
        check_choice("alpha", 1.5, (0.5, 1.0))
    with pytest.raises(ValueError, match="flag=True is not allowed"):
        check_choice("flag", True, (1, 2))  # a bool is not the int 1
    with pytest.raises(TypeError) as err:
        check_int("epochs", 2.0)
    assert isinstance(err.value, ArgumentTypeError) and isinstance(err.value, ValueError)


def recount() -> tuple[int, list[tuple[str, str]]]:
    """Run every case outside pytest: (number refused clearly, [(case id, what happened)])."""
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        d = build_files(Path(tmp))
        for p in CASES:
            call, exc, pattern = p.values
            try:
                out = call(d)
            except Exception as err:  # noqa: BLE001 - classifying every outcome
                if isinstance(err, exc) and re.search(pattern, str(err)):
                    continue
                bad.append((p.id, f"unclear: {type(err).__name__}: {str(err)[:120]!r}"))
            else:
                bad.append((p.id, f"accepted: returned {type(out).__name__}"))
    return len(CASES) - len(bad), bad


if __name__ == "__main__":
    ok, bad = recount()
    for cid, what in bad:
        print(f"{cid:40s} {what}")
    accepted = sum(w.startswith("accepted") for _, w in bad)
    print(f"\n{len(CASES)} cases: {ok} refused clearly, {accepted} accepted, {len(bad) - accepted} unclear")
    sys.exit(0 if not bad else 1)

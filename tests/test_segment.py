"""Segmenting a scan: the mask on the scan's own grid, the resampling round trip, volume measures, the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_model import tiny_run

from rarunet_lib.data import Case, load_demo, preprocess, samples_dir
from rarunet_lib.data.io import save_mask
from rarunet_lib.inference import restore_to_grid

sitk = pytest.importorskip("SimpleITK")
ROOT = Path(__file__).resolve().parents[1]
SAMPLES = samples_dir() / "totalseg"
NIFTI, NIFTI_LABELS = SAMPLES / "ct_3mm.nii.gz", SAMPLES / "ct_3mm_vertebrae.nii.gz"
DICOM, DICOM_LABELS = SAMPLES / "ct_dicom", SAMPLES / "ct_dicom_seg.nii.gz"


def _read_as_stored(path: Path):
    """The scan as SimpleITK reads it, without the library's reorientation: the independent reference."""
    if path.is_dir():
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(path)))
        return reader.Execute()
    return sitk.ReadImage(str(path))


def _same_geometry(a, b) -> bool:
    return (a.GetSize() == b.GetSize() and a.GetSpacing() == b.GetSpacing() and a.GetOrigin() == b.GetOrigin()
            and a.GetDirection() == b.GetDirection())


def _dice(a, b) -> float:
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    return 2 * (a & b).sum() / (a.sum() + b.sum())


# ------------------------------------------------------------------ the mask on the scan's grid
@pytest.mark.parametrize("name, scan, labels, ids", [
    ("abdomen_3mm", NIFTI, NIFTI_LABELS, None),  # stored RAS: the library's arrays are LPS, flipped twice
    ("upper_abdomen_dicom", DICOM, DICOM_LABELS, range(26, 51)),  # labels stored on another grid
])
@pytest.mark.parametrize("suffix", [".nii.gz", ".mha", ".mhd"])
def test_a_saved_mask_has_the_scans_geometry_and_its_voxels(tmp_path, name, scan, labels, ids, suffix):
    case = load_demo(name)
    out = save_mask(tmp_path / f"mask{suffix}", case.mask, like=case)
    written, stored = sitk.ReadImage(str(out)), _read_as_stored(scan)
    assert _same_geometry(written, stored) and written.GetPixelID() == sitk.sitkUInt8
    # voxel for voxel the reference label, put on the scan's grid by SimpleITK alone
    ref = sitk.GetArrayFromImage(sitk.Resample(sitk.ReadImage(str(labels)), stored, sitk.Transform(),
                                               sitk.sitkNearestNeighbor, 0))
    ref = ref > 0 if ids is None else np.isin(ref, list(ids))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(written), ref)


def test_save_mask_refuses_a_bad_ending_a_wrong_shape_and_non_binary_values(tmp_path):
    case = load_demo("abdomen_3mm")
    with pytest.raises(ValueError, match=r"path=.*mask.png.* ending in one of"):
        save_mask(tmp_path / "mask.png", case.mask, like=case)
    with pytest.raises(ValueError, match="array has shape"):
        save_mask(tmp_path / "mask.nii.gz", case.mask[1:], like=case)
    with pytest.raises(ValueError, match="other than 0 and 1"):
        save_mask(tmp_path / "mask.nii.gz", case.mask * 2, like=case)
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ resampling there and back
@pytest.mark.parametrize("name, size", [("abdomen_3mm", 64), ("upper_abdomen_dicom", 256)])
def test_a_label_resampled_to_the_model_size_and_back_keeps_dice_095(name, size):
    case = load_demo(name)
    # the label as a perfect model would see and return it: through the images' own path (window 0-1000 HU)
    as_image = Case(case.mask.astype(np.int16) * 1000, case.mask, case.spacing)
    x, _ = preprocess(as_image, size, window=(0, 1000))
    back = restore_to_grid(x, case.hu.shape[1:]) > 0.5
    assert back.shape == case.mask.shape
    assert _dice(back, case.mask) >= 0.95


def _keras_model(size, kernel):
    """A 1x1 convolution with given weights (no bias, no activation): a model whose output is known."""
    import keras

    channels = len(kernel)
    inp = keras.Input((size, size, channels))
    conv = keras.layers.Conv2D(1, 1, use_bias=False)
    model = keras.Model(inp, conv(inp))
    conv.set_weights([np.asarray(kernel, np.float32).reshape(1, 1, channels, 1)])
    return model


@pytest.mark.parametrize("name, size", [("abdomen_3mm", 128), ("upper_abdomen_dicom", 256)])
def test_segment_case_applies_the_window_and_puts_the_result_on_the_scans_grid(name, size):
    """A 'model' returning twice its windowed input marks HU > 125 (a quarter of -250..1250): compare with the HU.

    Bone and contrast: a shape that a flip or a shift of two pixels moves far from itself (Dice 0.1-0.6).
    """
    from rarunet_lib.inference import segment_case

    case = load_demo(name)
    prob, mask = segment_case(case, _keras_model(size, [2.0]), batch_size=7)
    assert prob.shape == mask.shape == case.hu.shape and prob.dtype == np.float32 and mask.dtype == np.uint8
    assert _dice(mask, case.hu > 125) > 0.8
    assert abs(float(prob.mean()) - float(np.clip(2 * (case.hu + 250) / 1500, 0, 1).mean())) < 0.01


def test_a_25d_model_sees_each_slice_with_its_neighbours():
    """With 3 channels and a kernel that keeps the first, the output of slice i is the input of slice i - 1."""
    from rarunet_lib.inference import segment_case

    case = load_demo("abdomen_3mm")
    _, mask = segment_case(case, _keras_model(128, [1.0, 0.0, 0.0]), batch_size=4)  # chunks of 16 slices
    _, plain = segment_case(case, _keras_model(128, [1.0]))
    np.testing.assert_array_equal(mask[1:], plain[:-1])
    np.testing.assert_array_equal(mask[0], plain[0])  # the edge slice is repeated


# ------------------------------------------------------------------ volume measures
def _brute_force(ref, pred, spacing):
    """Surface voxels by literal neighbour checks, distances by all pairs: an independent reference."""
    def surface(m):
        pts = []
        for z, y, x in zip(*np.nonzero(m), strict=True):
            for dz, dy, dx in ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)):
                q = (z + dz, y + dy, x + dx)
                if not all(0 <= q[i] < m.shape[i] for i in range(3)) or not m[q]:
                    pts.append((z, y, x))
                    break
        return np.array(pts, float) * spacing

    a, b = surface(ref), surface(pred)
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    d_ab, d_ba = d.min(axis=1), d.min(axis=0)
    both = np.concatenate([d_ba, d_ab])
    return {"hd": max(d_ab.max(), d_ba.max()), "hd95": np.percentile(both, 95), "assd": both.mean()}


def test_volume_measures_match_medpy_and_a_brute_force_reference_with_anisotropic_spacing():
    from rarunet_lib.volume_metrics import volume_measures

    medpy = pytest.importorskip("medpy.metric.binary")
    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[:9, :14, :12]
    ref = ((z - 4) * 2.5) ** 2 + (y - 7) ** 2 + ((x - 6) * 0.8) ** 2 < 20
    pred = ref ^ (rng.random(ref.shape) < 0.05)
    spacing = (2.5, 0.8, 1.1)
    m = volume_measures(ref, pred, spacing)
    want = _brute_force(ref, pred, np.array(spacing))
    for key in ("hd", "hd95", "assd"):
        assert m[key] == pytest.approx(want[key], rel=1e-9), key
    assert m["hd"] == pytest.approx(medpy.hd(pred, ref, voxelspacing=spacing))
    assert m["hd95"] == pytest.approx(medpy.hd95(pred, ref, voxelspacing=spacing))
    assert m["assd"] == pytest.approx(medpy.assd(pred, ref, voxelspacing=spacing))  # pooled, as here
    assert m["dice"] == pytest.approx(medpy.dc(pred, ref))
    assert m["volume_ml"] == pytest.approx(pred.sum() * 2.5 * 0.8 * 1.1 / 1000)


def test_volume_measures_refuse_slices_and_a_bad_spacing():
    from rarunet_lib.volume_metrics import volume_measures

    with pytest.raises(ValueError, match="a volume"):
        volume_measures(np.ones((4, 4), bool), np.ones((4, 4), bool), (1, 1, 1))
    with pytest.raises(ValueError, match=r"spacing=\(1, 1\) is not allowed"):
        volume_measures(np.ones((2, 4, 4), bool), np.ones((2, 4, 4), bool), (1, 1))


# ------------------------------------------------------------------ the command
def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "rarunet_lib", *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.mark.parametrize("scan, labels, ids", [(NIFTI, NIFTI_LABELS, []),
                                               (DICOM, DICOM_LABELS, ["--reference-ids", *range(26, 51)])])
def test_the_segment_command_writes_a_mask_on_the_scans_grid_quietly(tmp_path, scan, labels, ids):
    _, _, folder = tiny_run()
    out, prob = tmp_path / "mask.nii.gz", tmp_path / "prob.mha"
    env = {"TF_CPP_MIN_LOG_LEVEL": "", "RARUNET_VERBOSE": ""}  # as a user's shell: nothing set
    done = _run("segment", scan, "--model", folder, "--output", out, "--probabilities", prob, "--reference", labels,
                *ids, "--no-progress", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    for noise in ("oneDNN", "absl", "I0000", "W0000", "Traceback"):
        assert noise not in done.stderr, done.stderr
    assert "Dice" in done.stdout and "HD95" in done.stdout and "mm" in done.stdout
    stored = _read_as_stored(scan)
    for path, pixel in ((out, sitk.sitkUInt8), (prob, sitk.sitkFloat32)):
        written = sitk.ReadImage(str(path))
        assert _same_geometry(written, stored) and written.GetPixelID() == pixel
    m, p = sitk.GetArrayFromImage(sitk.ReadImage(str(out))), sitk.GetArrayFromImage(sitk.ReadImage(str(prob)))
    assert set(np.unique(m)) <= {0, 1} and np.array_equal(m, (p > 0.5).astype(np.uint8))


def test_verbose_brings_tensorflows_lines_back():
    quiet, loud = _run("segment", "--help"), _run("segment", "--help", env={"RARUNET_VERBOSE": "1",
                                                                          "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert quiet.returncode == loud.returncode == 0
    assert "oneDNN" not in quiet.stderr and "I0000" not in quiet.stderr
    assert "oneDNN" in loud.stderr or "I0000" in loud.stderr  # this CPU build's start-up lines


def _bad_inputs(tmp_path: Path, model: Path):
    text = tmp_path / "notes.nii.gz"
    text.write_text("not an image")
    fake = tmp_path / "fake.keras"
    fake.write_text("not a model")
    (tmp_path / "file").write_text("x")
    from test_export import _plain_model

    m40, c2 = tmp_path / "m40.keras", tmp_path / "c2.keras"
    _plain_model((40, 40, 1)).save(m40)
    _plain_model((32, 32, 2)).save(c2)
    ok = tmp_path / "mask.nii.gz"
    return [
        ([tmp_path / "missing.nii.gz", "--model", model, "--output", ok], "INPUT=.*missing.nii.gz.* does not exist"),
        ([text, "--model", model, "--output", ok], "INPUT=.*notes.nii.gz.* could not be read"),
        ([NIFTI, "--model", fake, "--output", ok], "--model=.*fake.keras.* could not be loaded as a Keras model"),
        ([NIFTI, "--model", m40, "--output", ok], "takes slices of 40x40"),
        ([NIFTI, "--model", c2, "--output", ok], "takes 2 channels"),
        ([NIFTI, "--model", model, "--output", tmp_path / "file" / "mask.nii.gz"], "--output=.* is not writable"),
        ([NIFTI, "--model", model, "--output", tmp_path / "mask.png"], "--output=.*mask.png.* ending in one of"),
        ([NIFTI, "--model", model, "--output", ok, "--probabilities", tmp_path / "p.txt"], "--probabilities=.*p.txt"),
        ([NIFTI, "--model", model, "--output", ok, "--reference", text], "--reference=.*notes.nii.gz"),
        ([NIFTI, "--model", model, "--output", ok, "--reference-ids", "26"], "--reference-ids needs --reference"),
    ]


def test_bad_inputs_give_one_line_and_status_2(tmp_path, capsys):
    import re

    from rarunet_lib.__main__ import main

    _, _, folder = tiny_run()
    for args, message in _bad_inputs(tmp_path, folder):
        assert main(["segment", *map(str, args), "--no-progress"]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("python -m rarunet_lib segment: error: ") and err.count("\n") == 1, err
        assert re.search(message, err), (message, err)
        assert "Traceback" not in err
    assert not (tmp_path / "mask.nii.gz").exists()
    with pytest.raises(FileNotFoundError):  # --debug: the exception itself
        main(["segment", str(tmp_path / "missing.nii.gz"), "--model", str(folder), "--output",
              str(tmp_path / "m.nii.gz"), "--debug"])

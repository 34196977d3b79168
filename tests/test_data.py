"""Case object, file readers, phantom and preprocessing."""

import numpy as np
import pytest

from rarunet_lib import data
from rarunet_lib.data import Case, io


# ---------------------------------------------------------------- readers
def test_demo_cases_load_aligned():
    c = data.load_demo("abdomen_3mm")
    assert c.hu.shape == (112, 101, 122) and c.spacing == (3.0, 3.0, 3.0)
    assert set(np.unique(c.labels)) == {0, 26, 27, 28, 29, 30, 31, 32, 33}
    d = data.load_demo("upper_abdomen_dicom")
    assert d.hu.shape == (20, 512, 512)
    assert d.spacing == pytest.approx((2.0, 0.9765625, 0.9765625))
    assert set(np.unique(d.labels)) == {0, 32, 33}  # T12, T11 only: ribs (92-115) etc. dropped
    for case in (c, d):  # by physical alignment, the mask sits on bone, not on soft tissue
        assert case.hu[case.mask.astype(bool)].mean() > 150
        assert -1300 <= case.hu.min() <= -900  # HU (air near -1000), not stored values


def test_dicom_labels_need_physical_alignment():
    """Read naively (array order), the DICOM labels are flipped in y and miss the bone."""
    import SimpleITK as sitk

    d = data.load_demo("upper_abdomen_dicom")
    raw = sitk.GetArrayFromImage(sitk.ReadImage(str(io.samples_dir() / "totalseg" / "ct_dicom_seg.nii.gz")))
    naive = np.isin(raw, range(26, 51))
    assert d.hu[naive].mean() < d.hu[d.mask.astype(bool)].mean() - 100


def test_metaimage_round_trip_with_csi_offset(tmp_path):
    import SimpleITK as sitk

    rng = np.random.default_rng(0)
    hu = rng.integers(-1000, 1500, size=(4, 16, 16)).astype(np.int16)
    lab = np.zeros((4, 16, 16), np.uint8)
    lab[:, 4:8, 4:8] = 3
    img = sitk.GetImageFromArray((hu + 1000).astype(np.uint16))  # CSI stores HU + 1000
    img.SetSpacing((0.7, 0.7, 1.0))
    sitk.WriteImage(img, str(tmp_path / "case1.mhd"))
    limg = sitk.GetImageFromArray(lab)
    limg.CopyInformation(img)
    sitk.WriteImage(limg, str(tmp_path / "case1_label.mhd"))
    c = data.load_case(tmp_path / "case1.mhd", labels=tmp_path / "case1_label.mhd")
    np.testing.assert_array_equal(c.hu, hu)
    np.testing.assert_array_equal(c.labels, lab)
    assert c.spacing == pytest.approx((1.0, 0.7, 0.7))
    c2 = data.load_case(tmp_path / "case1.mhd", hu_offset=1024)
    np.testing.assert_array_equal(c2.hu, hu - 24)


def test_csi2014_finder_names_missing_cases(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="RARUNET_DATA_DIR"):
        monkeypatch.delenv("RARUNET_DATA_DIR", raising=False)
        data.find_csi2014()
    for n in range(1, 11):
        (tmp_path / f"case{n}.mhd").write_text("x")
        if n != 7:
            (tmp_path / f"case{n}_label.mhd").write_text("x")
    monkeypatch.setenv("RARUNET_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="case7_label"):
        data.find_csi2014()
    (tmp_path / "case7_label.nii.gz").write_text("x")
    found = data.find_csi2014()
    assert sorted(found) == list(range(1, 11)) and found[7][1].name == "case7_label.nii.gz"


def test_reader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image_path"):
        data.load_case(tmp_path / "nope.mhd")
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="image_path.*could not be read"):
        data.load_case(bad)
    good = io.samples_dir() / "totalseg" / "ct_3mm.nii.gz"
    with pytest.raises(FileNotFoundError, match="labels"):
        data.load_case(good, labels=tmp_path / "missing.nii.gz")
    with pytest.raises(ValueError, match="demo"):
        data.load_demo("csi")


def test_case_validation():
    hu = np.zeros((2, 8, 8), np.int16)
    with pytest.raises(ValueError, match="does not match"):
        Case(hu, np.zeros((2, 8, 9), np.uint8), (1, 1, 1))
    with pytest.raises(ValueError, match="integers"):
        Case(hu, np.full((2, 8, 8), 0.5), (1, 1, 1))
    with pytest.raises(ValueError, match="empty"):
        Case(np.zeros((0, 8, 8), np.int16), None, (1, 1, 1))
    with pytest.raises(ValueError, match="spacing"):
        Case(hu, None, (1, 0, 1))
    with pytest.raises(ValueError, match="no labels"):
        _ = Case(hu, None, (1, 1, 1)).mask



def test_incomplete_files_are_refused_but_complete_ones_load(tmp_path):
    """A NIfTI re-written whole loads voxel for voxel; the same bytes cut short are refused."""
    import gzip
    import shutil

    src = io.samples_dir() / "totalseg"
    raw = gzip.open(src / "ct_3mm.nii.gz").read()
    (tmp_path / "whole.nii").write_bytes(raw)
    (tmp_path / "cut.nii").write_bytes(raw[:-1])  # one byte short
    ref = data.load_case(src / "ct_3mm.nii.gz")
    np.testing.assert_array_equal(data.load_case(tmp_path / "whole.nii").hu, ref.hu)
    with pytest.raises(ValueError, match=r"cut\.nii.*incomplete"):
        data.load_case(tmp_path / "cut.nii")
    # a series that ends one slice early is complete (evenly spaced); one missing inside is not
    files = sorted((src / "ct_dicom").iterdir())
    for name, drop in (("short_end", files[-1]), ("gap", files[10])):
        shutil.copytree(src / "ct_dicom", tmp_path / name)
        (tmp_path / name / drop.name).unlink()
    full = data.load_case(src / "ct_dicom")
    short = data.load_case(tmp_path / "short_end")
    assert short.hu.shape == (19, 512, 512) and short.spacing == full.spacing
    np.testing.assert_array_equal(short.hu, full.hu[1:])  # the last file is the lowest slice
    with pytest.raises(ValueError, match="gap of 4 mm.*1 slice"):
        data.load_case(tmp_path / "gap")


def test_case_rounds_float_hu_and_refuses_what_int16_cannot_hold():
    c = Case(np.array([[[0.4, 0.6, -0.6, 32767.0, -32768.0]]]), None, (1, 1, 1))
    assert c.hu.dtype == np.int16 and c.hu.ravel().tolist() == [0, 1, -1, 32767, -32768]
    for bad in (32768.0, -32769.0, np.nan):
        with pytest.raises(ValueError, match="hu"):
            Case(np.full((1, 1, 2), bad), None, (1, 1, 1))


# ---------------------------------------------------------------- phantom
def test_phantom_is_reproducible_and_ct_like():
    a = data.synthetic_case(3, n_slices=12, size=128)
    b = data.synthetic_case(3, n_slices=12, size=128)
    np.testing.assert_array_equal(a.hu, b.hu)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.hu.dtype == np.int16 and a.hu.min() >= -1024 and a.hu.max() <= 3071
    m = a.mask.astype(bool)
    assert m.any()
    assert 100 < np.median(a.hu[m]) < 1500  # bone inside the mask
    assert (a.hu < -700).mean() > 0.01  # air or lung
    assert set(np.unique(a.labels)) - {0} <= set(range(8, 25))
    assert not np.array_equal(a.hu, data.synthetic_case(4, n_slices=12, size=128).hu)


def test_phantom_slices_are_coherent():
    c = data.synthetic_case(1, n_slices=20, size=128)
    m = c.mask.astype(bool)
    inter = (m[1:] & m[:-1]).sum(axis=(1, 2))
    union = (m[1:] | m[:-1]).sum(axis=(1, 2))
    ok = union > 0
    # neighbouring 1 mm slices overlap far more than random shapes would
    assert np.median(inter[ok] / union[ok]) > 0.6


def test_phantom_has_disc_levels_and_islands():
    from scipy import ndimage

    c = data.synthetic_case(2, n_slices=60, size=128, level_range=(4.0, 4.0))
    areas = c.mask.sum(axis=(1, 2))
    assert areas.min() < 0.4 * areas.max()  # disc levels: little or no mask
    n_islands = [ndimage.label(s)[1] for s in c.mask]
    assert max(n_islands) >= 2  # posterior elements as separate islands at some levels


def test_phantom_field_of_view_sets_the_pixel_size():
    narrow = data.synthetic_case(7, n_slices=6, size=128, fov_range=(250.0, 250.0))
    wide = data.synthetic_case(7, n_slices=6, size=128, fov_range=(500.0, 500.0))
    assert narrow.spacing[1:] == (250.0 / 128, 250.0 / 128) and wide.meta["fov_mm"] == 500.0
    # the same anatomy (same seed) over twice the field of view: a quarter of the pixels
    ratio = wide.mask.sum() / narrow.mask.sum()
    assert 0.2 < ratio < 0.3
    # in millimetres it is the same vertebra (to partial-volume losses of thin processes at 3.9 mm pixels)
    mm2 = [c.mask.sum() * c.spacing[1] * c.spacing[2] for c in (narrow, wide)]
    assert abs(mm2[0] - mm2[1]) / mm2[0] < 0.1


def test_phantom_wide_variation_adds_pelvis_outside_the_mask():
    # a stack reaching far below L5: pelvis bones are drawn, never masked
    c = data.synthetic_case(5, n_slices=60, size=128, slice_spacing=3.0, level_range=(16.0, 16.0),
                            variation="wide")
    first = int(np.argmax(c.mask.any(axis=(1, 2))))  # stored inferior first: the bottom of L5
    assert first >= 20 and not c.mask[:first].any()
    # cortical bone (iliac bones, femoral heads) in the pelvic slices, in mm^2 per slice
    bone_mm2 = (c.hu[:first] > c.meta["cancellous_hu"] + 80).sum(axis=(1, 2)) * c.spacing[1] * c.spacing[2]
    assert np.median(bone_mm2) > 300
    # no sacrum: under L5's footprint lies soft tissue, not an unmasked vertebra look-alike
    foot = c.mask[first:first + 8].any(axis=0)
    assert c.hu[first - 6:first][:, foot].mean() < 50
    assert c.meta["variation"] == "wide" and 200 <= c.meta["fov_mm"] <= 520


def test_phantom_wide_variation_spans_older_bone():
    cancellous = [data.synthetic_case(s, n_slices=1, size=32, variation="wide").meta["cancellous_hu"]
                  for s in range(40)]
    assert min(cancellous) < 110 and max(cancellous) > 200  # 18-90 year olds (Jang 2019: -2.5 HU / year)


def test_phantom_rejects_bad_arguments():
    for kwargs, match in [({"size": 100}, "size"), ({"n_slices": 0}, "n_slices"),
                          ({"n_slices": 5000}, "at most"), ({"level_range": (5, 20)}, "level_range"),
                          ({"fov_range": (300, 200)}, "fov_range"), ({"fov_range": (50, 200)}, "fov_range"),
                          ({"variation": "cartoon"}, "variation")]:
        with pytest.raises(ValueError, match=match):
            data.synthetic_case(0, **{"n_slices": 2, "size": 32} | kwargs)


# ---------------------------------------------------------------- preprocessing
def test_window_and_preprocess():
    np.testing.assert_allclose(data.apply_window([-250, 500, 1250, 3000]), [0, 0.5, 1, 1])
    with pytest.raises(ValueError, match="low end"):
        data.apply_window([0], (100, 100))
    c = data.load_demo("abdomen_3mm")
    x, y = data.preprocess(c, size=64)
    assert x.shape == (112, 64, 64) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert set(np.unique(y)) <= {0, 1}
    # padded to square before resizing: the vertebra keeps its aspect ratio
    area_mm2 = c.mask.sum() * 9.0
    scale = (122 * 3.0 / 64) ** 2
    assert y.sum() * scale == pytest.approx(area_mm2, rel=0.1)
    with pytest.raises(ValueError, match="multiple of 16"):
        data.preprocess(c, size=100)
    with pytest.raises(TypeError, match="Case"):
        data.preprocess(np.zeros((2, 8, 8)), size=16)


def test_mask_rules_bicubic_gt0_dilates():
    c = data.load_demo("upper_abdomen_dicom")
    _, area = data.preprocess(c, 128, mask_rule="area")
    _, near = data.preprocess(c, 128, mask_rule="nearest")
    _, bic = data.preprocess(c, 128, mask_rule="bicubic_gt0")
    assert bic.sum() > 1.2 * area.sum()
    assert abs(int(near.sum()) - int(area.sum())) < 0.1 * area.sum()


def test_split_rotation_and_neighbours():
    tr, va = data.validation_split(100, 0.1, seed=1)
    assert len(va) == 10 and not set(tr) & set(va) and len(tr) + len(va) == 100
    np.testing.assert_array_equal(va, data.validation_split(100, 0.1, seed=1)[1])
    x = np.arange(16).reshape(1, 4, 4)
    xr, yr = data.rotate90(x, x, -1)
    np.testing.assert_array_equal(xr[0], np.rot90(x[0], -1))
    imgs = np.arange(5, dtype=float)[:, None, None] * np.ones((5, 2, 2))
    st = data.stack_neighbours(imgs, [0, 0, 1, 1, 1], k=1)
    assert st[:, 0, 0].tolist() == [[0, 0, 1], [0, 1, 1], [2, 2, 3], [2, 3, 4], [3, 4, 4]]

"""The phantom draws bit for bit what it drew before it was split into parts of the anatomy.

The committed grids (``results/``) were trained on phantom cases, so a refactor of
:mod:`rarunet_lib.data.phantom` must not move one HU.  The SHA-256 digests below were taken
from ``synthetic_case`` and ``synthetic_dataset`` *before* the split (commit 7b951f1, the
752-line ``phantom.py``), on this project's CPU stack (NumPy/SciPy of ``.venv``); they are the
independent reference.  Variation "csi" (the default, and every profile's phantom) with its
default arguments, both variations (with and without arms), four
sizes, several seeds, the lower end of the column and the pelvis.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest

from rarunet_lib import data


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


#: (synthetic_case arguments, sha256 of hu, sha256 of labels)
CASES = [
    (dict(seed=0, variation="csi"),
     "56821fd3e789da6ccb2cffcdfd440341ab19b0564fb427a420061ee3f3c0010b",
     "15582824d43f8edb72ae5a37e56e9d10dbdb488204fbd16a825ed6888eff774a"),
    (dict(seed=1, n_slices=16, size=128, variation="csi"),
     "0bfc26bc09591e30fcdac8c725801c28371f93eec88d7149e003bcbd534a8ea0",
     "a8198ee506cc330ebf0b2c23f3566dc8693ce2fd0174a6a362fdf9b8a1819a98"),
    (dict(seed=7, n_slices=12, size=64, variation="csi"),
     "852c8696af5916bfa5e4e11a2a600a03366032288a6091c0ed16916470946fd4",
     "81bc05e02ba198c1839ac524b46cc1d5993c4f867e4d47c39a9a583292d426e2"),
    (dict(seed=3, n_slices=24, size=256, variation="csi"),
     "602378f80c6534ab6d9818e2b4f4a1c638d950c7cbeca0dc5dd414f6f2672b28",
     "f1a676c4041794cd22068f2d1324b6fb2e649593e9a7629284dc6634af611745"),
    (dict(seed=5, n_slices=40, size=128, slice_spacing=3.0, variation="wide", level_range=(12.0, 16.0)),
     "adca9691911b8b7f3c369c99bee5da6dc5095ef570dd6b5c7514a81075a29277",
     "a02d8a13b32a9ae8c0ae8e35e0f703b24956635240f93004a0232a78688fa7ab"),
    (dict(seed=11, n_slices=16, size=128, variation="wide"),
     "705b1b2b5c34352caa6be30da295b5483b314885390ed434b6eaea3d6d9532e7",
     "6208f25f7582f9fcfea26cdcb7af8eadede5d5e4065638ffb303e9d2187522bd"),
    # added with the split, digests from the unchanged phantom.py (git archive 7b951f1): the iliac
    # wings of variation "csi" below L5, and the pelvis and femoral heads of variation "wide"
    (dict(seed=2, n_slices=24, size=64, slice_spacing=2.0, level_range=(15.5, 16.0), variation="csi"),
     "aeb94e4aaddf939c3d24480b0eb11c190d7a0a1be2ea7f3e1793ede9e4444617",
     "dd647c786a6f5a6c3b7ae3cd4cb7332606537acb5174f21465c2b84c5111d8a1"),
    (dict(seed=12, n_slices=30, size=64, slice_spacing=4.0, level_range=(16.0, 16.0), variation="wide"),
     "8f923e7c8d63f2932d1d94e07554b8aca063291027590f41213c06c50e07118f",
     "2116cab03ad7533e0f60759bcfc8a7c8d31c0d5971afd0bf9c59a94dd0991e72"),
]

#: synthetic_dataset(2, 8, 64, seed=1000, variation="csi"): (sha256 of hu, sha256 of labels) per case
DATASET = [
    ("14719c6d086cb99588ef047ac8ec9c751b511e1c40f4228d343fb57e07fd3866",
     "a3c1712c3dc9c3df263b59c3419165076e3e7bca4080f028e56ab0fef597a9f4"),
    ("9f86c33d01cc2069bdfb3af43d9490313889427be6856bdf60d6e1c815a061af",
     "63d781dc1b3821dad9191f43c1a1c6dec01e7a7ee8eea80678965225e71984d9"),
]


@pytest.mark.parametrize(("kwargs", "hu", "labels"), CASES, ids=[
    "-".join(f"{k}={v}" for k, v in c[0].items()) for c in CASES])
def test_synthetic_case_is_bitwise_unchanged(kwargs, hu, labels):
    c = data.synthetic_case(**kwargs)
    assert c.hu.dtype == np.int16 and c.labels.dtype == np.uint8
    assert (_digest(c.hu), _digest(c.labels)) == (hu, labels)


def test_synthetic_dataset_is_bitwise_unchanged():
    cases = data.synthetic_dataset(2, 8, 64, seed=1000, variation="csi")
    assert [(_digest(c.hu), _digest(c.labels)) for c in cases] == DATASET
    assert [c.name for c in cases] == ["phantom-1000", "phantom-1001"]
    assert cases[0].meta["seed"] == 1000 and cases[0].spacing[0] == 1.0


def test_the_digest_sees_one_hu():
    c = data.synthetic_case(7, n_slices=2, size=32)
    before = _digest(c.hu)
    c.hu[1, 5, 5] += 1
    assert _digest(c.hu) != before


@pytest.mark.parametrize("name", ["cpu", "cpu2", "full"])
def test_the_profiles_of_the_committed_grids_still_draw_the_csi_phantom(name):
    """results/cpu, cpu2 and h100 were trained on variation "csi": their profiles must keep it."""
    from rarunet_lib.config import get_profile

    profile = get_profile(name)
    assert profile.phantom == "csi"
    small = replace(profile, n_cases=2, slices_per_case=8, image_size=32)
    d = data.load_dataset("phantom", small, seed=1000)
    cases = data.synthetic_dataset(2, 8, 64, seed=1000, variation="csi", slice_spacing=profile.slice_spacing)
    x, y, _ = data.prepare(cases[:1], 32)
    assert np.array_equal(d.train_images, x) and np.array_equal(d.train_masks, y)


def test_the_quick_profile_trains_on_the_random_phantom():
    from rarunet_lib.config import get_profile

    assert get_profile("quick").phantom == "random"
    small = replace(get_profile("quick"), n_cases=2, slices_per_case=2, image_size=32)
    d = data.load_dataset("phantom", small, seed=4)
    cases = data.synthetic_dataset(2, 2, 64, seed=4, variation="random", slice_spacing=small.slice_spacing)
    x, y, _ = data.prepare(cases[1:], 32)
    assert np.array_equal(d.test_images, x) and np.array_equal(d.test_masks, y)

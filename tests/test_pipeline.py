"""The tf.data input pipeline (rarunet_lib.data.pipeline): seeded order and rotations, bad input."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from test_train import toy_data  # noqa: E402

from rarunet_lib.data.pipeline import make_dataset  # noqa: E402


def test_pipeline_same_seed_same_order_and_rotations():
    x, y = toy_data(16)

    def collect(seed):
        ds = make_dataset(x, y, batch_size=4, seed=seed, with_index=True)
        return [(i.numpy(), img.numpy()) for (img, i), _ in ds]

    a, b, c = collect(3), collect(3), collect(4)
    for (ia, xa), (ib, xb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(xa, xb)
    assert any(not np.array_equal(p[0], q[0]) for p, q in zip(a, c, strict=True))
    # every image is its source rotated by -90, 0 or +90 degrees, mask likewise
    for idx, img in a:
        for j, im in zip(idx, img, strict=True):
            assert any(np.array_equal(np.rot90(x[j], k), im[..., 0]) for k in (-1, 0, 1))


def test_pipeline_bad_input():
    x, y = toy_data(8)
    with pytest.raises(ValueError, match="batch_size"):
        make_dataset(x, y, batch_size=9)
    with pytest.raises(ValueError, match="same length"):
        make_dataset(x, y[:4], batch_size=2)

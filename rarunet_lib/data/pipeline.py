"""The TensorFlow input pipeline: cache, shuffle, +-90 degree rotations, batch, prefetch.

Deterministic: the same seed gives the same order and the same rotations in
every run.  Each element carries its index in the training set, which the ADL
trainer needs to record per-sample losses.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..checks import check_array, check_bool, check_int, check_mask, describe

__all__ = ["make_dataset"]


def make_dataset(
    images,
    masks,
    *,
    batch_size: int,
    shuffle: bool = True,
    augment: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
    with_index: bool = False,
    weights=None,
) -> tf.data.Dataset:
    """Build a ``tf.data.Dataset`` of ``(image, mask[, index][, weight])`` batches.

    Parameters
    ----------
    images : array (N, H, W) or (N, H, W, C), float32 in [0, 1]
    masks : array (N, H, W) or (N, H, W, 1), {0, 1}
    batch_size : int
        Batch size (at most N).
    shuffle : bool, default True
        Reshuffle every epoch (iteration), deterministically from ``seed``.
    augment : bool, default True
        Random rotation by -90, 0 or +90 degrees per sample (the paper's
        augmentation), from stateless seeds: reproducible.
    seed : int, default 0
    drop_remainder : bool, default False
        Drop a last partial batch (fixed shapes for XLA).
    with_index : bool, default False
        Yield ``((image, index), mask)`` so a model can report per-sample losses.
    weights : array (N,), optional
        Per-sample weights, yielded as the third element (``sample_weight``).

    Returns
    -------
    tf.data.Dataset
        Cached in memory, batched and prefetched.

    Raises
    ------
    TypeError
        For non-numeric arrays, a non-int batch size or seed, non-bool flags.
    ValueError
        For empty or non-finite images, non-binary masks, mismatched lengths,
        a batch larger than the data, a negative seed, negative or
        non-finite weights.
    """
    x = check_array("images", images, ndim=(3, 4)).astype(np.float32, copy=False)
    y = check_mask("masks", masks, ndim=(3, 4), floats=True).astype(np.float32)
    shuffle, augment = check_bool("shuffle", shuffle), check_bool("augment", augment)
    drop_remainder = check_bool("drop_remainder", drop_remainder)
    with_index = check_bool("with_index", with_index)
    seed = check_int("seed", seed, min=0)
    if x.ndim == 3:
        x = x[..., None]
    if y.ndim == 3:
        y = y[..., None]
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"images and masks must have the same length, got {n} and {y.shape[0]}")
    if y.shape[1:3] != x.shape[1:3]:
        raise ValueError(f"images and masks must have the same height and width, got {x.shape} and {y.shape}")
    batch_size = check_int("batch_size", batch_size, min=1, max=n)
    index = np.arange(n, dtype=np.int32)
    parts = [x, y, index]
    if weights is not None:
        w = check_array("weights", weights, ndim=1, kinds="iuf").astype(np.float32)
        if w.shape != (n,) or (w < 0).any():
            raise ValueError(f"weights={describe(w)} is not allowed; use {n} non-negative finite "
                             "numbers, one per sample")
        parts.append(w)
    ds = tf.data.Dataset.from_tensor_slices(tuple(parts)).cache()
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)

    def transform(*el):
        img, msk, idx = el[0], el[1], el[2]
        if augment:
            k = tf.random.stateless_uniform([], seed=tf.stack([tf.cast(idx, tf.int64), tf.constant(seed, tf.int64)]),
                                            minval=-1, maxval=2, dtype=tf.int32)
            img = tf.image.rot90(img, k=tf.math.floormod(k, 4))
            msk = tf.image.rot90(msk, k=tf.math.floormod(k, 4))
        inputs = (img, idx) if with_index else img
        if weights is not None:
            return inputs, msk, el[3]
        return inputs, msk

    ds = ds.map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)

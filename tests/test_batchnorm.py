"""Precise BatchNorm (rarunet_lib.batchnorm): recalibrated statistics against the batch moments."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from test_train import cfg, toy_data  # noqa: E402

from rarunet_lib.train import Trainer  # noqa: E402


def _first_bn_input(model):
    import keras

    first = next(la for la in model._flatten_layers(include_self=False, recursive=True)
                 if isinstance(la, keras.layers.BatchNormalization))
    return first, keras.Model(model.inputs, first.input)


def test_recalibrated_batchnorm_equals_the_batch_statistics_of_one_full_batch():
    x, y = toy_data(16)
    t = Trainer(cfg(batch_size=16, augment=False, validation_fraction=0.0), x, y)
    t.fit(max_epochs=1)  # move the weights away from their initial values
    weights = [w.copy() for w in t.model.get_weights()]
    before = {la.name: la.momentum for la in t.model.layers if hasattr(la, "moving_mean")}
    assert t.recalibrate_batchnorm() == 1
    bn, probe = _first_bn_input(t.model)
    feats = probe(x[..., None]).numpy()  # the first BN layer's input: independent of any BN statistics
    np.testing.assert_allclose(bn.moving_mean.numpy(), feats.mean(axis=(0, 1, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), feats.var(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    # every layer now normalises that batch in inference mode exactly as in training mode
    np.testing.assert_allclose(t.model(x[..., None], training=False).numpy(),
                               t.model(x[..., None], training=True).numpy(), atol=2e-4)
    # the trainable weights are untouched and the momenta restored
    trainable = {id(v) for v in t.model.trainable_variables}
    for w, v in zip(weights, t.model.weights, strict=True):
        if id(v) in trainable:
            np.testing.assert_array_equal(w, v.numpy())
    assert before == {la.name: la.momentum for la in t.model.layers if hasattr(la, "moving_mean")}


def test_recalibrated_batchnorm_mean_is_the_mean_over_several_batches():
    x, y = toy_data(16)
    t = Trainer(cfg(batch_size=4, augment=False, validation_fraction=0.0), x, y)
    assert t.recalibrate_batchnorm(epoch=2) == 4
    bn, probe = _first_bn_input(t.model)
    feats = probe(x[..., None]).numpy()
    # equal-sized batches covering every sample once: the mean of batch means is the overall mean
    np.testing.assert_allclose(bn.moving_mean.numpy(), feats.mean(axis=(0, 1, 2)), rtol=1e-5, atol=1e-6)


def test_bn_recalibration_in_fit_and_bad_values():
    x, y = toy_data(24)
    t = Trainer(cfg(epochs=1, bn_recalibration=True), x, y)
    h = t.fit()
    assert np.isfinite(h["epochs"][0]["val_dice"])
    with pytest.raises(ValueError, match="sample_ids must be training-sample ids from 0 to"):
        t.recalibrate_batchnorm([0, t.n_train])
    with pytest.raises(ValueError, match="at least one"):
        t.recalibrate_batchnorm([])
    with pytest.raises(ValueError, match="bn_recalibration must be True or False"):
        Trainer(cfg(bn_recalibration="yes"), x, y)
    with pytest.raises(ValueError, match="strategy='default' only"):
        Trainer(cfg(bn_recalibration=True, strategy="mirrored"), x, y)

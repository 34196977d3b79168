"""The model family against the paper's Table 4 and hand-derived references."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from rarunet_lib.models import (  # noqa: E402
    CBAM,
    MODELS,
    TABLE4_ROWS,
    ResPath,
    available_models,
    build,
    count_trainable,
    rar_unet,
    table4_model,
    validate_input_shape,
)

# The paper's Table 4, typed in from the PDF (not from the code).
PAPER_TABLE4 = {1: 7_762_465, 2: 9_899_625, 3: 8_912_673, 4: 7_785_157,
                5: 9_922_317, 6: 11_049_833, 7: 11_794_125}
# shared/spec/architecture.md: non-trainable (BatchNorm moving statistics).
SPEC_NON_TRAINABLE = {1: 2944, 2: 4552, 3: 7936, 4: 2944, 5: 4552, 6: 9544, 7: 9544}


def _non_trainable(model):
    return int(sum(np.prod(w.shape) for w in model.non_trainable_weights))


@pytest.mark.parametrize("row", range(1, 8))
def test_table4_parameter_counts_exact(row):
    model = table4_model(row, (32, 32, 1))
    assert count_trainable(model) == PAPER_TABLE4[row]
    assert _non_trainable(model) == SPEC_NON_TRAINABLE[row]


def test_table4_rows_table_matches_paper():
    assert {r["row"]: r["params"] for r in TABLE4_ROWS} == PAPER_TABLE4


def test_counts_do_not_depend_on_image_size():
    assert count_trainable(rar_unet((48, 80, 1))) == PAPER_TABLE4[7]


def test_respath_input_swaps_rows_6_and_7_by_721600():
    a = rar_unet((32, 32, 1), attention=False, respath_input="conv")
    b = rar_unet((32, 32, 1), attention=False, respath_input="concat")
    assert count_trainable(b) - count_trainable(a) == 721_600


@pytest.mark.parametrize("channels, expected", [(32, 390), (64, 1194), (128, 4338), (256, 16770)])
def test_cbam_parameter_formula(channels, expected):
    layer = CBAM()
    layer.build((None, 8, 8, channels))
    assert layer.count_params() == expected == channels**2 // 4 + channels // 8 + channels + 98


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _conv_same(x, kernel):
    """Literal 'same' 2-D correlation of (H, W, Cin) with (k, k, Cin, 1)."""
    k = kernel.shape[0]
    p = k // 2
    xp = np.pad(x, ((p, p), (p, p), (0, 0)))
    out = np.zeros(x.shape[:2])
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = np.sum(xp[i:i + k, j:j + k, :] * kernel[..., 0])
    return out


@pytest.mark.parametrize("order", ["channel_first", "spatial_first"])
def test_cbam_matches_numpy_reference(order):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 9, 7, 16)).astype("float32")
    layer = CBAM(order=order)
    y = np.asarray(layer(x))[0]
    w1, b1 = [np.asarray(v) for v in layer.mlp_hidden.weights]
    w2, b2 = [np.asarray(v) for v in layer.mlp_out.weights]
    kern = np.asarray(layer.spatial_conv.weights[0])
    f = x[0].astype(float)

    def channel(f):
        mlp = lambda v: np.maximum(v @ w1 + b1, 0) @ w2 + b2  # noqa: E731
        return _sigmoid(mlp(f.mean(axis=(0, 1))) + mlp(f.max(axis=(0, 1))))

    def spatial(f):
        s = np.stack([f.mean(axis=-1), f.max(axis=-1)], axis=-1)
        return _sigmoid(_conv_same(s, kern))[..., None]

    if order == "channel_first":
        f1 = f * channel(f)
        ref = f1 * spatial(f1)
    else:
        f1 = f * spatial(f)
        ref = f1 * channel(f1)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_parameter_free_attention_is_eq4_literally():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 6, 4)).astype("float32")
    layer = CBAM(form="parameter_free", order="spatial_first")
    y = np.asarray(layer(x))
    assert layer.count_params() == 0
    f = x.astype(float)
    w_spa = _sigmoid(f.mean(axis=-1, keepdims=True) + f.max(axis=-1, keepdims=True))  # Eq. 2
    g = w_spa * f
    w_ch = _sigmoid(g.mean(axis=(1, 2), keepdims=True) + g.max(axis=(1, 2), keepdims=True))  # Eq. 3
    np.testing.assert_allclose(y, w_ch * g, rtol=1e-5, atol=1e-6)  # Eq. 4


def test_parameter_free_attention_does_not_reproduce_table4():
    assert count_trainable(rar_unet((32, 32, 1), attention_form="parameter_free")) == (
        PAPER_TABLE4[7] - (390 + 1194 + 4338 + 16770))


def test_respath_parameter_count_by_hand():
    # per block with input Cin: 1x1 conv Cin*C, 3x3 conv 9*Cin*C, two scale-free BNs C each,
    # output BN 2C trainable; BN moving statistics 2C each (non-trainable).
    c, length = 32, 4
    layer = ResPath(c, length)
    layer.build((None, 8, 8, 33))
    trainable = (33 * c + 9 * 33 * c + 4 * c) + (length - 1) * (c * c + 9 * c * c + 4 * c)
    assert count_trainable(layer) == trainable
    assert layer.count_params() - trainable == length * 6 * c


def test_two_point_five_d_input_only_changes_first_conv_of_unet():
    # two more input channels: the first 3x3 conv gains 2 * 9 * 32 weights, nothing else
    assert count_trainable(table4_model(1, (32, 32, 3))) - PAPER_TABLE4[1] == 2 * 9 * 32


def test_keras_file_round_trip(tmp_path):
    model = rar_unet((32, 32, 1))
    x = np.random.default_rng(0).random((2, 32, 32, 1)).astype("float32")
    path = tmp_path / "rar.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6, atol=1e-6)


def test_logits_option_is_the_sigmoid_input():
    sig = rar_unet((32, 32, 1))
    logit = rar_unet((32, 32, 1), output="logits")
    logit.set_weights(sig.get_weights())
    x = np.random.default_rng(0).random((1, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(_sigmoid(np.asarray(logit(x), float)), np.asarray(sig(x)), atol=1e-6)


def test_registry_lists_and_builds_every_model():
    assert available_models() == ["unet", "residual_unet", "attention_unet_cbam", "attention_unet",
                                  "dense_unet", "multires_unet", "rar_unet"]
    for name in available_models():
        model = build(name, (32, 32, 2))
        assert model.output_shape == (None, 32, 32, 1)
        out = np.asarray(model(np.zeros((1, 32, 32, 2), "float32")))
        assert np.all((out >= 0) & (out <= 1))


def test_registry_counts_for_table_rows():
    assert count_trainable(build("unet", (32, 32, 1))) == PAPER_TABLE4[1]
    assert count_trainable(build("residual_unet", (32, 32, 1))) == PAPER_TABLE4[2]
    assert count_trainable(build("attention_unet_cbam", (32, 32, 1))) == PAPER_TABLE4[4]
    assert count_trainable(build("rar_unet", (32, 32, 1))) == PAPER_TABLE4[7]
    # MultiResUNet's published total at one input channel (Ibtehaz and Rahman 2020 code)
    assert build("multires_unet", (32, 32, 1)).count_params() == 7_262_504
    assert MODELS["rar_unet"].paper_params_millions == 11.79


def test_multires_head_pins_the_training_logits_to_unit_variance():
    """The authors' head (conv, BN without scale, sigmoid): in training mode the logits of a batch have mean beta
    (the BN offset, 0 at the start) and variance 1 whatever the input; the plain head does not."""
    rng = np.random.default_rng(0)
    x = (5.0 * rng.standard_normal((4, 32, 32, 1))).astype("float32")
    keras.utils.set_random_seed(0)
    model = build("multires_unet", (32, 32, 1))
    p = np.asarray(model(x, training=True), dtype=np.float64)
    logit = np.log(p) - np.log1p(-p)
    assert logit.mean() == pytest.approx(0.0, abs=1e-3)
    assert logit.var() == pytest.approx(1.0, rel=1e-2)  # BN's epsilon keeps it just under 1
    assert count_trainable(build("multires_unet", (32, 32, 1), head_bn=False)) == count_trainable(model)
    plain = np.asarray(build("multires_unet", (32, 32, 1), head_bn=False)(x, training=True), dtype=np.float64)
    assert abs(np.var(np.log(plain) - np.log1p(-plain)) - 1.0) > 0.05
    with pytest.raises(TypeError, match="head_bn"):
        build("multires_unet", (32, 32, 1), head_bn="no")


def test_unknown_model_name_lists_valid_names():
    with pytest.raises(ValueError, match="rar_unet"):
        build("vnet")


@pytest.mark.parametrize("shape", [(30, 32, 1), (32, 40, 1), (32, 32, 0), (32, 32), "abc"])
def test_bad_input_shapes_are_refused(shape):
    with pytest.raises(ValueError, match="input_shape"):
        validate_input_shape(shape)
    with pytest.raises(ValueError, match="input_shape"):
        rar_unet(shape)


@pytest.mark.parametrize("kwargs", [{"respath_input": "sum"}, {"attention_order": "both"},
                                    {"attention_form": "se"}, {"output": "softmax"}, {"dropout": 1.5}])
def test_bad_options_are_refused(kwargs):
    with pytest.raises(ValueError):
        rar_unet((32, 32, 1), **kwargs)


def test_table4_model_rejects_bad_rows():
    for row in (0, 8, "7", 2.0):
        with pytest.raises(ValueError, match="row"):
            table4_model(row, (32, 32, 1))


def test_set_batchnorm_momentum_reaches_nested_layers():
    from rarunet_lib.models import set_batchnorm_momentum

    assert set_batchnorm_momentum(build("unet", (32, 32, 1)), 0.9) == 9
    # RAR-U-Net: 8 block BNs + 3 per residual block in the paths (4 + 3 + 2 + 1 blocks)
    model = rar_unet((32, 32, 1))
    assert set_batchnorm_momentum(model, 0.9) == 8 + 3 * 10
    assert all(lay.momentum == 0.9 for lay in model._flatten_layers() if isinstance(lay, keras.layers.BatchNormalization))
    with pytest.raises(ValueError, match="momentum"):
        set_batchnorm_momentum(model, 1.0)


def test_short_run_needs_fast_batchnorm_statistics():
    """40 small steps: with Keras's 0.99 momentum inference-mode predictions collapse; with 0.9 they work."""
    from rarunet_lib.losses import DiceLoss
    from rarunet_lib.metrics import dice
    from rarunet_lib.models import set_batchnorm_momentum

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:32, :32]
    x = np.empty((16, 32, 32, 1), np.float32)
    y = np.empty((16, 32, 32, 1), np.float32)
    for i in range(16):
        m = (yy - rng.uniform(10, 22)) ** 2 + (xx - rng.uniform(10, 22)) ** 2 < rng.uniform(3, 7) ** 2
        x[i, ..., 0] = 0.3 + 0.4 * m + rng.normal(0, 0.05, m.shape)
        y[i, ..., 0] = m
    scores = {}
    for momentum in (0.99, 0.9):
        keras.utils.set_random_seed(0)
        model = build("unet", (32, 32, 1))
        set_batchnorm_momentum(model, momentum)
        model.compile(keras.optimizers.Adam(1e-3), DiceLoss())
        model.fit(x, y, batch_size=8, epochs=20, verbose=0)
        scores[momentum] = dice(y[..., 0] > 0, model.predict(x, verbose=0)[..., 0] > 0.5)
    assert scores[0.9] > 0.8 > scores[0.99] + 0.3

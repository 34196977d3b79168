import numpy as np
import pytest

from rarunet_lib import config


def test_full_profile_is_the_papers_setting():
    full = config.get_profile("full")
    # section 3.1 of the paper
    assert (full.image_size, full.batch_size, full.learning_rate, full.epochs) == (256, 8, 1e-5, 50)
    assert full.paper_scale


def test_quick_profile_is_small_and_flagged():
    quick = config.get_profile("quick")
    assert quick.image_size < 256 and quick.n_cases * quick.slices_per_case <= 256 and not quick.paper_scale
    assert quick.epochs <= 12  # the build trains several chapters in this profile
    # a narrower network, named on the banner
    assert quick.model_kwargs("rar_unet") == {"filters": [8, 16, 32, 64, 128]}
    assert "filters 8-128" in config.describe_environment(quick, file=False)
    assert config.get_profile("cpu2").model_kwargs("rar_unet") == {}  # the committed grid: paper width


def test_width_models_are_the_ones_whose_builders_take_filters():
    import inspect

    from rarunet_lib.models import MODELS, rar_unet

    assert "filters" in inspect.signature(rar_unet).parameters
    for name, info in MODELS.items():
        takes = name in config.WIDTH_MODELS
        assert takes == (getattr(info.builder, "func", None) is not None), name  # partial(table4_model, row)


def test_environment_variable_selects_profile(monkeypatch):
    monkeypatch.setenv(config.PROFILE_ENV_VAR, "FULL")
    assert config.get_profile().name == "full"


def test_unknown_profile_lists_valid_ones(monkeypatch):
    with pytest.raises(ValueError, match="full, quick"):
        config.get_profile("tiny")
    monkeypatch.setenv(config.PROFILE_ENV_VAR, "huge")
    with pytest.raises(ValueError, match="RARUNET_PROFILE"):
        config.get_profile()


def test_default_without_gpu_is_quick(monkeypatch):
    monkeypatch.delenv(config.PROFILE_ENV_VAR, raising=False)
    monkeypatch.setattr(config, "_gpu_visible", lambda: False)
    assert config.get_profile().name == "quick"
    monkeypatch.setattr(config, "_gpu_visible", lambda: True)
    assert config.get_profile().name == "full"


def test_banner_names_profile_and_warns_for_quick():
    text = config.describe_environment("quick", file=False)
    assert "profile: quick" in text and "NOT the paper-scale" in text
    assert "TensorFlow" in text
    assert "NOT the paper-scale" not in config.describe_environment("full", file=False)


def test_seed_everything_repeats_numpy_and_tensorflow():
    import tensorflow as tf

    config.seed_everything(3)
    a = np.random.rand(3), tf.random.uniform((3,)).numpy()  # noqa: NPY002
    config.seed_everything(3)
    b = np.random.rand(3), tf.random.uniform((3,)).numpy()  # noqa: NPY002
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)])
def test_seed_everything_rejects_bad_seeds(bad, exc):
    with pytest.raises(exc, match="seed"):
        config.seed_everything(bad)


def test_seed_everything_rejects_a_bad_deterministic_value():
    with pytest.raises(ValueError, match="deterministic"):
        config.seed_everything(0, deterministic="always")

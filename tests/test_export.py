"""Exported models: model.keras and model.json, loaded back with the same predictions; bad files refused."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_model import tiny_run

keras = pytest.importorskip("keras")


def test_the_exported_model_predicts_what_the_trained_model_predicts():
    result, data, folder = tiny_run()
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.keras"]
    loaded = keras.saving.load_model(folder / "model.keras")  # the custom layers (CBAM, ResPath) are registered
    assert {type(layer).__name__ for layer in loaded.layers} >= {"CBAM", "ResPath"}
    x = data.test_images[..., None]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), result.model.predict(x, verbose=0))


@pytest.mark.parametrize("imports", ["keras, rarunet_lib", "rarunet_lib.models, keras"])
def test_plain_keras_loads_it_in_a_fresh_process_once_the_library_is_imported(imports):
    """After `import keras, rarunet_lib` (Keras first) or `import rarunet_lib.models`."""
    result, data, folder = tiny_run()
    np.save(folder.parent / f"{folder.name}-x.npy", data.test_images[:4, ..., None])
    code = (f"import sys, numpy as np, {imports}; "
            "m = keras.saving.load_model(sys.argv[1]); print(float(np.abs(m.predict(np.load(sys.argv[2]), "
            "verbose=0)).sum()))")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code, str(folder / "model.keras"),
                          str(folder.parent / f"{folder.name}-x.npy")], capture_output=True, text=True, timeout=300,
                         cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr[-2000:]
    want = float(np.abs(result.model.predict(data.test_images[:4, ..., None], verbose=0)).sum())
    assert float(out.stdout.split()[-1]) == pytest.approx(want, rel=1e-6)


def test_the_model_card_says_what_the_model_expects_and_where_it_comes_from():
    result, _, folder = tiny_run()
    card = json.loads((folder / "model.json").read_text())
    assert (card["input_size"], card["channels"], card["neighbours"]) == (32, 1, 0)
    assert card["window"] == [-250.0, 1250.0] and card["pad_hu"] == -1024 and card["threshold"] == 0.5
    assert card["run"]["run_id"] == "rar_unet__clean__seed0" and card["profile"]["name"] == "tiny"
    assert card["run"]["selected_epoch"] == result.selected_epoch == 1
    assert card["run"]["provenance"] == result.provenance
    assert card["model_sha256"] == hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest()


def _plain_model(shape, out_channels=1):
    inp = keras.Input(shape)
    return keras.Model(inp, keras.layers.Conv2D(out_channels, 1, activation="sigmoid")(inp))


def _saved(folder, name, model):
    model.save(folder / name)
    return folder / name


def _text(folder, name):
    (folder / name).write_text("not a model")
    return folder / name


@pytest.mark.parametrize("make, match", [
    (lambda d: d / "missing.keras", "model=.* does not exist"),
    (lambda d: d, "holds no model.keras"),
    (lambda d: _text(d, "notes.keras"), "could not be loaded as a Keras model"),
    (lambda d: _text(d, "model.h5"), "give a .keras file"),
    (lambda d: _saved(d, "model.keras", _plain_model((32, 32, 1))) and _text(d, "model.json").parent,
     "model.json beside it could not be read"),
    (lambda d: _saved(d, "m40.keras", _plain_model((40, 40, 1))), "40x40; square slices"),
    (lambda d: _saved(d, "c2.keras", _plain_model((32, 32, 2))), "2 channels; an odd number"),
    (lambda d: _saved(d, "o2.keras", _plain_model((32, 32, 1), 2)), "one probability per pixel"),
])
def test_load_model_refuses_what_it_cannot_apply(tmp_path, make, match):
    from rarunet_lib.export import load_model

    with pytest.raises((ValueError, FileNotFoundError), match=match):
        load_model(make(tmp_path))


def test_a_card_of_another_model_is_refused(tmp_path):
    from rarunet_lib.export import export_model, load_model

    export_model(_plain_model((32, 32, 1)), tmp_path)
    card = json.loads((tmp_path / "model.json").read_text())
    (tmp_path / "model.json").write_text(json.dumps({**card, "input_size": 64}))
    with pytest.raises(ValueError, match="do not belong together"):
        load_model(tmp_path)

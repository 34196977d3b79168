"""A trained model as files a user can apply to a scan: ``model.keras`` and its ``model.json`` (Keras).

``model.keras`` is Keras's own format (architecture, weights, no optimizer
state); ``model.json`` beside it says what the model expects, so that
:func:`rarunet_lib.inference.segment_case` preprocesses a scan exactly as
training did: the input size and channels (``2k + 1`` channels are a slice
with ``k`` neighbours on each side), the HU window, the padding value, the
threshold, and where the model comes from (profile, run, selected epoch,
provenance).  The custom layers (:class:`~rarunet_lib.models.CBAM`,
:class:`~rarunet_lib.models.ResPath`) are registered with Keras when
:mod:`rarunet_lib.models` is imported, which :func:`load_model` does; a plain
``keras.saving.load_model`` works after ``import rarunet_lib.models``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .data.preprocess import DEFAULT_WINDOW
from .fileio import atomic_write_json, json_safe

__all__ = ["MODEL_FILE", "CARD_FILE", "CARD_FORMAT", "export_model", "load_model", "model_card", "check_model"]

MODEL_FILE = "model.keras"
CARD_FILE = "model.json"
#: Version of the ``model.json`` layout.
CARD_FORMAT = 1
#: HU of the air that pads a slice to a square (:func:`rarunet_lib.data.preprocess.preprocess`).
PAD_HU = -1024


def check_model(model, *, name: str = "model") -> tuple[int, int]:
    """The input side and channels of a segmentation model, refusing one of the wrong kind or shape.

    A model this library can apply takes ``(batch, S, S, C)`` slices with
    ``S`` a multiple of 16 (four poolings) and ``C`` odd (a slice, with as
    many neighbours on each side), and returns ``(batch, S, S, 1)``
    probabilities.

    Returns
    -------
    (size, channels) : (int, int)

    Raises
    ------
    ValueError
        Naming ``name`` and what it has instead.

    Example
    -------
    >>> from rarunet_lib.models import build
    >>> check_model(build("unet", (32, 32, 3), filters=[4, 8, 16, 32, 64]))
    (32, 3)
    """
    import keras

    if not isinstance(model, keras.Model):
        raise ValueError(f"{name} is a {type(model).__name__}, not a Keras model")
    try:
        shape_in = tuple(model.input_shape)
        shape_out = tuple(model.output_shape)
    except (AttributeError, ValueError):
        raise ValueError(f"{name} has no single input and output; a segmentation model of "
                         "(batch, S, S, C) slices is required") from None
    if len(shape_in) != 4 or len(shape_out) != 4:
        raise ValueError(f"{name} takes {shape_in} and returns {shape_out}; a segmentation model of "
                         "(batch, S, S, C) slices to (batch, S, S, 1) probabilities is required")
    _, h, w, c = shape_in
    if h is None or w is None or h != w or h % 16:
        raise ValueError(f"{name} takes slices of {h}x{w}; square slices whose side is a multiple of 16 "
                         "are required (the networks pool four times)")
    if c is None or c % 2 == 0:
        raise ValueError(f"{name} takes {c} channels; an odd number is required (a slice with k neighbours "
                         "on each side: 1, 3, 5...)")
    if shape_out[1:] != (h, w, 1):
        raise ValueError(f"{name} returns {shape_out}; one probability per pixel, (batch, {h}, {w}, 1), "
                         "is required")
    return int(h), int(c)


def model_card(model, *, window=DEFAULT_WINDOW, profile: dict | None = None, run: dict | None = None) -> dict:
    """What a model expects and where it comes from: the ``model.json`` document.

    Parameters
    ----------
    model : keras.Model
    window : (low, high), default (-250, 1250)
        HU window the training slices were scaled with.
    profile : dict, optional
        ``Profile.as_dict()`` of the training profile.
    run : dict, optional
        Training provenance (run id, spec, selected epoch, provenance...).

    Example
    -------
    >>> from rarunet_lib.models import build
    >>> card = model_card(build("unet", (32, 32, 1), filters=[4, 8, 16, 32, 64]))
    >>> card["input_size"], card["channels"], card["neighbours"], card["window"]
    (32, 1, 0, [-250.0, 1250.0])
    """
    size, channels = check_model(model)
    return json_safe({
        "format": CARD_FORMAT, "model_file": MODEL_FILE, "architecture": model.name,
        "input_size": size, "channels": channels, "neighbours": (channels - 1) // 2,
        "window": [float(window[0]), float(window[1])], "pad_hu": PAD_HU, "threshold": 0.5,
        "preprocessing": "HU window -> [0, 1], pad to square with air, linear resize (anti-aliased) to "
                         "input_size x input_size (rarunet_lib.data.preprocess.preprocess)",
        "profile": profile, "run": run,
    })


def export_model(model, folder, *, window=DEFAULT_WINDOW, profile: dict | None = None,
                 run: dict | None = None) -> Path:
    """Write ``folder/model.keras`` and ``folder/model.json`` (the card, with the model file's SHA-256), atomically.

    Parameters
    ----------
    model : keras.Model
        A segmentation model (:func:`check_model`).
    folder : str or Path
        Created if missing.
    window, profile, run
        See :func:`model_card`.

    Returns
    -------
    Path
        ``folder/model.keras``.

    Example
    -------
    >>> import tempfile
    >>> from rarunet_lib.models import build
    >>> path = export_model(build("unet", (32, 32, 1), filters=[4, 8, 16, 32, 64]), tempfile.mkdtemp())
    >>> path.name, load_model(path.parent)[1]["input_size"]
    ('model.keras', 32)
    """
    card = model_card(model, window=window, profile=profile, run=run)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".model.", suffix=".keras")  # Keras wants the ending
    os.close(fd)
    try:
        model.save(tmp, overwrite=True)
        os.chmod(tmp, 0o644)
        digest = hashlib.sha256(Path(tmp).read_bytes()).hexdigest()
        os.replace(tmp, folder / MODEL_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    atomic_write_json(folder / CARD_FILE, {**card, "model_sha256": digest})
    return folder / MODEL_FILE


def load_model(path, *, name: str = "model"):
    """Load an exported model and its card: a run folder holding ``model.keras``, or a ``.keras`` file.

    The card is ``model.json`` beside the file; a ``.keras`` file without one
    gets the defaults (the HU window of :data:`~rarunet_lib.data.preprocess.DEFAULT_WINDOW`).

    Returns
    -------
    (model, card) : (keras.Model, dict)

    Raises
    ------
    FileNotFoundError
        If the path, or the folder's ``model.keras``, does not exist.
    ValueError
        If the file is not a Keras model, or not one this library can apply
        (:func:`check_model`); the message names ``name`` and the path.
    """
    from .checks import check_path

    path = check_path(name, path)
    file = path / MODEL_FILE if path.is_dir() else path
    if path.is_dir() and not file.exists():
        raise FileNotFoundError(f"{name}={str(path)!r} holds no {MODEL_FILE}; give a run folder of the train "
                                "command or a .keras file")
    if file.suffix != ".keras":
        raise ValueError(f"{name}={str(path)!r} is not allowed; give a .keras file or a run folder holding "
                         f"{MODEL_FILE}")
    import keras

    from . import models  # noqa: F401  registers the custom layers

    try:
        model = keras.saving.load_model(file, compile=False)
    except Exception as err:  # Keras raises many kinds (zipfile, ValueError, TypeError...) for a bad file
        why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{name}={str(file)!r} could not be loaded as a Keras model: {why}") from None
    check_model(model, name=f"{name}={str(file)!r}")
    card_path = file.with_name(CARD_FILE)
    try:
        card = json.loads(card_path.read_text()) if card_path.exists() else model_card(model)
    except (ValueError, OSError) as err:
        raise ValueError(f"{name}={str(file)!r}: {card_path.name} beside it could not be read: {err}") from None
    size, channels = check_model(model)
    if (card.get("input_size"), card.get("channels")) != (size, channels):
        raise ValueError(f"{name}={str(file)!r}: {card_path.name} says {card.get('input_size')} px, "
                         f"{card.get('channels')} channels, the model takes {size} px, {channels}; "
                         "the files do not belong together")
    return model, card

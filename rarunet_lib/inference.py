"""Inference: a trained model's probabilities and masks for stacks of slices, and for a whole scan on its grid."""

from __future__ import annotations

import numpy as np

from .checks import check_int

__all__ = ["predict_probabilities", "predict_masks", "restore_to_grid", "segment_case"]


def _as_batch(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C), got {np.shape(images)}")
    return x


def predict_probabilities(model, images, *, batch_size: int = 16) -> np.ndarray:
    """The model's foreground probability of every pixel, in inference mode.

    Parameters
    ----------
    model : keras.Model
        One sigmoid output channel.
    images : array (N, H, W) or (N, H, W, C)
        Preprocessed slices (float in [0, 1]).
    batch_size : int, default 16
        Slices per forward pass (the result does not depend on it beyond float round-off).

    Returns
    -------
    numpy.ndarray, shape (N, H, W)

    Example
    -------
    >>> from rarunet_lib.models import build
    >>> model = build("unet", (32, 32, 1))
    >>> predict_probabilities(model, np.zeros((3, 32, 32), np.float32)).shape
    (3, 32, 32)
    """
    x = _as_batch(images)
    batch_size = check_int("batch_size", batch_size, min=1)
    if len(x) == 0:
        return np.zeros(x.shape[:3], np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))[..., 0]


def predict_masks(model, images, *, batch_size: int = 16, threshold: float = 0.5) -> np.ndarray:
    """Threshold a model's probabilities: (N, H, W) uint8 masks, 1 where the probability exceeds ``threshold``.

    Parameters
    ----------
    model : keras.Model
    images : array (N, H, W) or (N, H, W, C)
    batch_size : int, default 16
    threshold : float, default 0.5
        In (0, 1).

    Example
    -------
    >>> from rarunet_lib.models import build
    >>> model = build("unet", (32, 32, 1))
    >>> m = predict_masks(model, np.zeros((2, 32, 32), np.float32))
    >>> m.shape, m.dtype.name
    ((2, 32, 32), 'uint8')
    """
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold={threshold!r} is not allowed; use a number in (0, 1)")
    prob = predict_probabilities(model, images, batch_size=batch_size)
    return (prob > threshold).astype(np.uint8)


def restore_to_grid(probabilities, shape) -> np.ndarray:
    """Undo :func:`~rarunet_lib.data.preprocess.preprocess`'s geometry: back to the original in-plane size.

    Each ``(S, S)`` slice is resized (linear interpolation, anti-aliased when
    shrinking) to the square that :func:`preprocess` padded the ``(H, W)``
    slice to, ``max(H, W)`` on a side, and the padding is cropped off (the same
    rows and columns ``preprocess`` added: half on each side, the odd one at the
    bottom or right).  Works on probabilities; threshold afterwards.

    Parameters
    ----------
    probabilities : array (N, S, S)
    shape : (H, W)
        In-plane size of the original slices.

    Returns
    -------
    numpy.ndarray of float32, shape (N, H, W)

    Example
    -------
    >>> restore_to_grid(np.ones((2, 16, 16)), (10, 24)).shape
    (2, 10, 24)
    """
    from skimage.transform import resize

    p = np.asarray(probabilities, dtype=np.float32)
    if p.ndim != 3 or p.shape[1] != p.shape[2]:
        raise ValueError(f"probabilities must have shape (N, S, S), got {p.shape}")
    h, w = (int(v) for v in shape)
    n = max(h, w)
    if p.shape[1] != n:
        p = resize(p, (p.shape[0], n, n), order=1, anti_aliasing=p.shape[1] > n,
                   preserve_range=True).astype(np.float32)
    top, left = (n - h) // 2, (n - w) // 2
    return np.clip(p[:, top:top + h, left:left + w], 0.0, 1.0)


def segment_case(case, model, *, window=None, batch_size: int = 16, threshold: float = 0.5,
                 progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Segment a whole scan with a trained model: probabilities and a 0/1 mask on the case's own grid.

    The scan is preprocessed exactly as training data are
    (:func:`rarunet_lib.data.preprocess.preprocess`): HU clipped to the
    model's window and scaled to [0, 1]; a **non-square** slice padded to a
    square with air (-1024 HU), half the padding on each side, then resized
    (linear, anti-aliased) to the model's input size, so the anatomy keeps its
    proportions.  **Anisotropic spacing**: slices are segmented one by one in
    their own plane, whatever the pixel size; the through-plane spacing is kept
    as it is (no resampling between slices; a 2.5-D model, with ``2k + 1``
    input channels, sees each slice with its ``k`` neighbours on each side as
    stored, the edge slice repeated at the ends:
    :func:`~rarunet_lib.data.preprocess.stack_neighbours`).  The
    probabilities are resized back to the padded square at the original
    in-plane size, the padding is cropped (:func:`restore_to_grid`) and the
    mask is ``probability > threshold``.

    Parameters
    ----------
    case : Case
        The scan (:func:`rarunet_lib.data.load_case`); labels are not needed.
    model : keras.Model, or str or Path
        A model (:func:`rarunet_lib.export.check_model`), or an exported one:
        a run folder holding ``model.keras`` or a ``.keras`` file
        (:func:`rarunet_lib.export.load_model`), whose ``model.json`` gives the window.
    window : (low, high), optional
        HU window; default: the model card's, else (-250, 1250), the training default.
    batch_size : int, default 16
        Slices per forward pass.
    threshold : float, default 0.5
        In (0, 1).
    progress : bool, default False
        A progress bar over the batches (tqdm, on stderr).

    Returns
    -------
    probabilities : numpy.ndarray of float32, shape ``case.hu.shape``
    mask : numpy.ndarray of uint8, shape ``case.hu.shape``, in {0, 1}

    Example
    -------
    >>> from rarunet_lib.data import load_demo
    >>> from rarunet_lib.models import build
    >>> case = load_demo("abdomen_3mm")
    >>> prob, mask = segment_case(case, build("unet", (32, 32, 1), filters=[4, 8, 16, 32, 64]))
    >>> prob.shape == mask.shape == case.hu.shape, mask.dtype.name
    (True, 'uint8')
    """
    from pathlib import Path

    from .data.case import Case
    from .data.preprocess import DEFAULT_WINDOW, preprocess, stack_neighbours
    from .export import check_model, load_model

    if not isinstance(case, Case):
        raise TypeError(f"case must be a Case (rarunet_lib.data.load_case), got {type(case).__name__}")
    card = {}
    if isinstance(model, (str, Path)):
        model, card = load_model(model)
    size, channels = check_model(model)
    batch_size = check_int("batch_size", batch_size, min=1)
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold={threshold!r} is not allowed; use a number in (0, 1)")
    window = tuple(window if window is not None else card.get("window", DEFAULT_WINDOW))
    n, k = case.n_slices, (channels - 1) // 2
    prob = np.empty(case.hu.shape, np.float32)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=f"segmenting {case.name}", unit="slice", leave=False)
    # a few batches of slices at a time (a whole scan at the network size can be large), each chunk with
    # its k neighbours on either side so that a 2.5-D model sees the same stacks as for the whole volume
    step = 4 * batch_size
    for start in range(0, n, step):
        stop = min(n, start + step)
        lo, hi = max(0, start - k), min(n, stop + k)
        # the training path itself (labels are not used: a blank mask stands in for them)
        chunk = Case(case.hu[lo:hi], np.zeros((hi - lo, *case.hu.shape[1:]), np.uint8), case.spacing)
        images, _ = preprocess(chunk, size, window)
        x = images[..., None] if k == 0 else stack_neighbours(images, np.zeros(len(images), int), k)
        x = x[start - lo:stop - lo]
        p = np.concatenate([predict_probabilities(model, x[i:i + batch_size], batch_size=batch_size)
                            for i in range(0, len(x), batch_size)])
        prob[start:stop] = restore_to_grid(p, case.hu.shape[1:])
        if bar is not None:
            bar.update(stop - start)
    if bar is not None:
        bar.close()
    return prob, (prob > threshold).astype(np.uint8)

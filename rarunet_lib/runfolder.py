"""A run folder: what a run was trained on, its checkpoints, and how to continue it.

NumPy and the standard library only: the variables are handed in and out as
objects with ``.path``, ``.shape``, ``.numpy()`` and ``.assign()`` (Keras 3
variables), so this module needs no TensorFlow.

Layout
------
``config.json``
    The training configuration (written when training starts).
``fingerprint.json``
    Shapes, dtypes and SHA-256 of the images, the masks and the noisy indices
    (:func:`fingerprint`).  Folders from before it existed have none: their
    data is "unknown" and accepted with a warning.
``checkpoints/epoch-NNNN/``
    Everything needed to continue after epoch NNNN: ``variables.npz`` (EVERY
    model variable, trainable or not, keyed by ``model/<path>``; the optimizer's,
    ``optimizer/<path>``; the best epoch's model variables ``best/<path>`` when
    the best epoch is not this one), ``adl.npz``, ``history.json`` and
    ``state.json`` (epoch, best epoch and value, counts).  It is written into a
    temporary folder with a unique name, every file fsynced, then renamed.
``checkpoints/latest.json``
    Names the checkpoint to resume from; switched atomically, and only after
    the checkpoint and the top-level copies below are complete.  Resuming reads
    the checkpoint it names and nothing else, so a kill at any moment leaves a
    folder that resumes from the last complete epoch.
``history.json``, ``sample_losses.npz``
    Top-level copies for readers (strict JSON: NaN is written as ``null``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fileio import atomic_write_bytes, atomic_write_json, atomic_write_npz, json_safe

__all__ = ["RunFolder", "Checkpoint", "fingerprint", "fingerprint_differences", "config_differences",
           "variable_arrays", "matched_arrays", "assign_arrays", "training_arrays", "restore_training",
           "history_from_json"]

CONFIG, FINGERPRINT, LATEST = "config.json", "fingerprint.json", "latest.json"
_FORMAT = 2  # 1: tf.train.Checkpoint "state" files (lost nested BatchNorm statistics)


# ---------------------------------------------------------------- what a run is trained on
def _array_print(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": hashlib.sha256(a.data).hexdigest()}


def fingerprint(images: np.ndarray, masks: np.ndarray, noisy_indices=None) -> dict:
    """Shapes, dtypes and SHA-256 of the arrays a run trains on.

    Parameters
    ----------
    images, masks : numpy.ndarray
        As the trainer holds them (e.g. float32 images, uint8 masks).
    noisy_indices : array_like of int, optional
        The noise manifest's indices (sorted and de-duplicated before hashing);
        None is recorded as None.

    Example
    -------
    >>> fp = fingerprint(np.zeros((2, 4, 4), "float32"), np.zeros((2, 4, 4), "uint8"), [1])
    >>> fp["images"]["shape"], fp["masks"]["dtype"], fp["noisy_indices"]["n"]
    ([2, 4, 4], 'uint8', 1)
    """
    noisy = None
    if noisy_indices is not None:
        ids = np.unique(np.asarray(noisy_indices, dtype=np.int64))
        noisy = {"n": int(ids.size), "sha256": hashlib.sha256(ids.data).hexdigest()}
    return {"images": _array_print(images), "masks": _array_print(masks), "noisy_indices": noisy}


def fingerprint_differences(folder: dict, given: dict) -> list[str]:
    """What differs between two fingerprints, one line per array, e.g. ``"images: shape folder [4, 8], given [5, 8]"``.

    Example
    -------
    >>> a = fingerprint(np.zeros((2, 4)), np.zeros((2, 4)))
    >>> fingerprint_differences(a, fingerprint(np.ones((2, 4)), np.zeros((2, 4))))
    ['images: other values (same shape and dtype)']
    """
    out = []
    for name in ("images", "masks"):
        f, g = folder.get(name), given[name]
        if f is None:
            continue
        for key in ("shape", "dtype"):
            if f[key] != g[key]:
                out.append(f"{name}: {key} folder {f[key]}, given {g[key]}")
        if f["shape"] == g["shape"] and f["dtype"] == g["dtype"] and f["sha256"] != g["sha256"]:
            out.append(f"{name}: other values (same shape and dtype)")
    f, g = folder.get("noisy_indices"), given["noisy_indices"]
    if f != g:
        show = lambda d: "none" if d is None else f"{d['n']} indices"  # noqa: E731
        detail = "other indices" if f and g and f["n"] == g["n"] else f"folder {show(f)}, given {show(g)}"
        out.append(f"noisy_indices: {detail}")
    return out


#: Configuration fields that change what a run shows, not what it computes: a run folder
#: accepts other values of these (a run started with progress bars resumes without them).
PRESENTATION_FIELDS: tuple[str, ...] = ("progress", "tensorboard")


def config_differences(folder: dict, given: dict, *, ignore=PRESENTATION_FIELDS) -> list[str]:
    """Fields that differ, e.g. ``["seed: folder 0, given 5"]`` (both dicts JSON-safe).

    Fields named in ``ignore`` (:data:`PRESENTATION_FIELDS`) are not compared.

    Example
    -------
    >>> config_differences({"seed": 0, "epochs": 3}, {"seed": 5, "epochs": 3})
    ['seed: folder 0, given 5']
    >>> config_differences({"seed": 0, "progress": True}, {"seed": 0, "progress": False})
    []
    """
    show = lambda d, k: repr(d[k]) if k in d else "(absent)"  # noqa: E731
    keys = [k for k in [*folder, *(k for k in given if k not in folder)] if k not in ignore]
    return [f"{k}: folder {show(folder, k)}, given {show(given, k)}"
            for k in keys if k not in folder or k not in given or folder[k] != given[k]]


# ---------------------------------------------------------------- variables <-> arrays
def variable_arrays(variables, prefix: str, *, strip_first: bool = False) -> dict[str, np.ndarray]:
    """``{prefix/path: array}`` for variables with a ``.path`` (``strip_first`` drops e.g. ``"adam/"``).

    Example
    -------
    >>> class V:
    ...     path, shape = "dense/kernel", (2,)
    ...     def numpy(self): return np.ones(2)
    >>> list(variable_arrays([V()], "model"))
    ['model/dense/kernel']
    """
    out = {}
    for v in variables:
        path = v.path.split("/", 1)[1] if strip_first and "/" in v.path else v.path
        key = f"{prefix}/{path}"
        if key in out:
            raise ValueError(f"two variables have the path {path!r}: cannot key a checkpoint by path")
        out[key] = np.asarray(v.numpy())
    return out


def matched_arrays(variables, arrays, prefix: str, *, file, strip_first: bool = False) -> list[np.ndarray]:
    """The arrays ``arrays[prefix/path]`` in the order of ``variables``, every one checked.

    Raises
    ------
    ValueError
        Naming ``file`` and the first entries that are missing, extra (no such
        variable) or of another shape than the variable.
    """
    wanted = {}
    for v in variables:
        path = v.path.split("/", 1)[1] if strip_first and "/" in v.path else v.path
        wanted[f"{prefix}/{path}"] = v
    have = {k for k in arrays if k.startswith(prefix + "/")}
    missing, extra = sorted(set(wanted) - have), sorted(have - set(wanted))
    if missing or extra:
        raise ValueError(f"{file}: the checkpoint does not match the model: {len(missing)} {prefix} variables "
                         f"missing {missing[:3]}, {len(extra)} not in the model {extra[:3]}")
    out = []
    for key, v in wanted.items():
        a = arrays[key]
        if tuple(a.shape) != tuple(v.shape):
            raise ValueError(f"{file}: {key} has shape {tuple(a.shape)}, the model's variable {tuple(v.shape)}")
        out.append(a)
    return out


def assign_arrays(variables, arrays, prefix: str, *, file, strip_first: bool = False) -> None:
    """Assign ``arrays[prefix/path]`` to each variable, after checking all of them (:func:`matched_arrays`).

    Example
    -------
    >>> class V:
    ...     path, shape, value = "dense/kernel", (2,), None
    ...     def assign(self, a): self.value = a
    >>> v = V()
    >>> assign_arrays([v], {"model/dense/kernel": np.ones(2)}, "model", file="x.npz")
    >>> v.value.tolist()
    [1.0, 1.0]
    >>> assign_arrays([v], {}, "model", file="x.npz")
    Traceback (most recent call last):
    ValueError: x.npz: the checkpoint does not match the model: 1 model variables missing ['model/dense/kernel'], 0 not in the model []
    """
    values = matched_arrays(variables, arrays, prefix, file=file, strip_first=strip_first)
    for v, a in zip(variables, values, strict=True):  # only once all are checked: no half-restored model
        v.assign(a)


def training_arrays(model_variables, optimizer_variables, best=None) -> dict[str, np.ndarray]:
    """What ``variables.npz`` holds: every model variable, the optimizer's, and the best epoch's weights.

    ``best`` (arrays in the order of ``model_variables``) is stored as
    ``best/<path>``; leave it None when the best epoch is the current one.
    """
    out = {**variable_arrays(model_variables, "model"),
           **variable_arrays(optimizer_variables, "optimizer", strip_first=True)}
    if best is not None:
        out.update({f"best/{v.path}": np.asarray(a) for v, a in zip(model_variables, best, strict=True)})
    return out


def restore_training(ck: Checkpoint, model_variables, optimizer_variables) -> list[np.ndarray] | None:
    """Assign a checkpoint's model and optimizer variables (all checked first); returns the best weights or None.

    Raises
    ------
    ValueError
        Naming ``variables.npz``: entries missing, extra or misshapen, or best
        weights missing (or present) where ``state.json``'s best epoch says otherwise.
    """
    file = ck.folder / "variables.npz"
    unknown = sorted({k.split("/", 1)[0] for k in ck.variables} - {"model", "optimizer", "best"})
    if unknown:
        raise ValueError(f"{file}: unexpected entries {unknown}")
    has_best = any(k.startswith("best/") for k in ck.variables)
    best_epoch = ck.state.get("best_epoch", 0)
    if has_best == (best_epoch in (0, ck.epoch)):
        raise ValueError(f"{file}: best epoch {best_epoch} at epoch {ck.epoch}, but the best weights are "
                         f"{'present' if has_best else 'missing'}")
    best = matched_arrays(model_variables, ck.variables, "best", file=file) if has_best else None
    model = matched_arrays(model_variables, ck.variables, "model", file=file)
    optimizer = matched_arrays(optimizer_variables, ck.variables, "optimizer", file=file, strip_first=True)
    for variables, values in ((model_variables, model), (optimizer_variables, optimizer)):
        for v, a in zip(variables, values, strict=True):  # only once everything is checked
            v.assign(a)
    return best


def history_from_json(history: dict) -> dict:
    """Undo :func:`rarunet_lib.fileio.json_safe` in the epoch records: ``null`` back to NaN.

    Example
    -------
    >>> history_from_json({"config": {"noise_alpha": None}, "epochs": [{"detection_f1": None}]})
    {'config': {'noise_alpha': None}, 'epochs': [{'detection_f1': nan}]}
    """
    epochs = [{k: float("nan") if v is None else v for k, v in e.items()} for e in history.get("epochs", [])]
    return {**history, "epochs": epochs}


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err}); the file is corrupt or truncated") from err


def _write_file(path: Path, write) -> None:
    with open(path, "xb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _json_bytes(obj) -> bytes:
    return (json.dumps(json_safe(obj), indent=1, allow_nan=False) + "\n").encode()


def _write_json(path: Path, obj) -> None:
    """Strict JSON (NaN and infinities as ``null``), written atomically."""
    atomic_write_bytes(path, _json_bytes(obj))


# ---------------------------------------------------------------- the folder
@dataclass
class Checkpoint:
    """What :meth:`RunFolder.load_checkpoint` read.

    Attributes
    ----------
    folder : Path
    epoch : int
    state : dict
        ``state.json`` (empty for a format-1 checkpoint).
    variables : dict of str to numpy.ndarray
        ``variables.npz`` (empty for a format-1 checkpoint: see ``legacy_prefix``).
    adl : dict of str to numpy.ndarray
    history : dict
        With NaN restored (:func:`history_from_json`).
    legacy_prefix : str or None
        Format 1: the ``tf.train.Checkpoint`` prefix to read instead.
    """

    folder: Path
    epoch: int
    state: dict
    variables: dict
    adl: dict
    history: dict
    legacy_prefix: str | None = None


class RunFolder:
    """The files of one run (see the module docstring for the layout).

    Reading (:meth:`read_config`, :meth:`read_fingerprint`, :meth:`check`,
    :meth:`load_checkpoint`) never writes; :meth:`start` and
    :meth:`save_checkpoint` write atomically.

    Example
    -------
    >>> import tempfile
    >>> rf = RunFolder(tempfile.mkdtemp())
    >>> fp = fingerprint(np.zeros(2), np.zeros(2))
    >>> rf.check({"seed": 0}, fp)  # an empty folder: nothing to compare
    >>> rf.start({"seed": 0}, fp)
    >>> try:
    ...     rf.check({"seed": 1}, fp)
    ... except ValueError as err:
    ...     print(str(err).split("(")[1].split(")")[0])
    seed: folder 0, given 1
    """

    def __init__(self, path):
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"

    def read_config(self) -> dict | None:
        """``config.json`` as saved, or None if the folder holds no run."""
        f = self.path / CONFIG
        return _read_json(f) if f.exists() else None

    def read_fingerprint(self) -> dict | None:
        """``fingerprint.json``, or None (a folder written before fingerprints existed)."""
        f = self.path / FINGERPRINT
        return _read_json(f) if f.exists() else None

    def check(self, config: dict, fp: dict, *, folder_config: dict | None = None) -> None:
        """Refuse, before anything is written, a folder that holds another run.

        Parameters
        ----------
        config : dict
            The JSON-safe configuration of the run to start or continue.
        fp : dict
            Its :func:`fingerprint`.
        folder_config : dict, optional
            The folder's configuration completed with defaults of fields it
            predates (default: ``config.json`` as saved).

        Raises
        ------
        ValueError
            Naming every differing field, or what differs in the data.
        """
        if folder_config is None:
            folder_config = self.read_config()
        if folder_config is None:
            return  # no run here yet
        diffs = config_differences(folder_config, config)
        if diffs:
            raise ValueError(f"output={str(self.path)!r} holds a run with another configuration "
                             f"({'; '.join(diffs)}); use a new folder or Trainer.resume")
        theirs = self.read_fingerprint()
        if theirs is None:
            warnings.warn(f"{self.path / FINGERPRINT} is missing (a run folder from before fingerprints): "
                          "cannot check that the images, masks and noisy indices are the run's", stacklevel=3)
            return
        diffs = fingerprint_differences(theirs, fp)
        if diffs:
            raise ValueError(f"output={str(self.path)!r} holds a run trained on other data "
                             f"({'; '.join(diffs)}); give the run's images, masks and noisy_indices")

    def start(self, config: dict, fp: dict) -> None:
        """Create the folder and write ``fingerprint.json`` and ``config.json`` (call after :meth:`check`)."""
        self.path.mkdir(parents=True, exist_ok=True)
        if not (self.path / CONFIG).exists():  # a folder that holds a run keeps its files
            _write_json(self.path / FINGERPRINT, fp)  # first: config.json marks the run as started
            _write_json(self.path / CONFIG, config)

    # ------------------------------------------------------------ checkpoints
    def save_checkpoint(self, epoch: int, *, variables: dict, state: dict, adl: dict, history: dict,
                        sample_losses: dict) -> Path:
        """Write the checkpoint of ``epoch``, the top-level copies, then switch ``latest.json``.

        A kill at any point leaves ``latest.json`` naming a complete checkpoint
        (or none), which is all that :meth:`load_checkpoint` reads.
        """
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch:04d}"
        final = self.checkpoints / name
        tmp = Path(tempfile.mkdtemp(dir=self.checkpoints, prefix=f".tmp-{name}-"))
        try:
            _write_file(tmp / "variables.npz", lambda f: np.savez(f, **variables))
            _write_file(tmp / "adl.npz", lambda f: np.savez(f, **adl))
            _write_file(tmp / "history.json", lambda f: f.write(_json_bytes(history)))
            state = {"format": _FORMAT, "epoch": int(epoch), **state}
            _write_file(tmp / "state.json", lambda f: f.write(_json_bytes(state)))  # last: marks it complete
            _fsync_dir(tmp)
            if final.exists():  # an earlier attempt at this epoch: moved aside (two renames), deleted below
                os.replace(final, Path(tempfile.mkdtemp(dir=self.checkpoints, prefix=f".tmp-{name}-old-")))
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(self.checkpoints)
        _write_json(self.path / "history.json", history)
        atomic_write_npz(self.path / "sample_losses.npz", **sample_losses)
        atomic_write_json(self.checkpoints / LATEST, {"epoch": int(epoch), "path": name})
        for old in self.checkpoints.iterdir():
            if old.name != name and (old.name.startswith("epoch-") or old.name.startswith(".tmp-")):
                shutil.rmtree(old, ignore_errors=True)
        return final

    def load_checkpoint(self) -> Checkpoint | None:
        """Read the checkpoint ``latest.json`` names (None if there is none yet).

        Raises
        ------
        ValueError
            Naming the file, for a missing, corrupt or truncated checkpoint file.
        """
        latest = self.checkpoints / LATEST
        if not latest.exists():
            return None
        info = _read_json(latest)
        if not isinstance(info, dict) or not isinstance(info.get("path"), str) or "/" in info["path"]:
            raise ValueError(f"{latest}: expected {{'epoch': int, 'path': 'epoch-NNNN'}}, got {info!r}")
        folder = self.checkpoints / info["path"]
        if not folder.is_dir():
            raise ValueError(f"{latest} names {folder}, which does not exist")
        adl = self._load_npz(folder / "adl.npz")
        history = history_from_json(_read_json(self._need(folder / "history.json")))
        if not (folder / "state.json").exists() and (folder / "state.index").exists():  # format 1
            epoch = int(adl["epoch"]) if "epoch" in adl else int(info["epoch"])
            return Checkpoint(folder, epoch, {}, {}, adl, history, legacy_prefix=str(folder / "state"))
        state = _read_json(self._need(folder / "state.json"))
        if state.get("epoch") != info.get("epoch"):
            raise ValueError(f"{folder / 'state.json'}: epoch {state.get('epoch')}, but {latest} says "
                             f"{info.get('epoch')}")
        variables = self._load_npz(folder / "variables.npz")
        return Checkpoint(folder, int(state["epoch"]), state, variables, adl, history)

    @staticmethod
    def _need(path: Path) -> Path:
        if not path.exists():
            raise ValueError(f"{path} is missing: the checkpoint is incomplete")
        return path

    @classmethod
    def _load_npz(cls, path: Path) -> dict:
        cls._need(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except Exception as err:  # zipfile.BadZipFile, zlib.error, EOFError, ValueError ...
            raise ValueError(f"{path}: cannot read the checkpoint ({type(err).__name__}: {err}); "
                             "the file is corrupt or truncated") from err

"""The one train-and-score recipe: a run's description, its training, its scoring, its result file.

:class:`RunSpec` says what is trained (model, seed, label noise, ADL);
:func:`train_and_score` trains it on a :class:`rarunet_lib.data.Dataset`,
selects the epoch to test, scores it and returns a :class:`RunResult`, which
:meth:`RunResult.write` saves as the JSON (and ``.npz`` of predictions) that
the experiment grid, the ``train`` command and the studies all write.

The epoch-selection rule is one: the epoch with the best validation Dice (the
first of equals) is tested; the last epoch is scored too.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from .checks import check_choice
from .config import Profile
from .fileio import atomic_write_json, atomic_write_npz, json_safe

__all__ = ["RunSpec", "RunResult", "train_config", "train_and_score", "check_writable", "export_run_model"]

#: TrainConfig fields a run's spec decides; ``settings`` may not set them.
_SPEC_FIELDS = ("model", "seed", "adl", "noise_alpha", "noise_beta", "adl_ranking", "adl_schedule")


@dataclass(frozen=True)
class RunSpec:
    """One training run: model, seed, label noise and ADL.

    Parameters
    ----------
    model : str
        Registry name (:func:`rarunet_lib.models.available_models`).
    seed : int
        Seed of the weights, split, order, rotations and noise.
    table4_row : int, optional
        For Table 4 rows 3, 5 and 6, which have no registry name: the row whose
        flags configure ``rar_unet``.
    noise_beta, noise_alpha : float
        Proportion and level of label noise (``noise_beta=0``: clean labels).
    adl : bool
        Adaptive denoising learning.
    adl_ranking : str, optional
        ADL's ranking when it is not the default (``TrainConfig.adl_ranking``):
        ``"random"`` is the control arm that leaves out as many masks as ADL,
        chosen at random. Named in the run id.
    adl_schedule : str, optional
        ``"forget_rate"`` for the co-teaching forget rate instead of Eq. 5
        (``TrainConfig.adl_schedule``); named in the run id.

    Example
    -------
    >>> RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.77, adl=True).run_id
    'unet__b0.50_a0.77__adl__seed0'
    >>> RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.77, adl=True, adl_ranking="random").run_id
    'unet__b0.50_a0.77__adl-random__seed0'
    >>> RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.77, adl=True, adl_ranking="area_ratio",
    ...         adl_schedule="forget_rate").run_id
    'unet__b0.50_a0.77__adl-forget-area_ratio__seed0'
    """

    model: str
    seed: int
    table4_row: int | None = None
    noise_beta: float = 0.0
    noise_alpha: float | None = None
    adl: bool = False
    adl_ranking: str | None = None
    adl_schedule: str | None = None

    def __post_init__(self):
        if self.noise_beta and self.noise_alpha is None:
            raise ValueError(f"noise_beta={self.noise_beta} needs noise_alpha")
        if self.adl and not self.noise_beta:
            raise ValueError("adl=True needs noisy labels (noise_beta > 0)")
        if self.adl_ranking is not None:
            from .adl import RANKINGS

            if not self.adl:
                raise ValueError(f"adl_ranking={self.adl_ranking!r} needs adl=True")
            check_choice("adl_ranking", self.adl_ranking, RANKINGS)
        if self.adl_schedule is not None:
            from .adl import SCHEDULES

            if not self.adl:
                raise ValueError(f"adl_schedule={self.adl_schedule!r} needs adl=True")
            check_choice("adl_schedule", self.adl_schedule, SCHEDULES)

    @property
    def run_id(self) -> str:
        """File stem: model, noise, ADL and seed."""
        name = f"table4_row{self.table4_row}" if self.table4_row is not None else self.model
        noise = "clean" if not self.noise_beta else f"b{self.noise_beta:.2f}_a{self.noise_alpha:.2f}"
        forget = "-forget" if self.adl_schedule == "forget_rate" else ""
        arm = f"adl{forget}" + (f"-{self.adl_ranking}" if self.adl_ranking else "") if self.adl else "noadl"
        return f"{name}__{noise}__{arm}__seed{self.seed}".replace("__noadl", "")

    def model_kwargs(self) -> dict:
        """Keyword arguments for the model builder (Table 4 rows 3, 5, 6)."""
        if self.table4_row is None:
            return {}
        from .models import TABLE4_ROWS

        spec = dict(TABLE4_ROWS[self.table4_row - 1])
        spec.pop("row")
        spec.pop("params")
        spec.setdefault("respath_input", "concat")
        return spec


#: The JSON fields of a run, in the order they are written.
_JSON_FIELDS = ("provenance", "run_id", "spec", "profile", "params", "data", "history", "train_seconds",
                "selected_epoch", "selected_val_dice", "test_pooled", "test_pooled_last_epoch", "test_pooled_pixels",
                "test_per_slice", "real", "adl", "wall_seconds")


@dataclass(frozen=True)
class RunResult:
    """What one run wrote: the JSON fields (see ``results/README.md``), its predictions and its model.

    Attributes
    ----------
    provenance : dict
        :func:`rarunet_lib.provenance.provenance` of the run.
    run_id : str
        :attr:`RunSpec.run_id`.
    spec : dict
        The :class:`RunSpec` as a dict.
    profile : dict or None
        ``Profile.as_dict()`` of the profile trained under (None without one).
    params : int
        Trainable parameters.
    data : dict
        Source, slice counts, image size, pixel size, number of noisy masks and their mean achieved alpha.
    history : list of dict
        Per-epoch records of the trainer (without the per-epoch exclusion lists).
    train_seconds : float
    selected_epoch : int
        The epoch tested: the best validation Dice, the first of equals (1-based).
    selected_val_dice : float
    test_pooled : dict
        Pooled test measures of the selected epoch's model, distances in mm.
    test_pooled_last_epoch : dict
        The same for the last epoch's model.
    test_pooled_pixels : dict
        ``test_pooled`` with distances in pixels.
    test_per_slice : dict
        Measure -> list over the test slices (distances in pixels).
    real : dict
        Real-CT sample name -> pooled measures (pixels).
    adl : dict or None
        For ADL runs: what ADL left out per epoch, which fitted masks were
        noisy, the clean and trained mask areas of the fitted masks.
    wall_seconds : float
    predictions : dict of str to numpy.ndarray
        Thresholded predictions (``test`` and ``real__<name>``); saved in the
        ``.npz`` beside the JSON, not in it.
    model : keras.Model or None
        The model at the selected epoch's weights (not saved).
    """

    provenance: dict
    run_id: str
    spec: dict
    profile: dict | None
    params: int
    data: dict
    history: list
    train_seconds: float
    selected_epoch: int
    selected_val_dice: float
    test_pooled: dict
    test_pooled_last_epoch: dict
    test_pooled_pixels: dict
    test_per_slice: dict
    real: dict
    adl: dict | None
    wall_seconds: float
    predictions: dict = field(default_factory=dict, repr=False, compare=False)
    model: object = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        """The JSON document (``adl`` only for ADL runs), NaN and infinities as null.

        Example
        -------
        >>> r = RunResult.from_json({"run_id": "x", "selected_epoch": 2, "wall_seconds": float("nan")})
        >>> r.to_json()["wall_seconds"] is None, "adl" in r.to_json()
        (True, False)
        """
        doc = {k: getattr(self, k) for k in _JSON_FIELDS if not (k == "adl" and self.adl is None)}
        return json_safe(doc)

    @classmethod
    def from_json(cls, doc: dict) -> RunResult:
        """A result from its JSON document (fields it lacks are None; no predictions or model)."""
        names = {f.name for f in fields(cls)} - {"predictions", "model"}
        return cls(**{k: doc.get(k) for k in names})

    def write(self, path) -> Path:
        """Write ``path`` (JSON) and the predictions beside it (``.npz``, bit-packed), atomically, the JSON last.

        The JSON's presence marks the run done (the grid skips it).
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {("test_pred" if k == "test" else k.replace("real__", "real_pred__", 1)):
                  np.packbits(np.asarray(v).astype(bool), axis=-1) for k, v in self.predictions.items()}
        if arrays:
            atomic_write_npz(path.with_suffix(".npz"), **arrays)
        atomic_write_json(path, self.to_json())
        return path


def train_config(spec: RunSpec, profile: Profile | None = None, **settings):
    """The :class:`rarunet_lib.train.TrainConfig` of a run: the spec's, the profile's, then ``settings``.

    Parameters
    ----------
    spec : RunSpec
        Model, seed, ADL and noise (given to the config only with ADL), Table 4 flags.
    profile : Profile, optional
        Its :meth:`Profile.train_kwargs` and, for the Table 4 family, its network width
        (:meth:`Profile.model_kwargs`); without one: TrainConfig's defaults.
    **settings
        Other TrainConfig fields (``epochs``, ``mixed_precision``, ``progress``...), overriding the profile's.

    Example
    -------
    >>> from rarunet_lib.config import get_profile
    >>> cfg = train_config(RunSpec("unet", 3), get_profile("quick"), epochs=1)
    >>> cfg.model, cfg.seed, cfg.epochs, cfg.progress
    ('unet', 3, 1, False)
    """
    from .train import TrainConfig

    taken = sorted(set(settings) & set(_SPEC_FIELDS))
    if taken:
        raise ValueError(f"settings={taken} are not allowed: the run's spec sets them (RunSpec fields)")
    if spec.table4_row is not None and "model_kwargs" in settings:
        raise ValueError(f"settings model_kwargs={settings['model_kwargs']!r} is not allowed with "
                         f"table4_row={spec.table4_row}: the row sets the model's flags")
    width = profile.model_kwargs(spec.model) if profile is not None else {}  # the profile's network width
    kwargs = {"progress": False, "model_kwargs": {**width, **spec.model_kwargs()},
              **({"adl_ranking": spec.adl_ranking} if spec.adl_ranking else {}),
              **({"adl_schedule": spec.adl_schedule} if spec.adl_schedule else {}),
              **(profile.train_kwargs() if profile is not None else {}), **settings}
    config = TrainConfig(model=spec.model, seed=spec.seed, adl=spec.adl,
                         noise_alpha=spec.noise_alpha if spec.adl else None,
                         noise_beta=spec.noise_beta if spec.adl else None, **kwargs)
    config.validate()
    return config


def _rounded(table) -> list:
    """A scores table as nested lists, 4 significant digits (``-inf`` stays, to become null in JSON)."""
    a = np.asarray(table, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.isfinite(a), np.vectorize(lambda v: float(f"{v:.4g}"), otypes=[float])(
            np.where(np.isfinite(a), a, 0.0)), a)
    return out.tolist()


def check_writable(path, *, name: str = "output", file: bool = False) -> Path:
    """Refuse a path that cannot be written: a file where a folder is meant, or no write permission.

    Checks the nearest existing folder at or above ``path`` (above it for a
    ``file``, which may exist and is then replaced); creates nothing.

    Example
    -------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     check_writable(f.name + "/run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: output='.../run' is not writable: ... is a file, not a folder; use a folder
    """
    path = Path(path)
    if file and path.is_dir():
        raise ValueError(f"{name}={str(path)!r} is not writable: it is a folder; give a file name")
    probe = path.parent if file else path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ValueError(f"{name}={str(path)!r} is not writable: {probe} is a file, not a folder; use a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{name}={str(path)!r} is not writable: {probe} does not allow writing; "
                         "use a folder you can write")
    return path


def _per_slice(gt, pred, spacing) -> dict[str, list]:
    from . import metrics

    rows = [metrics.evaluate_pair(g, p, spacing=spacing) for g, p in zip(gt, pred, strict=True)]
    return {k: [r[k] for r in rows] for k in metrics.MEASURES}


def train_and_score(spec: RunSpec, data, profile: Profile | None = None, *, output=None, run_folder=None,
                    resume: bool = False, settings: dict | None = None, noise_kinds=None,
                    real: dict | None = None, command: str = "",
                    on_epoch: Callable | None = None, batch_size: int = 32, model_output=None) -> RunResult:
    """Train and score one run: the one recipe of the grid, the ``train`` command and the studies.

    1. Label noise: with ``spec.noise_beta > 0``, that share of the training
       masks is corrupted to level ``spec.noise_alpha``
       (:func:`rarunet_lib.noise.make_noisy_labels`, seed ``spec.seed``).
    2. Training: a :class:`rarunet_lib.train.Trainer` with
       :func:`train_config` (spec, profile, ``settings``), on a run folder if
       given (checked by the Trainer before anything is written there; the
       noise manifest is written there after the first epoch trained), resumed
       from it with ``resume``.
    3. **Epoch selection**: the model tested is the one of the epoch with the
       best validation Dice, the first of equals
       (:func:`rarunet_lib.train.fit_best`); the last epoch's model is scored
       on the test set too (``test_pooled_last_epoch``).
    4. Scoring: pooled measures on the test slices (distances in mm and in
       pixels), per-slice measures (pixels), pooled measures on each ``real`` set.
    5. Export, with ``model_output``: the selected epoch's model as
       ``model.keras`` with its ``model.json`` (:func:`export_run_model`),
       before the result JSON that marks the run done.

    Parameters
    ----------
    spec : RunSpec
    data : Dataset
        From :func:`rarunet_lib.data.load_dataset` (or ``dataset_from_cases``).
    profile : Profile, optional
        Training settings (:meth:`Profile.train_kwargs`) and the result's ``profile``.
    output : path, optional
        Result JSON to write (with its ``.npz`` of predictions beside it), e.g.
        ``<folder>/<run_id>.json``; nothing is written without it.
    run_folder : path, optional
        Trainer run folder (config, checkpoints, history, ``noise_manifest.json``).
    resume : bool, default False
        Continue the run in ``run_folder`` from its last checkpoint.  A finished run
        whose ``output`` exists is not scored again: its result is read back and
        nothing is written.
    settings : dict, optional
        TrainConfig fields overriding the profile's (not the spec's).
    noise_kinds : sequence of str, optional
        Noise kinds (default: :func:`make_noisy_labels`'s).
    real : dict, optional
        ``name -> (images, masks)`` of real CT slices to score the model on too.
    command : str
        The command line, for provenance.
    on_epoch : callable, optional
        ``on_epoch(trainer, record)`` after every epoch (``record``: the
        history entry), before the epoch is compared with the best so far.
    batch_size : int, default 32
        Slices per prediction pass.
    model_output : path, optional
        Folder to export the selected epoch's model to (the ``train`` command:
        its run folder; the grid exports none, so that ``results/`` holds no
        model files).

    Returns
    -------
    RunResult

    Example
    -------
    >>> from dataclasses import replace
    >>> from rarunet_lib.config import get_profile
    >>> from rarunet_lib.data import load_dataset
    >>> tiny = replace(get_profile("quick"), image_size=32, n_cases=2, slices_per_case=12, epochs=2, batch_size=4)
    >>> r = train_and_score(RunSpec("unet", 0), load_dataset("phantom", tiny), tiny)
    >>> r.selected_epoch == 1 + max(range(2), key=lambda i: r.history[i]["val_dice"]), len(r.test_per_slice["dice"])
    (True, 12)
    """
    import keras

    from . import metrics
    from .inference import predict_masks
    from .models import count_trainable
    from .noise import make_noisy_labels, save_manifest
    from .provenance import provenance
    from .train import Trainer, fit_best

    if output is not None:
        check_writable(output, name="output", file=True)
    if model_output is not None:
        check_writable(model_output, name="model_output")
    if run_folder is not None:
        check_writable(run_folder, name="run_folder")
    elif resume:
        raise ValueError("resume=True needs a run_folder to resume from")
    config = train_config(spec, profile, **(settings or {}))
    keras.backend.clear_session()
    t0 = time.perf_counter()
    masks, manifest = data["train_masks"], []
    if spec.noise_beta:
        kinds = {} if noise_kinds is None else {"kinds": tuple(noise_kinds)}
        masks, manifest = make_noisy_labels(data["train_masks"], alpha=spec.noise_alpha, beta=spec.noise_beta,
                                            seed=spec.seed, **kinds)
    noisy = [e["index"] for e in manifest]
    if resume:
        trainer = Trainer.resume(run_folder, data["train_images"], masks, noisy_indices=noisy, config=config)
        if trainer.finished and output is not None and Path(output).exists():
            # Nothing to train and nothing to rewrite: the result (and model) stay as they were written.
            return RunResult.from_json(json.loads(Path(output).read_text()))
    else:
        trainer = Trainer(config, data["train_images"], masks, output=run_folder, noisy_indices=noisy)
    hooks = []
    if run_folder is not None and manifest:
        written: list[bool] = []

        def write_manifest(trainer, record) -> None:
            # After the first epoch this process trains: the Trainer has accepted the folder by then (it
            # refuses a folder holding another run before writing there), so a refused run overwrites nothing.
            if not written:
                save_manifest(manifest, Path(run_folder) / "noise_manifest.json", alpha=spec.noise_alpha,
                              beta=spec.noise_beta, seed=spec.seed, n_masks=int(len(masks)))
                written.append(True)

        hooks.append(write_manifest)
    if on_epoch is not None:
        hooks.append(on_epoch)

    def after_epoch(trainer, record) -> None:
        for hook in hooks:
            hook(trainer, record)

    best_epoch, best_dice = fit_best(trainer, on_epoch=after_epoch if hooks else None)
    history = trainer.history
    train_s = time.perf_counter() - t0
    x_test, y_test = data["test_images"], data["test_masks"]
    pred = predict_masks(trainer.model, x_test, batch_size=batch_size)
    best_weights = trainer.model.get_weights()
    trainer.model.set_weights(trainer.last_epoch_weights)
    last_pred = predict_masks(trainer.model, x_test, batch_size=batch_size)
    trainer.model.set_weights(best_weights)
    sp = data["test_spacing"]
    predictions = {"test": pred}
    scores_real = {}
    for name, (rx, ry) in (real or {}).items():
        rp = predict_masks(trainer.model, rx, batch_size=batch_size)
        scores_real[name] = metrics.evaluate(ry, rp, aggregate="pooled")
        predictions[f"real__{name}"] = rp
    adl = None
    if spec.adl:
        # Which masks ADL left out, in the numbering of the fitted masks (the
        # training split minus validation), with every fitted mask's size, so
        # that what the loss ranking favours can be studied (report.adl_exclusion_sizes).
        fitted = trainer.train_idx
        adl = {
            "excluded": [list(e) for e in trainer.excluded],
            "noisy": [int(i) for i in (trainer.noisy if trainer.noisy is not None else [])],
            **{key: np.count_nonzero(np.asarray(m)[fitted].reshape(len(fitted), -1), axis=1).tolist()
               for key, m in (("area_clean", data["train_masks"]), ("area_trained", masks))},
            # Every mask's score after each epoch under the run's own ranking (epochs x masks, higher =
            # likelier noisy, indexed like area_clean), and what every ranking is computed from, per epoch
            # and mask (null where a mask was not seen): the training Dice loss and the statistics of the
            # training pass's probabilities. report.rescore recomputes any ranking's scores from them.
            "ranking": trainer.config.adl_ranking,
            "schedule": trainer.config.adl_schedule,
            "scores": _rounded(trainer.adl.scores[trainer.config.adl_ranking]),
            "records": {"loss": _rounded(trainer.adl.losses),
                        **{k: _rounded(v) for k, v in trainer.adl.stats.items() if k != "label_area"}},
        }
    fields_ = {
        "provenance": provenance(seed=spec.seed, command=command.split() if command else None,
                                 profile=profile.name if profile is not None else None),
        "run_id": spec.run_id,
        "spec": asdict(spec),
        "profile": profile.as_dict() if profile is not None else None,
        "params": count_trainable(trainer.model),
        "data": {"source": data["source"], "n_train": int(len(masks)), "n_test": int(len(pred)),
                 "image_size": int(x_test.shape[1]), "pixel_mm": float(sp[0]),
                 "noisy_masks": len(manifest),
                 "achieved_alpha_mean": (float(np.mean([e["achieved_alpha"] for e in manifest]))
                                         if manifest else None)},
        "history": [{k: v for k, v in e.items() if k != "excluded"} for e in history["epochs"]],
        "train_seconds": train_s,
        "selected_epoch": best_epoch,
        "selected_val_dice": best_dice,
        "test_pooled": metrics.evaluate(y_test, pred, aggregate="pooled", spacing=sp),
        "test_pooled_last_epoch": metrics.evaluate(y_test, last_pred, aggregate="pooled", spacing=sp),
        "test_pooled_pixels": metrics.evaluate(y_test, pred, aggregate="pooled"),
        "test_per_slice": _per_slice(y_test, pred, None),
        "real": scores_real,
        "adl": adl,
    }
    fields_ = json_safe(fields_)
    result = RunResult(**fields_, wall_seconds=time.perf_counter() - t0, predictions=predictions,
                       model=trainer.model)
    if model_output is not None:
        export_run_model(result, model_output)
    if output is not None:
        result.write(output)
    return result


def export_run_model(result: RunResult, folder) -> Path:
    """Export a run's model (the selected epoch's weights) with a card naming the run it comes from.

    Writes ``folder/model.keras`` and ``folder/model.json``
    (:func:`rarunet_lib.export.export_model`); the card's ``run`` holds the
    run id, spec, selected epoch and its validation Dice, the test Dice, the
    training data and the run's provenance, its ``profile`` the profile.

    Returns
    -------
    Path
        ``folder/model.keras``.
    """
    from .export import export_model

    if result.model is None:
        raise ValueError(f"result {result.run_id!r} holds no model (read from a file?); export needs a trained run")
    run = {"run_id": result.run_id, "spec": result.spec, "selected_epoch": result.selected_epoch,
           "selected_val_dice": result.selected_val_dice, "epochs_trained": len(result.history),
           "test_dice": (result.test_pooled or {}).get("dice"), "params": result.params, "data": result.data,
           "provenance": result.provenance}
    return export_model(result.model, folder, profile=result.profile, run=run)

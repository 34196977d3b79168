"""Training with Dice loss, Adam and adaptive denoising learning (ADL), from a laptop CPU to several GPUs.

:class:`Trainer` runs the loop and the compiled steps; the rest lives in modules
named for their idea: ADL's bookkeeping in :class:`rarunet_lib.adl.AdlState`,
the run folder (configuration and data checks, checkpoints, resume) in
:mod:`rarunet_lib.runfolder`, precise BatchNorm in :mod:`rarunet_lib.batchnorm`,
precision, XLA and strategy in :mod:`rarunet_lib.device`, and what defines a run,
:class:`TrainConfig`, in :mod:`rarunet_lib.train_config` (importable from here too).  What it does:

* **the paper's recipe**: soft Dice loss, Adam, the profile's image size, batch,
  learning rate and epochs, +-90 degree rotations, 10 % of the training slices
  held out for validation;
* **per-sample losses from the training pass itself**: the custom training step
  returns every image's Dice loss with its index, so ADL needs no second pass
  over the data;
* **ADL** (Eq. 5): each epoch t, the ``N(t)`` samples ranked likeliest noisy
  (O2U-Net's normalised cumulative loss by default) sit out, re-chosen every
  epoch; with a noise manifest, the detection precision, recall and F1 of each
  epoch are part of the history.  Epoch 1 has no losses yet: by default it
  trains on every sample (``adl_first_epoch="train_all"``); the alternative
  ``"scoring_pass"`` ranks by one forward pass of the initial model first;
* **GPU path**: mixed precision (bfloat16 where the GPU supports it; float32
  output and loss), XLA, several steps per ``tf.function`` call
  (``steps_per_execution``), a prefetching tf.data input;
* **scale-out** with ``tf.distribute`` (MirroredStrategy on one machine,
  MultiWorkerMirroredStrategy across machines) and the same code;
* **checkpoints** every epoch, written atomically, with every model variable
  (BatchNorm statistics included), the optimizer state, the ADL history and the
  best validation epoch: :meth:`Trainer.resume` continues a killed run and ends
  with the same weights, history and selected epoch as an uninterrupted one
  (on CPU, same seed); a folder refuses another configuration or other data;
* history as JSON, progress bars, optional TensorBoard logs.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import adl as adl_lib
from .batchnorm import BatchNormPass, recalibrate_batchnorm
from .device import dtype_policy, resolve_device
from .runfolder import (
    PRESENTATION_FIELDS,
    RunFolder,
    config_differences,
    fingerprint,
    restore_training,
    training_arrays,
)
from .train_config import _LEGACY_FIELDS, TrainConfig, config_json

__all__ = ["TrainConfig", "Trainer", "fit_best"]


def _folder_config(folder: RunFolder) -> dict | None:
    """The folder's configuration, completed with what fields it predates meant for that run."""
    saved = folder.read_config()
    if saved is None:
        return None
    return {**config_json(TrainConfig()), **_LEGACY_FIELDS, **saved}


def _check_data(images, masks) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(images, dtype=np.float32), np.asarray(masks)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C), got {np.shape(images)}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"images and masks must be as many: {x.shape[0]} images, {y.shape[0]} masks")
    if y.shape[1:3] != x.shape[1:3]:
        raise ValueError(f"masks must have the images' height and width {x.shape[1:3]}, got {y.shape[1:3]}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("masks must hold only 0 and 1")
    if not np.isfinite(x).all():
        raise ValueError("images hold NaN or infinite values")
    return x, y.astype(np.uint8)


class Trainer:
    """Train one model on one dataset, with optional ADL, checkpoints, resume and best-epoch selection.

    Parameters
    ----------
    config : TrainConfig
    images : array (N, H, W) or (N, H, W, C), float32 in [0, 1]
        Training slices (the validation share is split off inside).
    masks : array (N, H, W), {0, 1}
        Their (possibly noisy) masks.
    output : str or Path, optional
        Run folder (:mod:`rarunet_lib.runfolder`), checked here, written from
        :meth:`fit` on; without it nothing is written and there is no resume.
    noisy_indices : array of int, optional
        Indices (into ``images``) of the truly noisy masks (noise manifest):
        ADL's detection precision/recall/F1 enter the history.

    Raises
    ------
    ValueError
        For a bad configuration or data, a batch larger than the training
        data, or an output folder of another run (naming what differs).

    Example
    -------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((20, 32, 32), dtype=np.float32)
    >>> cfg = TrainConfig(model="unet", epochs=1, batch_size=4, learning_rate=1e-3, progress=False)
    >>> history = Trainer(cfg, x, (x > 0.7).astype(np.uint8)).fit()
    >>> len(history["epochs"])
    1
    """

    #: The history entry that selects the best epoch (the first of equals).
    best_key = "val_dice"

    def __init__(self, config: TrainConfig, images, masks, *, output=None, noisy_indices=None):
        config.validate()
        self.config = config
        x, y = _check_data(images, masks)
        self.train_idx, self.val_idx = _split(len(x), config)
        if config.batch_size > self.train_idx.size:
            raise ValueError(f"batch_size={config.batch_size} is larger than the {self.train_idx.size} "
                             "training samples")
        self.n_train = int(self.train_idx.size)
        noisy = None  # in training-sample numbering
        if noisy_indices is not None:
            pos = {int(j): i for i, j in enumerate(self.train_idx)}
            noisy = np.array(sorted(pos[int(j)] for j in noisy_indices if int(j) in pos), dtype=int)
        self.adl = adl_lib.AdlState(self.n_train, config.epochs, enabled=config.adl, alpha=config.noise_alpha,
                                    beta=config.noise_beta, ranking=config.adl_ranking,
                                    first_epoch=config.adl_first_epoch, seed=config.seed,
                                    keep=config.batch_size, noisy=noisy, schedule=config.adl_schedule,
                                    forget_epochs=config.adl_forget_epochs,
                                    areas=(y[self.train_idx].reshape(self.n_train, -1).sum(axis=1)
                                           if config.adl else None))
        self.output = Path(output) if output is not None else None
        self.folder = RunFolder(output) if output is not None else None
        self._fingerprint = fingerprint(x, y, noisy_indices)
        if self.folder is not None:  # read-only: refuse another run's folder before anything is written
            self.folder.check(config_json(config), self._fingerprint, folder_config=_folder_config(self.folder))
        self.x, self.y = x, y.astype(np.float32)
        self.history: dict = {"config": asdict(config), "epochs": []}
        self.epoch = 0  # epochs completed
        self.best_epoch, self.best_value = 0, float("nan")
        self._best_weights = None  # a copy, once the model has moved on from the best epoch
        self.last_epoch_weights = None
        self._built, self._bn_pass = False, None

    # ADL's state, under the names the recipe and the tests read
    losses = property(lambda self: self.adl.losses, doc="Per-sample training losses, (epochs, n_train).")
    excluded = property(lambda self: self.adl.excluded, doc="Training-sample ids that sat out, per epoch.")
    schedule = property(lambda self: self.adl.schedule, doc="Planned exclusions per epoch (Eq. 5).")
    noisy = property(lambda self: self.adl.noisy, doc="Truly noisy training-sample ids, or None.")

    @property
    def finished(self) -> bool:
        """True once every epoch of the configuration is trained (:meth:`fit` then does nothing)."""
        return self.epoch >= self.config.epochs

    def _setup(self):
        if self._built:
            return
        import keras
        import tensorflow as tf

        from .models import build, set_batchnorm_momentum

        cfg = self.config
        self.device = resolve_device(cfg.mixed_precision, cfg.jit_compile, cfg.strategy)
        self.precision, self.jit, self.strategy = self.device.precision, self.device.jit, self.device.strategy
        keras.utils.set_random_seed(cfg.seed)
        with dtype_policy(self.device.policy), self.strategy.scope():  # no global policy left behind
            self.model = build(cfg.model, self.x.shape[1:], **cfg.model_kwargs)
            set_batchnorm_momentum(self.model, cfg.bn_momentum)
            rate = cfg.learning_rate
            if cfg.lr_schedule == "cosine":
                steps = cfg.epochs * -(-self.n_train // cfg.batch_size)
                rate = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=steps, alpha=0.01)
            self.optimizer = keras.optimizers.Adam(rate)
            self.optimizer.build(self.model.trainable_variables)
        # The forget rate (co-teaching) scores every mask every epoch and gives the excluded ones weight 0;
        # Eq. 5's exclusions sit the epoch out, as the paper removes them.
        self._masks_loss = cfg.adl and cfg.adl_schedule == "forget_rate"
        self._loss_weights = None
        if self._masks_loss:
            with self.strategy.scope():
                self._loss_weights = tf.Variable(tf.ones([self.n_train]), trainable=False, name="adl_loss_weights")
        self._train_steps, self._eval = _compile_steps(self.model, self.optimizer, self.strategy, cfg, self.jit,
                                                       maps=self.adl.wants_maps, loss_weights=self._loss_weights)
        self._tf = tf
        self._built = True

    def fit(self, *, max_epochs: int | None = None, on_epoch: Callable | None = None) -> dict:
        """Train the remaining epochs (at most ``max_epochs`` of them); returns the history dict.

        ``max_epochs`` stops early, as a killed run would; :meth:`resume`
        continues from the last checkpoint.  A finished run trains and writes nothing.
        ``on_epoch(trainer, record)`` is called after each epoch, once its checkpoint is written.
        """
        self._setup()
        cfg = self.config
        last = cfg.epochs if max_epochs is None else min(cfg.epochs, self.epoch + int(max_epochs))
        if last <= self.epoch:
            return self.history
        if self.folder is not None:
            self.folder.start(config_json(cfg), self._fingerprint)
        writer = (self._tf.summary.create_file_writer(str(self.output / "tensorboard"))
                  if cfg.tensorboard and self.output is not None else None)
        for t in range(self.epoch + 1, last + 1):
            t0 = time.perf_counter()
            if self.best_epoch == self.epoch > 0 and self._best_weights is None:
                self._best_weights = self.model.get_weights()  # the best epoch's, before they change
            excluded = self.adl.choose(t, self._scoring_pass)
            if self._masks_loss:  # every mask is forward-passed and scored; the excluded weigh 0 in the loss
                keep = np.arange(self.n_train)
                weights = np.ones(self.n_train, np.float32)
                weights[excluded] = 0.0
                self._loss_weights.assign(weights)
            else:  # the excluded masks sit the epoch out
                keep = np.setdiff1d(np.arange(self.n_train), excluded)
            steps = keep.size // cfg.batch_size
            self._train_epoch(t, keep, steps)
            if cfg.bn_recalibration:
                self.recalibrate_batchnorm(keep, epoch=t)
            seen = ~np.isnan(self.adl.losses[t - 1])
            seen[excluded] = False
            record = {"epoch": t, "loss": self.adl.epoch_loss(t), **self.adl.finish_epoch(t, excluded),
                      "n_trained": int(seen.sum()), "seconds": 0.0,
                      **self._validate(), **self.adl.detection(excluded)}
            record["seconds"] = time.perf_counter() - t0
            self.history["epochs"].append(record)
            self.epoch = t
            value = record.get(self.best_key, float("nan"))
            if self.val_idx.size and (self.best_epoch == 0 or value > self.best_value):
                self.best_epoch, self.best_value, self._best_weights = t, value, None
            if writer is not None:
                _log_scalars(writer, record, t)
            if self.folder is not None:
                self._save_checkpoint()
            if on_epoch is not None:
                on_epoch(self, record)
        return self.history

    def _train_epoch(self, t: int, keep: np.ndarray, steps: int) -> None:
        cfg = self.config
        iterator = iter(_dataset(self, keep, epoch=t, training=True))
        bar = _progress(steps, f"epoch {t}/{cfg.epochs}") if cfg.progress else None
        done = 0
        while done < steps:
            n = min(cfg.steps_per_execution, steps - done)
            out = self._train_steps(iterator, self._tf.constant(n))
            per, idx = out[0].numpy(), out[1].numpy()
            if not np.all(np.isfinite(per)):
                raise FloatingPointError(f"the training loss became NaN or infinite in epoch {t}; "
                                         "lower the learning rate or check the data")
            self.adl.record(t, idx, per)
            if self.adl.wants_maps:  # the labels and probabilities of the same forward pass
                self.adl.record_maps(t, idx, out[2].numpy()[..., 0], out[3].numpy()[..., 0])
            done += n
            if bar is not None:
                bar.update(n)
        if bar is not None:
            bar.close()

    def best_weights(self) -> list:
        """The model weights (every variable) of the best validation epoch so far."""
        if self.best_epoch == 0:
            raise ValueError("no epoch with a validation score yet")
        return self.model.get_weights() if self._best_weights is None else self._best_weights

    def recalibrate_batchnorm(self, sample_ids=None, *, epoch: int = 0) -> int:
        """Precise BN (:func:`rarunet_lib.batchnorm.recalibrate_batchnorm`) over training batches.

        Training-sample ids ``sample_ids`` (default all), batched, shuffled and
        rotated as in epoch ``epoch``; returns the number of batches averaged.

        Example
        -------
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((16, 32, 32), dtype=np.float32)
        >>> t = Trainer(TrainConfig(model="unet", epochs=1, batch_size=4, progress=False), x, (x > 0.7).astype("uint8"))
        >>> t.recalibrate_batchnorm()
        3
        """
        from .data.pipeline import make_dataset

        self._setup()
        ids = _training_ids(sample_ids, self.n_train)
        if self._bn_pass is None:
            self._bn_pass = BatchNormPass(self.model)
        g, cfg = self.train_idx[ids], self.config
        ds = make_dataset(self.x[g], self.y[g], batch_size=min(cfg.batch_size, ids.size), shuffle=True,
                          augment=cfg.augment, seed=cfg.seed * 1000 + epoch, drop_remainder=True)
        return recalibrate_batchnorm(self.model, ds, bn_pass=self._bn_pass)

    def _scoring_pass(self) -> np.ndarray:
        """One forward pass of the current model over the training set: per-sample Dice losses."""
        return _evaluate(self, self.train_idx)[0].astype(float)

    def _validate(self) -> dict:
        if self.val_idx.size == 0:
            return {}
        losses, tp, npred, ngt = _evaluate(self, self.val_idx)
        dice = 2 * tp / (npred + ngt) if npred + ngt > 0 else 1.0
        return {"val_loss": float(losses.mean()), "val_dice": float(dice)}

    def _save_checkpoint(self):
        best = self._best_weights if self.best_epoch not in (0, self.epoch) else None
        noisy = self.noisy if self.noisy is not None else np.zeros(0, dtype=int)
        self.folder.save_checkpoint(
            self.epoch, variables=training_arrays(self.model.weights, self.optimizer.variables, best),
            adl=self.adl.to_arrays(), history=self.history,
            state={"best_epoch": self.best_epoch, "best_value": self.best_value, "best_key": self.best_key},
            sample_losses={"losses": self.losses[: self.epoch], "train_idx": self.train_idx, "noisy": noisy})

    def _restore(self, ck) -> None:
        self.adl.from_arrays(ck.adl)
        self.epoch, self.history = ck.epoch, ck.history
        if ck.legacy_prefix is not None:
            return _restore_legacy(self, ck)
        self._best_weights = restore_training(ck, self.model.weights, self.optimizer.variables)
        self.best_epoch = int(ck.state.get("best_epoch", 0))
        self.best_value = float("nan") if ck.state.get("best_value") is None else float(ck.state["best_value"])

    @classmethod
    def resume(cls, output, images, masks, *, noisy_indices=None, config: TrainConfig | None = None) -> Trainer:
        """Rebuild a trainer from its run folder at its last checkpoint; :meth:`fit` trains the rest.

        Images, masks and noisy indices must be the run's (checked against the
        folder's fingerprint); ``config``, if given, must equal the folder's.
        Raises FileNotFoundError without ``config.json``, ValueError naming what
        differs or which checkpoint file is corrupt.
        """
        folder = RunFolder(output)
        saved = _folder_config(folder)
        if saved is None:
            raise FileNotFoundError(f"output={str(output)!r} holds no run (no config.json)")
        if config is not None:
            diffs = config_differences(saved, config_json(config))
            if diffs:
                raise ValueError(f"config differs from the run in {str(output)!r}: {'; '.join(diffs)}")
        shown = {k: getattr(config, k) for k in PRESENTATION_FIELDS} if config is not None else {}
        trainer = cls(TrainConfig(**{**saved, **shown}), images, masks, output=output,
                      noisy_indices=noisy_indices)
        ck = folder.load_checkpoint()
        trainer._setup()
        if ck is not None:
            trainer._restore(ck)
        return trainer


def _training_ids(sample_ids, n_train: int) -> np.ndarray:
    """Training-sample ids (all of them by default), refused unless each is in 0..n_train - 1."""
    ids = np.arange(n_train) if sample_ids is None else np.asarray(sample_ids, dtype=int)
    if ids.size == 0:
        raise ValueError("sample_ids must name at least one training sample")
    if ids.min() < 0 or ids.max() >= n_train:
        raise ValueError(f"sample_ids must be training-sample ids from 0 to {n_train - 1}, "
                         f"got values from {ids.min()} to {ids.max()}")
    return ids


def _progress(total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


def _log_scalars(writer, record: dict, t: int) -> None:
    import tensorflow as tf

    with writer.as_default():
        for k, v in record.items():
            if isinstance(v, (int, float)) and np.isfinite(v):
                tf.summary.scalar(k, v, step=t)


def _split(n: int, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    if config.validation_fraction == 0:
        return np.arange(n), np.arange(0)
    from .data.preprocess import validation_split

    return validation_split(n, config.validation_fraction, seed=config.seed)


def _evaluate(trainer: Trainer, index: np.ndarray) -> tuple[np.ndarray, int, int, int]:
    """Per-sample Dice losses over ``index`` (inference mode), and hard-mask TP, predicted, true pixels."""
    tf, bs = trainer._tf, trainer.config.batch_size
    losses, tp, npred, ngt = [], 0, 0, 0
    for s in range(0, index.size, bs):
        ids = index[s:s + bs]
        y = trainer.y[ids][..., None]
        per, hard = trainer._eval(tf.constant(trainer.x[ids]), tf.constant(y))
        hard, truth = hard.numpy() > 0.5, y > 0.5
        losses.append(per.numpy())
        tp, npred, ngt = tp + int((hard & truth).sum()), npred + int(hard.sum()), ngt + int(truth.sum())
    return np.concatenate(losses), tp, npred, ngt  # float32, as the model computed them


def _restore_legacy(trainer: Trainer, ck) -> None:
    """A checkpoint of the previous format (``tf.train.Checkpoint``), with a warning of what it lacks."""
    warnings.warn(f"{ck.folder} is a checkpoint from before every variable was saved: nested "
                  "BatchNorm statistics keep their initial values, and epochs before it cannot be "
                  "selected as best", stacklevel=4)
    trainer._tf.train.Checkpoint(model=trainer.model, optimizer=trainer.optimizer).read(
        ck.legacy_prefix).assert_consumed()
    value = trainer.history["epochs"][-1].get(trainer.best_key) if trainer.val_idx.size else None
    trainer.best_epoch, trainer.best_value = (ck.epoch, value) if value is not None else (0, float("nan"))


def _compile_steps(model, optimizer, strategy, cfg: TrainConfig, jit: bool, maps: bool = False,
                   loss_weights=None):
    """The compiled training steps (several per call, per-sample losses gathered) and evaluation step.

    ``maps``: the training steps also return the (rotated) labels and the
    probabilities of their forward pass, for the rankings that need them.
    ``loss_weights``: a variable of one weight per training sample (0 or 1),
    looked up by sample id, that multiplies each sample's part of the loss.
    """
    import tensorflow as tf

    from .losses import soft_dice_per_sample

    global_batch = cfg.batch_size
    batch_dice = cfg.dice_over == "batch"
    replicas = strategy.num_replicas_in_sync

    def step_fn(x, y, w):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            per_sample = 1.0 - soft_dice_per_sample(y, pred)  # float32
            yl, pl = y, pred
            if w is not None:  # samples of weight 0 drop out of the loss, pixels and all
                yl, pl = y * w[:, None, None, None], tf.cast(pred, tf.float32) * w[:, None, None, None]
            if batch_dice:  # one Dice over this replica's batch; replicas' gradients are summed
                loss = (1.0 - soft_dice_per_sample(tf.reshape(yl, [1, -1]), tf.reshape(pl, [1, -1]))[0]) / replicas
            else:
                loss = tf.reduce_sum(per_sample if w is None else per_sample * w) / global_batch
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        if maps:  # float16 labels: exact for 0/1, and strategy.gather refuses uint8
            return per_sample, tf.cast(y, tf.float16), tf.cast(pred, tf.float32)
        return per_sample

    def eval_fn(x, y):
        pred = model(x, training=False)
        return 1.0 - soft_dice_per_sample(y, pred), tf.cast(pred > 0.5, tf.float32)

    step_c = tf.function(step_fn, jit_compile=jit)
    eval_c = tf.function(eval_fn, jit_compile=jit)

    @tf.function
    def train_steps(iterator, n_steps):
        losses = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False)
        indices = tf.TensorArray(tf.int32, size=0, dynamic_size=True, infer_shape=False)
        labels = tf.TensorArray(tf.float16, size=0, dynamic_size=True, infer_shape=False)
        probs = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False)
        for i in tf.range(n_steps):
            (x, idx), y = next(iterator)
            w = None if loss_weights is None else strategy.run(lambda i: tf.gather(loss_weights, i), args=(idx,))
            out = strategy.run(step_c, args=(x, y, w))
            per = out[0] if maps else out
            losses = losses.write(i, tf.reshape(strategy.gather(per, axis=0), [-1]))
            indices = indices.write(i, tf.reshape(strategy.gather(idx, axis=0), [-1]))
            if maps:
                labels = labels.write(i, strategy.gather(out[1], axis=0))
                probs = probs.write(i, strategy.gather(out[2], axis=0))
        if maps:
            return losses.concat(), indices.concat(), labels.concat(), probs.concat()
        return losses.concat(), indices.concat()

    return train_steps, eval_c


def _dataset(trainer: Trainer, sample_ids, *, epoch: int, training: bool):
    from .data.pipeline import make_dataset

    cfg = trainer.config
    ids = np.asarray(sample_ids)
    global_idx = trainer.train_idx[ids] if training else trainer.val_idx[ids]
    # Training batches all have the same shape (drop_remainder): a new shape means a new
    # XLA compilation or new oneDNN kernels, and ADL changes the epoch size every epoch.
    # The < batch_size samples left over sit this epoch out (their loss is NaN, like an exclusion).
    ds = make_dataset(trainer.x[global_idx], trainer.y[global_idx], batch_size=min(cfg.batch_size, len(ids)),
                      shuffle=training, augment=training and cfg.augment,
                      seed=cfg.seed * 1000 + epoch, drop_remainder=training, with_index=True)
    if training:  # map positions within the epoch's subset back to training-sample ids
        import tensorflow as tf

        lookup = tf.constant(ids, dtype=tf.int32)
        ds = ds.map(lambda inp, m: ((inp[0], tf.gather(lookup, inp[1])), m))
    return trainer.strategy.experimental_distribute_dataset(ds)


def fit_best(trainer: Trainer, *, key: str = "val_dice", on_epoch: Callable | None = None) -> tuple[int, float]:
    """Train the remaining epochs and leave the model with the weights of the best validation epoch.

    Model selection on the held-out 10 %: short runs (the CPU profiles) swing
    from epoch to epoch in inference mode, so the last epoch is a lottery.  The
    trainer tracks the epoch with the highest ``val_dice`` (the first of
    equals) and its checkpoints keep that epoch's weights, so a resumed run
    selects the same epoch as an uninterrupted one.  The model is left with
    the best epoch's weights; the history still holds every epoch, and
    ``trainer.last_epoch_weights`` the weights of the last epoch.

    Parameters
    ----------
    trainer : Trainer
        With a validation split (``validation_fraction > 0``).
    key : str, default "val_dice"
        History entry to maximise (only ``Trainer.best_key``, "val_dice", is tracked).
    on_epoch : callable, optional
        ``on_epoch(trainer, record)`` after each epoch (:meth:`Trainer.fit`).

    Returns
    -------
    (int, float)
        The selected epoch (1-based) and its ``key`` value.

    Example
    -------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((24, 32, 32), dtype=np.float32)
    >>> cfg = TrainConfig(model="unet", epochs=2, batch_size=4, learning_rate=1e-3, progress=False)
    >>> epoch, value = fit_best(Trainer(cfg, x, (x > 0.7).astype(np.uint8)))
    >>> epoch in (1, 2)
    True
    """
    if key != trainer.best_key:
        raise ValueError(f"key={key!r} is not tracked; the trainer selects by {trainer.best_key!r}")
    if trainer.val_idx.size == 0:
        raise ValueError("fit_best needs a validation split (validation_fraction > 0)")
    trainer.fit(on_epoch=on_epoch)
    trainer.last_epoch_weights = trainer.model.get_weights()
    trainer.model.set_weights(trainer.best_weights())
    return trainer.best_epoch, float(trainer.best_value)

"""Training with Dice loss, Adam and adaptive denoising learning (ADL), from a laptop CPU to several GPUs.

One :class:`Trainer` does it all:

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
* **checkpoints** every epoch, written atomically, with the optimizer state and
  the ADL history: :meth:`Trainer.resume` continues a killed run and ends with
  the same weights and history as an uninterrupted one (on CPU, same seed);
* history as JSON, progress bars, optional TensorBoard logs.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import adl as adl_lib
from .fileio import atomic_write_json

__all__ = ["TrainConfig", "Trainer", "train", "fit_best"]

_FIRST_EPOCH = ("train_all", "scoring_pass")
_STRATEGIES = ("default", "mirrored", "multiworker")
_LR_SCHEDULES = ("constant", "cosine")
_DICE_OVER = ("image", "batch")
#: Fields whose default changed after run folders were written without them: the value those runs used.
_LEGACY_FIELDS = {"dice_over": "image"}


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved with every checkpoint).

    Attributes
    ----------
    model : str
        A name from :func:`rarunet_lib.models.available_models`.
    epochs, batch_size : int
        Paper: 50 epochs, batch 8.
    learning_rate : float
        Adam learning rate (paper: 1e-5).
    lr_schedule : {"constant", "cosine"}
        "constant" (the paper); "cosine" decays the rate to 1 % of
        ``learning_rate`` over ``epochs`` full epochs (steps counted by the
        optimizer, so a resumed run continues the curve): short runs at a high
        rate then end on small steps instead of swinging from epoch to epoch.
    seed : int
        Seeds the weights, the validation split, the order and the rotations.
    validation_fraction : float
        Share of the training slices held out (paper: 0.1).
    augment : bool
        Random +-90 degree rotations.
    adl : bool
        Adaptive denoising learning.
    noise_alpha, noise_beta : float or None
        The noise level and proportion Eq. 5 needs (required with ``adl``).
    adl_ranking : {"normalised_cumulative", "last_epoch", "random"}
        How ADL ranks masks as likely noisy; ``"random"`` is a control that
        leaves out as many masks per epoch as Eq. 5 says, chosen at random
        (seeded by ``seed`` and the epoch), blind to the losses.
    adl_first_epoch : {"train_all", "scoring_pass"}
    mixed_precision : {"auto", "off", "bfloat16", "float16"}
        "auto": bfloat16 on a GPU of compute capability 8.0 or newer, else off.
    jit_compile : {"auto", True, False}
        "auto": XLA on a GPU only (on CPU it is slower).
    steps_per_execution : int
        Training steps per ``tf.function`` call (16-64 on a GPU).
    strategy : {"default", "mirrored", "multiworker"}
    tensorboard : bool
        Write TensorBoard scalars under ``output/tensorboard``.
    bn_momentum : float
        BatchNormalization momentum (Keras default 0.99; 0.9 for short runs, see
        :func:`rarunet_lib.models.set_batchnorm_momentum`).
    dice_over : {"image", "batch"}
        What the training gradient's soft Dice is computed over.  "batch" (the
        default): one Dice over all pixels of the batch, the usual Keras recipe
        and our reading of the paper's "loss based on the Dice coefficient".
        "image": the mean of per-image Dice losses (what this library did before;
        the ``cpu`` profile's committed runs).  Either way the per-image
        losses ADL ranks are recorded from the same forward pass.  A per-image
        soft Dice barely penalises a prediction that marks a whole slice whose
        mask is empty or tiny (its loss is already close to 1 and its gradient
        close to 0); the batch Dice keeps counting those pixels.
    bn_recalibration : bool
        After every epoch, before validation, replace the BatchNormalization
        moving statistics by their average over that epoch's training batches
        (:meth:`Trainer.recalibrate_batchnorm`, "precise BN").  Off by default
        (the paper); it costs one forward pass over the training set per epoch
        and removes the epoch-to-epoch swing that stale moving averages cause in
        short, high-learning-rate runs.
    progress : bool
        Show a progress bar per epoch.
    """

    model: str = "rar_unet"
    epochs: int = 50
    batch_size: int = 8
    learning_rate: float = 1e-5
    lr_schedule: str = "constant"
    seed: int = 0
    validation_fraction: float = 0.1
    augment: bool = True
    adl: bool = False
    noise_alpha: float | None = None
    noise_beta: float | None = None
    adl_ranking: str = "normalised_cumulative"
    adl_first_epoch: str = "train_all"
    mixed_precision: str = "auto"
    jit_compile: object = "auto"
    steps_per_execution: int = 1
    strategy: str = "default"
    tensorboard: bool = False
    progress: bool = True
    bn_momentum: float = 0.99
    dice_over: str = "batch"
    bn_recalibration: bool = False
    model_kwargs: dict = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        from .models import available_models

        if self.model not in available_models():
            raise ValueError(f"model={self.model!r} is not a known model; valid names: "
                             f"{', '.join(available_models())}")
        for name in ("epochs", "batch_size", "steps_per_execution"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if self.lr_schedule not in _LR_SCHEDULES:
            raise ValueError(f"lr_schedule={self.lr_schedule!r} is not allowed; use one of {_LR_SCHEDULES}")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        if self.adl:
            if self.noise_alpha is None or self.noise_beta is None:
                raise ValueError("adl=True needs noise_alpha and noise_beta (Eq. 5 uses both)")
            adl_lib.removal_schedule(self.noise_alpha, self.noise_beta, self.epochs, 1)  # range checks
        if self.adl_ranking not in adl_lib.RANKINGS:
            raise ValueError(f"adl_ranking={self.adl_ranking!r} is not allowed; use one of {adl_lib.RANKINGS}")
        if self.adl_first_epoch not in _FIRST_EPOCH:
            raise ValueError(f"adl_first_epoch={self.adl_first_epoch!r} is not allowed; use one of {_FIRST_EPOCH}")
        if self.mixed_precision not in ("auto", "off", "bfloat16", "float16"):
            raise ValueError(f"mixed_precision={self.mixed_precision!r} is not allowed; "
                             "use 'auto', 'off', 'bfloat16' or 'float16'")
        if self.jit_compile not in ("auto", True, False):
            raise ValueError(f"jit_compile must be 'auto', True or False, got {self.jit_compile!r}")
        if not 0.0 <= self.bn_momentum < 1.0:
            raise ValueError(f"bn_momentum must be in [0, 1), got {self.bn_momentum!r}")
        if self.strategy not in _STRATEGIES:
            raise ValueError(f"strategy={self.strategy!r} is not allowed; use one of {_STRATEGIES}")
        if self.dice_over not in _DICE_OVER:
            raise ValueError(f"dice_over={self.dice_over!r} is not allowed; use one of {_DICE_OVER}")
        if not isinstance(self.bn_recalibration, bool):
            raise ValueError(f"bn_recalibration must be True or False, got {self.bn_recalibration!r}")
        if self.bn_recalibration and self.strategy != "default":
            raise ValueError(f"bn_recalibration=True works with strategy='default' only, got {self.strategy!r}")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)


class Trainer:
    """Train one model on one dataset, with optional ADL, checkpoints and resume.

    Parameters
    ----------
    config : TrainConfig
    images : array (N, H, W) or (N, H, W, C), float32 in [0, 1]
        Training slices (the validation share is split off inside).
    masks : array (N, H, W), {0, 1}
        Their (possibly noisy) masks.
    output : str or Path, optional
        Run folder for checkpoints, ``history.json``, ``sample_losses.npz``
        and TensorBoard logs.  Without it nothing is written and there is no
        resume.
    noisy_indices : array of int, optional
        Indices (into ``images``) of the truly noisy masks, from the noise
        manifest: enables ADL's detection precision/recall/F1 in the history.

    Raises
    ------
    ValueError
        For a bad configuration, mismatched images and masks, a batch larger
        than the training data, or an output folder that holds another run.

    Example
    -------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((20, 32, 32), dtype=np.float32)
    >>> y = (x > 0.7).astype(np.uint8)
    >>> cfg = TrainConfig(model="unet", epochs=1, batch_size=4, learning_rate=1e-3, progress=False)
    >>> history = Trainer(cfg, x, y).fit()
    >>> len(history["epochs"])
    1
    """

    def __init__(self, config: TrainConfig, images, masks, *, output=None, noisy_indices=None):
        config.validate()
        self.config = config
        x = np.asarray(images, dtype=np.float32)
        y = np.asarray(masks)
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
        n = x.shape[0]
        if config.validation_fraction > 0:
            from .data.preprocess import validation_split

            self.train_idx, self.val_idx = validation_split(n, config.validation_fraction, seed=config.seed)
        else:
            self.train_idx, self.val_idx = np.arange(n), np.arange(0)
        if config.batch_size > self.train_idx.size:
            raise ValueError(f"batch_size={config.batch_size} is larger than the {self.train_idx.size} "
                             "training samples")
        self.x, self.y = x, y.astype(np.float32)
        self.n_train = int(self.train_idx.size)
        # noisy set in training-sample numbering
        self.noisy = None
        if noisy_indices is not None:
            pos = {int(j): i for i, j in enumerate(self.train_idx)}
            self.noisy = np.array(sorted(pos[int(j)] for j in noisy_indices if int(j) in pos), dtype=int)
        self.output = Path(output) if output is not None else None
        self.schedule = (adl_lib.removal_schedule(config.noise_alpha, config.noise_beta, config.epochs,
                                                  self.n_train)
                         if config.adl else np.zeros(config.epochs, dtype=np.int64))
        self.losses = np.full((config.epochs, self.n_train), np.nan)  # per-sample training losses
        self.excluded: list[list[int]] = []
        self.history: dict = {"config": asdict(config), "epochs": []}
        self.epoch = 0  # epochs completed
        self._built = False
        self._bn_pass = None  # compiled precise-BN pass, built on first use

    # ------------------------------------------------------------------ setup
    def _setup(self):
        if self._built:
            return
        import keras
        import tensorflow as tf

        from .losses import soft_dice_per_sample
        from .models import build, set_batchnorm_momentum

        cfg = self.config
        gpus = tf.config.list_physical_devices("GPU")
        policy = cfg.mixed_precision
        if policy == "auto":
            policy = "off"
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                if details.get("compute_capability", (0, 0)) >= (8, 0):
                    policy = "bfloat16"
        keras.mixed_precision.set_global_policy("float32" if policy == "off" else f"mixed_{policy}")
        self.precision = policy
        if cfg.strategy == "mirrored":
            self.strategy = tf.distribute.MirroredStrategy()
        elif cfg.strategy == "multiworker":
            self.strategy = tf.distribute.MultiWorkerMirroredStrategy()
        else:
            self.strategy = tf.distribute.get_strategy()
        jit = cfg.jit_compile
        self.jit = bool(gpus) if jit == "auto" else bool(jit)
        keras.utils.set_random_seed(cfg.seed)
        shape = self.x.shape[1:]
        with self.strategy.scope():
            self.model = build(cfg.model, shape, **cfg.model_kwargs)
            set_batchnorm_momentum(self.model, cfg.bn_momentum)
            rate = cfg.learning_rate
            if cfg.lr_schedule == "cosine":
                steps = cfg.epochs * -(-self.n_train // cfg.batch_size)
                rate = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=steps, alpha=0.01)
            self.optimizer = keras.optimizers.Adam(rate)
            self.optimizer.build(self.model.trainable_variables)
        global_batch = cfg.batch_size
        model, optimizer = self.model, self.optimizer
        batch_dice = cfg.dice_over == "batch"
        replicas = self.strategy.num_replicas_in_sync

        def step_fn(x, y):
            with tf.GradientTape() as tape:
                pred = model(x, training=True)
                per_sample = 1.0 - soft_dice_per_sample(y, pred)  # float32
                if batch_dice:  # one Dice over this replica's batch; replicas' gradients are summed
                    loss = (1.0 - soft_dice_per_sample(tf.reshape(y, [1, -1]), tf.reshape(pred, [1, -1]))[0]) / replicas
                else:
                    loss = tf.reduce_sum(per_sample) / global_batch
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return per_sample

        def eval_fn(x, y):
            pred = model(x, training=False)
            return 1.0 - soft_dice_per_sample(y, pred), tf.cast(pred > 0.5, tf.float32)

        step_c = tf.function(step_fn, jit_compile=self.jit)
        eval_c = tf.function(eval_fn, jit_compile=self.jit)
        strategy = self.strategy

        @tf.function
        def train_steps(iterator, n_steps):
            losses = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False)
            indices = tf.TensorArray(tf.int32, size=0, dynamic_size=True, infer_shape=False)
            for i in tf.range(n_steps):
                (x, idx), y = next(iterator)
                per = strategy.run(step_c, args=(x, y))
                losses = losses.write(i, tf.reshape(strategy.gather(per, axis=0), [-1]))
                indices = indices.write(i, tf.reshape(strategy.gather(idx, axis=0), [-1]))
            return losses.concat(), indices.concat()

        self._train_steps, self._eval = train_steps, eval_c
        self._tf = tf
        self._built = True

    def _dataset(self, sample_ids, *, epoch: int, training: bool):
        from .data.pipeline import make_dataset

        cfg = self.config
        ids = np.asarray(sample_ids)
        global_idx = self.train_idx[ids] if training else self.val_idx[ids]
        # Training batches all have the same shape (drop_remainder): a new shape means a new
        # XLA compilation or new oneDNN kernels, and ADL changes the epoch size every epoch.
        # The < batch_size samples left over sit this epoch out (their loss is NaN, like an exclusion).
        ds = make_dataset(self.x[global_idx], self.y[global_idx], batch_size=min(cfg.batch_size, len(ids)),
                          shuffle=training, augment=training and cfg.augment,
                          seed=cfg.seed * 1000 + epoch, drop_remainder=training, with_index=True)
        if training:  # map positions within the epoch's subset back to training-sample ids
            tf = self._tf
            lookup = tf.constant(ids, dtype=tf.int32)
            ds = ds.map(lambda inp, m: ((inp[0], tf.gather(lookup, inp[1])), m))
        return self.strategy.experimental_distribute_dataset(ds)

    # ------------------------------------------------------------------ ADL
    def _choose_excluded(self, t: int) -> np.ndarray:
        """Training-sample ids that sit out of 1-based epoch ``t``."""
        cfg = self.config
        n_out = int(self.schedule[t - 1]) if cfg.adl else 0
        if n_out == 0:
            return np.zeros(0, dtype=int)
        seen = self.losses[: t - 1]
        if t == 1:
            if cfg.adl_first_epoch == "train_all":
                return np.zeros(0, dtype=int)
            seen = self._scoring_pass()[None, :]
        n_out = min(n_out, self.n_train - cfg.batch_size)  # always keep at least one batch
        scores = adl_lib.rank_noisy(seen, method=cfg.adl_ranking, seed=[cfg.seed, t])
        return adl_lib.select_excluded(scores, max(n_out, 0))

    def _scoring_pass(self) -> np.ndarray:
        """One forward pass of the current model over the training set: per-sample Dice losses."""
        tf = self._tf
        out = np.empty(self.n_train)
        bs = self.config.batch_size
        for s in range(0, self.n_train, bs):
            ids = self.train_idx[s:s + bs]
            per, _ = self._eval(tf.constant(self.x[ids]), tf.constant(self.y[ids][..., None]))
            out[s:s + len(ids)] = per.numpy()
        return out

    # ------------------------------------------------------------------ loop
    def fit(self, *, max_epochs: int | None = None) -> dict:
        """Train the remaining epochs (at most ``max_epochs`` of them); returns the history dict.

        ``max_epochs`` stops early, as a killed run would; :meth:`resume`
        continues from the last checkpoint.
        """
        self._setup()
        if self.output is not None:
            self.output.mkdir(parents=True, exist_ok=True)
            self._check_output()
        cfg = self.config
        writer = None
        if cfg.tensorboard and self.output is not None:
            writer = self._tf.summary.create_file_writer(str(self.output / "tensorboard"))
        last = cfg.epochs if max_epochs is None else min(cfg.epochs, self.epoch + int(max_epochs))
        for t in range(self.epoch + 1, last + 1):
            t0 = time.perf_counter()
            excluded = self._choose_excluded(t)
            keep = np.setdiff1d(np.arange(self.n_train), excluded)
            steps = keep.size // cfg.batch_size
            iterator = iter(self._dataset(keep, epoch=t, training=True))
            bar = None
            if cfg.progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=steps, desc=f"epoch {t}/{cfg.epochs}", leave=False)
            done = 0
            while done < steps:
                n = min(cfg.steps_per_execution, steps - done)
                per, idx = self._train_steps(iterator, self._tf.constant(n))
                per, idx = per.numpy(), idx.numpy()
                if not np.all(np.isfinite(per)):
                    raise FloatingPointError(f"the training loss became NaN or infinite in epoch {t}; "
                                             "lower the learning rate or check the data")
                self.losses[t - 1, idx] = per
                done += n
                if bar is not None:
                    bar.update(n)
            if bar is not None:
                bar.close()
            if cfg.bn_recalibration:
                self.recalibrate_batchnorm(keep, epoch=t)
            record = {"epoch": t, "loss": float(np.nanmean(self.losses[t - 1])),
                      "n_excluded": int(excluded.size), "planned_exclusions": int(self.schedule[t - 1]),
                      "n_trained": int(steps * cfg.batch_size), "seconds": 0.0}
            record.update(self._validate())
            if self.noisy is not None and cfg.adl:
                det = adl_lib.detection_scores(excluded, self.noisy, self.n_train)
                record.update({f"detection_{k}": v for k, v in det.items()
                               if k in ("precision", "recall", "f1")})
            record["seconds"] = time.perf_counter() - t0
            self.history["epochs"].append(record)
            self.excluded.append([int(i) for i in excluded])
            self.epoch = t
            if writer is not None:
                with writer.as_default():
                    for k, v in record.items():
                        if isinstance(v, (int, float)) and np.isfinite(v):
                            self._tf.summary.scalar(k, v, step=t)
            if self.output is not None:
                self._save_checkpoint()
        return self.history

    def recalibrate_batchnorm(self, sample_ids=None, *, epoch: int = 0) -> int:
        """Set every BatchNormalization layer's moving statistics to their average over training batches.

        One forward pass in training mode over the training samples, batched,
        shuffled and rotated as in training; batch ``i`` enters each moving
        average with weight ``1 / (i + 1)``, so afterwards the moving mean and
        variance are the plain averages of the batch statistics ("precise BN",
        Wu & Johnson 2021).  The weights do not change.

        Parameters
        ----------
        sample_ids : array of int, optional
            Training-sample ids to use (default: all training samples).
        epoch : int, default 0
            Seeds the order and rotations (with ``config.seed``).

        Returns
        -------
        int
            The number of batches averaged.

        Example
        -------
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((16, 32, 32), dtype=np.float32)
        >>> t = Trainer(TrainConfig(model="unet", epochs=1, batch_size=4, progress=False), x, (x > 0.7).astype("uint8"))
        >>> t.recalibrate_batchnorm()
        3
        """
        import keras

        from .data.pipeline import make_dataset

        self._setup()
        cfg = self.config
        ids = np.arange(self.n_train) if sample_ids is None else np.asarray(sample_ids, dtype=int)
        if ids.size == 0:
            raise ValueError("sample_ids must name at least one training sample")
        if ids.min() < 0 or ids.max() >= self.n_train:
            raise ValueError(f"sample_ids must be training-sample ids from 0 to {self.n_train - 1}, "
                             f"got values from {ids.min()} to {ids.max()}")
        bn = [layer for layer in self.model._flatten_layers(include_self=False, recursive=True)
              if isinstance(layer, keras.layers.BatchNormalization)]
        if not bn:
            return 0
        if self._bn_pass is None:
            self._bn_pass = self._build_bn_pass(bn)
        step, sums = self._bn_pass
        momenta = [layer.momentum for layer in bn]
        global_idx = self.train_idx[ids]
        ds = make_dataset(self.x[global_idx], self.y[global_idx], batch_size=min(cfg.batch_size, ids.size),
                          shuffle=True, augment=cfg.augment, seed=cfg.seed * 1000 + epoch, drop_remainder=True)
        for s_mean, s_var in sums:
            s_mean.assign(self._tf.zeros_like(s_mean))
            s_var.assign(self._tf.zeros_like(s_var))
        n = 0
        try:
            for layer in bn:
                layer.momentum = 0.0  # each training-mode call leaves exactly this batch's statistics
            for x, _ in ds:
                step(x)
                n += 1
        finally:
            for layer, m in zip(bn, momenta, strict=True):
                layer.momentum = m
        if n:
            for layer, (s_mean, s_var) in zip(bn, sums, strict=True):
                layer.moving_mean.assign(s_mean / n)
                layer.moving_variance.assign(s_var / n)
        return n

    def _build_bn_pass(self, bn):
        """A compiled training-mode forward pass that adds every BN layer's batch mean and variance to sums.

        Called with each layer's momentum at 0, so after the forward pass the
        moving statistics hold exactly that batch's moments (``moving * 0 +
        batch * 1``); the sums are (mean, variance) pairs of ``tf.Variable``, zeroed by the caller.
        """
        tf = self._tf
        sums = [(tf.Variable(tf.zeros_like(layer.moving_mean), trainable=False),
                 tf.Variable(tf.zeros_like(layer.moving_variance), trainable=False)) for layer in bn]

        @tf.function(reduce_retracing=True)
        def step(x):
            self.model(x, training=True)
            for layer, (s_mean, s_var) in zip(bn, sums, strict=True):
                s_mean.assign_add(tf.convert_to_tensor(layer.moving_mean))
                s_var.assign_add(tf.convert_to_tensor(layer.moving_variance))

        return step, sums

    def _validate(self) -> dict:
        if self.val_idx.size == 0:
            return {}
        tf = self._tf
        losses, tp, npred, ngt = [], 0, 0, 0
        bs = self.config.batch_size
        for s in range(0, self.val_idx.size, bs):
            ids = self.val_idx[s:s + bs]
            y = self.y[ids][..., None]
            per, hard = self._eval(tf.constant(self.x[ids]), tf.constant(y))
            hard = hard.numpy() > 0.5
            truth = y > 0.5
            losses.append(per.numpy())
            tp += int((hard & truth).sum())
            npred += int(hard.sum())
            ngt += int(truth.sum())
        dice = 2 * tp / (npred + ngt) if npred + ngt > 0 else 1.0
        return {"val_loss": float(np.concatenate(losses).mean()), "val_dice": float(dice)}

    # ------------------------------------------------------------------ checkpoints
    def _check_output(self):
        cfg_file = self.output / "config.json"
        mine = json.loads(json.dumps(asdict(self.config), default=_json_default))
        if cfg_file.exists():
            defaults = json.loads(json.dumps(asdict(TrainConfig()), default=_json_default))
            # fields added since the folder was written: what that version did
            theirs = {**defaults, **_LEGACY_FIELDS, **json.loads(cfg_file.read_text())}
            if theirs != mine:
                raise ValueError(f"output={str(self.output)!r} holds a run with another configuration; "
                                 "use a new folder or Trainer.resume")
        else:
            atomic_write_json(cfg_file, mine)

    def _save_checkpoint(self):
        """Write weights, optimizer, ADL state and history; then switch ``latest.json`` atomically."""
        tf = self._tf
        ckdir = self.output / "checkpoints"
        ckdir.mkdir(parents=True, exist_ok=True)
        final = ckdir / f"epoch-{self.epoch:04d}"
        tmp = ckdir / f".tmp-epoch-{self.epoch:04d}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        tf.train.Checkpoint(model=self.model, optimizer=self.optimizer).write(str(tmp / "state"))
        np.savez(tmp / "adl.npz", losses=self.losses, excluded=np.array(
            json.dumps(self.excluded)), epoch=self.epoch)
        history = json.loads(json.dumps(self.history, default=_json_default))  # NumPy scalars -> JSON
        atomic_write_json(tmp / "history.json", history)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        atomic_write_json(ckdir / "latest.json", {"epoch": self.epoch, "path": final.name})
        for old in ckdir.glob("epoch-*"):
            if old.name != final.name:
                shutil.rmtree(old, ignore_errors=True)
        atomic_write_json(self.output / "history.json", history)
        losses = self.losses[: self.epoch]
        np.savez_compressed(self.output / ".sample_losses.tmp.npz", losses=losses,
                            train_idx=self.train_idx, noisy=np.asarray(self.noisy if self.noisy is not None else []))
        os.replace(self.output / ".sample_losses.tmp.npz", self.output / "sample_losses.npz")

    @classmethod
    def resume(cls, output, images, masks, *, noisy_indices=None) -> Trainer:
        """Rebuild a trainer from its run folder at its last checkpoint.

        Call :meth:`fit` on the result to train the remaining epochs.  The
        same images and masks must be given.

        Raises
        ------
        FileNotFoundError
            If the folder has no configuration or no checkpoint.
        """
        output = Path(output)
        cfg_file, latest = output / "config.json", output / "checkpoints" / "latest.json"
        if not cfg_file.exists():
            raise FileNotFoundError(f"output={str(output)!r} holds no run (no config.json)")
        config = TrainConfig(**{**_LEGACY_FIELDS, **json.loads(cfg_file.read_text())})
        trainer = cls(config, images, masks, output=output, noisy_indices=noisy_indices)
        if not latest.exists():
            return trainer  # nothing finished yet: start from epoch 1
        info = json.loads(latest.read_text())
        folder = output / "checkpoints" / info["path"]
        trainer._setup()
        trainer._tf.train.Checkpoint(model=trainer.model, optimizer=trainer.optimizer).read(
            str(folder / "state")).assert_consumed()
        state = np.load(folder / "adl.npz")
        trainer.losses = state["losses"]
        trainer.excluded = json.loads(str(state["excluded"]))
        trainer.epoch = int(state["epoch"])
        trainer.history = json.loads((folder / "history.json").read_text())
        return trainer


def train(config: TrainConfig, images, masks, *, output=None, noisy_indices=None):
    """Train a model; returns ``(keras.Model, history)``.  See :class:`Trainer`."""
    trainer = Trainer(config, images, masks, output=output, noisy_indices=noisy_indices)
    history = trainer.fit()
    return trainer.model, history


def fit_best(trainer: Trainer, *, key: str = "val_dice") -> tuple[int, float]:
    """Train the remaining epochs one at a time and keep the weights of the best validation epoch.

    Model selection on the held-out 10 %: short runs (the CPU profiles) swing
    from epoch to epoch in inference mode, so the last epoch is a lottery.  The
    model is left with the weights of the epoch with the highest ``key`` (the
    first of equals); the history still holds every epoch, and
    ``trainer.last_epoch_weights`` the weights of the last epoch.

    Parameters
    ----------
    trainer : Trainer
        With a validation split (``validation_fraction > 0``).
    key : str, default "val_dice"
        History entry to maximise.

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
    if trainer.val_idx.size == 0:
        raise ValueError("fit_best needs a validation split (validation_fraction > 0)")
    best_value, best_weights, best_epoch = -np.inf, None, 0
    while trainer.epoch < trainer.config.epochs:
        history = trainer.fit(max_epochs=1)  # one more epoch
        value = history["epochs"][-1].get(key, np.nan)
        if best_weights is None or value > best_value:
            best_value, best_weights, best_epoch = value, trainer.model.get_weights(), trainer.epoch
    trainer.last_epoch_weights = trainer.model.get_weights()
    if best_weights is not None:
        trainer.model.set_weights(best_weights)
    return best_epoch, float(best_value)

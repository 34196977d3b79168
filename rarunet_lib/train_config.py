"""What defines a training run: :class:`TrainConfig`, the allowed values of its choices, and its JSON form.

NumPy only (the checks need no TensorFlow): the ``train`` command builds its
``--flags`` from these tuples, and the run folder stores :func:`config_json`.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from . import adl as adl_lib
from .checks import check_choice, check_int
from .device import PRECISIONS
from .fileio import json_safe

__all__ = ["TrainConfig", "ADL_FIRST_EPOCHS", "STRATEGIES", "LR_SCHEDULES", "DICE_OVER", "config_json"]

#: The allowed values of TrainConfig's choices (the train command's --flags reuse them).
ADL_FIRST_EPOCHS: tuple[str, ...] = ("train_all", "scoring_pass")
STRATEGIES: tuple[str, ...] = ("default", "mirrored", "multiworker")
LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine")
DICE_OVER: tuple[str, ...] = ("image", "batch")
_JIT = ("auto", True, False)
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
    adl_ranking : str
        How ADL ranks masks as likely noisy, one of :data:`rarunet_lib.adl.RANKINGS`
        (what each assumes: :mod:`rarunet_lib.adl_rankings`); ``"random"`` is a
        control that leaves out as many masks per epoch as the schedule says,
        chosen at random (seeded by ``seed`` and the epoch), blind to the losses.
    adl_schedule : {"eq5", "forget_rate"}
        How many masks sit out of each epoch: Eq. 5 (the paper) or the
        co-teaching forget rate ``min(t / T, 1) * noise_beta * masks``
        (:func:`rarunet_lib.adl.forget_schedule`).  Under Eq. 5 the masks left
        out sit the epoch out (the paper removes them); under the forget rate,
        as in co-teaching, every mask is still forward-passed and scored, and
        the ones left out weigh 0 in the loss.
    adl_forget_epochs : int, optional
        The forget rate's ramp ``T`` in epochs (default half of ``epochs``).
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
    adl_schedule: str = "eq5"
    adl_forget_epochs: int | None = None
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

        check_choice("model", self.model, tuple(available_models()))
        for name in ("epochs", "batch_size", "steps_per_execution"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning_rate must be a finite number > 0, got {lr!r}")
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        if self.adl:
            if self.noise_alpha is None or self.noise_beta is None:
                raise ValueError("adl=True needs noise_alpha and noise_beta (Eq. 5 uses both)")
            adl_lib.removal_schedule(self.noise_alpha, self.noise_beta, self.epochs, 1)  # range checks
        check_choice("adl_ranking", self.adl_ranking, adl_lib.RANKINGS)
        check_choice("adl_first_epoch", self.adl_first_epoch, ADL_FIRST_EPOCHS)
        check_choice("adl_schedule", self.adl_schedule, adl_lib.SCHEDULES)
        if self.adl_forget_epochs is not None:
            check_int("adl_forget_epochs", self.adl_forget_epochs, min=1)
        if self.adl_first_epoch == "scoring_pass" and self.adl_ranking not in adl_lib.rk.LOSS_RANKINGS:
            raise ValueError(f"adl_first_epoch='scoring_pass' is not allowed with adl_ranking="
                             f"{self.adl_ranking!r}; a scoring pass gives losses only")
        check_choice("mixed_precision", self.mixed_precision, PRECISIONS)
        check_choice("jit_compile", self.jit_compile, _JIT)
        if not 0.0 <= self.bn_momentum < 1.0:
            raise ValueError(f"bn_momentum must be in [0, 1), got {self.bn_momentum!r}")
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("dice_over", self.dice_over, DICE_OVER)
        if not isinstance(self.bn_recalibration, bool):
            raise ValueError(f"bn_recalibration must be True or False, got {self.bn_recalibration!r}")
        if self.bn_recalibration and self.strategy != "default":
            raise ValueError(f"bn_recalibration=True works with strategy='default' only, got {self.strategy!r}")
        if self.adl and self.adl_ranking == "cleanlab" and importlib.util.find_spec("cleanlab") is None:
            raise ValueError("adl_ranking='cleanlab' needs the optional cleanlab package, which is not installed; "
                             "install it with: pip install 'rarunet_lib[cleanlab]'")
        if self.tensorboard and importlib.util.find_spec("tensorboard") is None:
            raise ValueError("tensorboard=True needs the optional TensorBoard package, which is not installed; "
                             "install it with: pip install 'rarunet_lib[tensorboard]'")


def config_json(config: TrainConfig) -> dict:
    """The configuration as the run folder stores it (JSON-safe)."""
    return json_safe(asdict(config))

"""Where and how a run computes: numeric precision, XLA and the ``tf.distribute`` strategy.

:func:`resolve_device` turns a configuration's ``"auto"`` choices into explicit
ones once; :func:`dtype_policy` builds a model under a Keras dtype policy and
puts the previous global policy back afterwards, so that constructing a
:class:`rarunet_lib.train.Trainer` with mixed precision leaves no changed global
state behind (the layers keep the policy they were built with).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from .checks import check_choice

__all__ = ["PRECISIONS", "Device", "resolve_device", "dtype_policy"]

#: Accepted values of ``TrainConfig.mixed_precision``.
PRECISIONS = ("auto", "off", "bfloat16", "float16")


@dataclass(frozen=True)
class Device:
    """The resolved choices of one run.

    Attributes
    ----------
    precision : {"off", "bfloat16", "float16"}
        Mixed precision in use ("off": float32 throughout).
    jit : bool
        XLA compilation of the training and evaluation steps.
    strategy : tf.distribute.Strategy
        The distribution strategy the model and optimizer are built under.
    """

    precision: str
    jit: bool
    strategy: object

    @property
    def policy(self) -> str:
        """The Keras dtype policy name: ``"float32"`` or ``"mixed_<precision>"``."""
        return "float32" if self.precision == "off" else f"mixed_{self.precision}"


def resolve_device(mixed_precision: str = "auto", jit_compile="auto", strategy: str = "default") -> Device:
    """Resolve ``"auto"``: bfloat16 on a GPU of compute capability >= 8.0, XLA on a GPU.

    Parameters
    ----------
    mixed_precision : {"auto", "off", "bfloat16", "float16"}
    jit_compile : {"auto", True, False}
    strategy : {"default", "mirrored", "multiworker"}

    Example
    -------
    >>> import tensorflow as tf
    >>> d = resolve_device("off", False)
    >>> d.policy, d.jit, d.strategy is tf.distribute.get_strategy()
    ('float32', False, True)
    """
    import tensorflow as tf

    check_choice("mixed_precision", mixed_precision, PRECISIONS)
    gpus = tf.config.list_physical_devices("GPU")
    precision = mixed_precision
    if precision == "auto":
        precision = "off"
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            if details.get("compute_capability", (0, 0)) >= (8, 0):
                precision = "bfloat16"
    if strategy == "mirrored":
        strat = tf.distribute.MirroredStrategy()
    elif strategy == "multiworker":
        strat = tf.distribute.MultiWorkerMirroredStrategy()
    elif strategy == "default":
        strat = tf.distribute.get_strategy()
    else:
        raise ValueError(f"strategy={strategy!r} is not allowed; use 'default', 'mirrored' or 'multiworker'")
    jit = bool(gpus) if jit_compile == "auto" else bool(jit_compile)
    return Device(precision=precision, jit=jit, strategy=strat)


@contextlib.contextmanager
def dtype_policy(name: str):
    """Set Keras's global dtype policy to ``name`` inside the block; restore the previous one after.

    Layers take their policy when they are created, so a model built inside
    the block keeps ``name`` (e.g. ``"mixed_bfloat16"``) after it.

    Example
    -------
    >>> import keras
    >>> with dtype_policy("mixed_bfloat16"):
    ...     layer = keras.layers.Dense(2)
    >>> layer.dtype_policy.name, keras.mixed_precision.global_policy().name
    ('mixed_bfloat16', 'float32')
    """
    import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)

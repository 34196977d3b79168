"""Provenance for results: command, commit, device, time, versions (no TensorFlow import unless asked)."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
from pathlib import Path

__all__ = ["provenance"]


def _git_commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        commit = out.stdout.strip() if out.returncode == 0 else "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit + ("+dirty" if dirty and commit != "unknown" else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _device() -> str:
    try:
        import tensorflow as tf
    except ImportError:
        return f"{platform.processor() or platform.machine()} (no TensorFlow)"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", "GPU") for g in gpus]
        return f"{len(gpus)} x {names[0]}"
    import os

    return f"CPU ({os.cpu_count()} cores, {platform.machine()})"


def provenance(*, seed: int | None = None, command: list[str] | None = None, profile: str | None = None) -> dict:
    """A dict to store beside every result.

    Example
    -------
    >>> p = provenance(seed=0)
    >>> sorted(p)[:3]
    ['command', 'commit', 'device']
    """
    try:
        import tensorflow as tf

        tf_version = tf.__version__
    except ImportError:
        tf_version = None
    return {
        "command": " ".join(command if command is not None else sys.argv),
        "commit": _git_commit(),
        "device": _device(),
        "time_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "profile": profile,
        "python": platform.python_version(),
        "tensorflow": tf_version,
    }

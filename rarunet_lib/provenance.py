"""Provenance for results: command, commit, device, CPU, time, versions (no TensorFlow import unless asked).

The CPU is recorded because a seeded CPU run is bit-reproducible on one kind of CPU only:
TensorFlow's oneDNN kernels pick their code path by the instruction sets the processor
offers, and a short training run amplifies the last-bit differences (the realism study's
default run, seed 0, repeated on another CPU: Dice 0.557 against 0.611 on one real sample).
"""

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


#: Instruction-set extensions that change oneDNN's code path, as ``/proc/cpuinfo`` names them.
_ISA_FLAGS = ("avx512_bf16", "amx_tile", "avx512f", "avx2")


def _cpu(cpuinfo: str | None = None) -> str:
    r"""The processor's model name and the instruction sets of :data:`_ISA_FLAGS` it offers.

    ``cpuinfo``: the text of ``/proc/cpuinfo`` (read when None); elsewhere than Linux, the
    platform's processor name.

    Example
    -------
    >>> _cpu("model name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f sse\n")
    'AMD EPYC (avx512f, avx2)'
    >>> _cpu("")
    'unknown'
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return platform.processor() or platform.machine() or "unknown"
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    isa = [f for f in _ISA_FLAGS if f in flags]
    name = fields.get("model name", "unknown")
    return name + (f" ({', '.join(isa)})" if isa else "")


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
    >>> sorted(p)[:4]
    ['command', 'commit', 'cpu', 'device']
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
        "cpu": _cpu(),
        "time_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "profile": profile,
        "python": platform.python_version(),
        "tensorflow": tf_version,
    }

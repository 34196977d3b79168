"""Atomic file writing and JSON-safe values (NumPy only, no TensorFlow): results, manifests, histories."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_npz", "json_safe"]


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``.

    A reader never sees a half-written file, and a crash leaves the old file.

    Example
    -------
    >>> import tempfile, os
    >>> p = atomic_write_bytes(os.path.join(tempfile.mkdtemp(), "x.bin"), b"ok")
    >>> p.read_bytes()
    b'ok'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would surprise whoever reads the results
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path, obj, *, indent: int | None = 1) -> Path:
    """Serialise ``obj`` as JSON and write it atomically (see :func:`atomic_write_bytes`).

    Example
    -------
    >>> import tempfile, os, json
    >>> p = atomic_write_json(os.path.join(tempfile.mkdtemp(), "x.json"), {"a": 1})
    >>> json.loads(p.read_text())
    {'a': 1}
    """
    return atomic_write_bytes(path, (json.dumps(obj, indent=indent) + "\n").encode())


def atomic_write_npz(path, **arrays) -> Path:
    """Save arrays as a compressed ``.npz`` atomically (see :func:`atomic_write_bytes`).

    Example
    -------
    >>> import tempfile, os
    >>> p = atomic_write_npz(os.path.join(tempfile.mkdtemp(), "x.npz"), a=np.arange(3))
    >>> np.load(p)["a"].tolist()
    [0, 1, 2]
    """
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def json_safe(x):
    """A copy fit for JSON: NaN and infinities become None, NumPy scalars Python numbers (dicts and lists recursively).

    Example
    -------
    >>> json_safe({"a": float("nan"), "b": [np.float32(0.5), np.int64(2)]})
    {'a': None, 'b': [0.5, 2]}
    """
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x

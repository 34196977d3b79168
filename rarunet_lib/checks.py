"""Checks of public arguments: one way to refuse bad input, with one kind of message (NumPy only).

Public functions call these once, at the door; internal helpers trust their
callers.  Every message names the argument, shows the value (a short repr, or
an array's shape and dtype) and says what is allowed::

    alpha=1.5 is not allowed; use a number in (0, 1]

Wrong *types* raise :class:`ArgumentTypeError` (a string where a number is
wanted, a float or a bool where an integer is wanted, a float array where a
mask is wanted): a ``TypeError`` that is also a ``ValueError``, so that code
written against the earlier ``ValueError`` keeps working (NumPy's ``AxisError``
does the same).  Wrong *values* of the right type raise ``ValueError`` (out of
range, NaN, empty, wrong shape, a choice not offered).
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

__all__ = [
    "ArgumentTypeError",
    "describe",
    "refuse",
    "check_choice",
    "check_bool",
    "check_int",
    "check_number",
    "check_seed",
    "check_array",
    "check_mask",
    "check_same_shape",
    "check_path",
]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (also a ``ValueError``, for older callers)."""


def describe(value) -> str:
    """Short description of a value for an error message: a repr, or shape and dtype.

    Example
    -------
    >>> describe(np.zeros((2, 3)))
    'array of shape (2, 3), dtype float64'
    >>> describe("x" * 100)[:12]
    "'xxxxxxxxxxx"
    """
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"array of shape {value.shape}, dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def refuse(name: str, value, allowed: str, exc: type[Exception] = ValueError) -> Exception:
    """The exception for ``name=value``: ``"{name}={value} is not allowed; use {allowed}"``.

    Returned, not raised, so that callers write ``raise refuse(...)`` (and
    tracebacks point at them).

    Example
    -------
    >>> str(refuse("alpha", 1.5, "a number in (0, 1]"))
    'alpha=1.5 is not allowed; use a number in (0, 1]'
    """
    return exc(f"{name}={describe(value)} is not allowed; use {allowed}")


def check_choice(name: str, value, allowed: tuple):
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``.

    Example
    -------
    >>> check_choice("overlap", "dice", ("dice", "iou"))
    'dice'
    >>> check_choice("overlap", "dsc", ("dice", "iou"))
    Traceback (most recent call last):
    ...
    ValueError: overlap='dsc' is not allowed; use one of ('dice', 'iou')
    """
    try:
        ok = any(value == a and isinstance(value, type(a))
                 and isinstance(value, bool) == isinstance(a, bool) for a in allowed)
    except (TypeError, ValueError):  # arrays and the like compare element-wise
        ok = False
    if not ok:
        raise refuse(name, value, f"one of {tuple(allowed)!r}")
    return value


def check_bool(name: str, value) -> bool:
    """Return ``value`` as a bool; only ``True``/``False`` (and NumPy bools) are accepted.

    Example
    -------
    >>> check_bool("signed", np.True_)
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise refuse(name, value, "True or False", ArgumentTypeError)
    return bool(value)


def _interval(lo, hi, lo_open: bool, hi_open: bool) -> str:
    if lo is None and hi is None:
        return "a finite number"
    if hi is None:
        return f"a number {'>' if lo_open else '>='} {lo}"
    if lo is None:
        return f"a number {'<' if hi_open else '<='} {hi}"
    return f"a number in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"


def check_number(name: str, value, *, min=None, max=None, min_open: bool = False,
                 max_open: bool = False, finite: bool = True) -> float:
    """Return ``value`` as a float after checking its type and range.

    Real numbers only (``int``, ``float``, NumPy scalars): strings, ``None``
    and bools raise :class:`ArgumentTypeError`; NaN (and inf when ``finite``) and values out
    of the range raise ``ValueError``.

    Example
    -------
    >>> check_number("beta", 0.5, min=0, max=1)
    0.5
    >>> check_number("alpha", 0.0, min=0, max=1, min_open=True)
    Traceback (most recent call last):
    ...
    ValueError: alpha=0.0 is not allowed; use a number in (0, 1]
    """
    allowed = _interval(min, max, min_open, max_open)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise refuse(name, value, allowed, ArgumentTypeError)
    v = float(value)
    if np.isnan(v) or (finite and not np.isfinite(v)):
        raise refuse(name, value, allowed)
    if min is not None and (v < min or (min_open and v == min)):
        raise refuse(name, value, allowed)
    if max is not None and (v > max or (max_open and v == max)):
        raise refuse(name, value, allowed)
    return v


def check_int(name: str, value, *, min=None, max=None) -> int:
    """Return ``value`` as an int; bools and floats (even ``2.0``) raise :class:`ArgumentTypeError`.

    Example
    -------
    >>> check_int("epochs", np.int64(3), min=1)
    3
    >>> check_int("epochs", True, min=1)
    Traceback (most recent call last):
    ...
    rarunet_lib.checks.ArgumentTypeError: epochs=True is not allowed; use an integer >= 1
    """
    if min is not None and max is not None:
        allowed = f"an integer from {min} to {max}"
    elif min is not None:
        allowed = f"an integer >= {min}"
    elif max is not None:
        allowed = f"an integer <= {max}"
    else:
        allowed = "an integer"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise refuse(name, value, allowed, ArgumentTypeError)
    v = int(value)
    if (min is not None and v < min) or (max is not None and v > max):
        raise refuse(name, value, allowed)
    return v


def check_seed(name: str, seed, *, none: bool = True, generator: bool = True):
    """Check a seed: a non-negative int, a sequence of them, a Generator, or None.

    Returns ``seed`` unchanged (pass it to ``np.random.default_rng``).

    Example
    -------
    >>> check_seed("seed", [3, 1])
    [3, 1]
    >>> check_seed("seed", -1)
    Traceback (most recent call last):
    ...
    ValueError: seed=-1 is not allowed; use a non-negative integer, a sequence of them, a numpy.random.Generator or None
    """
    allowed = "a non-negative integer, a sequence of them"
    allowed += ", a numpy.random.Generator" if generator else ""
    allowed += " or None" if none else ""
    if seed is None:
        if none:
            return seed
        raise refuse(name, seed, allowed, ArgumentTypeError)
    if isinstance(seed, np.random.Generator):
        if generator:
            return seed
        raise refuse(name, seed, allowed, ArgumentTypeError)
    items = list(seed) if isinstance(seed, (list, tuple, np.ndarray)) else [seed]
    if (isinstance(seed, (list, tuple, np.ndarray)) and len(items) == 0) or any(
            isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Integral) for s in items):
        raise refuse(name, seed, allowed, ArgumentTypeError)
    if any(s < 0 for s in items):
        raise refuse(name, seed, allowed)
    return seed


_KIND_WORDS = {"b": "boolean", "i": "integer", "u": "unsigned integer", "f": "floating"}


def check_array(name: str, x, *, ndim: int | tuple[int, ...] | None = None, kinds: str = "biuf",
                finite: bool = True, nonempty: bool = True, dtype=None) -> np.ndarray:
    """Return ``x`` as an array after checking its dimensions, dtype kind and values.

    Parameters
    ----------
    name : str
        Argument name for the messages.
    x : array_like
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    kinds : str, default "biuf"
        Allowed ``dtype.kind`` letters (b bool, i int, u unsigned, f float);
        other kinds (strings, objects, complex) raise :class:`ArgumentTypeError`.
    finite : bool, default True
        Refuse NaN and inf.
    nonempty : bool, default True
        Refuse arrays with no element (a zero-size axis).
    dtype : optional
        Convert to this dtype after the checks.

    Example
    -------
    >>> check_array("hu", [[0, 1]], ndim=2).shape
    (1, 2)
    >>> check_array("hu", [0.0, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: hu=array of shape (2,), dtype float64 is not allowed; use finite values (found 1 NaN or inf)
    """
    a = x if isinstance(x, np.ndarray) else np.asarray(x)
    if a.dtype.kind not in kinds:
        words = " or ".join(_KIND_WORDS[k] for k in kinds if k in _KIND_WORDS)
        article = "an" if words[0] in "aeiou" else "a"
        raise ArgumentTypeError(f"{name}={describe(x)} is not allowed; use {article} {words} array")
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in dims:
            want = " or ".join(f"{d}-D" for d in dims)
            raise ValueError(f"{name}={describe(a)} is not allowed; use a {want} array")
    if nonempty and a.size == 0:
        raise ValueError(f"{name}={describe(a)} is not allowed; use a non-empty array")
    if finite and a.dtype.kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(a)))
        if bad:
            raise ValueError(f"{name}={describe(a)} is not allowed; use finite values (found {bad} NaN or inf)")
    return a if dtype is None else a.astype(dtype, copy=False)


def check_mask(name: str, x, *, ndim: int | tuple[int, ...] | None = None, floats: bool = False,
               nonempty: bool = True) -> np.ndarray:
    """Return a binary mask as bool: bool, or integers (floats with ``floats=True``) of 0/1 only.

    Example
    -------
    >>> check_mask("mask", [[0, 1]]).dtype
    dtype('bool')
    >>> check_mask("mask", [[0, 2]])
    Traceback (most recent call last):
    ...
    ValueError: mask=array of shape (1, 2), dtype int64 is not allowed; use a binary mask (only 0 and 1; found 2)
    """
    a = check_array(name, x, ndim=ndim, kinds="biuf" if floats else "biu", finite=False,
                    nonempty=nonempty)
    if a.dtype == bool:
        return a
    other = (a != 0) & (a != 1)
    if other.any():
        found = ", ".join(str(v) for v in np.unique(a[other])[:3].tolist())
        raise ValueError(f"{name}={describe(a)} is not allowed; use a binary mask (only 0 and 1; found {found})")
    return a.astype(bool)


def check_same_shape(names: tuple[str, str], a: np.ndarray, b: np.ndarray) -> None:
    """Refuse two arrays of different shapes (shapes that only broadcast included).

    Example
    -------
    >>> check_same_shape(("gt", "pred"), np.zeros((1, 4)), np.zeros((3, 4)))
    Traceback (most recent call last):
    ...
    ValueError: gt and pred must have the same shape, got (1, 4) and (3, 4) (no broadcasting)
    """
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, "
                         f"got {a.shape} and {b.shape} (no broadcasting)")


def check_path(name: str, path, *, kind: str = "any", exists: bool = True) -> Path:
    """Return ``path`` as a Path: ``ArgumentTypeError`` unless str/PathLike, ``FileNotFoundError`` if missing.

    ``kind``: ``"file"``, ``"dir"`` or ``"any"``.

    Example
    -------
    >>> check_path("root", 5)
    Traceback (most recent call last):
    ...
    rarunet_lib.checks.ArgumentTypeError: root=5 is not allowed; use a str or os.PathLike path
    """
    import os

    if not isinstance(path, (str, os.PathLike)):
        raise refuse(name, path, "a str or os.PathLike path", ArgumentTypeError)
    p = Path(path)
    if exists and not p.exists():
        raise FileNotFoundError(f"{name}={str(p)!r} does not exist")
    if exists and kind == "file" and not p.is_file():
        raise FileNotFoundError(f"{name}={str(p)!r} is not a file")
    if exists and kind == "dir" and not p.is_dir():
        raise FileNotFoundError(f"{name}={str(p)!r} is not a folder")
    return p

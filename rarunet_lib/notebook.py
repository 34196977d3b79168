"""Helpers for the chapter notebooks: setup, glue, the library's code on the page.

``setup_notebook`` prepares a chapter (quiet logs, seeds, style, banner); ``glue``,
``glue_all``, ``pm`` and ``number_text`` put computed numbers into the prose;
``show_source`` shows the library's own code; ``profile_table`` compares profiles.
"""

from __future__ import annotations

import inspect
import math
import os
import textwrap

import numpy as np

from .config import Profile, describe_environment, get_profile, seed_everything

__all__ = ["setup_notebook", "glue", "glue_all", "pm", "number_text", "source_excerpt", "show_source",
           "profile_table", "PROFILE_FIELDS", "table1_markdown", "table23_markdown", "DISTANCE_UNITS"]


def setup_notebook(seed: int = 0, *, profile: str | None = None, deterministic: bool = False) -> Profile:
    """Prepare a notebook the way every chapter does, and return the profile.

    Quietens TensorFlow's C++ log lines (unless ``TF_CPP_MIN_LOG_LEVEL`` is
    already set) and its Python warnings, seeds Python, NumPy and TensorFlow, applies the book's
    matplotlib style and prints the environment banner.

    Parameters
    ----------
    seed : int, default 0
        Seed for :func:`~rarunet_lib.config.seed_everything`.
    profile : str, optional
        Profile name; by default ``RARUNET_PROFILE`` or the GPU-based default.
    deterministic : bool, default False
        Ask TensorFlow for deterministic kernels.

    Returns
    -------
    Profile

    Example
    -------
    >>> setup_notebook(0, profile="quick").name  # doctest: +ELLIPSIS
    ===...
    'quick'
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    prof = get_profile(profile)
    seed_everything(seed, deterministic=deterministic)
    import logging

    # Python-side TensorFlow warnings (e.g. "retracing" when a chapter trains several small models) are noise here
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    from .plotting import use_book_style

    use_book_style()
    describe_environment(prof)
    return prof


# ---------------------------------------------------------------- glue and numbers in prose
try:  # MyST-NB's glue while the book is built; outside it (Colab, a plain kernel) a no-op
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover - depends on the environment
    _myst_glue = None


def glue(name: str, value, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for ``{glue:text}`name``` in the prose (a no-op without MyST-NB).

    A NumPy scalar is glued as the Python number it holds: the prose shows ``7``, not
    NumPy 2's ``np.int64(7)``.

    Example
    -------
    >>> glue("n_runs", 3)  # nothing is shown: the value goes to the page's prose
    """
    if isinstance(value, np.generic):
        value = value.item()
    if _myst_glue is not None:
        _myst_glue(name, value, display=display)


def glue_all(values: dict) -> None:
    """Glue every ``name: value`` of ``values``, none of them displayed in the cell.

    Returns None, so that a cell ending with it shows nothing.

    Example
    -------
    >>> glue_all({"epochs": 10, "dice": "0.912"})
    """
    for name, value in values.items():
        glue(name, value, display=False)


def pm(s, sign: bool = False, digits: int = 3) -> str:
    """``"0.822 ± 0.030"``: mean ± sample standard deviation of a :class:`rarunet_lib.report.Stat`.

    Example
    -------
    >>> from rarunet_lib.report import Stat
    >>> pm(Stat(0.8221, 0.0304, 3)), pm(Stat(0.0123, 0.02, 3), sign=True, digits=2)
    ('0.822 ± 0.030', '+0.01 ± 0.02')
    """
    return f"{s.mean:{'+' if sign else ''}.{digits}f} ± {s.std:.{digits}f}"


def number_text(value, digits: int = 3) -> str:
    """A measured value for prose: ``"+inf"`` for an infinite distance, ``"NaN"`` for an undefined one.

    Follows :mod:`rarunet_lib.metrics`: a distance from an empty mask to a non-empty one is
    +inf, precision with an empty prediction is NaN (JSON stores NaN and inf as ``None`` or
    the floats themselves, both handled).

    Example
    -------
    >>> number_text(0.91234), number_text(float("inf"), 1), number_text(None), number_text(float("nan"))
    ('0.912', '+inf', 'NaN', 'NaN')
    """
    if value is None or math.isnan(float(value)):
        return "NaN"
    if math.isinf(float(value)):
        return "+inf" if value > 0 else "-inf"
    return f"{float(value):.{digits}f}"


# ---------------------------------------------------------------- the library's code on the page
def source_excerpt(obj, start: str | None = None, stop: str | None = None) -> str:
    """The source of ``obj``, whole or an excerpt, dedented: what :func:`show_source` displays.

    Parameters
    ----------
    obj : function, class or method
        Anything :func:`inspect.getsource` accepts.
    start : str, optional
        The excerpt begins at the first line containing ``start``.
    stop : str, optional
        The excerpt ends at the first line after ``start`` containing ``stop`` (included).
        Without ``stop`` it ends with the block that ``start``'s line opens (the lines
        indented deeper than it: a ``def``, a loop) or, if it opens none, with the block
        it is in (the rest of a function).

    Example
    -------
    >>> print(source_excerpt(number_text, "if math.isinf"))
    if math.isinf(float(value)):
        return "+inf" if value > 0 else "-inf"
    >>> print(source_excerpt(number_text, "return f"))
    return f"{float(value):.{digits}f}"
    >>> print(source_excerpt(number_text, "if value is None", "return"))
    if value is None or math.isnan(float(value)):
        return "NaN"
    >>> source_excerpt(number_text, "no such line")
    Traceback (most recent call last):
    ...
    ValueError: start='no such line' is not a line of number_text's source
    """
    return _excerpt(obj, start, stop)[2]


def _excerpt(obj, start: str | None, stop: str | None) -> tuple[int, int, str]:
    """First and last line numbers (in the file) and the dedented text of an excerpt."""
    raw, offset = inspect.getsourcelines(obj)
    lines = [line.rstrip("\n") for line in raw]
    name = getattr(obj, "__qualname__", repr(obj))
    if start is None:
        return offset, offset + len(lines) - 1, textwrap.dedent("\n".join(lines))
    first = next((i for i, line in enumerate(lines) if start in line), None)
    if first is None:
        raise ValueError(f"start={start!r} is not a line of {name}'s source")
    if stop is not None:
        last = next((i for i in range(first, len(lines)) if stop in lines[i]), None)
        if last is None:
            raise ValueError(f"stop={stop!r} is not a line of {name}'s source after start={start!r}")
    else:
        def depth(text):
            return len(text) - len(text.lstrip())

        indent = depth(lines[first])
        following = next((line for line in lines[first + 1:] if line.strip()), "")
        opens_block = depth(following) > indent
        last = first
        for i in range(first + 1, len(lines)):
            text = lines[i]
            if text.strip() and (depth(text) <= indent if opens_block else depth(text) < indent):
                break
            last = i
        while last > first and not lines[last].strip():
            last -= 1
    return offset + first, offset + last, textwrap.dedent("\n".join(lines[first:last + 1]))


def show_source(obj, start: str | None = None, stop: str | None = None):
    """Display the library's own code (whole, or the excerpt :func:`source_excerpt` cuts).

    What the reader sees is what runs: the text is read from the imported module,
    under a line naming its file, object and line numbers.  Returns an
    :class:`IPython.display.Markdown` (shown when it ends a cell; the book
    highlights the code block).

    Example
    -------
    >>> print(show_source(number_text, "if math.isinf").data.splitlines()[0])  # doctest: +ELLIPSIS
    `rarunet_lib/notebook.py`, `number_text`, lines ...:
    """
    from IPython.display import Markdown

    first, last, text = _excerpt(obj, start, stop)
    module = inspect.getmodule(obj)
    path = module.__name__.replace(".", "/") + ("/__init__.py" if hasattr(module, "__path__") else ".py")
    name = getattr(obj, "__qualname__", repr(obj))
    return Markdown(f"`{path}`, `{name}`, lines {first}-{last}:\n\n````python\n{text}\n````")


# ---------------------------------------------------------------- profiles side by side
#: Profile fields that decide a run's size, with the words a chapter prints for them.
PROFILE_FIELDS: dict[str, str] = {
    "image_size": "slice side (pixels)",
    "n_cases": "phantom cases",
    "slices_per_case": "slices per case",
    "slice_spacing": "slice spacing (mm)",
    "epochs": "epochs",
    "batch_size": "batch",
    "learning_rate": "learning rate",
    "filters": "filters per level",
    "bn_recalibration": "precise BatchNorm",
}


def profile_table(*names: str) -> str:
    """A Markdown table of the profiles ``names`` side by side (the fields of :data:`PROFILE_FIELDS`).

    Example
    -------
    >>> print(profile_table("quick", "full").splitlines()[3])
    | phantom cases | 12 | 10 |
    """
    from .config import get_profile
    from .report import markdown_table

    if not names:
        raise ValueError("names must name at least one profile, e.g. profile_table('quick', 'full')")
    profs = [get_profile(n) for n in names]

    def cell(p, key):
        v = getattr(p, key)
        if key == "filters":
            return "-".join(map(str, v)) + " (a quarter)" if v else "32-512 (the paper's)"
        return f"{v:g}" if isinstance(v, float) else str(v)

    return markdown_table(["setting"] + list(names),
                          [[label] + [cell(p, key) for p in profs] for key, label in PROFILE_FIELDS.items()])


# ---------------------------------------------------------------- chapter 8's tables
def table1_markdown(rows: list[dict], profile: str) -> str:
    """Table 1 analogue as Markdown: the paper's Dice, precision, recall and parameters beside ours.

    ``rows`` are :func:`rarunet_lib.report.table1_rows`; ours are mean ± sd (seeds).

    Example
    -------
    >>> from rarunet_lib.report import Stat
    >>> s = Stat(0.9, 0.01, 3)
    >>> row = {"model": "UNet", "paper": {"dice": 0.836, "precision": 0.8832, "recall": 0.7936,
    ...        "params_m": 7.26}, "ours": {"dice": s, "precision": s, "recall": s}, "params": 7762465}
    >>> print(table1_markdown([row], "cpu2").splitlines()[2])
    | UNet | 0.8360 | 0.900 ± 0.010 (3) | 0.8832 | 0.900 ± 0.010 (3) | 0.7936 | 0.900 ± 0.010 (3) | 7.26 | 7.76 |
    """
    from .report import fmt, markdown_table

    def paper(row, key, digits=4):
        return "-" if row["paper"] is None else f"{row['paper'][key]:.{digits}f}"

    header = ["model"]
    for m in ("Dice", "precision", "recall"):
        header += [f"{m}, paper", f"{m}, ours ({profile})"]
    header += ["params (M), paper", "params (M), ours"]
    body = [[r["model"]] + [x for key in ("dice", "precision", "recall")
                            for x in (paper(r, key), fmt(r["ours"][key]))]
            + [paper(r, "params_m", 2), "-" if r["params"] is None else f"{r['params'] / 1e6:.2f}"]
            for r in rows]
    return markdown_table(header, body)


#: Tables 2-3's measures and their units (distances in pixels of each side's own images).
DISTANCE_UNITS: dict[str, str] = {"hd": "pixels", "assd": "pixels", "rvd": "ratio", "dbd_g": "ratio",
                                  "dbd_m": "ratio", "sbd": "ratio"}


def table23_markdown(results: dict, model: str = "rar_unet") -> str:
    """Tables 2-3 analogue as Markdown, every value with its unit.

    The paper's HD and ASSD are in pixels of its 256-pixel slices; ours in pixels of our
    slices (pooled and per-slice, :func:`rarunet_lib.report.table23_rows`) and, pooled, in
    millimetres (``test_pooled``); RVD and the boundary measures have no unit.

    Example
    -------
    >>> keys = ("hd", "assd", "rvd", "dbd_g", "dbd_m", "sbd")
    >>> run = {"spec": {"model": "rar_unet", "seed": 0, "noise_beta": 0.0, "adl": False},
    ...        "test_pooled": {"hd": 20.0, "assd": 2.0}, "test_pooled_pixels": dict.fromkeys(keys, 4.0),
    ...        "test_per_slice": {k: [1.0, None] for k in keys}}
    >>> print(table23_markdown({"rar_unet__clean__seed0": run}).splitlines()[2])
    | HD (pixels) | 10.0110 | 4.000 (1) | 1.000 (1) | 20.000 (1) |
    """
    from .report import fmt, markdown_table, stat, table23_rows

    rows = table23_rows(results, model)
    runs = [r for r in results.values()
            if r["spec"]["model"] == model and not r["spec"].get("noise_beta") and not r["spec"].get("adl")
            and r["spec"].get("table4_row") is None]
    body = []
    for a in rows:
        key = a["measure"]
        unit = DISTANCE_UNITS[key]
        mm = fmt(stat([r["test_pooled"].get(key) for r in runs])) if unit == "pixels" else "-"
        body.append([f"{key.upper()} ({unit})", f"{a['paper']:.4f}", fmt(a["pooled"]), fmt(a["per_slice"]), mm])
    return markdown_table(["measure (unit)", "paper", "ours, pooled", "ours, per-slice mean",
                           "ours, pooled, in mm"], body)

"""The paper's experiments as a resumable grid of runs: Tables 1, 4 and 5 (and 2-3 from the same runs).

A *run* is one model trained on one dataset with one seed, optionally on noisy
labels and with ADL.  It is described by a :class:`RunSpec`, has a stable
:attr:`RunSpec.run_id`, and writes one JSON file (plus a small ``.npz`` of its
test predictions) into ``<output>/<profile>/``.  A *table* is a list of runs:

``table4``
    The seven architecture configurations of Table 4 on clean labels.
``table5``
    The paper's four (proportion beta, level alpha) settings, each with U-Net,
    Residual-UNet and Attention-UNet, with and without ADL (24 runs per seed).
``table1``
    The 2-D models this library builds (U-Net, Residual-UNet, Dense-UNet,
    MultiResUNet, additive Attention U-Net, RAR-U-Net) on clean labels.  Runs
    shared with Table 4 (same model, same seed) are the same files.

Tables 2 and 3 (HD, ASSD, RVD, DBD_G, DBD_M, SBD of RAR-U-Net) are read from
the RAR-U-Net runs.  Runs whose JSON already exists are skipped, so an
interrupted grid resumes where it stopped; files are written atomically.

Every run of one profile trains on the same phantom dataset (seed 1000): the
spread across seeds is the spread of training (weights, order, rotations,
validation split) and of the noise draw, not of the data.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .checks import check_choice
from .config import Profile, get_profile
from .recipe import RunSpec, train_and_score

__all__ = [
    "RunSpec",
    "TABLES",
    "TABLE5_SETTINGS",
    "BEST_RANKING",
    "TABLE5_MODELS",
    "table_runs",
    "run_one",
    "grid_specs",
    "run_specs",
    "run_grid",
    "load_results",
    "load_predictions",
    "results_dir",
    "select_specs",
]

#: Table 5's four settings as (level alpha, proportion beta), in the paper's order (alpha before
#: beta everywhere in the library, as in :func:`rarunet_lib.adl.removal_schedule`).
TABLE5_SETTINGS: tuple[tuple[float, float], ...] = ((0.68, 0.75), (0.77, 0.50), (0.85, 0.25), (0.55, 0.25))
#: Table 5's models: paper name -> library name.  The paper's "Attention-UNet" is
#: read as Table 4 row 4 (U-Net with the CBAM attention decoder).
TABLE5_MODELS: dict[str, str] = {"U-Net": "unet", "Residual-UNet": "residual_unet",
                                 "Attention-UNet": "attention_unet_cbam"}
#: Table 4 row -> library model name (rows 3, 5 and 6 are RAR-U-Net with flags off).
_TABLE4_NAMES = {1: "unet", 2: "residual_unet", 4: "attention_unet_cbam", 7: "rar_unet"}
#: Table 1: paper name -> library model name (2-D models we build).
TABLE1_MODELS: dict[str, str] = {"UNet": "unet", "Residual-UNet": "residual_unet", "Densely-UNet": "dense_unet",
                                 "MultiRes UNet": "multires_unet", "Attention U-Net (2-D, gates)": "attention_unet",
                                 "RAR-U-Net": "rar_unet"}


def table_runs(table: str, seeds) -> list[RunSpec]:
    """The runs a table needs, seed by seed.

    Parameters
    ----------
    table : {"table1", "table4", "table5", "adlcontrol", "adlscores", "adlbest", "adlforget", "adlforgetcontrol"}
        ``"adlcontrol"`` is not a table of the paper: Table 5's ADL runs with
        the masks left out chosen at random (``adl_ranking="random"``), the
        control that tells ADL's choice apart from leaving masks out at all.
        The ``adl*`` studies of how well ADL finds the noisy masks (chapter 6)
        are U-Net runs at the four Table 5 settings, every ranking scored every
        epoch: ``"adlscores"`` the paper's ADL again (Eq. 5, normalised
        cumulative loss), ``"adlbest"`` Eq. 5 with :data:`BEST_RANKING`,
        ``"adlforget"`` the forget rate with :data:`BEST_RANKING` and
        ``"adlforgetcontrol"`` the forget rate with random choices.
    seeds : iterable of int

    Returns
    -------
    list of RunSpec

    Example
    -------
    >>> len(table_runs("table4", [0])), len(table_runs("table5", [0, 1])), len(table_runs("adlcontrol", [0]))
    (7, 48, 12)
    """
    check_choice("table", table, TABLES)
    seeds = [int(s) for s in seeds]
    if table == "table4":
        return [RunSpec(_TABLE4_NAMES[r], s) if r in _TABLE4_NAMES else RunSpec("rar_unet", s, table4_row=r)
                for s in seeds for r in range(1, 8)]
    if table == "table5":
        return [RunSpec(m, s, noise_beta=b, noise_alpha=a, adl=adl)
                for s in seeds for (a, b) in TABLE5_SETTINGS for m in TABLE5_MODELS.values() for adl in (False, True)]
    if table == "table1":
        return [RunSpec(m, s) for s in seeds for m in TABLE1_MODELS.values()]
    if table == "adlcontrol":
        return [RunSpec(m, s, noise_beta=b, noise_alpha=a, adl=True, adl_ranking="random")
                for s in seeds for (a, b) in TABLE5_SETTINGS for m in TABLE5_MODELS.values()]
    if table in _ADL_STUDIES:
        ranking, schedule = _ADL_STUDIES[table]
        return [RunSpec("unet", s, noise_beta=b, noise_alpha=a, adl=True, adl_ranking=ranking, adl_schedule=schedule)
                for s in seeds for (a, b) in TABLE5_SETTINGS]
    raise AssertionError(table)  # pragma: no cover - checked against TABLES above


#: The ranking the ``adlbest`` and ``adlforget`` studies use: the best of the ``adlscores`` runs (chapter 6).
BEST_RANKING = "size_adjusted"
#: Study -> (ranking, schedule) of its U-Net runs.
_ADL_STUDIES = {"adlscores": (None, None), "adlbest": (BEST_RANKING, None),
                "adlforget": (BEST_RANKING, "forget_rate"), "adlforgetcontrol": ("random", "forget_rate")}
TABLES = ("table1", "table4", "table5", "adlcontrol", *_ADL_STUDIES)


def run_one(spec: RunSpec, data, profile: Profile, output: Path, *, command: str = "",
            real: dict | None = None) -> dict:
    """Train and score one run of the grid: :func:`rarunet_lib.recipe.train_and_score` into ``output``.

    Writes ``<output>/<run_id>.json`` and ``<run_id>.npz`` atomically (the JSON
    last: its presence marks the run done).  The model tested is the one of the
    epoch with the best validation Dice (``selected_epoch``); the last epoch's
    model is scored too (``test_pooled_last_epoch``).

    Parameters
    ----------
    spec : RunSpec
    data : Dataset
        From :func:`rarunet_lib.data.load_dataset`.
    profile : Profile
    output : Path
        Folder of this profile's runs.
    command : str
        The command line, for provenance.
    real : dict, optional
        ``name -> (images, masks)`` of real CT slices to score the model on too.

    Returns
    -------
    dict
        What was written to the JSON file (:meth:`RunResult.to_json`).
    """
    result = train_and_score(spec, data, profile, output=Path(output) / f"{spec.run_id}.json", command=command,
                             real=real)
    return result.to_json()


def grid_specs(tables, seeds) -> list[RunSpec]:
    """Every run the tables need, seed-major (a grid cut short has every table at the first seeds), no duplicates.

    Example
    -------
    >>> len(grid_specs(["table1", "table4"], [0]))  # U-Net, Residual-UNet, RAR-U-Net are shared
    10
    """
    specs, seen = [], set()
    for s in seeds:
        for t in tables:
            for spec in table_runs(t, [s]):
                if spec.run_id not in seen:
                    seen.add(spec.run_id)
                    specs.append(spec)
    return specs


def run_specs(specs, *, profile: Profile | str | None = None, output="results", command: str = "",
              dry_run: bool = False, log=print, workers: int = 2) -> list[Path]:
    """Run the given runs that are not done yet (their JSON is missing) on the profile's phantom data.

    Parameters
    ----------
    specs : list of RunSpec
    profile : Profile or str, optional
        Default: :func:`rarunet_lib.config.get_profile`'s choice.
    output : path
        Results root; runs go to ``<output>/<profile name>/``.
    command : str
        Command line for provenance.
    dry_run : bool
        Only list what would run.
    log : callable
        Where progress lines go (``print``).
    workers : int
        Processes rendering the phantom.

    Returns
    -------
    list of Path
        The JSON files of all ``specs`` (done before or now).
    """
    from .data import demo_names, load_dataset

    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    folder = Path(output) / profile.name
    todo = [s for s in specs if not (folder / f"{s.run_id}.json").exists()]
    log(f"[{profile.name}] {len(specs)} runs, {len(specs) - len(todo)} done, {len(todo)} to run -> {folder}")
    if dry_run or not todo:
        for s in todo:
            log(f"  would run {s.run_id}")
        return [folder / f"{s.run_id}.json" for s in specs]
    t0 = time.perf_counter()
    data = load_dataset("phantom", profile, seed=1000, workers=workers)
    real = {n: (d.test_images, d.test_masks) for n in demo_names() for d in [load_dataset(n, profile)]}
    log(f"data: {len(data['train_images'])} training, {len(data['test_images'])} test slices at "
        f"{profile.image_size}x{profile.image_size} ({time.perf_counter() - t0:.0f} s)")
    for i, spec in enumerate(todo, 1):
        r = run_one(spec, data, profile, folder, command=command, real=real)
        p = r["test_pooled"]
        log(f"  [{i}/{len(todo)}] {spec.run_id}: IoU {p['iou']:.4f}, recall {p['recall']:.4f} "
            f"({r['wall_seconds']:.0f} s)")
    return [folder / f"{s.run_id}.json" for s in specs]


def select_specs(specs, only=None) -> list[RunSpec]:
    """The runs whose id matches one of the shell-style patterns ``only`` (all of them if ``only`` is empty), in order.

    Parameters
    ----------
    specs : list of RunSpec
    only : sequence of str, optional
        Patterns as :func:`fnmatch.fnmatchcase` reads them (``*`` any text, ``?`` one character),
        matched against the whole run id, e.g. ``"*__b0.25_*"`` for Table 5's two settings at beta 0.25.

    Returns
    -------
    list of RunSpec

    Raises
    ------
    ValueError
        If a pattern matches none of the runs (a typo would otherwise run nothing, silently).

    Example
    -------
    >>> [s.run_id for s in select_specs(table_runs("table4", [0]), ["table4_row[23]*"])]
    ['table4_row3__clean__seed0']
    """
    from fnmatch import fnmatchcase

    specs = list(specs)
    if not only:
        return specs
    if isinstance(only, str):
        raise TypeError(f"only must be a sequence of patterns, got the string {only!r}; write [{only!r}]")
    for pattern in only:
        if not any(fnmatchcase(s.run_id, pattern) for s in specs):
            raise ValueError(f"only: the pattern {pattern!r} matches none of the {len(specs)} runs of these tables "
                             f"and seeds (run ids look like {specs[0].run_id!r})" if specs else
                             f"only: the pattern {pattern!r} matches no run: no runs were given")
    return [s for s in specs if any(fnmatchcase(s.run_id, p) for p in only)]


def run_grid(tables, *, seeds=(0,), only=None, **kwargs) -> list[Path]:
    """Run every run the tables need for every seed (see :func:`run_specs` for the keywords).

    ``only`` keeps the runs whose id matches one of its patterns (:func:`select_specs`).

    Example
    -------
    >>> files = run_grid(["table4"], seeds=[0], profile="cpu", output="/nonexistent", dry_run=True, log=lambda s: None)
    >>> [f.name for f in files][:2]
    ['unet__clean__seed0.json', 'residual_unet__clean__seed0.json']
    """
    return run_specs(select_specs(grid_specs(tables, seeds), only), **kwargs)


def results_dir(profile: str | None = None) -> Path:
    """Where committed results live: ``RARUNET_RESULTS_DIR`` or the repository's ``results/``.

    Parameters
    ----------
    profile : str, optional
        Append the profile's folder (``results/cpu``...).

    Example
    -------
    >>> results_dir("cpu").name
    'cpu'
    """
    import os

    root = Path(os.environ.get("RARUNET_RESULTS_DIR") or Path(__file__).resolve().parents[1] / "results")
    return root / profile if profile else root


def load_predictions(json_path, size: int) -> dict[str, np.ndarray]:
    """The thresholded predictions a run saved beside its JSON: ``test`` and ``real__<name>``, (n, size, size) bool.

    Parameters
    ----------
    json_path : path
        The run's JSON file (the ``.npz`` beside it is read).
    size : int
        Image width the run used (``result["data"]["image_size"]``).
    """
    out = {}
    with np.load(Path(json_path).with_suffix(".npz")) as z:
        for key in z.files:
            name = "test" if key == "test_pred" else key.replace("real_pred__", "real__")
            out[name] = np.unpackbits(z[key], axis=-1)[..., :size].astype(bool)
    return out


def load_results(folder) -> dict[str, dict]:
    """Every run JSON in a folder, by run id (an empty dict if there is none).

    Example
    -------
    >>> load_results("/nonexistent")
    {}
    """
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {p.stem: _read_result(p) for p in sorted(folder.glob("*.json"))}


def _read_result(path: Path) -> dict:
    """One run's JSON; a truncated or foreign file is refused with its name."""
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable result file ({err}); delete it to run that run again") from err
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: a result file holds a JSON object, got {type(doc).__name__}")
    return doc

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

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .config import Profile, available_profiles, get_profile
from .fileio import atomic_write_json, atomic_write_npz, json_safe

__all__ = [
    "RunSpec",
    "TABLES",
    "TABLE5_SETTINGS",
    "TABLE5_MODELS",
    "table_runs",
    "run_one",
    "grid_specs",
    "run_specs",
    "run_grid",
    "load_results",
    "load_predictions",
    "results_dir",
    "add_experiment_arguments",
    "experiments_command",
]

#: Table 5's four settings as (proportion beta, level alpha), in the paper's order.
TABLE5_SETTINGS: tuple[tuple[float, float], ...] = ((0.75, 0.68), (0.50, 0.77), (0.25, 0.85), (0.25, 0.55))
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


@dataclass(frozen=True)
class RunSpec:
    """One training run of the grid.

    Parameters
    ----------
    model : str
        Registry name (:func:`rarunet_lib.models.available_models`).
    seed : int
        Seed of the weights, split, order, rotations and noise.
    table4_row : int, optional
        For Table 4 rows 3, 5 and 6, which have no registry name: the row whose
        flags configure ``rar_unet``.
    noise_beta, noise_alpha : float
        Proportion and level of label noise (``noise_beta=0``: clean labels).
    adl : bool
        Adaptive denoising learning.
    adl_ranking : str, optional
        ADL's ranking when it is not the default (``TrainConfig.adl_ranking``):
        ``"random"`` is the control arm that leaves out as many masks as ADL,
        chosen at random. Named in the run id.

    Example
    -------
    >>> RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.77, adl=True).run_id
    'unet__b0.50_a0.77__adl__seed0'
    >>> RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.77, adl=True, adl_ranking="random").run_id
    'unet__b0.50_a0.77__adl-random__seed0'
    """

    model: str
    seed: int
    table4_row: int | None = None
    noise_beta: float = 0.0
    noise_alpha: float | None = None
    adl: bool = False
    adl_ranking: str | None = None

    def __post_init__(self):
        if self.noise_beta and self.noise_alpha is None:
            raise ValueError(f"noise_beta={self.noise_beta} needs noise_alpha")
        if self.adl and not self.noise_beta:
            raise ValueError("adl=True needs noisy labels (noise_beta > 0)")
        if self.adl_ranking is not None:
            from .adl import RANKINGS

            if not self.adl:
                raise ValueError(f"adl_ranking={self.adl_ranking!r} needs adl=True")
            if self.adl_ranking not in RANKINGS:
                raise ValueError(f"adl_ranking={self.adl_ranking!r} is not allowed; use one of {RANKINGS}")

    @property
    def run_id(self) -> str:
        """File stem: model, noise, ADL and seed."""
        name = f"table4_row{self.table4_row}" if self.table4_row is not None else self.model
        noise = "clean" if not self.noise_beta else f"b{self.noise_beta:.2f}_a{self.noise_alpha:.2f}"
        arm = ("adl" if self.adl_ranking is None else f"adl-{self.adl_ranking}") if self.adl else "noadl"
        return f"{name}__{noise}__{arm}__seed{self.seed}".replace("__noadl", "")

    def model_kwargs(self) -> dict:
        """Keyword arguments for the model builder (Table 4 rows 3, 5, 6)."""
        if self.table4_row is None:
            return {}
        from .models import TABLE4_ROWS

        spec = dict(TABLE4_ROWS[self.table4_row - 1])
        spec.pop("row")
        spec.pop("params")
        spec.setdefault("respath_input", "concat")
        return spec


def table_runs(table: str, seeds) -> list[RunSpec]:
    """The runs a table needs, seed by seed.

    Parameters
    ----------
    table : {"table1", "table4", "table5", "adlcontrol"}
        ``"adlcontrol"`` is not a table of the paper: Table 5's ADL runs with
        the masks left out chosen at random (``adl_ranking="random"``), the
        control that tells ADL's choice apart from leaving masks out at all.
    seeds : iterable of int

    Returns
    -------
    list of RunSpec

    Example
    -------
    >>> len(table_runs("table4", [0])), len(table_runs("table5", [0, 1])), len(table_runs("adlcontrol", [0]))
    (7, 48, 12)
    """
    seeds = [int(s) for s in seeds]
    if table == "table4":
        return [RunSpec(_TABLE4_NAMES[r], s) if r in _TABLE4_NAMES else RunSpec("rar_unet", s, table4_row=r)
                for s in seeds for r in range(1, 8)]
    if table == "table5":
        return [RunSpec(m, s, noise_beta=b, noise_alpha=a, adl=adl)
                for s in seeds for (b, a) in TABLE5_SETTINGS for m in TABLE5_MODELS.values() for adl in (False, True)]
    if table == "table1":
        return [RunSpec(m, s) for s in seeds for m in TABLE1_MODELS.values()]
    if table == "adlcontrol":
        return [RunSpec(m, s, noise_beta=b, noise_alpha=a, adl=True, adl_ranking="random")
                for s in seeds for (b, a) in TABLE5_SETTINGS for m in TABLE5_MODELS.values()]
    raise ValueError(f"table={table!r} is not allowed; use one of {sorted(TABLES)}")


TABLES = ("table1", "table4", "table5", "adlcontrol")


def _per_slice(gt, pred, spacing) -> dict[str, list]:
    from . import metrics

    rows = [metrics.evaluate_pair(g, p, spacing=spacing) for g, p in zip(gt, pred, strict=True)]
    return {k: [r[k] for r in rows] for k in metrics.MEASURES}


def run_one(spec: RunSpec, data: dict, profile: Profile, output: Path, *, command: str = "",
            real: dict | None = None) -> dict:
    """Train and score one run, write ``<run_id>.json`` and ``<run_id>.npz`` atomically.

    The model tested is the one of the epoch with the best validation Dice
    (``selected_epoch`` in the JSON); the last epoch's model is scored too
    (``test_pooled_last_epoch``).

    Parameters
    ----------
    spec : RunSpec
    data : dict
        From :func:`rarunet_lib.cli.load_dataset`.
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
        What was written to the JSON file.
    """
    import keras

    from . import metrics
    from .cli import predict_masks
    from .models import count_trainable
    from .noise import make_noisy_labels
    from .provenance import provenance
    from .train import TrainConfig, Trainer, fit_best

    keras.backend.clear_session()
    t0 = time.perf_counter()
    masks, manifest = data["train_masks"], []
    if spec.noise_beta:
        masks, manifest = make_noisy_labels(data["train_masks"], alpha=spec.noise_alpha, beta=spec.noise_beta,
                                            seed=spec.seed)
    ranking = {"adl_ranking": spec.adl_ranking} if spec.adl_ranking else {}
    config = TrainConfig(model=spec.model, seed=spec.seed, adl=spec.adl,
                         noise_alpha=spec.noise_alpha if spec.adl else None,
                         noise_beta=spec.noise_beta if spec.adl else None, progress=False,
                         model_kwargs=spec.model_kwargs(), **ranking, **profile.train_kwargs())
    trainer = Trainer(config, data["train_images"], masks, noisy_indices=[e["index"] for e in manifest])
    # Model selection on the validation split (see fit_best); the last epoch's model is scored too.
    best_epoch, best_dice = fit_best(trainer)
    history = trainer.history
    train_s = time.perf_counter() - t0
    pred = predict_masks(trainer.model, data["test_images"], batch_size=32)
    best_weights = trainer.model.get_weights()
    trainer.model.set_weights(trainer.last_epoch_weights)
    last_pred = predict_masks(trainer.model, data["test_images"], batch_size=32)
    trainer.model.set_weights(best_weights)
    sp = data["test_spacing"]
    result = {
        "provenance": provenance(seed=spec.seed, command=command.split() if command else None, profile=profile.name),
        "run_id": spec.run_id,
        "spec": asdict(spec),
        "profile": profile.as_dict(),
        "params": count_trainable(trainer.model),
        "data": {"source": data["source"], "n_train": int(len(masks)), "n_test": int(len(pred)),
                 "image_size": int(data["test_images"].shape[1]), "pixel_mm": float(sp[0]),
                 "noisy_masks": len(manifest),
                 "achieved_alpha_mean": (float(np.mean([e["achieved_alpha"] for e in manifest]))
                                         if manifest else None)},
        "history": [{k: v for k, v in e.items() if k != "excluded"} for e in history["epochs"]],
        "train_seconds": train_s,
        "selected_epoch": best_epoch,
        "selected_val_dice": best_dice,
        "test_pooled": metrics.evaluate(data["test_masks"], pred, aggregate="pooled", spacing=sp),
        "test_pooled_last_epoch": metrics.evaluate(data["test_masks"], last_pred, aggregate="pooled", spacing=sp),
        "test_pooled_pixels": metrics.evaluate(data["test_masks"], pred, aggregate="pooled"),
        "test_per_slice": _per_slice(data["test_masks"], pred, None),
        "real": {},
    }
    arrays = {"test_pred": np.packbits(pred.astype(bool), axis=-1)}
    for name, (rx, ry) in (real or {}).items():
        rp = predict_masks(trainer.model, rx, batch_size=32)
        result["real"][name] = metrics.evaluate(ry, rp, aggregate="pooled")
        arrays[f"real_pred__{name}"] = np.packbits(rp.astype(bool), axis=-1)
    if spec.adl:
        # Which masks ADL left out, in the numbering of the fitted masks (the
        # training split minus validation), with every fitted mask's size, so
        # that what the loss ranking favours can be studied (report.adl_exclusion_sizes).
        fitted = trainer.train_idx
        result["adl"] = {
            "excluded": [list(e) for e in trainer.excluded],
            "noisy": [int(i) for i in (trainer.noisy if trainer.noisy is not None else [])],
            **{key: np.count_nonzero(np.asarray(m)[fitted].reshape(len(fitted), -1), axis=1).tolist()
               for key, m in (("area_clean", data["train_masks"]), ("area_trained", masks))},
        }
    result["wall_seconds"] = time.perf_counter() - t0
    result = json_safe(result)
    output.mkdir(parents=True, exist_ok=True)
    atomic_write_npz(output / f"{spec.run_id}.npz", **arrays)
    atomic_write_json(output / f"{spec.run_id}.json", result)  # last: its presence marks the run done
    return result


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
    from .cli import load_dataset

    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    folder = Path(output) / profile.name
    todo = [s for s in specs if not (folder / f"{s.run_id}.json").exists()]
    log(f"[{profile.name}] {len(specs)} runs, {len(specs) - len(todo)} done, {len(todo)} to run -> {folder}")
    if dry_run or not todo:
        for s in todo:
            log(f"  would run {s.run_id}")
        return [folder / f"{s.run_id}.json" for s in specs]
    from .data import demo_names, load_demo, preprocess

    t0 = time.perf_counter()
    data = load_dataset("phantom", profile, seed=1000, workers=workers)
    real = {n: preprocess(load_demo(n), profile.image_size) for n in demo_names()}
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
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def add_experiment_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("tables", nargs="+", choices=TABLES,
                   help="which tables' runs to do (table1: 2-D models; table4: the seven architecture rows; "
                        "table5: noise settings x models x ADL; adlcontrol: Table 5's ADL runs with the masks "
                        "left out at random, a control)")
    p.add_argument("--profile", default=None, choices=available_profiles(),
                   help="run profile (image size, data, epochs); default: RARUNET_PROFILE, else full with a GPU "
                        "and quick without")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds; every run is repeated for each")
    p.add_argument("--output", type=Path, default=Path("results"),
                   help="results root; runs are written to OUTPUT/<profile>/<run id>.json")
    p.add_argument("--only", nargs="+", metavar="PATTERN", default=None,
                   help="run only the runs whose id matches one of these shell-style patterns, e.g. "
                        "'*__b0.25_*' (quote them); --dry-run lists the ids")
    p.add_argument("--dry-run", action="store_true", help="list the runs still to do and stop")


def experiments_command(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from .config import seed_everything

    seed_everything(0, deterministic="cpu")  # the same numbers on CPU (cheap there), not on a GPU (slow there)
    run_grid(args.tables, profile=args.profile, seeds=args.seeds, output=args.output, only=args.only,
             command="python -m rarunet_lib " + shlex.join(sys.argv[1:]), dry_run=args.dry_run)
    return 0

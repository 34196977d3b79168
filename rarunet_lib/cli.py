"""The command line: parse the arguments, call the library, print (``python -m rarunet_lib --help``).

Nothing in the library imports this module; :mod:`rarunet_lib.__main__` is its only caller.

Quiet by default: TensorFlow's start-up lines (oneDNN, absl, CUDA probing)
are switched off before TensorFlow is imported; ``--verbose`` or
``RARUNET_VERBOSE=1`` keeps them.  An expected error (a missing or unreadable
file, a bad value, an output that cannot be written) is one line on stderr
and exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from .adl import RANKINGS, SCHEDULES
from .config import available_profiles, get_profile
from .data.dataset import TRAIN_SOURCES
from .device import PRECISIONS
from .train_config import ADL_FIRST_EPOCHS, LR_SCHEDULES, STRATEGIES

__all__ = ["build_parser", "main", "VERBOSE_ENV_VAR"]

#: Set to 1 to keep TensorFlow's start-up log lines (as ``--verbose``).
VERBOSE_ENV_VAR = "RARUNET_VERBOSE"
#: Errors a command expects (bad values, files missing, unreadable or unwritable): one line, exit status 2.
_EXPECTED_ERRORS = (ValueError, TypeError, OSError)

#: TrainConfig's default ranking: the run id names only the others.
_DEFAULT_RANKING = "normalised_cumulative"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; give an integer > 0") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not allowed; give an integer > 0")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a number > 0") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not allowed; give a finite number > 0")
    return value


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    from .models import available_models

    p.add_argument("--model", default="rar_unet", choices=available_models(),
                   help="network to train (Table 4 rows: unet=1, residual_unet=2, attention_unet_cbam=4, rar_unet=7)")
    p.add_argument("--profile", default=None, choices=available_profiles(),
                   help="run profile; default: RARUNET_PROFILE, else full with a GPU and quick without")
    p.add_argument("--data", default="phantom", choices=TRAIN_SOURCES,
                   help="training data: the synthetic phantom, or the paper's CSI 2014 scans from RARUNET_DATA_DIR")
    p.add_argument("--noise-alpha", type=float, default=None,
                   help="noise level alpha in (0, 1]: Dice overlap of each noisy mask with its clean one "
                        "(needs --noise-beta)")
    p.add_argument("--noise-beta", type=float, default=None,
                   help="proportion beta in [0, 1] of training masks to corrupt (needs --noise-alpha)")
    p.add_argument("--noise-kinds", nargs="+", default=["erosion", "dilation", "elastic"],
                   help="noise kinds, assigned in equal shares")
    p.add_argument("--adl", action="store_true", help="use adaptive denoising learning (Eq. 5)")
    p.add_argument("--adl-ranking", default="normalised_cumulative", choices=RANKINGS,
                   help="how ADL ranks samples as likely noisy ('random': a control that leaves out as many, "
                        "by chance; what each assumes: rarunet_lib.adl_rankings)")
    p.add_argument("--adl-schedule", default="eq5", choices=SCHEDULES,
                   help="how many masks sit out: Eq. 5 (the paper) or a co-teaching forget rate that grows to "
                        "beta x masks over half the epochs (left-out masks weigh 0 in the loss)")
    p.add_argument("--adl-first-epoch", default="train_all", choices=ADL_FIRST_EPOCHS,
                   help="epoch 1 has no losses yet: train on all samples, or rank by one forward pass first")
    p.add_argument("--epochs", type=_positive_int, default=None, help="override the profile's epochs")
    p.add_argument("--batch-size", type=_positive_int, default=None, help="override the profile's batch size")
    p.add_argument("--learning-rate", type=_positive_float, default=None, help="override the profile's Adam learning rate")
    p.add_argument("--lr-schedule", default="constant", choices=LR_SCHEDULES,
                   help="learning-rate schedule (constant: the paper's; cosine decays to 1 %% over the epochs)")
    p.add_argument("--bn-recalibration", action="store_true",
                   help="recompute the BatchNorm statistics from each epoch's training batches before validating")
    p.add_argument("--image-size", type=_positive_int, default=None, help="override the profile's image size (multiple of 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, split, order, rotations, noise and phantom")
    p.add_argument("--mixed-precision", default="auto", choices=PRECISIONS,
                   help="auto: bfloat16 on Ampere/Hopper GPUs, off on CPU")
    p.add_argument("--jit-compile", default="auto", choices=["auto", "on", "off"], help="XLA (auto: GPU only)")
    p.add_argument("--steps-per-execution", type=_positive_int, default=1, help="training steps per tf.function call (GPU: 16-64)")
    p.add_argument("--strategy", default="default", choices=STRATEGIES,
                   help="tf.distribute strategy: mirrored = all GPUs of this machine")
    p.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs to OUTPUT/tensorboard")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--resume", action="store_true", help="continue the run in --output from its last checkpoint")
    p.add_argument("--output", required=True, type=Path, help="run folder (created if missing)")


def add_experiment_arguments(p: argparse.ArgumentParser) -> None:
    from .experiments import TABLES

    p.add_argument("tables", nargs="+", choices=TABLES,
                   help="which tables' runs to do (table1: 2-D models; table4: the seven architecture rows; "
                        "table5: noise settings x models x ADL; adlcontrol: Table 5's ADL runs with the masks "
                        "left out at random, a control; adlscores, adlbest, adlforget, adlforgetcontrol: the U-Net "
                        "ADL study of chapter 6, every ranking scored every epoch)")
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


def _check_train_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse flag combinations that would silently train something else than asked."""
    if (args.noise_alpha is None) != (args.noise_beta is None):
        given, missing = ("--noise-alpha", "--noise-beta") if args.noise_beta is None else ("--noise-beta",
                                                                                             "--noise-alpha")
        parser.error(f"{given} needs {missing}: give both (the level alpha and the proportion beta) or neither")
    if args.adl and not args.noise_beta:
        parser.error("--adl needs noisy labels: give --noise-alpha and --noise-beta > 0")
    if args.adl_ranking != _DEFAULT_RANKING and not args.adl:
        parser.error(f"--adl-ranking {args.adl_ranking} needs --adl")
    if args.adl_schedule != "eq5" and not args.adl:
        parser.error(f"--adl-schedule {args.adl_schedule} needs --adl")


def train_command(args: argparse.Namespace) -> int:
    """Train and score one model into the run folder ``--output`` (see :func:`rarunet_lib.recipe.train_and_score`)."""
    from .config import seed_everything
    from .data import load_dataset
    from .recipe import RunSpec, check_writable, train_and_score, train_config

    profile = get_profile(args.profile)
    seed_everything(args.seed, deterministic="cpu")  # CPU: the same seed gives the same numbers
    settings = {"adl_first_epoch": args.adl_first_epoch, "mixed_precision": args.mixed_precision,
                "jit_compile": {"auto": "auto", "on": True, "off": False}[args.jit_compile],
                "steps_per_execution": args.steps_per_execution, "strategy": args.strategy,
                "tensorboard": args.tensorboard, "progress": not args.no_progress, "lr_schedule": args.lr_schedule}
    settings.update({k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                       ("learning_rate", args.learning_rate)) if v is not None})
    if args.bn_recalibration:
        settings["bn_recalibration"] = True
    try:
        spec = RunSpec(args.model, args.seed, noise_beta=args.noise_beta or 0.0, noise_alpha=args.noise_alpha,
                       adl=args.adl, adl_ranking=None if args.adl_ranking == _DEFAULT_RANKING else args.adl_ranking,
                       adl_schedule=None if args.adl_schedule == "eq5" else args.adl_schedule)
        train_config(spec, profile, **settings)  # refuse a bad configuration before loading data
        check_writable(args.output, name="--output")
        data = load_dataset(args.data, profile, seed=1000 + args.seed, size=args.image_size)
    except ValueError as e:
        print(f"python -m rarunet_lib train: error: {e}", file=sys.stderr)
        return 2
    finished = args.resume and (args.output / "result.json").exists()  # written once, after the last epoch
    result = train_and_score(spec, data, profile, output=args.output / "result.json", run_folder=args.output,
                             resume=args.resume, settings=settings, noise_kinds=args.noise_kinds,
                             model_output=args.output, command="python -m rarunet_lib " + shlex.join(sys.argv[1:]))
    pooled = result.test_pooled
    if finished:
        print(f"{args.output} holds a finished run: nothing trained, nothing written. Its result:")
    print(f"{args.model} [{profile.name}] test Dice {pooled['dice']:.4f}, IoU {pooled['iou']:.4f}, "
          f"recall {pooled['recall']:.4f} at epoch {result.selected_epoch} (best validation Dice "
          f"{result.selected_val_dice:.4f}) -> {args.output / 'result.json'}, model {args.output / 'model.keras'}")
    return 0


def experiments_command(args: argparse.Namespace) -> int:
    """Run the grid's runs that are not done yet (see :func:`rarunet_lib.experiments.run_grid`)."""
    from .config import seed_everything
    from .experiments import run_grid

    seed_everything(0, deterministic="cpu")  # the same numbers on CPU (cheap there), not on a GPU (slow there)
    try:
        run_grid(args.tables, profile=args.profile, seeds=args.seeds, output=args.output, only=args.only,
                 command="python -m rarunet_lib " + shlex.join(sys.argv[1:]), dry_run=args.dry_run)
    except ValueError as e:  # e.g. an --only pattern that matches no run
        print(f"python -m rarunet_lib experiments: error: {e}", file=sys.stderr)
        return 2
    return 0


def add_segment_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path,
                   help="the CT scan: a NIfTI (.nii.gz, .nii), MetaImage (.mha, .mhd) or NRRD file, or a folder "
                        "holding one DICOM series")
    p.add_argument("--model", required=True, type=Path,
                   help="a run folder of the train command (holding model.keras and model.json) or a .keras file")
    p.add_argument("--output", required=True, type=Path,
                   help="the mask to write, on the input's grid (size, spacing, origin, direction): 0/1 uint8; "
                        "the format follows the ending (.nii.gz, .nii, .mha, .mhd)")
    p.add_argument("--probabilities", type=Path, default=None,
                   help="also write the foreground probabilities (float32) to this file")
    p.add_argument("--reference", type=Path, default=None,
                   help="a reference label map of the same scan (any id > 0 is vertebra): print Dice, HD, HD95 "
                        "and ASSD (mm) of the mask against it")
    p.add_argument("--reference-ids", type=int, nargs="+", default=None, metavar="ID",
                   help="the ids of the reference that count as vertebra (default: every id > 0; "
                        "TotalSegmentator's multi-organ maps: 26 ... 50)")
    p.add_argument("--batch-size", type=_positive_int, default=16, help="slices per forward pass")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _check_output_path(path: Path, name: str) -> None:
    """Refuse an output with an ending save_mask cannot write, or in a place that cannot be written."""
    from .data.io import MASK_SUFFIXES
    from .recipe import check_writable

    if not any(path.name.lower().endswith(s) for s in MASK_SUFFIXES):
        raise ValueError(f"{name}={str(path)!r} is not allowed; give a file name ending in one of "
                         f"{', '.join(MASK_SUFFIXES)}")
    check_writable(path, name=name, file=True)


def segment_command(args: argparse.Namespace) -> int:
    """Segment a scan with an exported model (see :func:`rarunet_lib.inference.segment_case`)."""
    from .data import load_case
    from .data.io import save_mask

    _check_output_path(args.output, "--output")  # refused before the model is loaded or anything computed
    if args.probabilities is not None:
        _check_output_path(args.probabilities, "--probabilities")
    if args.reference_ids is not None and args.reference is None:
        raise ValueError("--reference-ids needs --reference: the ids are those of the reference label map")
    try:  # the loader's messages name its arguments; say the command's
        case = load_case(args.input, args.reference, keep_labels=args.reference_ids)
    except (ValueError, OSError) as err:
        text = str(err).replace("image_path=", "INPUT=", 1).replace("labels=", "--reference=", 1)
        raise type(err)(text) from err
    from .export import load_model
    from .inference import segment_case

    model, card = load_model(args.model, name="--model")
    prob, mask = segment_case(case, model, window=card.get("window"), batch_size=args.batch_size,
                              progress=not args.no_progress)
    save_mask(args.output, mask, like=case)
    if args.probabilities is not None:
        save_mask(args.probabilities, prob, like=case, dtype="float32")
    sp = case.spacing
    print(f"{case.name}: {case.hu.shape[2]}x{case.hu.shape[1]}x{case.hu.shape[0]} voxels of "
          f"{sp[2]:.3g}x{sp[1]:.3g}x{sp[0]:.3g} mm -> {args.output} ({int(mask.sum())} voxels of vertebra)")
    if args.reference is not None:
        from .volume_metrics import format_measures, volume_measures

        print(f"against {args.reference}: {format_measures(volume_measures(case.mask, mask, sp))}")
    return 0


def _add_common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--verbose", action="store_true",
                   help=f"keep TensorFlow's start-up log lines (also: {VERBOSE_ENV_VAR}=1)")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return p


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m rarunet_lib`` with its ``train``, ``experiments`` and ``segment`` commands."""
    parser = argparse.ArgumentParser(
        prog="python -m rarunet_lib",
        description="RAR-U-Net book: train segmentation models under noisy labels, reproduce the paper's tables, "
                    "segment your own scan.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_arguments(sub.add_parser(
        "train", help="train one model (optionally on noisy labels, with ADL) and score it on the test set",
        description="Train one model on phantom or CSI 2014 data, optionally with synthetic label noise and "
                    "adaptive denoising learning (ADL); writes config.json, history.json, checkpoints, the noise "
                    "manifest, result.json (the experiment grid's result: the best validation epoch's test "
                    "metrics, the last epoch's too, with provenance) and the best validation epoch's model "
                    "(model.keras, with model.json: what it expects, where it comes from) to --output, "
                    "ready for the segment command.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter))
    add_experiment_arguments(sub.add_parser(
        "experiments", help="run the paper's experiment grids (Tables 1, 4, 5), resumable, one JSON per run",
        description="Train and score every run the named tables need, for every seed, on the profile's phantom "
                    "data; each run writes OUTPUT/<profile>/<run id>.json (configuration, provenance, history, "
                    "per-slice and pooled test metrics, scores on the real CT samples) and a .npz of its "
                    "predictions (no model files: train one with the train command to keep its model). Runs "
                    "already done are skipped, so an interrupted grid resumes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter))
    add_segment_arguments(sub.add_parser(
        "segment", help="segment a CT scan (NIfTI, MetaImage, DICOM folder) with a trained model",
        description="Apply a model written by the train command to a CT scan: the scan is preprocessed as the "
                    "training slices were (HU window, padded to square, resized to the model's input), segmented "
                    "slice by slice and the mask put back on the scan's own grid (size, spacing, origin, "
                    "direction), written as a 0/1 label image. With --reference, prints Dice, HD, HD95 and ASSD "
                    "in mm.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter))
    for p in sub.choices.values():
        _add_common(p)
    return parser


def _quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up lines on the terminal (call before anything imports it).

    ``TF_CPP_MIN_LOG_LEVEL=3`` and absl's verbosity silence what TensorFlow logs
    once it runs; the lines its C++ core writes while loading (oneDNN, "All log
    messages before absl::InitializeLog()") ignore both, so the process's
    stderr is pointed at /dev/null for the import alone.  An import error
    is raised after stderr is back.
    """
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if "tensorflow" in sys.modules:
        return
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: the process's arguments) and run the command; returns the exit status.

    An expected error (:data:`_EXPECTED_ERRORS`) is printed as one line on
    stderr and gives status 2; with ``--debug`` it is raised.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--verbose" not in argv and os.environ.get(VERBOSE_ENV_VAR, "") in ("", "0"):
        _quiet_tensorflow()  # before the parser, which imports the models (and so TensorFlow)
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"train": train_command, "experiments": experiments_command, "segment": segment_command}
    if args.command == "train":
        _check_train_args(parser, args)
    try:
        return commands[args.command](args)
    except _EXPECTED_ERRORS as err:
        if args.debug:
            raise
        print(f"python -m rarunet_lib {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2

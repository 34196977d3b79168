"""Command line: ``python -m rarunet_lib train ...`` (see ``--help``)."""

from __future__ import annotations

import argparse
import sys

from .cli import train_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rarunet_lib",
        description="RAR-U-Net book: train segmentation models under noisy labels and reproduce the paper's tables.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    from .cli import add_train_arguments

    add_train_arguments(sub.add_parser(
        "train", help="train one model (optionally on noisy labels, with ADL) and score it on the test set",
        description="Train one model on phantom or CSI 2014 data, optionally with synthetic label noise and "
                    "adaptive denoising learning (ADL); writes history.json, checkpoints, the noise manifest and "
                    "result.json (test metrics with provenance) to --output.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter))
    from .experiments import add_experiment_arguments, experiments_command

    add_experiment_arguments(sub.add_parser(
        "experiments", help="run the paper's experiment grids (Tables 1, 4, 5), resumable, one JSON per run",
        description="Train and score every run the named tables need, for every seed, on the profile's phantom "
                    "data; each run writes OUTPUT/<profile>/<run id>.json (configuration, provenance, history, "
                    "per-slice and pooled test metrics, scores on the real CT samples) and a .npz of its "
                    "predictions. Runs already done are skipped, so an interrupted grid resumes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter))
    args = parser.parse_args(argv)
    if args.command == "train":
        return train_command(args)
    if args.command == "experiments":
        return experiments_command(args)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())

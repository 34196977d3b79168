"""The ``train`` command and the dataset recipe it shares with the notebooks."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .adl import RANKINGS
from .config import Profile, available_profiles, get_profile
from .fileio import atomic_write_json, json_safe

__all__ = ["load_dataset", "add_train_arguments", "train_command", "predict_masks"]


def load_dataset(source: str, profile: Profile, *, seed: int = 0, size: int | None = None,
                 workers: int = 1) -> dict:
    """Training and test slices, preprocessed, with a patient-wise split.

    Parameters
    ----------
    source : {"phantom", "csi2014"}
        ``"phantom"``: ``profile.n_cases`` synthetic cases (rendered at twice
        the network size, as the paper's 512 -> 256), the last one for testing.
        ``"csi2014"``: the paper's data from ``RARUNET_DATA_DIR``, cases 1-9
        train, case 10 test.
    profile : Profile
    seed : int, default 0
        Seed of the first phantom case.
    size : int, optional
        Network input size (default ``profile.image_size``).
    workers : int, default 1
        Processes for rendering the phantom (the result does not depend on it).

    Returns
    -------
    dict
        ``train_images``, ``train_masks``, ``test_images``, ``test_masks``
        (float32 / uint8 arrays), ``test_spacing`` (in-plane mm after resizing),
        ``source``.

    Example
    -------
    >>> from rarunet_lib.config import get_profile
    >>> d = load_dataset("phantom", get_profile("quick"), size=32)
    >>> d["train_images"].shape[1:], d["test_masks"].dtype.name
    ((32, 32), 'uint8')
    """
    from .data import load_csi2014, prepare, synthetic_dataset

    size = int(size or profile.image_size)
    if source == "phantom":
        if profile.n_cases < 2:
            raise ValueError("the phantom dataset needs at least 2 cases (train and test)")
        cases = synthetic_dataset(profile.n_cases, profile.slices_per_case, min(2 * size, 512), seed=seed,
                                  slice_spacing=profile.slice_spacing, workers=workers)
        train_cases, test_cases = cases[:-1], cases[-1:]
    elif source == "csi2014":
        split = load_csi2014()
        train_cases, test_cases = split["train"], split["test"]
    else:
        raise ValueError(f"source={source!r} is not allowed; use 'phantom' or 'csi2014'")
    x_tr, y_tr, _ = prepare(train_cases, size)
    x_te, y_te, _ = prepare(test_cases, size)
    c = test_cases[0]
    fov = max(c.hu.shape[1] * c.spacing[1], c.hu.shape[2] * c.spacing[2])
    return {"train_images": x_tr, "train_masks": y_tr, "test_images": x_te, "test_masks": y_te,
            "test_spacing": (fov / size, fov / size), "source": source}


def predict_masks(model, images, *, batch_size: int = 16) -> np.ndarray:
    """Threshold a model's predictions at 0.5: (N, H, W) uint8."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    prob = model.predict(x, batch_size=batch_size, verbose=0)
    return (np.asarray(prob)[..., 0] > 0.5).astype(np.uint8)


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    from .models import available_models

    p.add_argument("--model", default="rar_unet", choices=available_models(),
                   help="network to train (Table 4 rows: unet=1, residual_unet=2, attention_unet_cbam=4, rar_unet=7)")
    p.add_argument("--profile", default=None, choices=available_profiles(),
                   help="run profile; default: RARUNET_PROFILE, else full with a GPU and quick without")
    p.add_argument("--data", default="phantom", choices=["phantom", "csi2014"],
                   help="training data: the synthetic phantom, or the paper's CSI 2014 scans from RARUNET_DATA_DIR")
    p.add_argument("--noise-alpha", type=float, default=None,
                   help="noise level alpha in (0, 1]: Dice overlap of each noisy mask with its clean one")
    p.add_argument("--noise-beta", type=float, default=0.0,
                   help="proportion beta in [0, 1] of training masks to corrupt (needs --noise-alpha)")
    p.add_argument("--noise-kinds", nargs="+", default=["erosion", "dilation", "elastic"],
                   help="noise kinds, assigned in equal shares")
    p.add_argument("--adl", action="store_true", help="use adaptive denoising learning (Eq. 5)")
    p.add_argument("--adl-ranking", default="normalised_cumulative", choices=RANKINGS,
                   help="how ADL ranks samples as likely noisy ('random': a control that leaves out as many, "
                        "by chance)")
    p.add_argument("--adl-first-epoch", default="train_all", choices=["train_all", "scoring_pass"],
                   help="epoch 1 has no losses yet: train on all samples, or rank by one forward pass first")
    p.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    p.add_argument("--batch-size", type=int, default=None, help="override the profile's batch size")
    p.add_argument("--learning-rate", type=float, default=None, help="override the profile's Adam learning rate")
    p.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine"],
                   help="learning-rate schedule (constant: the paper's; cosine decays to 1 %% over the epochs)")
    p.add_argument("--bn-recalibration", action="store_true",
                   help="recompute the BatchNorm statistics from each epoch's training batches before validating")
    p.add_argument("--image-size", type=int, default=None, help="override the profile's image size (multiple of 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, split, order, rotations, noise and phantom")
    p.add_argument("--mixed-precision", default="auto", choices=["auto", "off", "bfloat16", "float16"],
                   help="auto: bfloat16 on Ampere/Hopper GPUs, off on CPU")
    p.add_argument("--jit-compile", default="auto", choices=["auto", "on", "off"], help="XLA (auto: GPU only)")
    p.add_argument("--steps-per-execution", type=int, default=1, help="training steps per tf.function call (GPU: 16-64)")
    p.add_argument("--strategy", default="default", choices=["default", "mirrored", "multiworker"],
                   help="tf.distribute strategy: mirrored = all GPUs of this machine")
    p.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs to OUTPUT/tensorboard")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--resume", action="store_true", help="continue the run in --output from its last checkpoint")
    p.add_argument("--output", required=True, type=Path, help="run folder (created if missing)")


def train_command(args: argparse.Namespace) -> int:
    from . import metrics
    from .config import seed_everything
    from .noise import make_noisy_labels, save_manifest
    from .provenance import provenance
    from .train import TrainConfig, Trainer

    profile = get_profile(args.profile)
    seed_everything(args.seed, deterministic="cpu")  # CPU: the same seed gives the same numbers
    size = args.image_size or profile.image_size
    data = load_dataset(args.data, profile, seed=1000 + args.seed, size=size)
    masks, manifest = data["train_masks"], []
    if args.noise_beta > 0:
        if args.noise_alpha is None:
            raise SystemExit("--noise-beta needs --noise-alpha")
        masks, manifest = make_noisy_labels(data["train_masks"], alpha=args.noise_alpha, beta=args.noise_beta,
                                            kinds=tuple(args.noise_kinds), seed=args.seed)
        save_manifest(manifest, args.output / "noise_manifest.json", alpha=args.noise_alpha, beta=args.noise_beta,
                      seed=args.seed, n_masks=int(len(masks)))
    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    settings = profile.train_kwargs()  # the profile's, then what the command line overrides
    settings.update({k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                       ("learning_rate", args.learning_rate)) if v})
    settings["bn_recalibration"] |= args.bn_recalibration
    config = TrainConfig(
        model=args.model, seed=args.seed, adl=args.adl,
        noise_alpha=args.noise_alpha if args.adl else None, noise_beta=args.noise_beta if args.adl else None,
        adl_ranking=args.adl_ranking, adl_first_epoch=args.adl_first_epoch, mixed_precision=args.mixed_precision,
        jit_compile=jit, steps_per_execution=args.steps_per_execution, strategy=args.strategy,
        tensorboard=args.tensorboard, progress=not args.no_progress, lr_schedule=args.lr_schedule, **settings)
    noisy_idx = [e["index"] for e in manifest]
    if args.resume:
        trainer = Trainer.resume(args.output, data["train_images"], masks, noisy_indices=noisy_idx)
    else:
        trainer = Trainer(config, data["train_images"], masks, output=args.output, noisy_indices=noisy_idx)
    history = trainer.fit()
    pred = predict_masks(trainer.model, data["test_images"], batch_size=config.batch_size)
    sp = data["test_spacing"]
    result = {
        "provenance": provenance(seed=args.seed, profile=profile.name),
        "profile": profile.as_dict(),
        "config": history["config"],
        "data": {"source": data["source"], "n_train": int(len(masks)), "n_test": int(len(pred)),
                 "image_size": size, "noisy_masks": len(manifest)},
        "test_pooled": json_safe(metrics.evaluate(data["test_masks"], pred, aggregate="pooled")),
        "test_per_slice": json_safe(metrics.evaluate(data["test_masks"], pred, aggregate="per_slice", spacing=None)),
        "pixel_mm": sp[0],
        "final_epoch": history["epochs"][-1],
    }
    atomic_write_json(args.output / "result.json", result)
    pooled = result["test_pooled"]
    print(f"{args.model} [{profile.name}] test Dice {pooled['dice']:.4f}, IoU {pooled['iou']:.4f}, "
          f"recall {pooled['recall']:.4f} -> {args.output / 'result.json'}")
    return 0

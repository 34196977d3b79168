"""One tiny trained RAR-U-Net with its exported files, trained once per test session (test_export, test_segment)."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import replace
from pathlib import Path

#: 32x32 slices of two short phantom cases, one epoch: seconds on 2 cores.
TINY_SETTINGS = {"image_size": 32, "n_cases": 2, "slices_per_case": 12, "epochs": 1, "batch_size": 4}


@functools.lru_cache(maxsize=1)
def tiny_run():
    """``(result, data, folder)``: a RunResult with its model, the dataset, the folder holding model.keras."""
    from rarunet_lib.config import get_profile
    from rarunet_lib.data import load_dataset
    from rarunet_lib.recipe import RunSpec, train_and_score

    profile = replace(get_profile("quick"), name="tiny", **TINY_SETTINGS)
    data = load_dataset("phantom", profile, seed=1000)
    folder = Path(tempfile.mkdtemp(prefix="rarunet-tiny-model-"))
    result = train_and_score(RunSpec("rar_unet", 0), data, profile, model_output=folder)
    return result, data, folder

"""Data: the synthetic spine-CT phantom, real CT readers, preprocessing, the dataset recipe.

NumPy/SciPy (and SimpleITK for reading files) only; the TensorFlow input
pipeline lives in :mod:`rarunet_lib.data.pipeline` and is not imported here.
"""

from .case import Case
from .dataset import SOURCES, Dataset, dataset_from_cases, load_dataset
from .io import (
    CSI_HU_OFFSET,
    DATA_DIR_ENV_VAR,
    demo_names,
    find_csi2014,
    load_case,
    load_csi2014,
    load_demo,
    samples_dir,
)
from .phantom import LEVEL_NAMES, RANDOMISATIONS, synthetic_case, synthetic_dataset
from .preprocess import (
    DEFAULT_WINDOW,
    MASK_RULES,
    apply_window,
    prepare,
    preprocess,
    resize_masks,
    rotate90,
    stack_neighbours,
    validation_split,
)

__all__ = [
    "SOURCES",
    "Dataset",
    "dataset_from_cases",
    "load_dataset",
    "DEFAULT_WINDOW",
    "LEVEL_NAMES",
    "MASK_RULES",
    "apply_window",
    "prepare",
    "preprocess",
    "resize_masks",
    "rotate90",
    "stack_neighbours",
    "synthetic_case",
    "RANDOMISATIONS",
    "synthetic_dataset",
    "validation_split",
    "CSI_HU_OFFSET",
    "Case",
    "DATA_DIR_ENV_VAR",
    "demo_names",
    "find_csi2014",
    "load_case",
    "load_csi2014",
    "load_demo",
    "samples_dir",
]

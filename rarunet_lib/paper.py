"""The paper's published numbers (Tables 1-5), typed in from the paper for comparison.

Plain data, no dependencies.  Chapters print these beside our results; tests
use them as independent references.
"""

from __future__ import annotations

__all__ = ["TABLE1", "TABLE2", "TABLE3", "TABLE4", "TABLE5", "implied_foreground_fraction"]

#: Table 1: model -> (Dice, accuracy, precision, recall, specificity, parameters in millions).
TABLE1: dict[str, tuple[float, float, float, float, float, float]] = {
    "UNet": (0.8360, 0.9863, 0.8832, 0.7936, 0.9952, 7.26),
    "Residual-UNet": (0.8810, 0.9898, 0.9097, 0.8540, 0.9961, 9.90),
    "Densely-UNet": (0.8316, 0.9860, 0.8832, 0.7857, 0.9952, 15.47),
    "M-UNet": (0.9478, 0.9954, 0.9512, 0.9444, 0.9978, 7.77),
    "M-Densely-UNet": (0.9517, 0.9958, 0.9524, 0.9508, 0.9978, 15.48),
    "VGG16 UNet": (0.9138, 0.9925, 0.9235, 0.9043, 0.9966, 23.75),
    "VGG19 UNet": (0.9024, 0.9914, 0.9029, 0.9019, 0.9955, 29.06),
    "ResNet34 UNet": (0.6626, 0.9689, 0.6333, 0.6947, 0.9815, 24.45),
    "SE-ResNet34 UNet": (0.7306, 0.9762, 0.7265, 0.7347, 0.9873, 24.61),
    "ResNeXt101 UNet": (0.7597, 0.9765, 0.6909, 0.8438, 0.9826, 32.06),
    "DenseNet121 UNet": (0.7982, 0.9811, 0.7526, 0.8498, 0.9872, 12.13),
    "InceptionV3 UNet": (0.8109, 0.9837, 0.8250, 0.7972, 0.9922, 29.93),
    "EfficientNet UNet": (0.8358, 0.9857, 0.8431, 0.8286, 0.9929, 10.11),
    "MultiRes UNet": (0.8542, 0.9864, 0.8094, 0.9043, 0.9902, 7.76),
    "3D UNet": (0.8078, 0.9874, 0.7788, 0.8390, 0.9922, 22.58),
    "3D Residual-UNet": (0.7757, 0.9850, 0.7360, 0.8198, 0.9904, 28.15),
    "3D Densely-UNet": (0.7921, 0.9860, 0.7450, 0.8456, 0.9906, 44.78),
    "3D Attention UNet": (0.8623, 0.9870, 0.8129, 0.9182, 0.9902, 22.60),
    "LinkNet": (0.8958, 0.9908, 0.8919, 0.8999, 0.9950, 20.32),
    "FPN": (0.8804, 0.9893, 0.8675, 0.8936, 0.9937, 17.59),
    "RAR-U-Net": (0.9580, 0.9963, 0.9605, 0.9554, 0.9982, 11.79),
}

#: Table 2: RAR-U-Net distances (pixels) and |RVD|.
TABLE2: dict[str, float] = {"hd": 10.0110, "assd": 0.8221, "rvd": 0.0518}

#: Table 3: RAR-U-Net boundary Dice family.
TABLE3: dict[str, float] = {"dbd_g": 0.8425, "dbd_m": 0.8564, "sbd": 0.8465}

#: Table 4: row -> (IoU, recall, trainable parameters).
TABLE4: dict[int, tuple[float, float, int]] = {
    1: (0.7182, 0.8832, 7_762_465),
    2: (0.7873, 0.8540, 9_899_625),
    3: (0.9119, 0.9549, 8_912_673),
    4: (0.8927, 0.9406, 7_785_157),
    5: (0.9070, 0.9481, 9_922_317),
    6: (0.9126, 0.9535, 11_049_833),
    7: (0.9193, 0.9605, 11_794_125),
}

#: Table 5: (level alpha, proportion beta, model, ADL) -> (IoU, recall).
TABLE5: dict[tuple[float, float, str, bool], tuple[float, float]] = {
    (0.68, 0.75, "U-Net", False): (0.6445, 0.7303),
    (0.68, 0.75, "U-Net", True): (0.6742, 0.8072),
    (0.68, 0.75, "Residual-UNet", False): (0.7732, 0.9097),
    (0.68, 0.75, "Residual-UNet", True): (0.8138, 0.9462),
    (0.68, 0.75, "Attention-UNet", False): (0.7809, 0.8823),
    (0.68, 0.75, "Attention-UNet", True): (0.8087, 0.9142),
    (0.77, 0.50, "U-Net", False): (0.7523, 0.8420),
    (0.77, 0.50, "U-Net", True): (0.8522, 0.9295),
    (0.77, 0.50, "Attention-UNet", False): (0.8464, 0.9201),
    (0.77, 0.50, "Attention-UNet", True): (0.8561, 0.9283),
    (0.85, 0.25, "Residual-UNet", False): (0.8615, 0.9051),
    (0.85, 0.25, "Residual-UNet", True): (0.8868, 0.9433),
    (0.85, 0.25, "Dense-UNet", False): (0.8443, 0.9378),
    (0.85, 0.25, "Dense-UNet", True): (0.8864, 0.9424),
    (0.55, 0.25, "U-Net", False): (0.8024, 0.8698),
    (0.55, 0.25, "U-Net", True): (0.8304, 0.9176),
    (0.55, 0.25, "Residual-UNet", False): (0.8230, 0.8956),
    (0.55, 0.25, "Residual-UNet", True): (0.8495, 0.9126),
}


def implied_foreground_fraction(accuracy: float, recall: float, specificity: float) -> float:
    """Foreground fraction pi implied by pooled accuracy, recall and specificity.

    Pooled over all pixels, accuracy = pi * recall + (1 - pi) * specificity,
    so pi = (accuracy - specificity) / (recall - specificity).

    Example
    -------
    >>> round(implied_foreground_fraction(0.9963, 0.9554, 0.9982), 4)
    0.0444
    """
    return (accuracy - specificity) / (recall - specificity)

"""Shared test set-up: quiet TensorFlow, headless matplotlib, quick profile."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RARUNET_PROFILE", "quick")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

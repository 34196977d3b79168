"""Training throughput of RAR-U-Net (and U-Net) at 256x256, batch 8, on a GPU.

Target (issue): at least 1,500 images/s on one H100, so that 50 paper epochs of
5,043 slices take under 3 minutes (the paper: 1000-1200 minutes on an RTX 2080 Ti).

The device machines of this workplace have JAX with CUDA but no TensorFlow (its
wheel is far larger than what can be carried there), so this benchmark runs the
library's Keras 3 models and Dice loss on Keras's JAX backend (XLA-compiled by
construction).  Set KERAS_BACKEND=tensorflow to run it with TensorFlow instead.

Run: KERAS_BACKEND=jax python benchmarks/bench_train_gpu.py [--quick] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from rarunet_lib.losses import DiceLoss  # noqa: E402
from rarunet_lib.models import build, count_trainable  # noqa: E402


def device_name() -> str:
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        d = jax.devices()[0]
        return f"{d.platform}:{getattr(d, 'device_kind', d)}"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "CPU"
    return backend


def measure(model_name, *, precision, jit, spe, n, epochs, size, batch):
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    model = build(model_name, (size, size, 1))
    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=DiceLoss(), jit_compile=jit, steps_per_execution=spe)
    rng = np.random.default_rng(0)
    x = rng.random((n, size, size, 1), dtype=np.float32)
    y = (rng.random((n, size, size, 1)) > 0.956).astype(np.float32)
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)  # compile + warm-up
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    hist = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=False)
    dt = time.perf_counter() - t0
    return {
        "model": model_name, "params": count_trainable(model), "precision": precision, "xla": bool(jit),
        "steps_per_execution": spe, "batch": batch, "size": size, "images": n * epochs,
        "seconds": dt, "images_per_s": n * epochs / dt, "first_epoch_s": t_compile,
        "final_loss": float(hist.history["loss"][-1]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny smoke run (any machine)")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    size, n, epochs = (64, 64, 1) if args.quick else (256, 4096, 3)
    runs = [
        ("rar_unet", "mixed_bfloat16", True, 64),
        ("rar_unet", "float32", True, 64),
        ("unet", "mixed_bfloat16", True, 64),
    ]
    if args.quick:
        runs = runs[:1]
    results = {"backend": keras.backend.backend(), "keras": keras.__version__, "device": device_name(),
               "python": platform.python_version(), "runs": []}
    print(f"Keras {keras.__version__} on {results['backend']}, device {results['device']}")
    for name, prec, jit, spe in runs:
        r = measure(name, precision=prec, jit=jit, spe=spe, n=n, epochs=epochs, size=size, batch=8)
        results["runs"].append(r)
        print(f"{name:9} {prec:15} XLA={jit} spe={spe}: {r['images_per_s']:8.1f} img/s "
              f"({r['images']} images in {r['seconds']:.1f} s; first epoch incl. compile {r['first_epoch_s']:.1f} s)")
        paper = 50 * 5043 / r["images_per_s"] / 60
        print(f"          50 paper epochs of 5,043 slices would take {paper:.1f} min")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

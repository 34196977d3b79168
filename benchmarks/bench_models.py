"""CPU inference time per slice and training-step time (batch 8), Table 4 rows 1 and 7.

No XLA (slower on CPU, see shared/spec/performance.md).  ``--precision`` compares
float32 with Keras's mixed_bfloat16 policy: whether bfloat16 pays on a CPU
depends on the CPU (AMX or AVX512_BF16 instructions; the flags found are printed).
Run: python benchmarks/bench_models.py [--size 256] [--precision float32 mixed_bfloat16]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from rarunet_lib.losses import DiceLoss  # noqa: E402
from rarunet_lib.models import count_trainable, table4_model  # noqa: E402


def timed(fn, repeats):
    fn()  # warm-up (tracing)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def cpu_flags() -> str:
    """The bfloat16-related instruction-set flags of this CPU (Linux), or "unknown"."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    found = [f for f in ("avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    return ", ".join(found) or "none"


def main(size=256, batch=8, repeats=5, precisions=("float32",)):
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores (bfloat16 flags: {cpu_flags()}), "
          f"input {size}x{size}, batch {batch}")
    rng = np.random.default_rng(0)
    x = rng.random((batch, size, size, 1), dtype=np.float32)
    y = (rng.random((batch, size, size, 1)) > 0.95).astype(np.float32)
    for precision in precisions:
        keras.mixed_precision.set_global_policy(precision)
        for row in (1, 7):
            keras.backend.clear_session()
            model = table4_model(row, (size, size, 1))
            model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=DiceLoss(), jit_compile=False)
            infer = tf.function(lambda a, m=model: m(a, training=False))
            t_inf = timed(lambda f=infer: f(x).numpy(), repeats)
            t_step = timed(lambda m=model: m.train_on_batch(x, y), repeats)
            print(f"{precision:14} row {row} ({count_trainable(model):,} params): inference "
                  f"{1000 * t_inf / batch:6.1f} ms/slice, training step {t_step:5.2f} s "
                  f"(batch {batch}, {batch / t_step:5.1f} img/s)")
    keras.mixed_precision.set_global_policy("float32")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precision", nargs="+", default=["float32"], choices=["float32", "mixed_bfloat16"])
    a = parser.parse_args()
    main(a.size, a.batch, a.repeats, tuple(a.precision))

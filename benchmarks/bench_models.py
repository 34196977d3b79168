"""CPU inference time per 256x256 slice and training-step time (batch 8), Table 4 rows 1 and 7.

float32, no XLA (both slower on CPU, see shared/spec/performance.md).
Run: python benchmarks/bench_models.py
"""

from __future__ import annotations

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


def main(size=256, batch=8, repeats=5):
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, input {size}x{size}, batch {batch}")
    rng = np.random.default_rng(0)
    x = rng.random((batch, size, size, 1), dtype=np.float32)
    y = (rng.random((batch, size, size, 1)) > 0.95).astype(np.float32)
    for row in (1, 7):
        model = table4_model(row, (size, size, 1))
        model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=DiceLoss(), jit_compile=False)
        infer = tf.function(lambda a, m=model: m(a, training=False))
        t_inf = timed(lambda f=infer: f(x).numpy(), repeats)
        t_step = timed(lambda m=model: m.train_on_batch(x, y), repeats)
        print(f"row {row} ({count_trainable(model):,} params): inference {1000 * t_inf / batch:6.1f} ms/slice, "
              f"training step {t_step:5.2f} s (batch {batch}, {batch / t_step:4.1f} img/s)")


if __name__ == "__main__":
    main()

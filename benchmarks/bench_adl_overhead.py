"""ADL bookkeeping overhead: the trainer with ADL against a plain ``model.fit`` (CPU, same model and data).

Both train Table 4 row 1 on the same 256 slices (64x64, batch 8, Dice loss,
Adam, no validation, same rotations off); epochs after the first (tracing) are
timed.  The trainer records every sample's loss from the training pass, ranks
the samples and leaves N(t) of them out, so it also trains on fewer samples in
ADL epochs: the ratio is reported per trained image.  Target: at most 5 %.

The trainer also hands ADL the labels and probabilities of the training pass
for the rankings that need them; their statistics (cleanlab's score included,
when installed) are computed once per 256 masks, not once per batch: the last
lines time both ways on the same maps.

Run: python benchmarks/bench_adl_overhead.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from rarunet_lib.losses import DiceLoss  # noqa: E402
from rarunet_lib.models import build  # noqa: E402
from rarunet_lib.train import TrainConfig, Trainer  # noqa: E402


def main(n=256, size=64, epochs=4):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    x = np.empty((n, size, size), np.float32)
    y = np.empty((n, size, size), np.uint8)
    for i in range(n):
        cy, cx, r = rng.uniform(16, 48, 2).tolist() + [rng.uniform(5, 12)]
        m = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        x[i], y[i] = 0.2 + 0.6 * m + rng.normal(0, 0.05, m.shape), m

    keras.utils.set_random_seed(0)
    model = build("unet", (size, size, 1))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=DiceLoss())
    model.fit(x[..., None], y[..., None].astype("float32"), batch_size=8, epochs=1, verbose=0)  # warm-up
    t0 = time.perf_counter()
    model.fit(x[..., None], y[..., None].astype("float32"), batch_size=8, epochs=epochs - 1, verbose=0)
    fit_per_image = (time.perf_counter() - t0) / ((epochs - 1) * n)

    cfg = TrainConfig(model="unet", epochs=epochs, batch_size=8, learning_rate=1e-3, validation_fraction=0.0,
                      augment=False, adl=True, noise_alpha=0.5, noise_beta=0.5, progress=False)
    trainer = Trainer(cfg, x, y)
    hist = trainer.fit()
    later = hist["epochs"][1:]
    images = sum(n - e["n_excluded"] for e in later)
    adl_per_image = sum(e["seconds"] for e in later) / images
    print(f"plain model.fit : {1000 * fit_per_image:.2f} ms per image")
    print(f"Trainer with ADL: {1000 * adl_per_image:.2f} ms per image "
          f"(excluded per epoch: {[e['n_excluded'] for e in later]})")
    print(f"overhead ratio  : {adl_per_image / fit_per_image:.3f} (target <= 1.05)")

    from rarunet_lib.adl_rankings import cleanlab_available, mask_statistics

    probs = rng.random((n, size, size)).astype(np.float32)
    t0 = time.perf_counter()
    for i in range(0, n, 8):
        mask_statistics(y[i:i + 8], probs[i:i + 8], smoothing=50.0)
    per_batch = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    mask_statistics(y, probs, smoothing=50.0)
    at_once = (time.perf_counter() - t0) / n
    print(f"map statistics  : {1000 * per_batch:.3f} ms per mask in batches of 8, {1000 * at_once:.3f} ms per mask "
          f"256 at once (ratio {per_batch / at_once:.1f}; cleanlab {'on' if cleanlab_available() else 'not installed'})")


if __name__ == "__main__":
    main()

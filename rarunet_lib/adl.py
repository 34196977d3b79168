"""Adaptive denoising learning (ADL, section 2.4, Eq. 5): schedule and ranking.

NumPy only.  The training loop (``rarunet_lib.train``) records every sample's
Dice loss during the training forward pass; this module decides from those
records how many and which masks sit out of each epoch.

Reading of Eq. 5 (see the book's chapter 6)
-------------------------------------------
With ``k = (1 - alpha) * beta``, ``x`` the total epochs, ``y`` the number of
masks and ``t`` the 1-based epoch::

    N(t) = 0.5 k y               for 0 < t < 0.1 k x
           -(y / x) t + 0.6 k y  for 0.1 k x <= t <= 0.5 k x
           0.1 k y               for 0.5 k x < t <= x

The middle slope is ``-y/x`` as printed (with it the schedule is continuous at
both breakpoints).  Each ``N(t)`` is rounded once with Python's ``round``
(``int`` would turn 479.99999999999994 into 479).  ``N(t)`` is the number of
masks left out *of epoch t*, re-chosen every epoch, not a permanent removal:
read as removals, the total would exceed the number of masks.
"""

from __future__ import annotations

import numpy as np

from . import adl_rankings as rk
from .checks import check_array, check_choice, check_int, check_number, check_seed, describe

__all__ = [
    "RANKINGS",
    "SCHEDULES",
    "removal_schedule",
    "forget_schedule",
    "removal_count",
    "normalised_cumulative_loss",
    "rank_noisy",
    "select_excluded",
    "detection_scores",
    "AdlState",
]

#: The ways ADL can rank masks ("random" is the control that is blind to everything); what each
#: assumes is in :mod:`rarunet_lib.adl_rankings`.
RANKINGS: tuple[str, ...] = rk.ALL_RANKINGS
#: How many masks sit out of each epoch: Eq. 5 (the paper) or a co-teaching forget rate.
SCHEDULES: tuple[str, ...] = ("eq5", "forget_rate")


def _check_unit(name: str, value, *, low_open: bool) -> float:
    return check_number(name, value, min=0, max=1, min_open=low_open)


def _check_count(name: str, value) -> int:
    return check_int(name, value, min=1)


def _check_losses(losses) -> np.ndarray:
    """(epochs, n_samples) float losses: NaN allowed (unseen), inf refused, n_samples >= 1."""
    a = check_array("losses", losses, ndim=2, finite=False, nonempty=False).astype(float)
    if a.shape[1] == 0:
        raise ValueError(f"losses={describe(a)} is not allowed; use one column per sample (n_samples >= 1)")
    if np.isinf(a).any():
        raise ValueError(f"losses={describe(a)} is not allowed; use finite losses (NaN only where unseen)")
    return a


def removal_count(t: int, alpha: float, beta: float, epochs: int, n_masks: int) -> float:
    """Unrounded ``N(t)`` of Eq. 5 for one 1-based epoch ``t``.

    Example
    -------
    >>> round(removal_count(1, 0.68, 0.75, 50, 4000), 6)
    480.0
    """
    alpha = _check_unit("alpha", alpha, low_open=True)
    beta = _check_unit("beta", beta, low_open=False)
    x, y = _check_count("epochs", epochs), _check_count("n_masks", n_masks)
    t = check_int("t", t, min=1, max=x)
    k = (1.0 - alpha) * beta
    if k == 0.0:
        return 0.0
    if t < 0.1 * k * x:
        return 0.5 * k * y
    if t <= 0.5 * k * x:
        return -(y / x) * t + 0.6 * k * y
    return 0.1 * k * y


def removal_schedule(alpha: float, beta: float, epochs: int, n_masks: int) -> np.ndarray:
    """Number of masks ``N(t)`` left out of each epoch ``t = 1..epochs`` (Eq. 5).

    Parameters
    ----------
    alpha : float in (0, 1]
        Noise level.
    beta : float in [0, 1]
        Proportion of noisy masks.
    epochs : int >= 1
        Total training epochs ``x``.
    n_masks : int >= 1
        Total training masks ``y``.

    Returns
    -------
    numpy.ndarray of int64, shape (epochs,)
        ``N(1), ..., N(epochs)``, each rounded once with ``round``.

    Raises
    ------
    ValueError
        For arguments outside their ranges.

    Example
    -------
    >>> removal_schedule(0.68, 0.75, 50, 4000)[:7].tolist()
    [480, 416, 336, 256, 176, 96, 96]
    >>> removal_schedule(0.85, 0.25, 50, 4000)[[0, -1]].tolist()
    [15, 15]
    """
    x = _check_count("epochs", epochs)
    _check_unit("alpha", alpha, low_open=True)
    _check_unit("beta", beta, low_open=False)
    _check_count("n_masks", n_masks)
    return np.array(
        [round(removal_count(t, alpha, beta, x, n_masks)) for t in range(1, x + 1)], dtype=np.int64
    )


def forget_schedule(beta: float, epochs: int, n_masks: int, ramp_epochs: int | None = None) -> np.ndarray:
    """Masks left out of each epoch under a co-teaching forget rate: ``R(t) = min(t / T, 1) beta y``.

    Co-teaching (Han et al., 2018) leaves out the ``R(t)`` masks ranked likeliest
    noisy, ramping up over the first ``T`` epochs to the estimated proportion of
    noisy masks.  Here ``beta`` is that proportion as known from the noise
    (the same knowledge Eq. 5 uses), and ``T`` defaults to half the epochs:
    co-teaching ramps over 10 of 200, but in our 16-epoch CPU runs the rankings
    tell noisy from clean masks only from about the middle of training on (the
    book's chapter 6 measures it), so leaving out many masks earlier would
    leave out masks nearly at random.

    Parameters
    ----------
    beta : float in [0, 1]
        Proportion of noisy masks (``beta-hat``).
    epochs, n_masks : int >= 1
    ramp_epochs : int >= 1, optional
        ``T`` (default ``max(1, round(epochs / 2))``).

    Example
    -------
    >>> forget_schedule(0.5, 8, 100).tolist()
    [12, 25, 38, 50, 50, 50, 50, 50]
    """
    beta = _check_unit("beta", beta, low_open=False)
    x, y = _check_count("epochs", epochs), _check_count("n_masks", n_masks)
    t_ramp = max(1, round(x / 2)) if ramp_epochs is None else _check_count("ramp_epochs", ramp_epochs)
    return np.array([round(min(t / t_ramp, 1.0) * beta * y) for t in range(1, x + 1)], dtype=np.int64)


def normalised_cumulative_loss(losses) -> np.ndarray:
    """O2U-Net's ranking score: per-epoch losses minus the epoch mean, summed.

    Parameters
    ----------
    losses : array_like, shape (epochs_so_far, n_samples)
        Per-sample training losses; NaN where a sample was not seen in an
        epoch (it sat out).  The epoch mean is over the samples seen.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        Sum over epochs of ``loss - mean(loss of that epoch)``, unseen epochs
        contributing 0.  Higher means likelier noisy.

    Example
    -------
    >>> normalised_cumulative_loss([[0.1, 0.3], [0.2, 0.4]]).round(12).tolist()
    [-0.2, 0.2]
    """
    a = _check_losses(losses)
    if a.shape[0] == 0:
        return np.zeros(a.shape[1])
    seen = ~np.isnan(a)
    counts = seen.sum(axis=1, keepdims=True)
    mean = np.where(seen, a, 0.0).sum(axis=1, keepdims=True) / np.maximum(counts, 1)
    return np.where(seen, a - mean, 0.0).sum(axis=0)


def rank_noisy(losses, *, method: str = "normalised_cumulative", seed: int | list[int] | None = None,
               areas=None) -> np.ndarray:
    """Ranking score per sample (higher = likelier noisy).

    Parameters
    ----------
    losses : array_like, shape (epochs_so_far, n_samples)
        Per-sample losses, NaN where unseen.
    method : {"normalised_cumulative", "last_epoch", "random", "size_adjusted"}
        O2U-Net's normalised cumulative loss (default), the latest
        recorded loss of each sample (NaN-free: unseen samples score -inf),
        ``"random"``: scores drawn uniformly at random, blind to the
        losses, for a control that leaves out as many masks as ADL but
        chosen by chance, or ``"size_adjusted"``: the loss against the
        median of masks of similar size
        (:func:`rarunet_lib.adl_rankings.size_adjusted_loss`).  The
        rankings that need probabilities are in :mod:`rarunet_lib.adl_rankings`.
    seed : int or sequence of int, optional
        Seed of the random scores (required with ``method="random"``,
        unused otherwise).
    areas : array (n_samples,), optional
        Label areas (required with ``method="size_adjusted"``).

    Example
    -------
    >>> rank_noisy([[0.1, 0.3], [0.5, 0.2]], method="last_epoch").tolist()
    [0.5, 0.2]
    >>> bool(np.all(rank_noisy([[0.1, 0.3]], method="random", seed=0) == rank_noisy([[9, 9]], method="random", seed=0)))
    True
    """
    check_choice("method", method, rk.LOSS_RANKINGS)
    a = _check_losses(losses)
    if method == "size_adjusted":
        if areas is None:
            raise ValueError("areas=None is not allowed: method='size_adjusted' needs the label areas")
        return rk.size_adjusted_loss(a, areas)
    if method == "random":
        if seed is None:
            raise ValueError("seed=None is not allowed: method='random' needs a seed (an int or a sequence of ints)")
        check_seed("seed", seed, generator=False)
        return np.random.default_rng(seed).random(a.shape[1])
    if method == "normalised_cumulative":
        return normalised_cumulative_loss(a)
    out = np.full(a.shape[1], -np.inf)  # "last_epoch"
    for row in a:  # latest non-NaN value wins
        seen = ~np.isnan(row)
        out[seen] = row[seen]
    return out


def select_excluded(scores, n_out: int) -> np.ndarray:
    """Indices of the ``n_out`` highest scores (ties: lower index first), sorted.

    Example
    -------
    >>> select_excluded([0.1, 0.9, 0.5, 0.9], 2).tolist()
    [1, 3]
    """
    s = check_array("scores", scores, ndim=1, kinds="iuf", finite=False, nonempty=False).astype(float)
    if np.isnan(s).any():  # -inf is a valid score (an unseen sample under "last_epoch")
        raise ValueError(f"scores={describe(s)} is not allowed; use scores without NaN")
    n_out = check_int("n_out", n_out, min=0, max=s.size)
    order = np.lexsort((np.arange(s.size), -s))
    return np.sort(order[:n_out])


def detection_scores(excluded, noisy_indices, n_samples: int) -> dict[str, float]:
    """Precision, recall and F1 of the excluded set against the truly noisy set.

    Parameters
    ----------
    excluded : array_like of int
        Indices that sat out.
    noisy_indices : array_like of int
        Indices truly corrupted (from the noise manifest).
    n_samples : int
        Total number of samples.

    Returns
    -------
    dict
        ``precision`` (NaN when nothing was excluded), ``recall`` (NaN when
        nothing is noisy), ``f1`` (NaN when undefined), ``n_excluded``,
        ``n_noisy``, ``true_positives``.

    Example
    -------
    >>> detection_scores([1, 2], [2, 3], 5)["precision"]
    0.5
    """
    n_samples = check_int("n_samples", n_samples, min=1)
    ex, noisy = np.zeros(n_samples, bool), np.zeros(n_samples, bool)
    for name, value, flags in (("excluded", excluded, ex), ("noisy_indices", noisy_indices, noisy)):
        idx = np.asarray(value)
        if idx.size == 0:
            continue
        idx = check_array(name, idx, ndim=1, kinds="iu")
        if idx.min() < 0 or idx.max() >= n_samples:
            raise ValueError(f"{name}={describe(idx)} is not allowed; use indices from 0 to "
                             f"n_samples - 1 = {n_samples - 1} (found {int(idx.min())} to {int(idx.max())})")
        flags[idx] = True
    tp = int(np.count_nonzero(ex & noisy))
    p = tp / ex.sum() if ex.any() else float("nan")
    r = tp / noisy.sum() if noisy.any() else float("nan")
    f1 = 2 * p * r / (p + r) if (p + r) > 0 else float("nan")
    return {
        "precision": float(p), "recall": float(r), "f1": float(f1),
        "n_excluded": int(ex.sum()), "n_noisy": int(noisy.sum()), "true_positives": tp,
    }


class AdlState:
    """ADL's bookkeeping for one run: schedule, per-sample records, rankings, exclusions, detection.

    NumPy only: the training loop asks :meth:`choose` which training samples sit
    out of epoch ``t``, hands every trained sample's loss to :meth:`record` (and,
    for the rankings that need them, the labels and probabilities of the same
    forward pass to :meth:`record_maps`), and closes the epoch with
    :meth:`finish_epoch`, which also scores every mask under every ranking.
    :meth:`to_arrays` and :meth:`from_arrays` move the whole state into and out
    of a checkpoint.

    Parameters
    ----------
    n_train : int >= 1
        Training samples (numbered 0 .. n_train - 1).
    epochs : int >= 1
        Epochs of the run.
    enabled : bool, default True
        False: nobody sits out (losses are still recorded).
    alpha, beta : float, optional
        Noise level and proportion of Eq. 5 (required when ``enabled``).
    ranking : str, default "normalised_cumulative"
        One of :data:`RANKINGS`.
    first_epoch : {"train_all", "scoring_pass"}
        Epoch 1 has no losses: train on everyone, or rank by a scoring pass
        (loss rankings only).
    seed : int, default 0
        Seeds the ``"random"`` ranking (with the epoch).
    keep : int, default 1
        At least this many samples always train (one batch).
    noisy : array of int, optional
        Truly noisy training-sample ids: enables detection precision/recall/F1.
    schedule : {"eq5", "forget_rate"}, default "eq5"
        How many sit out: Eq. 5 (:func:`removal_schedule`) or the co-teaching
        forget rate (:func:`forget_schedule`, ``beta`` as the noisy share).
    forget_epochs : int, optional
        The forget rate's ramp ``T`` (default half the epochs).
    areas : array (n_train,), optional
        Label areas of the training masks (needed by ``"size_adjusted"``; with
        them, every ranking's scores are recorded per epoch in :attr:`scores`).

    Example
    -------
    >>> state = AdlState(100, 2, alpha=0.3, beta=0.6, keep=8)
    >>> state.schedule.tolist()
    [4, 4]
    >>> state.choose(1).tolist()  # epoch 1: no losses yet, everybody trains
    []
    >>> state.record(1, np.arange(100), np.linspace(0.0, 1.0, 100))
    >>> state.finish_epoch(1, [])
    {'n_excluded': 0, 'planned_exclusions': 4}
    >>> state.choose(2).tolist()  # the four highest losses sit out
    [96, 97, 98, 99]
    """

    def __init__(self, n_train: int, epochs: int, *, enabled: bool = True, alpha: float | None = None,
                 beta: float | None = None, ranking: str = "normalised_cumulative",
                 first_epoch: str = "train_all", seed: int = 0, keep: int = 1, noisy=None,
                 schedule: str = "eq5", forget_epochs: int | None = None, areas=None):
        n_train, epochs = _check_count("n_train", n_train), _check_count("epochs", epochs)
        check_choice("ranking", ranking, RANKINGS)
        check_choice("first_epoch", first_epoch, ("train_all", "scoring_pass"))
        check_choice("schedule", schedule, SCHEDULES)
        if first_epoch == "scoring_pass" and ranking not in rk.LOSS_RANKINGS:
            raise ValueError(f"first_epoch='scoring_pass' is not allowed with ranking={ranking!r}; "
                             f"a scoring pass gives losses only (use one of {rk.LOSS_RANKINGS})")
        self.n_train, self.epochs, self.enabled = n_train, epochs, bool(enabled)
        self.ranking, self.first_epoch, self.seed, self.keep = ranking, first_epoch, seed, int(keep)
        if not enabled:
            self.schedule = np.zeros(epochs, dtype=np.int64)
        elif schedule == "eq5":
            self.schedule = removal_schedule(alpha, beta, epochs, n_train)
        else:
            _check_unit("alpha", alpha, low_open=True)
            self.schedule = forget_schedule(beta, epochs, n_train, forget_epochs)
        self.noisy = None if noisy is None else np.asarray(noisy, dtype=int)
        self.areas = None
        if areas is not None:
            self.areas = check_array("areas", areas, ndim=1, kinds="iuf").astype(float)
            if self.areas.size != n_train:
                raise ValueError(f"areas has {self.areas.size} entries; use one per training sample ({n_train})")
        if (ranking == "size_adjusted" or ranking in rk.MAP_RANKINGS) and self.areas is None:
            raise ValueError(f"ranking={ranking!r} needs areas (the label area of every training mask)")
        if enabled and ranking == "cleanlab" and not rk.cleanlab_available():
            raise ValueError("ranking='cleanlab' needs the optional cleanlab package, which is not installed; "
                             "install it with: pip install 'rarunet_lib[cleanlab]'")
        self.losses = np.full((epochs, n_train), np.nan)
        self.stats = {k: np.full((epochs, n_train), np.nan) for k in rk.MAP_STATISTICS}
        #: Per ranking, every mask's score after each epoch (epochs x n_train), when ``areas`` are given.
        self.scores = ({k: np.full((epochs, n_train), np.nan) for k in self.recorded_rankings()}
                       if self.areas is not None else {})
        self.excluded: list[list[int]] = []
        self._maps: list = []  # (epoch, ids, labels, probs) not yet turned into statistics

    @property
    def wants_maps(self) -> bool:
        """Whether :meth:`record_maps` is needed (the map rankings are recorded when ``areas`` are given)."""
        return self.areas is not None

    def recorded_rankings(self) -> tuple[str, ...]:
        """The rankings scored every epoch (cleanlab's only where it is installed)."""
        return tuple(r for r in RANKINGS if r != "cleanlab" or rk.cleanlab_available())

    def _smoothing(self) -> float:
        return rk._smoothing(self.areas if self.areas is not None else [])

    def ranking_scores(self, name: str, upto: int) -> np.ndarray:
        """Scores of ranking ``name`` from the records of epochs ``1..upto`` (higher = likelier noisy).

        The scores that choose the masks of epoch ``upto + 1`` (``random`` is
        seeded by the run's seed and that epoch).
        """
        check_choice("name", name, RANKINGS)
        if name in rk.MAP_RANKINGS:
            return rk.map_ranking(name, self.stats, upto, smoothing=self._smoothing())
        return rank_noisy(self.losses[:upto], method=name, seed=[self.seed, upto + 1], areas=self.areas)

    def choose(self, t: int, scoring_pass=None) -> np.ndarray:
        """Training-sample ids that sit out of 1-based epoch ``t`` (sorted).

        ``scoring_pass`` (a callable returning one loss per training sample) is
        called only for epoch 1 with ``first_epoch="scoring_pass"``.
        """
        n_out = int(self.schedule[t - 1]) if self.enabled else 0
        if n_out == 0:
            return np.zeros(0, dtype=int)
        n_out = min(n_out, self.n_train - self.keep)  # always keep at least one batch
        if t == 1:
            if self.first_epoch == "train_all":
                return np.zeros(0, dtype=int)
            seen = np.asarray(scoring_pass(), dtype=float)[None, :]
            scores = rank_noisy(seen, method=self.ranking, seed=[self.seed, t], areas=self.areas)
        else:
            scores = self.ranking_scores(self.ranking, t - 1)
        return select_excluded(scores, max(n_out, 0))

    def record(self, t: int, ids, losses) -> None:
        """Store the training losses of samples ``ids`` in epoch ``t``."""
        self.losses[t - 1, np.asarray(ids, dtype=int)] = losses

    #: Masks whose maps are buffered before their statistics are computed (cleanlab costs about
    #: 40 ms a call on CPU, so once per batch of 8 would add 8 % to a 64x64 epoch).
    map_chunk = 256

    def record_maps(self, t: int, ids, labels, probs) -> None:
        """Store the statistics (:func:`rarunet_lib.adl_rankings.mask_statistics`) of samples ``ids`` in epoch ``t``.

        The maps are buffered and their statistics computed once :attr:`map_chunk`
        masks have come in, and when the epoch closes (:meth:`finish_epoch`).
        """
        self._maps.append((t, np.asarray(ids, dtype=int), np.asarray(labels), np.asarray(probs)))
        if sum(len(m[1]) for m in self._maps) >= self.map_chunk:
            self._flush_maps()

    def _flush_maps(self) -> None:
        for t in sorted({m[0] for m in self._maps}):
            part = [m for m in self._maps if m[0] == t]
            ids = np.concatenate([m[1] for m in part])
            stats = rk.mask_statistics(np.concatenate([m[2] for m in part]), np.concatenate([m[3] for m in part]),
                                       smoothing=self._smoothing())
            for k, v in stats.items():
                self.stats[k][t - 1, ids] = v
        self._maps = []

    def finish_epoch(self, t: int, excluded) -> dict:
        """Close epoch ``t``: remember who sat out, score every ranking; returns ``n_excluded`` and ``planned_exclusions``."""
        excluded = np.asarray(excluded, dtype=int)
        self.excluded.append([int(i) for i in excluded])
        self._flush_maps()
        for name, table in self.scores.items():
            table[t - 1] = self.ranking_scores(name, t)
        return {"n_excluded": int(excluded.size), "planned_exclusions": int(self.schedule[t - 1])}

    def detection(self, excluded) -> dict:
        """``detection_precision``, ``_recall`` and ``_f1`` of an excluded set (empty without ``noisy`` or ADL)."""
        if self.noisy is None or not self.enabled:
            return {}
        det = detection_scores(excluded, self.noisy, self.n_train)
        return {f"detection_{k}": det[k] for k in ("precision", "recall", "f1")}

    def epoch_loss(self, t: int) -> float:
        """Mean recorded training loss of epoch ``t``."""
        return float(np.nanmean(self.losses[t - 1]))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The state that changes during training, as arrays (for a checkpoint)."""
        return {"losses": self.losses,
                "excluded_ids": np.array([i for e in self.excluded for i in e], dtype=np.int64),
                "excluded_counts": np.array([len(e) for e in self.excluded], dtype=np.int64),
                **{f"stats__{k}": v for k, v in self.stats.items()},
                **{f"scores__{k}": v for k, v in self.scores.items()}}

    def from_arrays(self, arrays) -> None:
        """Restore what :meth:`to_arrays` saved (also reads older checkpoints, without statistics)."""
        losses = np.asarray(arrays["losses"], dtype=float)
        if losses.shape != self.losses.shape:
            raise ValueError(f"losses must have shape {self.losses.shape}, got {losses.shape}")
        if "excluded_counts" in arrays:
            ids, counts = np.asarray(arrays["excluded_ids"]), np.asarray(arrays["excluded_counts"])
            if counts.sum() != ids.size:
                raise ValueError(f"excluded_counts sum to {counts.sum()} but there are {ids.size} excluded_ids")
            parts = np.split(ids, np.cumsum(counts)[:-1]) if counts.size else []
            excluded = [[int(i) for i in p] for p in parts]
        else:
            import json

            excluded = [[int(i) for i in e] for e in json.loads(str(arrays["excluded"]))]
        keys = set(arrays.keys()) if hasattr(arrays, "keys") else set(arrays.files)
        for prefix, table in (("stats__", self.stats), ("scores__", self.scores)):
            for k in table:
                if prefix + k in keys:
                    table[k] = np.asarray(arrays[prefix + k], dtype=float).copy()
        self.losses, self.excluded = losses, excluded

"""The phantom-to-real transfer of the realism study, over seeds and ablations (NumPy only).

``studies/realism.py`` trains a U-Net on phantom slices only and scores it on the two
real CT samples; each run writes one JSON (``results/realism/<arm>__seed<k>.json``).
An *arm* is the phantom a run trained on: its variation, and for variation
``"random"`` the randomisation it switched off (``--without``), if any.  Chapters 1
and 8 summarise the arms with :func:`realism_arms` and :func:`realism_rows`.
"""

from __future__ import annotations

import json
from pathlib import Path

from .stats import Stat, stat

__all__ = ["REALISM_MEASURES", "REALISM_LABELS", "TRIED_CHANGES", "TRIED_VERSIONS", "load_realism_runs",
           "realism_ablation", "realism_ablation_table", "realism_arm", "realism_arms", "realism_rows",
           "realism_table"]

#: The real samples of the realism study, as its JSON names them.
REAL_SAMPLES: tuple[str, ...] = ("upper_abdomen_dicom", "abdomen_3mm")

#: What :func:`realism_rows` summarises per arm: (name, section of the run's JSON, key).
REALISM_MEASURES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("phantom", ("phantom_test",), "dice"),
    ("upper_abdomen_dicom", ("real", "upper_abdomen_dicom"), "dice"),
    ("abdomen_3mm", ("real", "abdomen_3mm"), "dice"),
    ("abdomen_3mm_without_s1", ("real_without_sacrum", "abdomen_3mm"), "dice"),
)


#: The realism study's default phantom cases and slices per case (``--cases``, ``--slices``).
STUDY_CASES, STUDY_SLICES = 8, 60

#: The realism study's default training epochs (``--epochs``).
STUDY_EPOCHS = 15

#: Versions of variation "random" that were tried and not kept, by the ``phantom_version`` their runs
#: record, with their switches.  Version 2 (commit 35f36a0, reverted) added a "coverage" switch (30 %
#: of stacks abdomen-pelvis scans ending in drawn hip joints), the aorta against the vertebral body and a
#: per-patient column size 0.95-1.2; it transferred worse than version 1, the phantom on main.
TRIED_VERSIONS: dict[int, tuple[str, ...]] = {
    2: ("tissue", "contrast", "noise", "blur", "thickness", "bias", "fov", "body", "shape", "posture", "coverage"),
}

#: Single changes to version 1 of variation "random", each tried on a branch whose commit its runs'
#: provenance names (the commit is reachable from main), by the commit's first eight hex digits.
#: ``"pelvic scans"`` (00b08368): version 2's "coverage" switch alone, 30 % of the stacks
#: abdomen-pelvis scans ending 60-180 mm below L5, into version 1's iliac bones and femoral heads.
#: ``"cortex 450-1100 HU"`` (27bb4be3): the dense cortex of posterior elements and ribs drawn
#: 450-1100 HU instead of 700-1500 (real posterior elements: 8.5 % of voxels over 600 HU on the
#: 3 mm sample, 24 % on version 1's).
#: ``"aorta at the body"`` (ca640c3c): the aorta 0-4 mm in front of the vertebral body (not 5 mm), 5 mm
#: right to 25 mm left, radius 10-13.5 mm, iliac arteries from L4, calcified plaques with age.
#: ``"pelvic scans, curved hips"`` (b287a925): the pelvic scans with long curved iliac wings, acetabular cups
#: and femoral heads 60-200 HU denser than the vertebrae.
#: ``"lower, dimmer arch"`` (c70655ab): the laminae and spinous process 0.25-0.5 body heights lower, over
#: the disc below, and their cortex (not the ribs') 150-600 HU above the cancellous bone, within 300-1000
#: (real posterior elements: median 223-272 HU, version 1's 515; under 600 mm2 of mask in 28 % of version
#: 1's T12-L5 slices with vertebra, facets only at disc level, and in 0-4 % of the real ones).
#: ``"dimmer bone"`` (3c17e621): every bone's shell 100-550 HU above the cancellous bone (within 250-850) and
#: the dense cortex of posterior elements and ribs 200-800 above it (within 300-1100) (the real vertebra
#: masks' 90th HU percentile: 400-540; version 1's: about 650-1050).
#: ``"thick pelvic cortex, pelvic scans"`` (09379326): the pelvic scans, with the iliac bones and femoral
#: heads drawn as a 2-4 mm cortex 500-1000 HU above the cancellous bone (within 700-1400) around dim
#: marrow, and acetabular cups 3-5 mm thick across a 1.5-3 mm joint space (the real 3 mm sample's bone
#: outside the vertebra masks, pixels over 180 HU: median 316 HU below S1, against 172 in the masks).
TRIED_CHANGES: dict[str, str] = {"00b08368": "pelvic scans", "27bb4be3": "cortex 450-1100 HU",
                                 "ca640c3c": "aorta at the body", "b287a925": "pelvic scans, curved hips",
                                 "c70655ab": "lower, dimmer arch", "3c17e621": "dimmer bone",
                                 "09379326": "thick pelvic cortex, pelvic scans"}

#: Column titles of :func:`realism_table`, by measure name.
REALISM_LABELS: dict[str, str] = {"phantom": "phantom case", "upper_abdomen_dicom": "upper abdomen",
                                  "abdomen_3mm": "abdomen 3 mm", "abdomen_3mm_without_s1": "3 mm without S1"}


def _tried_change(run: dict) -> str | None:
    """The change of :data:`TRIED_CHANGES` whose branch commit the run's provenance names, else None."""
    commit = str((run.get("provenance") or {}).get("commit", ""))
    return next((c for key, c in TRIED_CHANGES.items() if commit.startswith(key)), None)


def _worst_real(run: dict):
    """The lower Dice of the two real samples (all slices), None if either is missing."""
    both = [_value(run, ("real", s), "dice") for s in REAL_SAMPLES]
    return None if None in both else min(both)


def load_realism_runs(results_dir, folder: str = "realism") -> dict[str, dict]:
    """Every committed realism run: ``<results_dir>/<folder>/*.json`` by file stem, and ``realism.json`` as ``"mixed"``.

    ``realism.json`` is the first check (every other case ``csi``, the others ``wide``),
    written before the study took ``--variation``; it is read as that arm, with the
    default ``folder`` only.  Another ``folder`` holds a batch of runs made on one
    machine, such as the ablation (``"realism/ablation"``: each switch off, with the
    default's runs it is paired with), which is not mixed with the runs of others.

    Raises
    ------
    ValueError
        If a file is not a readable JSON object (naming the file), or if a ``folder``
        other than the default is not a folder under ``results_dir``.

    Example
    -------
    >>> load_realism_runs("/nonexistent")
    {}
    """
    root = Path(results_dir)
    if folder != "realism" and not (root / folder).is_dir():
        raise ValueError(f"folder: {str(folder)!r} is not a folder under {str(root)!r}; give one that holds "
                         f"realism runs, e.g. 'realism/ablation'")
    paths = {p.stem: p for p in sorted((root / folder).glob("*.json"))}
    if folder == "realism" and (root / "realism.json").is_file():
        paths["mixed"] = root / "realism.json"
    runs = {}
    for name, path in paths.items():
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path}: not a readable realism result ({err})") from err
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: a realism result holds a JSON object, got {type(doc).__name__}")
        runs[name] = {"variation": "mixed"} | doc if name == "mixed" else doc
    return runs


def realism_arm(run: dict) -> str:
    """The arm of one realism run: ``"random"``, ``"random without bias"``, ``"mixed"``...

    A field of view given to the study (``--fov-range``) is part of the arm:
    ``"random, views 250-500 mm"``, and so are cases and slices other than the study's
    default 8 of 60 (``--cases``, ``--slices``): ``"random, 24 cases of 20 slices"``, and epochs
    other than the default 15 (``--epochs``): ``"random, 45 epochs"``.

    Example
    -------
    >>> from rarunet_lib.data import RANDOMISATIONS
    >>> realism_arm({"variation": "random", "randomise": [s for s in RANDOMISATIONS if s != "bias"]})
    'random without bias'
    >>> realism_arm({"variation": "random", "randomise": list(RANDOMISATIONS)}), realism_arm({"variation": "mixed"})
    ('random', 'mixed')
    >>> realism_arm({"variation": "random", "randomise": list(RANDOMISATIONS), "fov_range_mm": [250.0, 500.0]})
    'random, views 250-500 mm'
    >>> realism_arm({"variation": "random", "randomise": None, "cases": 24, "slices_per_case": 20})
    'random, 24 cases of 20 slices'
    >>> realism_arm({"variation": "random", "cases": 24, "slices_per_case": 20, "epochs": 45})
    'random, 24 cases of 20 slices, 45 epochs'

    A run of a version of the phantom that was tried and not kept (:data:`TRIED_VERSIONS`) names it:

    >>> realism_arm({"variation": "random", "phantom_version": 2, "randomise": list(TRIED_VERSIONS[2]),
    ...              "cases": 24, "slices_per_case": 20})
    'random v2, 24 cases of 20 slices'

    So does a run of a single change to version 1 tried on a branch (:data:`TRIED_CHANGES`), by its commit:

    >>> realism_arm({"variation": "random", "randomise": list(RANDOMISATIONS) + ["coverage"],
    ...              "provenance": {"commit": "00b08368767d305af87b1d1b0100844b85451e93"}})
    'random v1 + pelvic scans'
    """
    variation = run.get("variation", "csi")
    switches = run.get("randomise")
    arm = variation
    version = run.get("phantom_version") or 1  # runs of the phantom on main record no version
    change = _tried_change(run)
    if variation == "random" and change is not None:  # a change tried on a branch, all its switches on
        arm = f"random v1 + {change}"
    elif variation == "random" and (version != 1 or switches is not None):
        if version == 1:
            from ..data.phantom import RANDOMISATIONS as known
        else:
            arm, known = f"random v{version}", TRIED_VERSIONS.get(version, ())
        off = sorted(set(known) - set(switches or ()))
        arm += " without " + ", ".join(off) if off else ""
    fov = run.get("fov_range_mm")
    if fov:
        arm += f", views {fov[0]:g}-{fov[1]:g} mm"
    cases, slices = run.get("cases", STUDY_CASES), run.get("slices_per_case", STUDY_SLICES)
    if (cases, slices) != (STUDY_CASES, STUDY_SLICES):
        arm += f", {cases} cases of {slices} slices"
    epochs = run.get("epochs", STUDY_EPOCHS)
    if epochs != STUDY_EPOCHS:
        arm += f", {epochs} epochs"
    return arm


def realism_arms(results: dict) -> dict[str, list[dict]]:
    """Group realism runs (by run name, as :func:`rarunet_lib.experiments.load_results` reads them) by arm.

    Runs of one arm are sorted by seed; a seed that appears twice in one arm is refused.

    Example
    -------
    >>> runs = {"a": {"variation": "random", "seed": 1}, "b": {"variation": "random", "seed": 0},
    ...         "c": {"variation": "mixed"}}
    >>> {arm: [r.get("seed", 0) for r in rs] for arm, rs in realism_arms(runs).items()}
    {'mixed': [0], 'random': [0, 1]}
    """
    arms: dict[str, list[dict]] = {}
    for name, run in sorted(results.items()):
        if not isinstance(run, dict) or ("real" not in run and "variation" not in run):
            raise ValueError(f"results[{name!r}] is not a realism run (no 'variation' or 'real')")
        arms.setdefault(realism_arm(run), []).append(run)
    for arm, runs in arms.items():
        seeds = [r.get("seed", 0) for r in runs]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"arm {arm!r} holds seed(s) {sorted(seeds)} more than once; keep one file per seed")
        runs.sort(key=lambda r: r.get("seed", 0))
    return dict(sorted(arms.items()))


def _value(run: dict, section: tuple[str, ...], key: str):
    node = run
    for part in section:
        node = node.get(part) if isinstance(node, dict) else None
    return None if not isinstance(node, dict) else node.get(key)


def realism_rows(results: dict) -> list[dict]:
    """Per arm: Dice on the held-out phantom case and on each real sample, as :class:`Stat` over seeds.

    Returns
    -------
    list of dict
        One per arm (sorted by name): ``arm``, ``seeds`` (list), and a
        :class:`~rarunet_lib.report.stats.Stat` under each name of
        :data:`REALISM_MEASURES`; ``worst_real`` is the Stat of each seed's lower
        Dice of the two real samples (all slices).

    Example
    -------
    >>> def run(seed, up, low):
    ...     return {"variation": "random", "randomise": None, "seed": seed, "phantom_test": {"dice": 0.9},
    ...             "real": {"upper_abdomen_dicom": {"dice": up}, "abdomen_3mm": {"dice": low}}}
    >>> row, = realism_rows({"s0": run(0, 0.8, 0.6), "s1": run(1, 0.7, 0.8)})
    >>> row["arm"], row["seeds"], round(row["upper_abdomen_dicom"].mean, 3), round(row["worst_real"].mean, 3)
    ('random', [0, 1], 0.75, 0.65)
    >>> row["abdomen_3mm_without_s1"].n
    0
    """
    rows = []
    for arm, runs in realism_arms(results).items():
        row: dict = {"arm": arm, "seeds": [r.get("seed", 0) for r in runs]}
        for name, section, key in REALISM_MEASURES:
            row[name] = stat([_value(r, section, key) for r in runs])
        row["worst_real"] = stat([_worst_real(r) for r in runs])
        rows.append(row)
    return rows


def _cell(s: Stat, digits: int) -> str:
    if not s.n:
        return "-"
    return f"{s.mean:.{digits}f} ± {s.std:.{digits}f}" if s.n > 1 else f"{s.mean:.{digits}f}"


def realism_table(rows: list[dict], measures=None, digits: int = 2) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a table of :func:`realism_rows`: arm, seeds, then one Dice column per measure.

    A measure over several seeds reads ``mean ± sd``, over one seed its value, over none ``-``.

    Parameters
    ----------
    rows : list of dict
        From :func:`realism_rows`.
    measures : sequence of str, optional
        Names from :data:`REALISM_LABELS` (default: all four).
    digits : int, default 2

    Example
    -------
    >>> row = {"arm": "random", "seeds": [0, 1], "phantom": stat([0.8, 0.9]), "abdomen_3mm": stat([0.5])}
    >>> header, rows = realism_table([row], ["phantom", "abdomen_3mm"])
    >>> header[2:], rows
    (['Dice: phantom case', 'Dice: abdomen 3 mm'], [['random', '2', '0.85 ± 0.07', '0.50']])
    """
    measures = list(REALISM_LABELS) if measures is None else list(measures)
    unknown = [m for m in measures if m not in REALISM_LABELS]
    if unknown:
        raise ValueError(f"measures={measures!r} has {unknown}; allowed: names from {list(REALISM_LABELS)}")
    header = ["phantom trained on", "seeds"] + [f"Dice: {REALISM_LABELS[m]}" for m in measures]
    return header, [[row["arm"], str(len(row["seeds"]))] + [_cell(row.get(m, stat([])), digits) for m in measures]
                    for row in rows]


def _switched_off(run: dict) -> str | None:
    """The one randomisation of version 1 that a run of the default phantom turned off, else None."""
    from ..data.phantom import RANDOMISATIONS as known

    switches = run.get("randomise")
    if (run.get("variation") != "random" or (run.get("phantom_version") or 1) != 1 or switches is None
            or _tried_change(run) is not None):
        return None
    off = set(known) - set(switches)
    return off.pop() if len(off) == 1 and set(switches) <= set(known) else None


def realism_ablation(results: dict) -> list[dict]:
    """The ablation: each randomisation turned off, against the default phantom on the same seeds.

    A run with one switch off (``studies/realism.py --without S``) is paired with the
    default's run of the same seed and the same protocol (cases, slices, views): the
    same patients, since turning a switch off undoes only its own draws
    (:mod:`rarunet_lib.data.phantom.randomise`).  Seeds without a default run are
    left out of the pair and listed under ``unpaired``.

    Returns
    -------
    list of dict
        One per (protocol, switch) with a paired seed, sorted by protocol then
        switch: ``switch``, ``protocol`` (the default's arm, e.g. ``"random"`` or
        ``"random, 24 cases of 20 slices"``) with its ``cases``, ``slices`` and
        ``fov_range_mm``, ``seeds`` (paired), ``unpaired``;
        per real sample ``<sample>`` (its Dice) and ``<sample>_change`` (its Dice
        minus the default's), each a :class:`~rarunet_lib.report.stats.Stat` over
        the paired seeds; ``apart`` (how many paired seeds moved one real sample
        up and another down); ``worst_change`` (the worse real Dice minus the
        default's), and ``default_worst`` (the default's worse real Dice over all
        its seeds, for the spread the changes are read against).

    Example
    -------
    >>> from rarunet_lib.data import RANDOMISATIONS
    >>> def run(seed, up, low, off=None):
    ...     return {"variation": "random", "seed": seed, "randomise": [s for s in RANDOMISATIONS if s != off],
    ...             "real": {"upper_abdomen_dicom": {"dice": up}, "abdomen_3mm": {"dice": low}}}
    >>> row, = realism_ablation({"d0": run(0, 0.6, 0.5), "d1": run(1, 0.7, 0.4), "b0": run(0, 0.5, 0.1, "bias")})
    >>> row["switch"], row["protocol"], row["seeds"], round(row["abdomen_3mm_change"].mean, 2)
    ('bias', 'random', [0], -0.4)
    >>> round(row["worst_change"].mean, 2), round(row["default_worst"].mean, 2), row["apart"]
    (-0.4, 0.45, 0)
    """
    defaults: dict[str, dict[int, dict]] = {}
    ablated: dict[tuple[str, str], list[dict]] = {}
    for arm, runs in realism_arms(results).items():
        for run in runs:
            off = _switched_off(run)
            if off is None:  # a default, or another arm no ablation run is paired with
                defaults.setdefault(arm, {})[run.get("seed", 0)] = run
            else:
                ablated.setdefault((realism_arm(run | {"randomise": None}), off), []).append(run)

    def real(run: dict, sample: str):
        return _value(run, ("real", sample), "dice")

    rows = []
    for (protocol, off), runs in sorted(ablated.items()):
        base = defaults.get(protocol, {})
        pairs = [(r, base[r.get("seed", 0)]) for r in runs if r.get("seed", 0) in base]
        if not pairs:
            continue
        first = pairs[0][1]
        row: dict = {"switch": off, "protocol": protocol, "seeds": [r.get("seed", 0) for r, _ in pairs],
                     "unpaired": [r.get("seed", 0) for r in runs if r.get("seed", 0) not in base],
                     "cases": first.get("cases", STUDY_CASES), "slices": first.get("slices_per_case", STUDY_SLICES),
                     "fov_range_mm": first.get("fov_range_mm")}
        changes = {sample: [None if None in (real(r, sample), real(d, sample)) else real(r, sample) - real(d, sample)
                            for r, d in pairs] for sample in REAL_SAMPLES}
        for sample in REAL_SAMPLES:
            row[sample] = stat([real(r, sample) for r, _ in pairs])
            row[f"{sample}_change"] = stat(changes[sample])
        row["apart"] = sum(None not in moved and min(moved) < 0 < max(moved) for moved in zip(*changes.values(), strict=True))
        row["worst_change"] = stat([None if None in (_worst_real(r), _worst_real(d)) else _worst_real(r) - _worst_real(d)
                                    for r, d in pairs])
        row["default_worst"] = stat([_worst_real(d) for d in base.values()])
        rows.append(row)
    return rows


def _signed(s: Stat, digits: int) -> str:
    if not s.n:
        return "-"
    sd = f" ± {s.std:.{digits}f}" if s.n > 1 else ""
    return f"{s.mean:+.{digits}f}{sd}".replace("-", "\u2212")


def realism_ablation_table(rows: list[dict], digits: int = 2) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a table of :func:`realism_ablation`: switch, patients, seeds, Dice and change per sample.

    A change reads with its sign (``+0.05``, ``\u22120.12``), ``± sd`` over several seeds.

    Example
    -------
    >>> from rarunet_lib.report.stats import stat
    >>> row = {"switch": "bias", "cases": 8, "slices": 60, "seeds": [0], "upper_abdomen_dicom": stat([0.5]),
    ...        "upper_abdomen_dicom_change": stat([-0.1]), "abdomen_3mm": stat([0.4]),
    ...        "abdomen_3mm_change": stat([0.05])}
    >>> realism_ablation_table([row])[1]
    [['bias', '8 of 60 slices', '0', '0.50', '\u22120.10', '0.40', '+0.05']]
    """
    header = ["randomisation off", "training patients", "seeds"]
    for sample in REAL_SAMPLES:
        header += [f"Dice: {REALISM_LABELS[sample]}", "change"]
    body = []
    for row in rows:
        fov = row.get("fov_range_mm")
        patients = f"{row['cases']} of {row['slices']} slices" + (f", views {fov[0]:g}-{fov[1]:g} mm" if fov else "")
        cells = [row["switch"], patients, ", ".join(map(str, row["seeds"]))]
        for sample in REAL_SAMPLES:
            cells += [_cell(row[sample], digits), _signed(row[f"{sample}_change"], digits)]
        body.append(cells)
    return header, body

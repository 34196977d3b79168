"""The one train-and-score recipe: dataset, inference, run function, result schema, and who imports the CLI."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rarunet_lib.config import get_profile
from rarunet_lib.data import Dataset, demo_names, load_dataset, load_demo, preprocess
from rarunet_lib.recipe import RunResult, RunSpec, train_and_score

ROOT = Path(__file__).resolve().parents[1]
TINY = replace(get_profile("quick"), name="tiny", image_size=32, n_cases=2, slices_per_case=12, epochs=2,
               batch_size=4, slice_spacing=2.0, description="test profile")


# ------------------------------------------------------------------ nothing imports the command line
def _imports_cli(source: str, module: str) -> list[str]:
    """The import statements of ``source`` (the module ``module``, dotted) that name rarunet_lib.cli."""
    hits = []
    package = module.rsplit(".", 1)[0] if "." in module else ""
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the module's package
                parts = package.split(".") if package else []
                parts = parts[:len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, base] if base else parts)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        hits += [n for n in names if n == "rarunet_lib.cli" or n.startswith("rarunet_lib.cli.")]
    return hits


_NOTEBOOK_CLI = re.compile(r"rarunet_lib\.cli\b|from\s+rarunet_lib\s+import\s+[^\n]*\bcli\b")


def test_the_import_scanner_sees_every_form_of_import():
    """The scanner below must be able to fail: each form of importing cli is caught, look-alikes are not."""
    assert _imports_cli("from rarunet_lib.cli import main", "tests.x")
    assert _imports_cli("import rarunet_lib.cli as c", "tests.x")
    assert _imports_cli("from rarunet_lib import cli", "tests.x")
    assert _imports_cli("from .cli import main", "rarunet_lib.experiments")
    assert _imports_cli("from . import cli", "rarunet_lib.experiments")
    assert _imports_cli("from ..cli import main", "rarunet_lib.data.dataset")
    assert not _imports_cli("from .cli_tools import x\nimport rarunet_lib.client", "rarunet_lib.experiments")
    assert not _imports_cli("s = 'from rarunet_lib.cli import main'", "tests.x")
    assert _NOTEBOOK_CLI.search("from rarunet_lib.cli import load_dataset")
    assert _NOTEBOOK_CLI.search("from rarunet_lib import metrics, cli")
    assert not _NOTEBOOK_CLI.search("from rarunet_lib.data import load_dataset")


def test_nothing_but_main_imports_the_command_line_module():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0].startswith(".") or rel.parts[0] in {"_build", "build"} or "site-packages" in rel.parts:
            continue
        if rel.as_posix() in ("rarunet_lib/__main__.py", "rarunet_lib/cli.py"):
            continue
        module = ".".join(rel.with_suffix("").parts)
        offenders += [f"{rel}: {h}" for h in _imports_cli(path.read_text(encoding="utf-8"), module)]
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        for i, cell in enumerate(json.loads(nb.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "code" and _NOTEBOOK_CLI.search("".join(cell["source"])):
                offenders.append(f"{nb.relative_to(ROOT)} cell {i}")
    assert offenders == [], "only rarunet_lib/__main__.py may import the command line: " + ", ".join(offenders)


def test_studies_train_with_the_one_run_function():
    """The scripts that train call train_and_score; none builds its own Trainer, fit loop or fit_best."""
    scripts = sorted((ROOT / "studies").glob("*.py"))
    assert {p.name for p in scripts} >= {"stability.py", "realism.py", "table4_gpu.py"}
    for path in scripts:
        names = {n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Attribute)}
        assert "train_and_score" in names, path.name
        assert not ({"Trainer", "fit_best", "TrainConfig"} & names) and "fit" not in attrs, path.name
    assert not list((ROOT / "benchmarks").glob("stability.py")) + list((ROOT / "benchmarks").glob("realism.py"))


# ------------------------------------------------------------------ the dataset recipe
def _digest(d) -> str:
    m = hashlib.sha256()
    for k in ("train_images", "train_masks", "test_images", "test_masks"):
        a = np.ascontiguousarray(d[k])
        m.update(k.encode())
        m.update(str(a.dtype).encode())
        m.update(str(a.shape).encode())
        m.update(a.tobytes())
    return m.hexdigest()


def test_phantom_dataset_is_bitwise_what_it_was():
    """SHA-256 of the arrays recorded with the recipe that lived in cli.py (commit 235aced), before the move.

    Recorded on the phantom of that time, variation "csi" (the cpu and cpu2 profiles' phantom).
    """
    csi = replace(TINY, phantom="csi")
    d = load_dataset("phantom", csi, seed=1000)
    assert _digest(d) == "63d557e872bb142577e2e534c8e913440c244cd4c562ce624025714ca628c5b6"
    assert d.test_spacing == pytest.approx((6.827186697578714, 6.827186697578714), rel=0, abs=0)
    d = load_dataset("phantom", csi, seed=7, size=48)
    assert _digest(d) == "f15daae92aa151823864d672e7ff5c40b1b33e8ba06ad93a5389a6b5bb3a233e"
    assert (d.source, d.profile, d.seed, d.size) == ("phantom", "tiny", 7, 48)
    assert len(d.train_cases) == 1 and len(d.test_cases) == 1 and d.train_cases != d.test_cases


def test_dataset_reads_like_the_dict_it_replaces():
    d = load_dataset("phantom", TINY, seed=1000)
    assert isinstance(d, Dataset)
    assert d["test_masks"] is d.test_masks and dict(d.items())["source"] == "phantom"
    assert [k for k, v in d.items() if hasattr(v, "shape")] == ["train_images", "train_masks", "test_images",
                                                                "test_masks"]
    with pytest.raises(KeyError, match="no field 'labels'"):
        d["labels"]
    with pytest.raises(AttributeError):
        d.seed = 3  # frozen


def test_real_samples_are_test_only_and_match_their_preprocessing():
    d = load_dataset("upper_abdomen_dicom", TINY)
    x, y = preprocess(load_demo("upper_abdomen_dicom"), 32)
    np.testing.assert_array_equal(d.test_images, x)
    np.testing.assert_array_equal(d.test_masks, y)
    assert d.train_images.shape == (0, 32, 32) and d.test_cases == ("upper_abdomen_dicom",)
    both = load_dataset("samples", TINY)
    assert both.test_cases == tuple(demo_names())
    assert len(both.test_images) == sum(len(load_demo(n).hu) for n in demo_names())


@pytest.mark.parametrize("kwargs, match", [
    ({"source": "phantoms"}, r"source='phantoms' is not allowed; use one of \('phantom', 'samples', 'csi2014'"),
    ({"size": 40}, r"size=40 is not allowed; use a positive multiple of 16"),
    ({"size": 0}, r"size=0 is not allowed"),
    ({"size": 32.0}, r"size=32.0 is not allowed"),
    ({"seed": -1}, r"seed=-1 is not allowed; use an integer >= 0"),
    ({"seed": True}, r"seed=True is not allowed"),
    ({"workers": 0}, r"workers=0 is not allowed; use an integer >= 1"),
    ({"profile": "quick"}, r"profile='quick' is not allowed; use a rarunet_lib.config.Profile"),
    ({"profile": replace(TINY, n_cases=1)}, r"profile.n_cases=1 is not allowed for the phantom"),
    ({"profile": replace(TINY, phantom="randomised")},
     r"profile.phantom='randomised' is not allowed; use one of \('csi', 'wide', 'random'\)"),
])
def test_load_dataset_refuses_bad_arguments_naming_them(kwargs, match):
    args = {"source": "phantom", "profile": TINY, **kwargs}
    with pytest.raises(ValueError, match=match):
        load_dataset(args.pop("source"), args.pop("profile"), **args)


def test_the_data_layer_does_not_import_tensorflow():
    code = ("import sys; from dataclasses import replace; from rarunet_lib.config import get_profile; "
            "from rarunet_lib.data import load_dataset; "
            "load_dataset('phantom', replace(get_profile('quick'), n_cases=2, slices_per_case=2), size=32); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ inference
class _FixedModel:
    """Stands in for a Keras model: returns given probabilities, records the batch it was asked for."""

    def __init__(self, prob):
        self.prob, self.calls = prob, []

    def predict(self, x, batch_size, verbose):
        self.calls.append((x.shape, x.dtype, batch_size))
        return self.prob[..., None]


def test_predict_masks_thresholds_strictly_above_one_half():
    from rarunet_lib.inference import predict_masks, predict_probabilities

    prob = np.array([[[0.2, 0.5], [0.500001, 0.9]]], dtype=np.float32)
    model = _FixedModel(prob)
    m = predict_masks(model, np.zeros((1, 2, 2)), batch_size=7)
    np.testing.assert_array_equal(m, [[[0, 0], [1, 1]]])
    assert m.dtype == np.uint8 and model.calls == [((1, 2, 2, 1), np.float32, 7)]
    np.testing.assert_array_equal(predict_probabilities(model, np.zeros((1, 2, 2, 1))), prob)
    for bad, match in (({"batch_size": 0}, "batch_size=0"), ({"threshold": 1.0}, "threshold=1.0")):
        with pytest.raises(ValueError, match=match):
            predict_masks(model, np.zeros((1, 2, 2)), **bad)
    with pytest.raises(ValueError, match="images must have shape"):
        predict_masks(model, np.zeros((2, 2)))


# ------------------------------------------------------------------ the run function and its result
GRID_FIELDS = ["provenance", "run_id", "spec", "profile", "params", "data", "history", "train_seconds",
               "selected_epoch", "selected_val_dice", "test_pooled", "test_pooled_last_epoch", "test_pooled_pixels",
               "test_per_slice", "real", "adl", "wall_seconds"]


def test_committed_results_round_trip_through_the_result_schema():
    """Every committed cpu2 run has exactly the schema's fields (in order) and reads back unchanged."""
    from rarunet_lib.experiments import load_results, results_dir

    runs = load_results(results_dir("cpu2"))
    assert len(runs) > 100
    for run_id, doc in runs.items():
        # "adl" (what ADL left out) only in ADL runs, and only in those written since it was recorded
        assert list(doc) == [k for k in GRID_FIELDS if k != "adl" or "adl" in doc], run_id
        assert "adl" not in doc or doc["spec"]["adl"], run_id
        assert RunSpec(**doc["spec"]).run_id == run_id == doc["run_id"]
        assert RunResult.from_json(doc).to_json() == doc, run_id


def test_train_and_score_selects_the_best_validation_epoch_and_writes_the_grid_schema(tmp_path):
    data = load_dataset("phantom", TINY, seed=1000)
    seen = []
    spec = RunSpec("unet", 0, noise_beta=0.5, noise_alpha=0.7, adl=True)
    r = train_and_score(spec, data, TINY, output=tmp_path / "r.json", settings={"epochs": 3},
                        on_epoch=lambda tr, rec: seen.append(dict(rec)))
    doc = json.loads((tmp_path / "r.json").read_text())
    assert list(doc) == GRID_FIELDS and doc == r.to_json()
    vals = [e["val_dice"] for e in doc["history"]]
    assert len(vals) == 3 and [e["epoch"] for e in seen] == [1, 2, 3]
    assert [e["val_dice"] for e in seen] == vals  # the hook saw each epoch's record
    first_best = 1 + next(i for i, v in enumerate(vals) if v == max(vals))
    assert doc["selected_epoch"] == first_best and doc["selected_val_dice"] == max(vals)
    # the predictions scored are the selected model's: recompute pooled Dice from the saved file
    with np.load(tmp_path / "r.npz") as z:
        pred = np.unpackbits(z["test_pred"], axis=-1)[..., :32].astype(bool)
    gt = data.test_masks.astype(bool)
    tp, fp, fn = (pred & gt).sum(), (pred & ~gt).sum(), (~pred & gt).sum()
    assert doc["test_pooled"]["dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
    from rarunet_lib.inference import predict_masks

    np.testing.assert_array_equal(predict_masks(r.model, data.test_images), pred)
    if doc["selected_epoch"] == 3:
        assert doc["test_pooled_last_epoch"] == doc["test_pooled"]
    assert doc["profile"]["name"] == "tiny" and doc["spec"]["adl"] is True


def test_train_and_score_refuses_settings_that_belong_to_the_spec(tmp_path):
    data = load_dataset("phantom", TINY, seed=1000)
    with pytest.raises(ValueError, match=r"settings=\['seed'\] are not allowed"):
        train_and_score(RunSpec("unet", 0), data, TINY, settings={"seed": 3})
    with pytest.raises(ValueError, match="resume=True needs a run_folder"):
        train_and_score(RunSpec("unet", 0), data, TINY, resume=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="output=.* is not writable: .* is a file"):
        train_and_score(RunSpec("unet", 0), data, TINY, output=tmp_path / "file" / "r.json")

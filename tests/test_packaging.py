"""pyproject.toml and environment.yml must list the same packages and bounds."""

import re
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _split(req: str) -> tuple[str, str]:
    """('numpy>=1.26; marker') -> ('numpy', '>=1.26'), names normalised."""
    req = req.split(";")[0].strip()
    m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req)
    assert m, req
    return re.sub(r"[-_.]+", "-", m.group(1)).lower(), m.group(3).replace(" ", "")


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["dev"])
    # the CPU extra on Linux is what environment.yml installs
    reqs += [r for r in meta["optional-dependencies"]["cpu"] if "darwin'" not in r or "!=" in r]
    return dict(_split(r) for r in reqs if "python_version" not in r)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if item.startswith("-e") or item.split(">")[0].split("=")[0] in ("python", "pip"):
                continue
            name, spec = _split(item)
            out[name] = spec
    return out


def test_environment_matches_pyproject():
    assert _environment() == _pyproject()


def test_jupyter_book_stays_on_1x():
    assert _pyproject()["jupyter-book"] == ">=1.0.4,<2"


def test_tensorflow_is_chosen_by_extra_not_base():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(_split(r)[0].startswith("tensorflow") for r in meta["dependencies"])
    assert any("tensorflow-cpu" in r for r in meta["optional-dependencies"]["cpu"])
    assert any("tensorflow[and-cuda]" in r for r in meta["optional-dependencies"]["gpu"])

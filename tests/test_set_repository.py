"""The repository address and pinned ref: one setting (_config.yml), copied into every install line."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("set_repository", ROOT / "tools" / "set_repository.py")
set_repository = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(set_repository)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _toc_notebooks() -> list[str]:
    toc = (ROOT / "book" / "_toc.yml").read_text()
    return sorted(re.findall(r"file:\s*notebooks/(\S+)", toc))


def test_every_book_notebook_is_checked():
    assert _toc_notebooks() == sorted(p.stem for p in NOTEBOOKS)


def test_the_ref_is_pinned_not_a_moving_branch():
    url, ref = set_repository.read_setting()
    assert url.startswith("https://") and not url.endswith((".git", "/"))
    assert set_repository.PINNED_RE.match(ref), f"_config.yml repository.branch={ref!r} is not a tag or commit"
    assert not set_repository.PINNED_RE.match("main")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_colab_cell_installs_the_configured_repository_at_its_ref(path):
    url, ref = set_repository.read_setting()
    first = json.loads(path.read_text())["cells"][0]
    source = "".join(first["source"])
    assert "google.colab" in source, f"{path.name}: the first cell is not the Colab install cell"
    assert set_repository.INSTALL_RE.findall(source) == [(url, ref)], path.name


def test_the_readme_names_the_configured_repository_at_its_ref():
    url, ref = set_repository.read_setting()
    found = set(set_repository.INSTALL_RE.findall((ROOT / "README.md").read_text()))
    assert found == {(url, ref)}


def test_read_setting_reads_url_and_branch(tmp_path):
    cfg = tmp_path / "_config.yml"
    cfg.write_text("title: x\nrepository:\n  url: https://example.org/a/b\n  branch: v1.2.3\nhtml:\n  x: 1\n")
    assert set_repository.read_setting(cfg) == ("https://example.org/a/b", "v1.2.3")
    cfg.write_text("title: x\nrepository:\n  url: https://example.org/a/b\n")
    with pytest.raises(ValueError, match="branch"):
        set_repository.read_setting(cfg)

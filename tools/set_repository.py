"""Point the book at the repository it is published from: one address, one pinned ref.

The address and the ref live in one place, ``_config.yml``'s ``repository:``
section (``url`` and ``branch``; Jupyter Book's launch buttons use both).  Two
copies must follow it, because they are read where ``_config.yml`` is not:

* the first cell of every notebook (the Colab install cell), which installs
  ``rarunet_lib @ git+<url>@<ref>`` on Colab;
* the README's install line for Colab and other notebook services.

This script writes all three; ``tests/test_set_repository.py`` fails when they
disagree or when the ref is a moving branch.  For whoever publishes the book:

    python tools/set_repository.py https://github.com/OWNER/REPO --ref v0.1.0
    git commit -am "Publish from OWNER/REPO at v0.1.0" && git tag v0.1.0

and push the tag: the launch buttons and the install cell then open and install
exactly that tagged state.  Run without arguments to print the current setting.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "_config.yml"
README = ROOT / "README.md"
NOTEBOOKS = ROOT / "notebooks"
#: What the install cell and the README name: ``git+<url>@<ref>``.
INSTALL_RE = re.compile(r"git\+(https://[^@\s\"']+)@([^\s\"'`]+)")
#: A ref that does not move: a version tag or a full commit hash.
PINNED_RE = re.compile(r"^(v\d+\.\d+\.\d+([.-]?\w+)?|[0-9a-f]{40})$")


def read_setting(config: Path = CONFIG) -> tuple[str, str]:
    """The ``(url, ref)`` of ``_config.yml``'s ``repository:`` section (read without a YAML library)."""
    text = config.read_text()
    section = re.search(r"^repository:\n((?:[ \t]+.*\n)+)", text, flags=re.M)
    if not section:
        raise ValueError(f"{config}: no 'repository:' section")
    fields = dict(re.findall(r"^[ \t]+(\w+):[ \t]*(\S+)", section.group(1), flags=re.M))
    if "url" not in fields or "branch" not in fields:
        raise ValueError(f"{config}: 'repository:' needs 'url' and 'branch', found {sorted(fields)}")
    return fields["url"], fields["branch"]


def _set_config(url: str, ref: str) -> None:
    text = CONFIG.read_text()
    head, sep, rest = text.partition("\nrepository:\n")
    rest = re.sub(r"^([ \t]+url:[ \t]*)\S+", lambda m: m.group(1) + url, rest, count=1, flags=re.M)
    rest = re.sub(r"^([ \t]+branch:[ \t]*)\S+", lambda m: m.group(1) + ref, rest, count=1, flags=re.M)
    CONFIG.write_text(head + sep + rest)


def _set_install_lines(text: str, url: str, ref: str) -> str:
    return INSTALL_RE.sub(f"git+{url}@{ref}", text)


def _set_notebook(path: Path, url: str, ref: str) -> bool:
    nb = json.loads(path.read_text())
    cell = nb["cells"][0]
    old = "".join(cell["source"])
    new = _set_install_lines(old, url, ref)
    if new == old:
        return False
    cell["source"] = new.splitlines(keepends=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="https address of the repository, without .git")
    parser.add_argument("--ref", help="tag or full commit hash to pin (not a branch)")
    args = parser.parse_args(argv)
    url, ref = read_setting()
    if args.url is None and args.ref is None:
        print(f"repository: {url}\nref: {ref}")
        return 0
    url = (args.url or url).rstrip("/").removesuffix(".git")
    ref = args.ref or ref
    if not url.startswith("https://"):
        parser.error(f"url={url!r} must be an https:// address")
    if not PINNED_RE.match(ref):
        parser.error(f"--ref={ref!r} is not a version tag (v1.2.3) or a full commit hash; "
                     "a branch would let the install cell and the book drift apart")
    _set_config(url, ref)
    README.write_text(_set_install_lines(README.read_text(), url, ref))
    changed = [p.name for p in sorted(NOTEBOOKS.glob("*.ipynb")) if _set_notebook(p, url, ref)]
    print(f"_config.yml, README.md and {len(changed)} notebooks now name {url} at {ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""tools/build_book.py: Sphinx's parallel read for jupyter-book build, and nothing else changed."""

import importlib.util
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
build_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_book)


@pytest.mark.parametrize("name", build_book.SAFE_UNDECLARED)
def test_the_undeclared_extensions_are_declared_parallel_safe(name):
    module = importlib.import_module(name)
    original = module.setup
    try:
        assert not (original(mock.MagicMock()) or {}).get("parallel_read_safe")  # still undeclared upstream
        build_book._declare_parallel_safe(name)
        meta = module.setup(mock.MagicMock())
        assert meta["parallel_read_safe"] is True and meta["parallel_write_safe"] is True
    finally:
        module.setup = original


def test_jobs_reach_build_sphinx_and_the_rest_reaches_jupyter_book():
    import jupyter_book.sphinx as jb_sphinx

    seen = {}

    def fake_cli(args, prog_name):
        seen["args"], seen["prog"] = args, prog_name
        seen["jobs"] = jb_sphinx.build_sphinx.keywords["jobs"]

    original = jb_sphinx.build_sphinx
    with mock.patch("jupyter_book.cli.main.main", fake_cli), \
            mock.patch.object(build_book, "_declare_parallel_safe"):
        try:
            build_book.main(["--jobs", "3", ".", "-W", "--all"])
        finally:
            jb_sphinx.build_sphinx = original
    assert seen == {"args": ["build", ".", "-W", "--all"], "prog": "jupyter-book", "jobs": 3}


@pytest.mark.parametrize("argv", [["--jobs", "0", "."], ["--jobs", "two", "."], ["--jobs"]])
def test_a_bad_job_count_is_refused(argv):
    with pytest.raises(SystemExit, match="--jobs must be a positive integer"):
        build_book.main(argv)


def test_a_build_that_lost_the_kernel_port_race_runs_once_more_and_no_other_failure_does():
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            return RuntimeError("Sphinx parallel build error: Kernel died before replying to kernel_info")
        return 0

    assert build_book._build_retrying_a_kernel_race(flaky, "src", jobs=4) == 0
    assert calls == [{"jobs": 4}, {"jobs": 4}]

    other = ValueError("a cell raised")
    calls.clear()
    assert build_book._build_retrying_a_kernel_race(lambda **kw: calls.append(kw) or other, jobs=4) is other
    assert len(calls) == 1

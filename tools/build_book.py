"""Run ``jupyter-book build`` with Sphinx reading (and so executing) the pages in parallel.

``jupyter-book build`` (1.x) always reads the pages one after the other, and reading a
notebook page is executing it: the ten chapters run one at a time.  Sphinx can read in
several processes (``sphinx-build -j``), and MyST-NB and every extension the book uses
declare themselves safe for it; Jupyter Book's own ``build_sphinx`` takes the number of
processes but its command line does not pass one.  This wrapper passes ``--jobs`` to it
and hands every other argument to ``jupyter-book build`` unchanged.

Two extensions Jupyter Book always loads do not say whether they are parallel-safe, so
Sphinx would warn (an error under ``-W``) and read serially; the wrapper says so for them
(:data:`SAFE_UNDECLARED`).  ``sphinx_multitoc_numbering`` (0.1.3, unmaintained) only replaces
``TocTreeCollector.assign_section_numbers``, which Sphinx calls in the main process after
reading; ``sphinx_jupyterbook_latex`` (1.0.0) returns at once unless the builder is LaTeX.
Any other undeclared extension still makes the build warn, and fail.

Sphinx gives each process a chunk of consecutive pages (sorted by name), so the
chapters are spread evenly only with several processes per core: the default, 4,
suits the book's twelve pages on two cores.  ``--jobs 1`` is plain
``jupyter-book build``.

Parallel readers start their kernels at the same moment, and jupyter_client picks each
kernel's TCP ports by asking the system for free ones and releasing them: two processes can
be handed the same port, and one kernel then dies ("Address already in use", "Kernel died
before replying to kernel_info").  A build that fails that way, and only that way, is run
once more (:func:`_build_retrying_a_kernel_race`).

Run: python tools/build_book.py [--jobs N] PATH [jupyter-book build options]
"""

from __future__ import annotations

import functools
import importlib
import sys

#: Extensions without a parallel-safety declaration that are safe for an HTML build (see above).
SAFE_UNDECLARED = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def _declare_parallel_safe(name: str) -> None:
    module = importlib.import_module(name)
    setup = module.setup

    @functools.wraps(setup)
    def parallel_safe_setup(app):
        metadata = setup(app) or {}
        return {"version": getattr(module, "__version__", "unknown"), **metadata,
                "parallel_read_safe": True, "parallel_write_safe": True}

    module.setup = parallel_safe_setup


#: What a kernel that lost the port race between parallel readers leaves in the build's error.
KERNEL_RACE = ("Kernel died before replying to kernel_info", "Address already in use")


def _build_retrying_a_kernel_race(build, *args, **kwargs):
    """``build(*args, **kwargs)``; once more if it failed only because a kernel could not start."""
    result = build(*args, **kwargs)
    if isinstance(result, BaseException) and any(m in str(result) for m in KERNEL_RACE):
        print("build_book: a kernel died on start (a port taken by a parallel reader); building again",
              file=sys.stderr)
        result = build(*args, **kwargs)
    return result


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    jobs = 4
    if args[:1] == ["--jobs"]:
        if len(args) < 2 or not args[1].isdigit() or int(args[1]) < 1:
            sys.exit(f"--jobs must be a positive integer, got {args[1:2] or 'nothing'}")
        jobs, args = int(args[1]), args[2:]
    from jupyter_book import sphinx as jb_sphinx
    from jupyter_book.cli.main import main as jupyter_book_cli

    for name in SAFE_UNDECLARED:
        _declare_parallel_safe(name)

    # jupyter-book's build command imports build_sphinx when it runs: patch the module's name.
    jb_sphinx.build_sphinx = functools.partial(_build_retrying_a_kernel_race, jb_sphinx.build_sphinx, jobs=jobs)
    jupyter_book_cli(["build", *args], prog_name="jupyter-book")


if __name__ == "__main__":
    main()

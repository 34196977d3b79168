"""Command line: ``python -m rarunet_lib train|experiments ...`` (see ``--help``)."""

from __future__ import annotations

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())

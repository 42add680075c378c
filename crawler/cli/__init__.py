"""The ``newscrawl`` command: ``app.py`` (parser, ``main``), one module per command group and
``common.py`` (exit codes, UsageError, database path, site keys) that they all import.

May import every other package. ``newscrawl`` (pyproject.toml) and ``python -m crawler.cli``
both run :func:`main`.
"""

from crawler.cli.app import main

__all__ = ["main"]

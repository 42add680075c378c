"""The ``newscrawl`` command run in a child process from the repository, for tests and benchmarks.

A child process, not an import: what runs is the command as a user runs it (its exit code, its
stderr), and ``crawler.testing`` stays below ``crawler.cli`` in the package layers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: float = 240, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m crawler.cli ARGS`` from the repository, output captured; ``kwargs`` go to
    ``subprocess.run`` (``umask``, ``env``...)."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )

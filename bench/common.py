"""What every benchmark shares: the repository's root (where the CLI runs, where the replicas are).

The public benchmark sets are found by ``bench/datasets.py``; a helper the tests need too lives in
``crawler/testing/``. No benchmark module imports another for a path or a helper they share
(import-linter's acyclic-siblings contract over ``bench``), and none imports ``tests``.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

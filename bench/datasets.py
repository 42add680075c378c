"""Where the public extraction benchmarks are: one place for the bench and the tests.

The two sets (README in ``bench/benchmarks/``; MIT and Apache-2.0, their licences beside the
data) are kept in the repository, so the guard tests run on every clone, CI included.
``NEWSCRAWL_BENCHMARKS`` names another folder holding the same two sets; ``../shared/benchmarks``
beside the checkout is the last resort.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.common import REPO

ARTICLE_SET = "article-extraction-benchmark"
EVAL_SET = "trafilatura-eval"


def benchmarks_dir() -> Path:
    """The folder holding both sets: ``$NEWSCRAWL_BENCHMARKS``, else the repository's copy, else
    ``../shared/benchmarks`` (the first that exists; the repository's copy when none does, so an
    error names the path that was expected)."""
    candidates = [REPO / "bench" / "benchmarks", REPO.parent / "shared" / "benchmarks"]
    if os.environ.get("NEWSCRAWL_BENCHMARKS"):
        candidates.insert(0, Path(os.environ["NEWSCRAWL_BENCHMARKS"]))
    return next((c for c in candidates if (c / ARTICLE_SET).is_dir()), candidates[0])


def article_set() -> Path:
    return benchmarks_dir() / ARTICLE_SET


def eval_set() -> Path:
    return benchmarks_dir() / EVAL_SET

"""The package rules of ARCHITECTURE.md hold: the import-linter contracts in pyproject.toml."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_import_contracts_are_kept() -> None:
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_bench_and_tests_are_under_the_same_checks() -> None:
    """bench/ is code too (issue 26): mypy --strict covers it, and import-linter's graph holds bench
    and tests, with no cycle in either and no import of a test module from the benchmarks."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "bench" in config["tool"]["mypy"]["packages"]
    linter = config["tool"]["importlinter"]
    assert {"bench", "tests"} <= set(linter["root_packages"])
    contracts = linter["contracts"]
    acyclic = [c for c in contracts if c["type"] == "acyclic_siblings"]
    assert any({"crawler", "storage", "bench", "tests"} <= set(c["ancestors"]) for c in acyclic)
    forbidden = [(set(c["source_modules"]), set(c["forbidden_modules"])) for c in contracts if c["type"] == "forbidden"]
    assert any("bench" in source and "tests" in banned for source, banned in forbidden)
    assert any({"crawler", "storage"} <= source and {"bench", "tests"} <= banned for source, banned in forbidden)


def test_no_benchmark_imports_a_test_module() -> None:
    """The contract above, checked on the sources too: the helpers bench shares with the tests live
    in crawler/testing/ (or bench/common.py), so ``import tests`` appears in no bench module."""
    offenders = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "bench").glob("*.py"))
        if re.search(r"^\s*(from|import) tests\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert offenders == []

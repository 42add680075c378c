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


def _calls(pattern: str) -> dict[str, int]:
    """Source files of crawler/ and storage/ where ``pattern`` occurs, with its count."""
    import re

    found: dict[str, int] = {}
    for path in sorted([*REPO.glob("crawler/**/*.py"), *REPO.glob("storage/**/*.py")]):
        hits = len(re.findall(pattern, path.read_text(encoding="utf-8")))
        if hits:
            found[str(path.relative_to(REPO))] = hits
    return found


def test_work_done_in_one_place() -> None:
    """Each of these happens in one function (issue 26): url_log has one writer, a fetched
    page's bytes are decoded and checked for encoding faults in one place, and a URL is
    rebased to the real site for storage in one place."""
    assert _calls(r"(?i)into url_log|table\(\"url_log\"\)\.(?:upsert|insert)") == {"storage/crawlstate.py": 1}
    assert _calls(r"\bencoding_fault\(") == {"crawler/extract/encodings.py": 2}  # its definition and read_page
    assert _calls(r"\brebase\(") == {
        "crawler/extract/urls.py": 1,  # its definition
        "crawler/extract/siteconfig.py": 1,  # SiteConfig.stored_url: every URL stored
        "crawler/crawl/news_spider.py": 2,  # the other way: a stored URL to fetch at the crawled base
    }


def test_architecture_names_only_modules_and_functions_that_exist() -> None:
    """ARCHITECTURE.md's walk from response to row stays true after renames: every module path
    it names exists, and every ``module.py` `name`` pair names a def or class of that module."""
    import re

    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")

    def module(path: str) -> Path:
        for candidate in (REPO / path, REPO / "crawler" / path):
            if candidate.exists():
                return candidate
        if "/" not in path:  # a module of the package its table row names
            found = [*REPO.glob(f"crawler/**/{path}"), *REPO.glob(f"storage/{path}")]
            if found:
                return found[0]
        raise AssertionError(f"ARCHITECTURE.md names {path}, which does not exist")

    paths = set(re.findall(r"`([\w/]+\.py)`", text))
    assert len(paths) > 20
    for path in paths:
        module(path)
    pairs = re.findall(r"`([\w/]+\.py)` `(\w+)`", text)
    assert len(pairs) > 10
    for path, name in pairs:
        source = module(path).read_text(encoding="utf-8")
        assert re.search(rf"^(?:def|class|async def) {name}\b|^{name}\b.* = ", source, re.M), f"{path} has no {name}"

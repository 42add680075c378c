"""Every query of README.md's "SQL for people" runs, with the `sqlite-utils query` CLI, and returns rows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, build_replica_db

HEADING = "## SQL for people"
SQLITE_UTILS = Path(sys.executable).parent / "sqlite-utils"


def readme_queries(readme: Path = REPO / "README.md") -> list[str]:
    """The ```sql blocks of the README section, in order (none when the section is missing)."""
    parts = re.split(rf"^{HEADING}[ \t]*$", readme.read_text(encoding="utf-8"), maxsplit=1, flags=re.MULTILINE)
    if len(parts) < 2:
        return []
    section = re.split(r"^## ", parts[1], maxsplit=1, flags=re.MULTILINE)[0]
    return re.findall(r"^```sql\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readme") / "news.sqlite3"
    build_replica_db(path).close()
    return path


def test_the_section_has_the_promised_queries() -> None:
    queries = readme_queries()
    assert len(queries) >= 4, f"README.md needs its {HEADING!r} section (from .notes/readme-issue5.md)"
    joined = "\n".join(queries)
    for needle in ("article_versions", "json_each(a.authors)", "articles_fts match", "articles_fold_fts match"):
        assert needle in joined


@pytest.mark.parametrize("index", range(len(readme_queries())))
def test_readme_query_returns_rows(index: int, db_path: Path) -> None:
    sql = readme_queries()[index]
    done = subprocess.run(
        [str(SQLITE_UTILS), "query", str(db_path), sql], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows, f"no rows from:\n{sql}"
    assert all(value is not None for value in rows[0].values())

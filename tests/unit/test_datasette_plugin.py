"""The newscrawl Datasette plugin, in-process (Datasette's ASGI client opens no socket)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlite_utils
from datasette.app import Datasette  # type: ignore[import-untyped]
from datasette.plugins import pm  # type: ignore[import-untyped]

from crawler.cli import dashboard
from tests.helpers import build_replica_db


def _get(ds: Any, path: str) -> Any:
    return asyncio.run(ds.client.get(path))


def test_the_plugin_is_an_installed_entry_point() -> None:
    assert pm.has_plugin("newscrawl"), "pyproject.toml declares it; `pip install -e .` installs it"


def test_a_newscrawl_database_gets_the_dashboard_queries_and_descriptions(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    build_replica_db(path).close()
    ds = Datasette([str(path)])
    home = _get(ds, "/")
    assert home.status_code == 302 and home.headers["location"] == f"/-/dashboards/{dashboard.SLUG}"
    queries = ds.metadata("queries", database="news") or {}
    assert {"search_folded", "latest_articles", "dashboard_articles_total"} <= set(queries)
    assert ds.plugin_config("datasette-dashboards")[dashboard.SLUG]["charts"]["articles_total"]["db"] == "news"
    page = _get(ds, "/news/articles?_size=1")
    assert page.status_code == 200 and '<a href="https://' in page.text, "titles link to their article"


def test_a_foreign_database_is_left_as_datasette_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    sqlite_utils.Database(path)["articles"].insert({"title": "x", "url": "https://example.com/"})
    ds = Datasette([str(path)])
    assert _get(ds, "/").status_code == 200, "Datasette's own home page"
    assert not ds.metadata("queries", database="other")
    assert ds.plugin_config("datasette-dashboards") is None
    assert '">x</a>' not in _get(ds, "/other/articles").text, "the title is not made a link"

"""The Datasette plugin of newscrawl, declared in pyproject.toml (entry point group ``datasette``).

Installed with the package, so plain ``datasette data/news.sqlite3`` and ``newscrawl serve`` show
the same thing: for every served database that has the newscrawl schema, the described tables
and columns, the canned queries, the dashboard (datasette-dashboards' configuration) and links
in place of titles and URLs; ``/`` opens the dashboard. A database without that schema is left
as Datasette shows it, and a Datasette serving none gets nothing from this plugin.

The metadata is computed from each database (which tables and columns exist, which sites it
holds: crawler/cli/web.py) and computed again when its schema changes (a migration while it is
served); Datasette asks for metadata many times per page, so a database is looked at no more
than once a second.
"""

from __future__ import annotations

import time
from typing import Any

import sqlite_utils
from datasette import hookimpl  # type: ignore[import-untyped]

from crawler.cli import dashboard, web

# Tables every newscrawl database has (storage/schema.py); their presence is the test.
_SCHEMA = {"articles", "crawl_runs", "url_log"}
_RECHECK_S = 1.0


class _Cache:
    """Per database name: when it was last looked at, its schema version and its metadata."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[float, int, dict[str, Any] | None]] = {}

    def metadata(self, name: str, database: Any) -> dict[str, Any] | None:
        now = time.monotonic()
        seen = self.entries.get(name)
        if seen is not None and now - seen[0] < _RECHECK_S:
            return seen[2]
        if database.is_memory:
            return None
        conn = database.connect()
        try:
            version = int(conn.execute("pragma schema_version").fetchone()[0])
            if seen is not None and seen[1] == version:
                self.entries[name] = (now, version, seen[2])
                return seen[2]
            db = sqlite_utils.Database(conn)
            found = web.metadata(db, name) if _SCHEMA <= set(db.table_names()) else None
        finally:
            conn.close()
        self.entries[name] = (now, version, found)
        return found


_cache = _Cache()


def newscrawl_databases(datasette: Any) -> dict[str, dict[str, Any]]:
    """The metadata of each served database that has the newscrawl schema, by name."""
    found = {}
    for name, database in list(datasette.databases.items()):
        meta = _cache.metadata(name, database)
        if meta is not None:
            found[name] = meta
    return found


@hookimpl  # type: ignore[untyped-decorator]
def get_metadata(datasette: Any, key: str, database: str | None, table: str | None) -> dict[str, Any]:
    del key, database, table  # the whole metadata is returned; Datasette picks what it asked for
    found = newscrawl_databases(datasette)
    if not found:
        return {}
    first = next(iter(found.values()))
    return {
        "title": first["title"],
        "description": first["description"],
        "databases": {name: meta["databases"][name] for name, meta in found.items()},
        # datasette-dashboards shows one dashboard: that of the first newscrawl database.
        "plugins": first["plugins"],
    }


@hookimpl  # type: ignore[untyped-decorator]
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    """The home page is the dashboard when a newscrawl database is served (the list of
    databases stays in the menu); otherwise Datasette's own home page stays."""
    if not newscrawl_databases(datasette):
        return []
    from datasette.utils.asgi import Response  # type: ignore[import-untyped]

    async def home() -> Any:
        return Response.redirect(f"/-/dashboards/{dashboard.SLUG}")

    return [(r"^/$", home)]


@hookimpl  # type: ignore[untyped-decorator]
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    """A title links to its article, a URL column is a link (newscrawl databases only)."""
    if database not in newscrawl_databases(datasette):
        return None
    return web.render_cell(row, value, column, table, database, datasette)


@hookimpl  # type: ignore[untyped-decorator]
def prepare_connection(conn: Any) -> None:
    """The SQL functions the ``search_folded`` canned query calls (crawler/cli/web.py), on every
    connection: they only build FTS5 expressions, harmless on a database of another schema."""
    web.register_functions(conn)

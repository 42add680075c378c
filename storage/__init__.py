"""The SQLite store: schema and migrations (``schema.py``, ``tables.py``), opening the database
(``db.py``), articles and their versions, crawl state, runs, quality records, near-duplicate
clusters, full-text search, export, and the text normalisation everything hashes with
(``text.py``).

Imports nothing from ``crawler`` (import-linter checks it): the crawler depends on storage,
never the reverse.

The Python API: ``from storage import open_archive`` (``storage/archive.py``), loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.archive import Archive, open_archive

__all__ = ["Archive", "open_archive"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from storage import archive

        return getattr(archive, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")

"""The article record: the one contract between spiders, pipelines, storage and export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.extract.urls import url_hash
from storage.prepared import RECORD_FIELDS, PreparedArticle
from storage.writer import ArticleWrite

# Fields a record cannot be stored without (checked before storage, crawl and ingest alike).
REQUIRED_FIELDS: tuple[str, ...] = ("site", "url", "title", "body", "url_hash", "content_hash")


@dataclass(frozen=True)
class ArticleItem:
    """One extracted article.

    ``url`` is canonical (tracking parameters and fragment removed, keyed to the real site);
    ``published_at`` is ISO 8601 in +07:00 with ``published_at_raw`` the string it came from,
    or a date (``2024-03-15``) when the page gives no time of day; ``published_at_precision``
    says which (``day``, ``minute``, ``second``; None without a date);
    ``images`` are ``{"url", "caption"}`` dicts; ``source`` is the credit of a
    republished text ("Theo TTXVN" gives ``TTXVN``); ``extractor`` is ``site`` when the site's
    template was recognised and ``generic`` when the fallback produced the record.
    ``fetched_url`` is the URL first requested (before redirects), keyed to the real site, and
    ``alias_reason`` says why it differs from ``url`` (``redirect``, ``canonical``), if it does.
    ``raw_html`` is the page as fetched, kept so the page can be re-extracted later.
    Frozen: the spider adds the fetch facts with ``dataclasses.replace``.
    """

    site: str
    url: str
    title: str
    lead: str | None
    body: str
    authors: list[str]
    published_at: str | None
    published_at_raw: str | None
    category: str | None
    tags: list[str]
    images: list[dict[str, str | None]]
    language: str
    extractor: str
    url_hash: str
    content_hash: str
    fetched_at: str | None = None
    fetched_url: str | None = None
    alias_reason: str | None = None
    raw_html: bytes = field(default=b"", repr=False)
    # Credit of the text ("Theo TTXVN" -> "TTXVN"), never an author; None when absent.
    source: str | None = None
    # How precise published_at is: "day" (a date), "minute" or "second"; None without a date.
    published_at_precision: str | None = None
    # Which rule produced each field ("site:<selector>", "generic:<rule>", "none"): counted
    # in the crawl stats for `newscrawl health` and `probe`, never stored in the record.
    field_sources: dict[str, str] = field(default_factory=dict, repr=False)
    # Why the page is not judged an article (None: it is one). Only pages extracted without a
    # site carry one (the crawl refuses such pages instead); never stored in the record.
    verdict: str | None = field(default=None, compare=False)
    # What storage computes per article without the database (storage/prepared.py), done by
    # the extraction worker so the crawl process only writes; None: storage computes it.
    prepared: PreparedArticle | None = field(default=None, repr=False, compare=False)

    def record(self) -> dict[str, Any]:
        """The public record, in :data:`RECORD_FIELDS` order (lists copied, as ``asdict`` would,
        without deep-copying the page and the prepared form it does not need)."""
        return {name: _copied(getattr(self, name)) for name in RECORD_FIELDS}

    def missing_fields(self) -> list[str]:
        """The :data:`REQUIRED_FIELDS` this record lacks (empty counts as missing)."""
        return [name for name in REQUIRED_FIELDS if not getattr(self, name)]


def _copied(value: Any) -> Any:
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    return value


@dataclass(frozen=True)
class Rejection:
    """Why a page yields no article; ``reason`` is a short stable key used in stats.

    A value returned by :func:`crawler.extract.article.extract` (which re-exports it), not
    raised; the public API turns it into the exception :class:`crawler.api.NotAnArticle`. It
    lives here, beside the article, so the crawl process handles both without importing the
    extractor (trafilatura), which only its workers run."""

    reason: str
    detail: str = ""


@dataclass(frozen=True)
class UrlEvent:
    """A URL that was fetched or refused but yields no article, and why (for ``explain``)."""

    site: str
    url: str
    url_hash: str
    outcome: str  # "dropped" or "error"
    reason: str
    detail: str = ""


def article_write(item: ArticleItem) -> ArticleWrite:
    """What storage writes for a (valid) article: the record, its page or prepared form, and the
    URL first asked (the storage pipeline and distributed mode's ingest alike)."""
    fetched_hash = url_hash(item.fetched_url) if item.fetched_url else None
    return ArticleWrite(item.record(), item.raw_html, item.fetched_url, fetched_hash, item.alias_reason, item.prepared)

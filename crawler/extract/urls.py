"""URL canonicalisation: the project's own dedup key, never Scrapy's request fingerprint."""

from __future__ import annotations

from collections.abc import Callable, Collection
from urllib.parse import urljoin, urlsplit, urlunsplit

from storage.text import hash_key
from storage.urls import canonical_url

__all__ = ["canonical_target", "canonical_url", "is_web_url", "origin", "rebase", "url_hash"]


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def rebase(url: str, from_base: str, to_base: str) -> str:
    """Move ``url`` from one site origin to another, keeping path and query.

    Used to key articles fetched from a replica or mirror by their URL on the real site.
    """
    if origin(url) != origin(from_base):
        return url
    parts = urlsplit(url)
    target = urlsplit(to_base)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))


def url_hash(url: str) -> str:
    """The article key: hash of the canonical URL."""
    return hash_key(canonical_url(url))


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host (not ``javascript:``, ``data:``...)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def canonical_target(
    declared: str, url: str, origins: Collection[str], is_article_path: Callable[[str], bool]
) -> str | None:
    """The URL a page's ``rel=canonical`` (or ``og:url``) moves its record to, or None to keep
    ``url``.

    Honoured only when it names another article URL of the crawled site (one of its
    ``origins``, one of its article URL shapes): a canonical pointing at the home page, a
    listing or another site would store the article under that URL and merge unrelated pages
    into it.
    """
    try:
        target = canonical_url(urljoin(url, declared.strip()))
        path = urlsplit(target).path
    except ValueError:
        return None
    if not is_web_url(target) or origin(target) not in origins or target == url:
        return None
    return target if is_article_path(path) else None

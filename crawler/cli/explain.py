"""``newscrawl explain URL``: what the crawler knows of a URL, in sentences."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlite_utils

from crawler.extract.siteconfig import SiteConfig
from crawler.extract.urls import canonical_url, url_hash
from crawler.sites.registry import site_for_url, sites
from storage.articles import versions
from storage.crawlstate import url_events


def site_of(url: str) -> SiteConfig | None:
    """The crawled site a URL belongs to, by host."""
    return site_for_url(url)


def explain(db: sqlite_utils.Database, url: str) -> list[str]:
    """Lines describing ``url``: stored, alias, dropped and why, off-site, or never seen."""
    canonical = canonical_url(url)
    site = site_of(canonical)
    if site is None:
        keys = ", ".join(sites())
        return [f"off-site: {urlsplit(canonical).hostname} is not one of the crawled sites ({keys})"]
    canonical = canonical_url(site.main_url(canonical, site.base_url))  # an AMP variant is its article
    key = url_hash(canonical)
    lines = [] if canonical == url else [f"canonical form: {canonical}"]
    alias = next(db.query("select * from aliases where alias_hash = ?", [key]), None)
    if alias is not None:
        target = next(db.query("select url from articles where url_hash = ?", [alias["url_hash"]]), None)
        lines.append(
            f"alias ({alias['reason']}, first seen {alias['first_seen_at']}) of {target['url'] if target else '?'}"
        )
        key = alias["url_hash"]
    article = next(db.query("select * from articles where url_hash = ?", [key]), None)
    if article is not None:
        lines.append(
            f"stored: [{article['site']}] {article['title']!r}, published {article['published_at']}, "
            f"first seen {article['first_seen_at']}, last fetched {article['fetched_at']}, version {article['version']}"
        )
        for version in versions(db, key):
            changed = ", ".join(version["changed"]) or "first version"
            lines.append(f"  version {version['version']} fetched {version['fetched_at']}: {changed}")
        for other in db.query("select alias_url, reason from aliases where url_hash = ?", [key]):
            lines.append(f"  also reached as {other['alias_url']} ({other['reason']})")
        return lines
    event = url_events(db, key)
    if event is not None:
        lines.append(f"{event['outcome']}: {event['reason']} ({event['detail']}), last seen {event['seen_at']}")
        return lines
    if not site.is_article_path(urlsplit(canonical).path):
        lines.append(
            f"never stored: not an article URL shape of {site.key} (listing, tag and other pages are not stored)"
        )
    else:
        lines.append(f"never seen: a {site.key} article URL the crawler has not reached")
    return lines

"""Cross-site republication in the replicas: one story on several sites is one cluster.

cao 185236 and thanhtra b81f4c2d7 republish bocongan 1783311539 (new lead prefix, "Theo Bộ
Công an" credit or photo credits, a paragraph dropped on cao and one added on thanhtra, other
titles, later dates). cao 185311 is another commendation letter of the same ministry, sharing
its boilerplate: it must stay alone. Other republications are declared in the copy's
truth.json (``copy_of``), so a new site's replica brings its own without an edit here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlite_utils

from crawler.extract.article import Rejection, extract
from crawler.extract.urls import canonical_url
from crawler.sites.registry import sites
from storage import dedup, dedup_index, tables
from tests.helpers import declared_copies, real_page, replica, site_keys

ORIGINAL = ("bocongan", "1783311539")
COPIES = {("cao", "185236"), ("thanhtra", "b81f4c2d7")}
UNRELATED = ("cao", "185311")


def stories() -> list[set[tuple[str, str]]]:
    """Every republished story of the replicas, as the (site, name) of its copies and original."""
    found: dict[tuple[str, str], set[tuple[str, str]]] = {ORIGINAL: {ORIGINAL, *COPIES}}
    for copy, original in declared_copies().items():
        found.setdefault(original, {original}).add(copy)
    return list(found.values())


def replica_records() -> Iterator[dict[str, object]]:
    """Every replica article, extracted as the spider would from the page the real site serves."""
    configs = sites()
    for key in site_keys():
        site = replica(key)
        for route in site.routes_of("article"):
            result = extract(real_page(site, route), canonical_url(site.real_base + route.path), configs[key])
            assert not isinstance(result, Rejection), f"{key} {route.path}: {result}"
            yield {"name": route.name, **result.record()}


@pytest.fixture(scope="module")
def records() -> dict[tuple[str, str], dict[str, object]]:
    return {(str(r["site"]), str(r["name"])): r for r in replica_records()}


@pytest.fixture(autouse=True)
def _indexed(db: sqlite_utils.Database, records: dict[tuple[str, str], dict[str, object]]) -> None:
    """Every replica article stored and indexed for near-duplicates."""
    # Newest first, as a crawl of the home pages meets them: the original arrives after its copies.
    for record in sorted(records.values(), key=lambda r: str(r["published_at"]), reverse=True):
        columns = ("url_hash", "site", "url", "title", "body", "published_at", "content_hash")
        db.table("articles").insert({c: record[c] for c in columns})
        published_at = str(record["published_at"])
        dedup_index.index_article(db, str(record["url_hash"]), str(record["site"]), published_at, text(record))


def url_hash(records: dict[tuple[str, str], dict[str, object]], key: tuple[str, str]) -> str:
    return str(records[key]["url_hash"])


def text(record: dict[str, object]) -> str:
    return dedup.dedup_text(str(record["lead"] or ""), str(record["body"]))


def test_the_republished_story_is_one_cluster_with_the_ministry_original(
    db: sqlite_utils.Database, records: dict[tuple[str, str], dict[str, object]]
) -> None:
    clusters = dedup.list_clusters(db)
    assert len(clusters) == len(stories()), "no other replica story is republished"
    [cluster] = [c for c in clusters if c.original == url_hash(records, ORIGINAL)]

    assert {(m.site, m.url_hash) for m in cluster.members} == {
        (site, url_hash(records, (site, name))) for site, name in {ORIGINAL, *COPIES}
    }
    assert cluster.members[0].is_original and cluster.members[0].site == "bocongan"
    assert all(m.similarity >= dedup.THRESHOLD for m in cluster.members)
    assert {m.title for m in cluster.members} == {records[k]["title"] for k in {ORIGINAL, *COPIES}}


def test_each_declared_republication_is_one_cluster_with_its_original(
    db: sqlite_utils.Database, records: dict[tuple[str, str], dict[str, object]]
) -> None:
    clusters = {c.original: c for c in dedup.list_clusters(db)}
    for story in stories():
        original = min(story, key=lambda k: str(records[k]["published_at"]))
        cluster = clusters.get(url_hash(records, original))
        assert cluster is not None, f"{original} and its copies form no cluster"
        assert {m.url_hash for m in cluster.members} == {url_hash(records, k) for k in story}
        assert all(m.similarity >= dedup.THRESHOLD for m in cluster.members)


def test_each_site_lists_its_stories(db: sqlite_utils.Database) -> None:
    for key in site_keys():
        expected = sum(1 for story in stories() if any(site == key for site, _ in story))
        assert len(dedup.list_clusters(db, site=key)) == expected, key


def test_the_same_ministry_story_sharing_boilerplate_stays_alone(
    db: sqlite_utils.Database, records: dict[tuple[str, str], dict[str, object]]
) -> None:
    unrelated, original = records[UNRELATED], records[ORIGINAL]
    # The commendation-letter wording really is shared; the story is not.
    assert len(dedup.shingles(text(unrelated)) & dedup.shingles(text(original))) >= 30
    members = db.execute(f"select count(*) from {tables.MEMBERS} where url_hash = ?", [unrelated["url_hash"]])
    assert members.fetchone()[0] == 0
    again = dedup_index.index_article(
        db, str(unrelated["url_hash"]), "cao", str(unrelated["published_at"]), text(unrelated)
    )
    assert again == dedup.DupResult(None, [])

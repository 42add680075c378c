"""The synthetic replica (crawler/testing/synthetic.py): its articles as a crawl extracts them."""

from __future__ import annotations

import pytest

from crawler.crawl.pool import extract_page
from crawler.extract.items import ArticleItem
from crawler.sites.registry import sites
from crawler.testing.replica import SITES_DIR, SiteReplica
from crawler.testing.synthetic import SyntheticSite
from storage import dedup


def _articles(key: str, own_bodies: bool, count: int = 4) -> list[ArticleItem]:
    config = sites()[key]
    synthetic = SyntheticSite(SiteReplica(SITES_DIR / key), config, count, own_bodies=own_bodies)
    items = []
    for i in range(count):
        url = config.base_url + synthetic.article_path(i)
        result = extract_page(synthetic.article(i), url, config.base_url, key).result
        assert isinstance(result, ArticleItem), result
        items.append(result)
    return items


def _similarities(items: list[ArticleItem]) -> list[float]:
    signatures = [dedup.signature(dedup.dedup_text(item.lead, item.body)) for item in items]
    assert all(s is not None for s in signatures)
    return [dedup.jaccard(a, b) for i, a in enumerate(signatures) for b in signatures[i + 1 :]]  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["bocongan", "cao", "thanhtra"])
def test_own_bodies_make_distinct_articles_and_shared_bodies_near_copies(key: str) -> None:
    own, shared = _articles(key, True), _articles(key, False)
    # The same template either way: same fields found, bodies of about the same size.
    for a, b in zip(own, shared, strict=True):
        assert a.title and a.body and a.lead and a.published_at == b.published_at
        assert 0.7 < len(a.body or "") / len(b.body or "") < 1.3
    assert max(_similarities(own)) < dedup.THRESHOLD  # no two are copies of one story
    assert min(_similarities(shared)) >= dedup.THRESHOLD  # every one a copy of every other

"""Every replica page against its reviewed golden record and hand-written facts.

Fundus-style: the test loops over the site registry, so a new site is picked up automatically.
Golden files change only with ``pytest --update-golden`` and are read by a person before commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extraction import NotArticle, extract
from crawler.registry import sites
from crawler.replica import SITES_DIR
from crawler.urls import canonical_url
from tests.conftest import real_page, replica, site_keys

ARTICLES = [(key, route.path) for key in site_keys() for route in replica(key).routes_of("article")]
TRAPS = [
    (key, route.path)
    for key in site_keys()
    for route in replica(key).routes.values()
    if route.kind in ("trap", "disallowed")
]


def _extract(key: str, path: str) -> tuple[dict[str, object], str]:
    site = replica(key)
    route = site.lookup(path)
    assert route is not None and route.name, path
    result = extract(real_page(site, route), canonical_url(site.real_base + path), sites()[key])
    assert not isinstance(result, NotArticle), f"{key} {path}: {result}"
    record = result.record()
    record.pop("fetched_at")
    return record, route.name


@pytest.mark.parametrize(("key", "path"), ARTICLES)
def test_article_matches_golden(key: str, path: str, update_golden: bool) -> None:
    record, name = _extract(key, path)
    golden = SITES_DIR / key / "expected" / f"{name}.json"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert golden.is_file(), f"no golden record {golden}; run pytest --update-golden and review it"
    assert record == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("key", "path"), ARTICLES)
def test_article_matches_hand_written_facts(key: str, path: str) -> None:
    record, name = _extract(key, path)
    truth = json.loads((SITES_DIR / key / "truth.json").read_text(encoding="utf-8"))[name]
    assert record["title"] == truth["title"]
    assert record["lead"] == truth["lead"]
    assert record["authors"] == truth["authors"]
    assert record["source"] == truth.get("source")  # a credit ("Theo TTXVN") is never an author
    assert record["published_at"] == truth["published_at"]
    assert record["category"] == truth["category"]
    assert record["extractor"] == "site"
    body = str(record["body"])
    assert body.startswith(truth["body_first"]), body[:200]
    assert body.endswith(truth["body_last"]), body[-200:]
    captions = [img["caption"] for img in record["images"] if img["caption"]]  # type: ignore[attr-defined]
    assert captions == truth["captions"]
    for furniture in truth["absent"]:
        for field in ("title", "lead", "body"):
            assert furniture not in str(record[field] or ""), f"{furniture!r} in {field}"
    for caption in truth["captions"]:
        assert caption not in body, f"caption {caption!r} in body"


@pytest.mark.parametrize(("key", "path"), TRAPS)
def test_non_article_pages_yield_no_article(key: str, path: str) -> None:
    site = replica(key)
    route = site.lookup(path)
    assert route is not None
    result = extract(real_page(site, route), canonical_url(site.real_base + path), sites()[key])
    assert isinstance(result, NotArticle), f"{key} {path} extracted as an article: {result}"


def test_every_site_has_spider_fixtures_and_readme_row() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert sorted(sites()) == site_keys()
    for key in sites():
        assert (SITES_DIR / key / "truth.json").is_file()
        assert f"| `{key}` |" in readme, f"README has no row for site {key}"

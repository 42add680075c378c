"""The storage pipeline keeps a batch until it is committed (issue 16.13)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.crawl import pipelines
from crawler.crawl.pipelines import StoragePipeline
from crawler.crawl.runs import run_status
from crawler.extract.items import ArticleItem
from crawler.extract.urls import url_hash
from storage.text import content_hash


def item(n: int) -> ArticleItem:
    url = f"https://congan.com.vn/vu-an/bai-{n}_{n}.html"
    body = f"Bài số {n}. " + "Nội dung bài viết về an ninh trật tự trên địa bàn thành phố. " * 10
    return ArticleItem(
        site="cao",
        url=url,
        title=f"Tiêu đề {n}",
        lead=None,
        body=body,
        authors=[],
        published_at="2026-01-01T08:00:00+07:00",
        published_at_raw="01/01/2026 08:00",
        category=None,
        tags=[],
        images=[],
        language="vi",
        extractor="site",
        url_hash=url_hash(url),
        content_hash=content_hash(f"Tiêu đề {n}", None, body),
        fetched_at="2026-01-02T00:00:00+00:00",
        raw_html=b"<html></html>",
    )


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[StoragePipeline]:
    crawler = get_crawler(settings_dict={"NEWS_DB_PATH": str(tmp_path / "news.sqlite3"), "NEWS_STORE_BATCH": 100})
    crawler.stats.open_spider()
    pipe = StoragePipeline(crawler)
    pipe.closed_with: list[str] = []  # type: ignore[attr-defined]
    pipe._close_spider = pipe.closed_with.append  # type: ignore[attr-defined, method-assign]
    pipe.open_spider()
    yield pipe
    pipe.close_spider()


def failing(times: int, real: Any) -> Any:
    """save_batch that raises a (not disk-full) OperationalError ``times`` times, then works."""
    calls = [0]

    def save(db: sqlite_utils.Database, writes: Any) -> Any:
        calls[0] += 1
        if calls[0] <= times:
            raise sqlite3.OperationalError("disk I/O error")
        return real(db, writes)

    return save


def stored(pipe: StoragePipeline) -> int:
    return sqlite_utils.Database(pipe.db_path)["articles"].count


def test_a_batch_that_fails_once_is_kept_and_stored_by_the_retry(
    pipeline: StoragePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipelines, "save_batch", failing(1, pipelines.save_batch))
    for n in range(3):
        pipeline.process_item(item(n))
    pipeline.flush()  # the timer's flush: nothing may be lost
    assert stored(pipeline) == 3
    assert pipeline.pending == [] and pipeline.closed_with == []  # type: ignore[attr-defined]
    assert pipeline.crawler.stats.get_value("newscrawl/articles/new") == 3


def test_a_batch_that_fails_twice_stops_the_crawl_with_its_urls_logged(
    pipeline: StoragePipeline, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = pipelines.save_batch

    def save(db: sqlite_utils.Database, writes: Any) -> Any:
        if any(isinstance(w, pipelines.ArticleWrite) for w in writes):
            raise sqlite3.OperationalError("disk I/O error")
        return real(db, writes)  # the URL log still takes writes

    monkeypatch.setattr(pipelines, "save_batch", save)
    items = [item(n) for n in range(3)]
    for it in items:
        pipeline.process_item(it)
    pipeline.flush()

    assert pipeline.closed_with == ["storage_error"]  # type: ignore[attr-defined]
    with pytest.raises(DropItem):
        pipeline.process_item(item(9))
    db = sqlite_utils.Database(pipeline.db_path)
    logged = {r["url"]: (r["outcome"], r["reason"]) for r in db.query("select * from url_log")}
    assert logged == {it.url: ("error", "storage_error") for it in items}
    assert all(it.url in caplog.text for it in items)
    stats = pipeline.crawler.stats.get_stats()
    assert stats["newscrawl/errors/storage_error"] == 1
    assert run_status(stats, "storage_error") == "storage_error"

"""Storage on an in-memory database: one row per URL, versions, aliases, the known set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlite_utils

from crawler.extract.urls import url_hash
from storage.articles import known_url_hashes, save_article, versions
from storage.batch import ArticleWrite, UrlWrite, Write, save_batch, save_one
from storage.crawlstate import log_url
from storage.db import StorageError, open_db
from storage.text import content_hash


def record(
    url: str, body: str = "Thân bài. " * 50, title: str = "Tiêu đề", published: str = "2026-11-20T08:00:00+07:00"
) -> dict[str, Any]:
    return {
        "site": "cao",
        "url": url,
        "title": title,
        "lead": "(CAO) Mở đầu.",
        "body": body,
        "authors": ["A"],
        "published_at": published,
        "published_at_raw": "20/11/2026 08:00",
        "category": "Tin chính",
        "tags": [],
        "images": [],
        "language": "vi",
        "extractor": "site",
        "url_hash": url_hash(url),
        "content_hash": content_hash(title, "(CAO) Mở đầu.", body),
        "fetched_at": "2026-11-20T02:00:00+00:00",
    }


def test_same_article_twice_is_one_row(db: sqlite_utils.Database) -> None:
    url = "https://congan.com.vn/tin-chinh/a_1.html"
    assert save_article(db, record(url), b"<html>1</html>") == "new"
    assert save_article(db, record(url), b"<html>1</html>") == "duplicate"
    assert db["articles"].count == 1 and db["pages"].count == 1


def test_changed_content_keeps_the_old_version(db: sqlite_utils.Database) -> None:
    url = "https://congan.com.vn/tin-chinh/a_1.html"
    save_article(db, record(url))
    assert save_article(db, record(url, body="Thân bài đã sửa. " * 50)) == "updated"
    history = versions(db, url_hash(url))
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["body"].startswith("Thân bài. ") and history[1]["changed"] == ["body"]
    assert db["articles"].get(url_hash(url))["version"] == 2


def test_same_text_at_another_url_of_the_site_is_an_alias(db: sqlite_utils.Database) -> None:
    first, second = "https://congan.com.vn/tin-chinh/a_1.html", "https://congan.com.vn/vu-an/a_1.html"
    save_article(db, record(first))
    assert save_article(db, record(second)) == "alias"
    assert db["articles"].count == 1
    alias = db["aliases"].get(url_hash(second))
    assert alias["url_hash"] == url_hash(first) and alias["reason"] == "same_content"


def test_redirected_url_is_recorded_as_alias(db: sqlite_utils.Database) -> None:
    old = "https://bocongan.gov.vn/tin-tuc-su-kien/x-d17-t29424.html"
    new = "https://bocongan.gov.vn/bai-viet/x-d17-t29424"
    save_article(db, record(new), fetched_url=old, fetched_hash=url_hash(old), alias_reason="redirect")
    assert db["aliases"].get(url_hash(old))["url_hash"] == url_hash(new)
    assert url_hash(old) in known_url_hashes(db, "cao")


def test_known_set_leaves_out_young_articles_due_for_recheck(db: sqlite_utils.Database) -> None:
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    young, old = "https://congan.com.vn/a_1.html", "https://congan.com.vn/b_2.html"
    save_article(db, record(young, published="2026-11-20T08:00:00+07:00"))
    save_article(db, record(old, body="Khác. " * 60, published="2025-01-01T08:00:00+07:00"))
    assert known_url_hashes(db, "cao", 0, 0, now) == {url_hash(young), url_hash(old)}
    due = known_url_hashes(db, "cao", recheck_days=3, recheck_hours=6, now=now)
    assert due == {url_hash(old)}
    fresh = known_url_hashes(db, "cao", recheck_days=3, recheck_hours=6, now=now - timedelta(days=1, hours=8))
    assert url_hash(young) in fresh  # fetched less than 6 hours before that moment


def test_settled_drops_are_known_but_errors_are_retried(db: sqlite_utils.Database) -> None:
    video, failed = "https://congan.com.vn/video/v_1.html", "https://congan.com.vn/x_2.html"
    log_url(
        db,
        {
            "site": "cao",
            "url": video,
            "url_hash": url_hash(video),
            "outcome": "dropped",
            "reason": "not_article_type",
            "detail": "",
        },
    )
    log_url(
        db,
        {
            "site": "cao",
            "url": failed,
            "url_hash": url_hash(failed),
            "outcome": "error",
            "reason": "http_500",
            "detail": "",
        },
    )
    assert known_url_hashes(db, "cao") == {url_hash(video)}


def test_not_a_database_is_a_one_line_error(tmp_path: Any) -> None:
    bogus = tmp_path / "notes.sqlite3"
    bogus.write_text("these are notes, not a database\n" * 100)
    with pytest.raises(StorageError) as caught:
        open_db(bogus)
    assert str(bogus) in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(StorageError):
        open_db(tmp_path)


def _tables(db: sqlite_utils.Database) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "articles": "select * from articles order by rowid",
        "article_versions": "select * from article_versions order by rowid",
        "aliases": "select * from aliases order by alias_hash",
        "pages": "select * from pages order by url_hash",
        "url_log": "select url_hash, url, site, outcome, reason, detail from url_log order by url_hash",
        "fts": "select rowid, * from articles_fts order by rowid",
        "members": "select url_hash, cluster_id from dup_members order by url_hash",
    }
    return {name: db.execute(sql).fetchall() for name, sql in queries.items()}


def test_a_batch_stores_what_its_records_stored_one_by_one_would() -> None:
    # Issue 17: the set-based path decides each record against the batch's earlier records.
    base = "https://congan.com.vn/vu-an/"
    twin_text = "Cùng một bài, hai chuyên mục. " * 40
    writes: list[Write] = [
        ArticleWrite(record(base + "a_1.html"), b"<html>a</html>"),
        ArticleWrite(record(base + "b_2.html", body=twin_text), b"<html>b</html>"),
        ArticleWrite(record(base + "c_3.html", body=twin_text), b"<html>c</html>"),  # alias of b
        UrlWrite(
            {
                "site": "cao",
                "url": base + "x",
                "url_hash": url_hash(base + "x"),
                "outcome": "dropped",
                "reason": "too_short",
                "detail": "",
            }
        ),
        ArticleWrite(record(base + "a_1.html"), b"<html>a</html>"),  # duplicate
        ArticleWrite(record(base + "a_1.html", body="Đã sửa. " * 60), b"<html>a2</html>"),  # updated
        ArticleWrite(
            record(base + "d_4.html", body="Bài khác hẳn. " * 50),
            b"<html>d</html>",
            fetched_url=base + "old_4.html",
            fetched_hash=url_hash(base + "old_4.html"),
            alias_reason="redirect",
        ),
        ArticleWrite(record(base + "e_5.html", body="Đã sửa. " * 60, title="Bản sao"), b"<html>e</html>"),
    ]
    batched, alone = open_db(":memory:"), open_db(":memory:")
    outcomes = save_batch(batched, writes)
    assert outcomes == [save_one(alone, w) for w in writes]
    assert outcomes == ["new", "new", "alias", "logged", "duplicate", "updated", "new", "new"]
    assert _tables(batched) == _tables(alone)


def test_busy_timeout_is_per_connection_not_a_process_global(tmp_path: Any) -> None:
    """A crawl's NEWS_DB_BUSY_TIMEOUT reaches the connections it opens and no other one: the run
    recorder used to set it for the whole process, so a later open depended on it having run."""
    from crawler.crawl.runs import RunRecorder
    from storage.db import BUSY_TIMEOUT
    from tests.helpers import project_crawler

    path = tmp_path / "news.sqlite3"
    recorder = RunRecorder(project_crawler(NEWS_DB_PATH=str(path), NEWS_DB_BUSY_TIMEOUT=2.5))

    def busy_ms(db: sqlite_utils.Database) -> int:
        value = int(db.execute("PRAGMA busy_timeout").fetchone()[0])
        db.close()
        return value

    assert busy_ms(open_db(path, busy_timeout=recorder.busy_timeout)) == 2500
    assert busy_ms(open_db(path)) == busy_ms(open_db(path, readonly=True)) == int(BUSY_TIMEOUT * 1000) == 30_000

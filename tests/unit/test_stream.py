"""Distributed mode's record Stream: the prepared form travels, the writer stores it as computed."""

from __future__ import annotations

import zlib
from dataclasses import replace

import pytest

from crawler.distributed.stream import decode_record, encode_record
from crawler.extract.items import ArticleItem, article_write
from storage.batch import save_batch
from storage.db import open_db
from storage.prepared import prepare
from tests.helpers import fresh_python, replica_items


def _prepared_item() -> ArticleItem:
    item = next(i for i in replica_items() if i.body and len(i.body) > 500)
    page = f"<html><body><p>{item.body}</p></body></html>".encode()
    return replace(item, raw_html=page, prepared=prepare(item.record(), page))


def test_importing_the_ingest_loads_no_scrapy_or_twisted() -> None:
    code = (
        "import sys, crawler.distributed.ingest\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted', 'scrapy_redis'}))"
    )
    assert fresh_python(code).strip() == "[]"


def test_an_article_travels_with_its_prepared_form_and_is_stored_as_computed() -> None:
    item = _prepared_item()
    assert item.prepared is not None and item.prepared.signature is not None
    fields = encode_record(item)
    assert fields is not None and fields[b"v"] == b"2"
    assert b"html" not in fields, "the raw page does not travel beside its compressed form"
    decoded = decode_record(fields)
    assert isinstance(decoded, ArticleItem)
    assert decoded.record() == item.record()
    assert decoded.prepared is not None and decoded.raw_html == b""
    assert decoded.prepared.signature == item.prepared.signature
    assert decoded.prepared.bands == item.prepared.bands
    assert decoded.prepared.html_gz == item.prepared.html_gz
    assert decoded.prepared.json_columns == item.prepared.json_columns
    db = open_db(":memory:")
    assert save_batch(db, [article_write(decoded)]) == ["new"]
    stored = db.execute("select html_gz from pages").fetchone()[0]
    assert zlib.decompress(stored) == item.raw_html


def test_the_old_format_and_a_foreign_minhash_format_are_prepared_by_the_writer() -> None:
    item = _prepared_item()
    old = encode_record(item, prepared=False)
    assert old is not None and b"v" not in old
    decoded = decode_record(old)
    assert isinstance(decoded, ArticleItem) and decoded.prepared is None and decoded.raw_html == item.raw_html
    foreign = {**(encode_record(item) or {}), b"format": b"minhash:other:64:7:3"}
    decoded = decode_record(foreign)
    assert isinstance(decoded, ArticleItem) and decoded.prepared is None, "never stored with a foreign signature"
    assert decoded.raw_html == item.raw_html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({b"sig": b"\0" * 12}, "signature is 12 bytes"),
        ({b"page": zlib.compress(b"\0" * (32 * 1024 * 1024), 9)}, "more than"),
        ({b"page": b"not zlib"}, "not zlib"),
        ({b"v": b"9"}, "version"),
    ],
)
def test_a_bad_version_2_entry_is_refused(change: dict[bytes, bytes], message: str) -> None:
    fields = {**(encode_record(_prepared_item()) or {}), **change}
    with pytest.raises(ValueError, match=message):
        decode_record(fields, max_html=16 * 1024 * 1024)


def test_ingest_batch_and_page_cap_come_from_the_settings() -> None:
    """``NEWS_INGEST_BATCH`` is the ingest's batch (``--batch`` overrides it) and the page cap is
    ``DOWNLOAD_MAXSIZE``: each default is defined once, in crawler/settings.py."""
    from crawler import settings as defaults
    from crawler.crawl.runner import project_settings
    from crawler.distributed.ingest import IngestConfig
    from crawler.distributed.stream import MAX_PAGE_BYTES

    assert IngestConfig.from_settings(project_settings()).batch == defaults.NEWS_INGEST_BATCH == 200
    assert IngestConfig.from_settings(project_settings({"NEWS_INGEST_BATCH": 7})).batch == 7
    assert IngestConfig.from_settings(project_settings({"NEWS_INGEST_BATCH": 7}), batch=3).batch == 3
    assert MAX_PAGE_BYTES == defaults.DOWNLOAD_MAXSIZE
    assert IngestConfig.from_settings(project_settings({"DOWNLOAD_MAXSIZE": 1000})).max_page_bytes == 1000

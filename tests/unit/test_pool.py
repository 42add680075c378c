"""The extraction pool: the same records as in-process extraction; hangs and crashes contained."""

from __future__ import annotations

import os
import threading
import time
import warnings

import pytest

from crawler.crawl.pool import ExtractCrash, ExtractionPool, ExtractTimeout, extract_page, start_forkserver
from crawler.extract import article as extraction
from tests import faulty_extraction
from tests.helpers import fresh_python, real_page, replica, site_keys


def _pages() -> list[tuple[str, str, str, str]]:
    pages = []
    for key in site_keys():
        site = replica(key)
        for route in site.routes.values():
            if route.kind in ("article", "trap") and route.file:
                text = extraction.decode_page(real_page(site, route))
                pages.append((text, site.real_base + route.path, site.real_base, key))
    return pages


def test_pool_gives_the_records_of_in_process_extraction_on_every_replica_page() -> None:
    pages = _pages()
    assert len(pages) > 30
    expected = [extract_page(*page, fetched_at="2026-01-01T00:00:00+00:00") for page in pages]
    with ExtractionPool(2, timeout=30.0) as pool:
        futures = [pool.submit(*page, fetched_at="2026-01-01T00:00:00+00:00") for page in pages]
        got = [f.result(timeout=60) for f in futures]
    assert got == expected
    assert sum(isinstance(r.result, extraction.ArticleItem) for r in got) >= 25


def test_in_process_pool_is_the_same_function() -> None:
    page = _pages()[0]
    with ExtractionPool(0, timeout=30.0) as pool:
        assert pool.submit(*page).result() == extract_page(*page)


def test_a_hanging_page_is_killed_and_a_crash_is_reported_while_other_pages_finish() -> None:
    text, url, base, key = _pages()[0]
    started = time.monotonic()
    with ExtractionPool(2, timeout=1.5, initializer=faulty_extraction.install) as pool:
        hang = pool.submit(text + "<!-- TEST-HANG -->", url, base, key)
        crash = pool.submit(text + "<!-- TEST-CRASH -->", url, base, key)
        fine = [pool.submit(text, url, base, key) for _ in range(4)]
        with pytest.raises(ExtractTimeout):
            hang.result(timeout=30)
        with pytest.raises(ExtractCrash):
            crash.result(timeout=30)
        assert all(isinstance(f.result(timeout=30).result, extraction.ArticleItem) for f in fine)
        # the pool replaced the killed workers and goes on
        assert isinstance(pool.submit(text, url, base, key).result(timeout=30).result, extraction.ArticleItem)
    assert time.monotonic() - started < 20


def test_workers_are_not_forked_from_the_threaded_crawl_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 16.14: the crawl process runs Twisted's and pebble's threads; os.fork() there can
    # deadlock a child on a lock a thread held, and Python 3.12 warns of it (DeprecationWarning,
    # an error under this suite's warnings-as-errors). The workers come from a forkserver.
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    busy = threading.Event()
    thread = threading.Thread(target=busy.wait, daemon=True)
    thread.start()  # a thread of our own, as the reactor process has
    page = _pages()[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with ExtractionPool(2, timeout=30.0) as pool:
                results = [pool.submit(*page).result(timeout=60) for _ in range(4)]
    finally:
        busy.set()
    assert all(isinstance(r.result, extraction.ArticleItem) for r in results)
    assert forks == [], "the pool forked the calling process"


def test_a_page_sent_as_bytes_comes_back_prepared_for_storage() -> None:
    # Issue 17: the worker does what storage would do per article without the database.
    from storage.prepared import prepare

    site = replica("cao")
    route = site.routes_of("article")[0]
    raw = real_page(site, route)
    args = (site.real_base + route.path, site.real_base, "cao", "2026-01-01T00:00:00+00:00")
    with ExtractionPool(1, timeout=30.0) as pool:
        page = pool.submit(raw, *args).result(timeout=60)
    item = page.result
    assert isinstance(item, extraction.ArticleItem) and item.prepared is not None
    assert item.prepared == prepare(item.record(), raw)
    assert item.prepared.html_gz is not None and item.prepared.signature is not None
    assert item.record() == extract_page(extraction.decode_page(raw), *args).result.record()  # type: ignore[union-attr]


def test_a_canonical_naming_the_home_page_is_ignored() -> None:
    """Issue #16 item 10: the record stays under the article URL, not ``/``."""
    site = replica("cao")
    route = site.routes_of("article")[0]
    page = real_page(site, route).decode("utf-8")
    base = site.real_base
    url = base + route.path
    home = page.replace(f'<link rel="canonical" href="{url}">', f'<link rel="canonical" href="{base}/">')
    assert home != page, "the replica page declares its canonical URL"
    result = extract_page(home, url, base, "cao")
    assert (result.url, result.canonical) == (url, False)
    moved = page.replace(f'<link rel="canonical" href="{url}">', f'<link rel="canonical" href="{url}?utm_source=x">')
    assert extract_page(moved, url, base, "cao").url == url  # the same article: not an alias


def test_the_forkserver_started_early_serves_the_pool_made_later() -> None:
    assert start_forkserver(0) is None  # in-process extraction: nothing to start
    starting = start_forkserver(2)
    assert starting is not None
    starting.join(timeout=120)
    assert not starting.is_alive()
    from multiprocessing import forkserver

    assert forkserver._forkserver._forkserver_pid is not None  # type: ignore[attr-defined]
    cao = replica("cao")
    route = cao.routes_of("article")[0]
    page = cao.render(route, cao.real_base)
    with ExtractionPool(2, 60) as pool:
        extracted = pool.submit(page, cao.real_base + route.path, cao.real_base, "cao").result(timeout=120)
    assert extracted.result.url.startswith(cao.real_base)


def test_the_crawl_process_does_not_load_the_extractor() -> None:
    # Only the workers extract: the CLI, the spiders, the pipeline and the pool's own side load
    # no trafilatura (0.1-0.2 s of every crawl's start-up); the forkserver preloads it instead.
    script = (
        "import sys\n"
        "import crawler.cli.app, crawler.crawl.runner, crawler.crawl.site_spiders, crawler.crawl.pipelines\n"
        "from crawler.crawl import pool\n"
        "print(sorted(m for m in ('trafilatura', 'crawler.extract.article', 'datasketch', 'scipy') if m in sys.modules))\n"
        "print('crawler.extract.article' in pool._PRELOAD)\n"
    )
    assert fresh_python(script).split("\n")[:2] == ["[]", "True"]

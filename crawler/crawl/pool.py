"""Article extraction off the reactor: a pool of worker processes with a per-page timeout.

The task sent to a worker is :func:`extract_page`, a pure function of pickle-friendly values
(the page text, its URL, the crawl's base URL, the site key); the worker looks the
:class:`~crawler.extract.siteconfig.SiteConfig` up in the registry. The same function runs in-process when
the pool has no workers (``NEWS_EXTRACT_WORKERS = 0``), so both paths give the same record.

Processes are managed by pebble's ``ProcessPool``: a page that makes the extractor hang is
killed after ``timeout`` seconds (pebble replaces the worker), a worker that dies is reported
as a crash; both leave the other pages and the crawl running. Each worker's address space may
grow by ``memory_mb`` beyond what it holds when it starts (``RLIMIT_AS``): a page that needs
more ends in MemoryError, reported as the page's ``extract_memory`` outcome. One pool serves every spider of
a process: :func:`acquire` starts it on first use, :func:`release` stops it with its last user.
The workers come from a forkserver (see START_METHOD) and are started in a thread, so the
reactor never waits for them. An article comes back with its storage form prepared
(storage/prepared.py): the crawl process only writes.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from pebble import ProcessExpired, ProcessPool

from crawler.extract.encodings import read_page
from crawler.extract.items import ArticleItem, Rejection
from crawler.extract.pagemeta import parse_page
from crawler.extract.siteconfig import SiteConfig
from crawler.extract.urls import canonical_target
from crawler.sites.registry import sites
from storage.prepared import prepare

logger = logging.getLogger(__name__)

# Workers are forked by a forkserver: a single-threaded process started once, with the
# extraction modules preloaded. Forking the crawl process itself (Twisted's and pebble's
# threads running) can deadlock a child on a lock some thread held, and Python 3.12 warns of
# it (an error under pytest's warnings-as-errors). A replaced worker (after a timeout) is
# still forked from the preloaded server: nothing is re-imported. `bench/perf --part startup`
# measures the cost against fork.
START_METHOD = "forkserver"
# The extractor (trafilatura) is imported by the workers' code only (_extract_page): the crawl
# process, which imports this module for the pool, never runs it and does not load it.
_PRELOAD = ["crawler.crawl.pool", "crawler.extract.article", "crawler.sites.registry"]
# Run in each worker as it starts (pebble's ``initializer``); a seam for tests that install a
# stand-in extractor in the workers. None in production.
worker_initializer: Callable[[], None] | None = None


class ExtractTimeout(Exception):
    """The page took longer than the pool's timeout; its worker was killed."""


class ExtractCrash(Exception):
    """The worker extracting the page died (a segfault, the OOM killer, ``os._exit``)."""


@dataclass(frozen=True)
class ExtractedPage:
    """What a worker returns for one fetched page.

    ``url`` is the canonical URL the page is recorded under (its ``rel=canonical`` when that
    points inside the crawled site), ``canonical`` whether that declaration moved it, and
    ``result`` the extraction itself, keyed to the real site's URL; an article comes with its
    storage form prepared (``result.prepared``) when the page was sent as bytes. ``fault`` is
    the encoding fault met decoding those bytes (``invalid_utf8``, ``charset_mismatch``), if any.
    """

    url: str
    canonical: bool
    result: ArticleItem | Rejection
    fault: str | None = None


def extract_workers(settings: Any) -> int:
    """``NEWS_EXTRACT_WORKERS`` as a pool size; set but empty (``-s NEWS_EXTRACT_WORKERS=``)
    means one worker per core, as the setting's own default does."""
    value = settings.get("NEWS_EXTRACT_WORKERS")
    return default_workers() if value in (None, "") else int(value)


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _context(method: str) -> Any:
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(_PRELOAD)  # before the server starts; a no-op after
    return context


def start_forkserver(workers: int) -> threading.Thread | None:
    """Start the workers' forkserver now, in a thread, if the crawl will have workers.

    The forkserver imports the extraction modules (about a second of CPU); started when the
    crawl starts, it does so on the other core while the crawl process starts Scrapy and
    fetches robots.txt and the first listings, so the first article page finds it ready
    instead of waiting for it. A crawl that extracts nothing pays that second in a process of
    its own. The pool created later connects to this server (multiprocessing keeps one per
    process).
    """
    if workers <= 0 or START_METHOD != "forkserver":
        return None

    def start() -> None:
        from multiprocessing import forkserver

        _context(START_METHOD)  # the preload list, before the server starts
        try:
            forkserver.ensure_running()
        except OSError as exc:  # the pool will try again, and report it, at the first article
            logger.debug("forkserver not started early: %s", exc)

    thread = threading.Thread(target=start, name="forkserver-start", daemon=True)
    thread.start()
    return thread


def _limit_memory(memory_mb: int, then: Callable[[], None] | None) -> None:
    """Worker initializer: cap the worker's address space at its size now plus ``memory_mb``.

    The size is read from ``/proc/self/statm`` (Linux; no library gives the address space
    without psutil, which is a dev tool here); without it, or with ``memory_mb`` 0, no cap.
    """
    if memory_mb > 0:
        try:
            with open("/proc/self/statm", encoding="ascii") as statm:
                size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = size + memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))
        except (OSError, ValueError) as exc:
            logger.warning("extraction worker: no memory budget (%s)", exc)
    if then is not None:
        then()


def _ready() -> None:
    """The first task of a pool: done once its workers run."""


@cache
def _site(key: str) -> SiteConfig:
    return sites()[key]


def extract_page(
    page: str | bytes,
    url: str,
    base_url: str,
    site_key: str,
    fetched_at: str | None = None,
    declared: str | None = None,
) -> ExtractedPage:
    """Extract a page fetched at ``url`` (canonical, on ``base_url``) of site ``site_key``.

    A ``rel=canonical`` (or ``og:url``) pointing elsewhere on the crawled site becomes the
    record's URL; the record is keyed to the real site (``base_url`` rebased to the site's own).
    ``page`` as bytes (``declared``: the charset the server named) is decoded here, and an
    article's storage form (:func:`storage.prepared.prepare`, the page compressed) is computed
    here too, so the crawl process only writes it. Pure and module-level, so a worker process
    can run it.
    """
    try:
        return _extract_page(page, url, base_url, site_key, fetched_at, declared)
    except MemoryError:  # over the worker's budget (_limit_memory): a fact of the page
        return ExtractedPage(url, False, Rejection("extract_memory", "over the extraction memory budget"))


def _extract_page(
    page: str | bytes,
    url: str,
    base_url: str,
    site_key: str,
    fetched_at: str | None,
    declared: str | None,
) -> ExtractedPage:
    from crawler.extract import article as extraction  # the forkserver preloaded it (_PRELOAD)

    fault = None
    if isinstance(page, bytes):
        raw, (text, fault) = page, read_page(page, declared)
    else:
        raw, text = b"", page
    site = _site(site_key)
    origins = site.origins_for(base_url)
    parsed = parse_page(text)  # once: the canonical is read here, then the same tree is extracted
    tree = parsed[0]
    declared_url = extraction.page_canonical(tree) if tree is not None else None
    moved = False
    if declared_url:
        # Only another article URL of the site: a canonical naming the home page or a section
        # would file the article under it (crawler/extract/urls.py).
        target = canonical_target(declared_url, url, origins, site.is_article_path)
        if target is not None:
            url, moved = target, True
    record_url = site.stored_url(url, origins)
    result = extraction.extract(text, record_url, site, fetched_at=fetched_at, parsed=parsed)
    if isinstance(result, ArticleItem) and raw:
        result = replace(result, prepared=prepare(result.record(), raw))
    return ExtractedPage(url, moved, result, fault)


class ExtractionPool:
    """``workers`` processes extracting pages, each page killed after ``timeout`` seconds, each
    worker's memory capped at ``memory_mb`` beyond its idle size.

    ``workers == 0`` extracts in the calling process (no timeout nor memory cap applies there).
    """

    def __init__(
        self,
        workers: int,
        timeout: float,
        start_method: str = START_METHOD,
        initializer: Callable[[], None] | None = None,
        memory_mb: int = 0,
    ) -> None:
        self.workers = workers
        self.timeout = timeout
        self._pool: ProcessPool | None = None
        self._ready: Future[None] = Future()
        if workers > 0:
            self._pool = ProcessPool(
                max_workers=workers,
                context=_context(start_method),
                initializer=_limit_memory,
                initargs=(memory_mb, initializer or worker_initializer),
            )
            # pebble feeds each worker its next page from threads of this process; while the
            # reactor thread is busy they wait for the GIL up to the switch interval (5 ms by
            # default), which left the workers idle half the time. 0.5 ms hands it over sooner.
            sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
            # Starting the workers waits for the forkserver to import the extraction modules
            # (a second or two): a thread does it, so the reactor never waits; pages submitted
            # before it is done wait in ``extract`` (or block ``submit`` outside the reactor).
            threading.Thread(target=self._start, name="extraction-pool-start", daemon=True).start()

    def _start(self) -> None:
        assert self._pool is not None
        try:
            self._pool.schedule(_ready).result()
            self._ready.set_result(None)
        except BaseException as exc:
            self._ready.set_exception(exc)

    def submit(
        self,
        page: str | bytes,
        url: str,
        base_url: str,
        site_key: str,
        fetched_at: str | None = None,
        declared: str | None = None,
    ) -> Future[Any]:
        """Schedule one page (see :func:`extract_page`); the future gives a :class:`ExtractedPage`
        or raises ExtractTimeout / ExtractCrash."""
        args = (page, url, base_url, site_key, fetched_at, declared)
        if self._pool is None:
            done: Future[Any] = Future()
            try:
                done.set_result(extract_page(*args))
            except Exception as exc:
                done.set_exception(exc)
            return done
        self._ready.result()
        inner = self._pool.schedule(extract_page, args=args, timeout=self.timeout)
        outer: Future[Any] = Future()

        def relay(finished: Future[Any]) -> None:
            try:
                outer.set_result(finished.result())
            except TimeoutError:
                outer.set_exception(ExtractTimeout(f"no result after {self.timeout:g} s: {url}"))
            except ProcessExpired as exc:
                # pebble matches a dead worker to its page by the page's start message; when the
                # worker dies right after sending it, the death can be noticed first, and the
                # page is then reported when it times out, as a TimeoutError. The page is counted
                # and retried either way; only its label (and the wait) differ.
                outer.set_exception(ExtractCrash(f"worker died (exit code {exc.exitcode}): {url}"))
            except BaseException as exc:
                outer.set_exception(exc)

        inner.add_done_callback(relay)
        return outer

    async def extract(
        self,
        page: str | bytes,
        url: str,
        base_url: str,
        site_key: str,
        fetched_at: str | None = None,
        declared: str | None = None,
    ) -> ExtractedPage:
        """:meth:`submit`, awaited on the running asyncio loop (the reactor's)."""
        if self._pool is not None and not self._ready.done():
            await asyncio.wrap_future(self._ready)
        future = self.submit(page, url, base_url, site_key, fetched_at, declared)
        result: ExtractedPage = await asyncio.wrap_future(future)
        return result

    def close(self) -> None:
        """Stop the workers; tasks still queued are cancelled."""
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]
            self._pool.join(timeout=10)
            self._pool = None

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: ExtractionPool | None = None
_users = 0


def acquire(workers: int, timeout: float, memory_mb: int = 0) -> ExtractionPool:
    """The process's pool, started on first use (the spiders of one crawl share it)."""
    global _shared, _users
    if _shared is None:
        _shared = ExtractionPool(workers, timeout, memory_mb=memory_mb)
        logger.info("extraction pool: %d worker(s), %g s and %d MB per page", workers, timeout, memory_mb)
    _users += 1
    return _shared


def release() -> None:
    """One user is done with the pool; the last one stops it."""
    global _shared, _users
    _users -= 1
    if _users <= 0 and _shared is not None:
        _shared.close()
        _shared, _users = None, 0

"""Performance figures, each a ratio measured in the same run (issue 7).

    python -m bench.perf [--part extraction|endtoend|memory|storage|versus|startup|all] [--n 1000]
                         [--workers 2] [--sizes 1000 10000] [--repeat 1] [--busy 0 1]

- extraction: ms per page of the project's extraction against trafilatura
  ``bare_extraction(with_metadata=True)`` on the same pages (replica pages with the site path;
  the public benchmark's pages with the generic path), same process;
- endtoend: pages per second of ``newscrawl crawl`` over the synthetic replica (``--n`` articles
  per site, politeness off: bench settings only, robots.txt still obeyed) and of re-extraction
  of the stored pages, against the ceiling: extracting the same pages with the same number of
  processes and no crawling;
- memory: peak RSS (and PSS) of the crawl's process tree for ``--n`` and 3x ``--n`` articles per site;
- storage: articles stored per second through the batched path (storage.batch.save_batch,
  as the pipeline does; FTS triggers against one INSERT ... SELECT per batch) against a bare
  ``executemany`` of the same rows, and SQLite statements per article (trace callback);
- versus (issue 17): articles/s of ``newscrawl crawl`` against the ten-minute spider
  (bench/naive.py) and against fetching alone, same replica and settings, one run per size in
  ``--sizes`` (``--repeat`` rounds of the three in turn: median and range), with the share of the
  run the crawl process and each extraction worker were on a CPU; ``--busy 0 1`` gives a table
  on the quiet machine and one with another busy process spinning a core;
- startup: seconds to start the extraction workers with fork and with the forkserver.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # no stubs installed (types-psutil is not a dependency)

from bench import datasets
from bench.common import REPO
from crawler.crawl.pool import ExtractionPool
from crawler.crawl.runner import project_settings
from crawler.extract import article as extraction
from crawler.sites.registry import sites
from crawler.testing.server import ReplicaServer

BENCHMARK = datasets.article_set() / "html"
BENCH_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "64",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "NEWS_MAX_LISTING_PAGES": "100000",
    "LOG_LEVEL": "ERROR",
}


def _timed(fn: Any, items: list[Any]) -> float:
    started = time.perf_counter()
    for item in items:
        fn(*item)
    return (time.perf_counter() - started) / len(items) * 1000


def part_extraction() -> None:
    import trafilatura

    configs = sites()
    server = ReplicaServer()
    replica = [
        (site.render(r, site.real_base), site.real_base + r.path, configs[key])
        for key, site in server.sites.items()
        for r in site.routes_of("article")
    ]
    public = [
        (gzip.decompress(p.read_bytes()), "https://example.com/article", None)
        for p in sorted(BENCHMARK.glob("*.html.gz"))
    ]
    print(f"{'pages':24} {'n':>4} {'newscrawl ms':>12} {'trafilatura ms':>14} {'ratio':>6}")
    for name, pages in (("replica (site path)", replica), ("benchmark (generic path)", public)):
        failures: list[str] = []
        ours = _timed(lambda page, url, site, failures=failures: _guarded(failures, page, url, site), pages)
        theirs = _timed(lambda page, url, _site: trafilatura.bare_extraction(page, url=url, with_metadata=True), pages)
        print(f"{name:24} {len(pages):>4} {ours:>12.1f} {theirs:>14.1f} {ours / theirs:>5.2f}x")
        for failure in failures:
            print(f"  newscrawl raised on a page: {failure}")


def _guarded(failures: list[str], page: bytes, url: str, site: Any) -> None:
    # extract() promises never to raise; a page that makes it raise is a bug to report.
    try:
        extraction.extract(page, url, site)
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}")


@dataclass
class Run:
    """What one measured subprocess did: wall seconds, peak RSS/PSS of its process tree (bytes),
    CPU seconds per child process (the extraction workers) and of the process itself, its last
    output line, and the machine's load average when it started (other work on the machine
    skews timings)."""

    elapsed: float
    rss: int = 0
    pss: int = 0
    child_cpu: dict[int, float] = field(default_factory=dict)
    output: str = ""
    root_cpu: float = 0.0
    load: float = 0.0

    def busy(self, top: int) -> list[float]:
        """The share of the run's wall time the ``top`` busiest child processes were on a CPU."""
        return sorted((cpu / self.elapsed for cpu in self.child_cpu.values()), reverse=True)[:top]


def _measure(command: list[str], sample: bool = True, ok: tuple[int, ...] = (0, 1), memory: bool = True) -> Run:
    """Run ``command`` from the repository, sampling its process tree every 0.2 s: CPU times,
    and memory unless ``memory`` is False (reading a process's smaps costs the sampler more
    CPU the more processes the command has)."""
    load = os.getloadavg()[0]
    peak = [0, 0]
    cpu: dict[int, float] = {}
    root_cpu = [0.0]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    done = threading.Event()

    def watch() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                children = root.children(recursive=True)
            except psutil.Error:
                break  # the run is over
            rss = pss = 0
            for p in [root, *children]:
                # Each process on its own: one that exits (or is a zombie) between the listing
                # and the reading must not cost the others their sample.
                try:
                    info = p.memory_full_info() if memory else None
                    times = p.cpu_times()
                except psutil.Error:
                    continue
                if info is not None:
                    rss, pss = rss + info.rss, pss + info.pss
                if p.pid == root.pid:
                    root_cpu[0] = times.user + times.system
                else:
                    cpu[p.pid] = times.user + times.system
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    if sample:
        watcher.start()
    output, _ = proc.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    if proc.returncode not in ok:
        raise SystemExit(f"{command[2:4]} exited {proc.returncode}")
    last = output.strip().splitlines()[-1] if output.strip() else ""
    return Run(elapsed, peak[0], peak[1], cpu, last, load=load, root_cpu=root_cpu[0])


class ReplicaProcess:
    """The synthetic replica served from a process of its own, as a real site is served from
    another machine: the bench process's own threads (the sampler of ``_measure``) do not share
    its interpreter, and what serving costs is not charged to whichever contender is measured.
    Started with ``spawn``: nothing of the bench process is inherited."""

    def __init__(self, keys: list[str], synthetic: int, own_bodies: bool) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._proc = context.Process(target=_serve_replica, args=(child, keys, synthetic, own_bodies), daemon=True)
        self._proc.start()
        child.close()
        self._bases, self.article_urls = self._conn.recv()
        self.sites = dict.fromkeys(self._bases)

    def base_url(self, key: str) -> str:
        return str(self._bases[key])

    def __enter__(self) -> ReplicaProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()  # the server process ends at EOF
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()


def _serve_replica(conn: Any, keys: list[str], synthetic: int, own_bodies: bool) -> None:
    with ReplicaServer(keys, synthetic=synthetic, own_bodies=own_bodies) as server:
        urls = [f"{server.base_url(k)}{r.path}" for k, site in server.sites.items() for r in site.routes_of("article")]
        conn.send(({k: server.base_url(k) for k in server.sites}, urls))
        try:
            conn.recv()
        except EOFError:
            pass


def _crawl_command(
    server: ReplicaServer | ReplicaProcess, db: Path, workers: int, settings: dict[str, str]
) -> list[str]:
    # The served sites by name: a site not named would be crawled at its real address.
    command = [sys.executable, "-m", "crawler.cli", "crawl", *server.sites, "--db", str(db)]
    for name, value in {**settings, "NEWS_EXTRACT_WORKERS": str(workers)}.items():
        command += ["-s", f"{name}={value}"]
    for key in server.sites:
        command += ["--base-url", f"{key}={server.base_url(key)}"]
    return command


def _crawl(server: ReplicaServer, db: Path, workers: int, sample: bool = False) -> tuple[float, int, int]:
    """Wall seconds of a `newscrawl crawl` subprocess; peak RSS and PSS (bytes) of its tree."""
    run = _measure(_crawl_command(server, db, workers, BENCH_SETTINGS), sample)
    return run.elapsed, run.rss, run.pss


def _extract_timeout() -> float:
    return float(project_settings().getfloat("NEWS_EXTRACT_TIMEOUT"))


def _ceiling(server: ReplicaServer, workers: int) -> tuple[float, int]:
    """Pages per second extracting every synthetic article with ``workers`` processes."""
    pages = []
    for key, site in server.sites.items():
        base = server.base_url(key)
        pages += [
            (extraction.decode_page(site.render(r, base)), base + r.path, base, key) for r in site.routes_of("article")
        ]
    with ExtractionPool(workers, _extract_timeout()) as pool:
        pool.submit(*pages[0]).result()  # workers up
        started = time.perf_counter()
        window: list[Any] = []
        for page in pages:
            window.append(pool.submit(*page))
            if len(window) >= 8 * max(workers, 1):
                window.pop(0).result()
        for future in window:
            future.result()
        return len(pages) / (time.perf_counter() - started), len(pages)


def part_endtoend(n: int, workers: int) -> None:
    import sqlite_utils

    from crawler.cli.reextract import reextract

    with ReplicaServer(synthetic=n) as server, tempfile.TemporaryDirectory() as tmp:
        ceiling, total = _ceiling(server, workers)
        db = Path(tmp) / "e2e.sqlite3"
        elapsed, _, _ = _crawl(server, db, workers)
        store = sqlite_utils.Database(db)
        stored = store["articles"].count
        started = time.perf_counter()
        counts = reextract(store, workers, _extract_timeout())
        re_rate = sum(counts.values()) / (time.perf_counter() - started)
    crawl_rate = stored / elapsed
    print(f"synthetic replica: {n} articles per site, {total} in all; {workers} extraction processes")
    print(f"{'path':36} {'pages/s':>8} {'vs ceiling':>10}")
    print(f"{'ceiling: extraction only':36} {ceiling:>8.1f} {1:>9.2f}x")
    print(
        f"{'crawl (process start to exit)':36} {crawl_rate:>8.1f} {crawl_rate / ceiling:>9.2f}x   ({stored} stored in {elapsed:.1f}s)"
    )
    print(f"{'reextract (stored pages, no network)':36} {re_rate:>8.1f} {re_rate / ceiling:>9.2f}x")


VERSUS_SETTINGS = {
    # The same for every contender: no politeness delay, 16 requests in flight per domain (the
    # three replicas listen on 127.0.0.1, one Scrapy download slot, so 16 in flight in all).
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "48",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "ERROR",
}


VERSUS_SITES = ("bocongan", "cao", "thanhtra")


def part_startup(workers: int) -> None:
    """Seconds from creating the extraction pool to a first page from every worker, per start method."""
    server = ReplicaServer()
    site = server.sites["cao"]
    route = site.routes_of("article")[0]
    page = (extraction.decode_page(site.render(route, site.real_base)), site.real_base + route.path)
    for method in ("fork", "forkserver"):
        started = time.perf_counter()
        with ExtractionPool(workers, _extract_timeout(), start_method=method) as pool:
            futures = [pool.submit(*page, site.real_base, "cao") for _ in range(4 * workers)]
            for future in futures:
                future.result()
            elapsed = time.perf_counter() - started
        print(f"start method {method:10}: {workers} workers up and {4 * workers} pages extracted in {elapsed:.2f} s")


@contextmanager
def spinners(count: int) -> Iterator[None]:
    """``count`` other busy processes on the machine while the block runs: each spins a core in
    pure Python, as another job (a test suite, a second crawl) would."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def part_versus(
    sizes: list[int], workers: int, repeat: int = 1, busy: tuple[int, ...] = (0,), shared_bodies: bool = False
) -> None:
    """newscrawl against the ten-minute spider (bench/naive.py) and against fetching alone.

    With ``repeat`` > 1 the three run in turn that many times (fetch, naive, newscrawl, fetch,
    ...), so a burst of other work on the machine hits all of them; each row gives the median
    rate, and the ratio's range over the rounds (each newscrawl run against the naive run of
    its own round). Each count in ``busy`` is a table of its own, measured with that many other
    busy processes spinning (``spinners``): 0 is the quiet machine, 1 a machine with one other job.
    The articles have their own bodies (crawler/testing/synthetic.py); ``shared_bodies`` serves
    the template's body in every one, as before issue 28: each article then a near-copy of every
    other of its site, which real archives are not, and newscrawl's near-duplicate index pays for it.
    """
    cores = len(os.sched_getaffinity(0))
    for n in sizes:
        # The three sites whose synthetic replicas list every article on paginated listings or
        # feeds; cand's has no sitemap, so a crawl finds only its first listing pages while the
        # naive spider would be handed all its URLs.
        replica = ReplicaProcess(list(VERSUS_SITES), n, own_bodies=not shared_bodies)
        with replica as server, tempfile.TemporaryDirectory() as tmp:
            urls = Path(tmp) / "urls.txt"
            urls.write_text("".join(f"{url}\n" for url in server.article_urls), encoding="utf-8")
            for others in busy:
                with spinners(others):
                    _versus_table(server, Path(tmp), urls, n, workers, repeat, others, cores, shared_bodies)


def _versus_table(
    server: ReplicaProcess,
    tmp: Path,
    urls: Path,
    n: int,
    workers: int,
    repeat: int,
    others: int,
    cores: int,
    shared_bodies: bool,
) -> None:
    import statistics

    import sqlite_utils

    rates: dict[str, list[float]] = {"fetch": [], "naive": [], "ours": []}
    counts: dict[str, int] = {}
    loads: list[float] = []
    busy: list[list[float]] = []
    crawl_busy: list[float] = []
    naive = [sys.executable, "-m", "bench.naive", "--urls", str(urls)]
    for name, value in VERSUS_SETTINGS.items():
        naive += ["-s", f"{name}={value}"]
    for round_ in range(repeat):
        loads.append(os.getloadavg()[0])
        tag = f"{others}-{round_}"
        # Every contender sampled alike, CPU times only.
        fetch = _measure([*naive, "--db", str(tmp / f"fetch{tag}.sqlite3"), "--fetch-only"], memory=False)
        plain = _measure([*naive, "--db", str(tmp / f"naive{tag}.sqlite3")], memory=False)
        db = tmp / f"newscrawl{tag}.sqlite3"
        settings = {**VERSUS_SETTINGS, "NEWS_MAX_LISTING_PAGES": "100000"}
        ours = _measure(_crawl_command(server, db, workers, settings), memory=False)
        counts["fetch"] = int(fetch.output.split()[-1])
        counts["naive"] = int(plain.output.split()[-1])
        counts["ours"] = sqlite_utils.Database(db)["articles"].count
        for key, run in (("fetch", fetch), ("naive", plain), ("ours", ours)):
            rates[key].append(counts[key] / run.elapsed)
        busy.append(ours.busy(workers))
        crawl_busy.append(ours.root_cpu / ours.elapsed)
    ratios = [o / b for o, b in zip(rates["ours"], rates["naive"], strict=True)]
    base = statistics.median(rates["naive"])
    machine = "quiet machine" if not others else f"{others} other busy process{'es' if others > 1 else ''}"
    print(
        f"synthetic replica{' (shared bodies)' if shared_bodies else ''}, {n} articles per site ({3 * n} in all); "
        f"{cores} cores, {machine}; "
        f"no delay, 16 requests per domain for everyone; {repeat} round(s), load {min(loads):.2f}-{max(loads):.2f}"
    )
    print(f"{'':34} {'articles/s':>10} {'vs naive':>8} {'articles':>8}  busy (share of one core)")
    worker_busy = " ".join(f"{statistics.median(b[i] for b in busy):.0%}" for i in range(min(map(len, busy))))
    rows = [
        ("fetch only (Scrapy, no extraction)", "fetch", ""),
        ("naive spider (bench/naive.py)", "naive", ""),
        (
            f"newscrawl crawl ({workers} workers)",
            "ours",
            f"crawl process {statistics.median(crawl_busy):.0%}, workers {worker_busy}",
        ),
    ]
    for name, key, note in rows:
        rate = statistics.median(rates[key])
        print(f"{name:34} {rate:>10.1f} {rate / base:>7.2f}x {counts[key]:>8}  {note}")
    if repeat > 1:
        print(
            "newscrawl / naive per round: "
            + " ".join(f"{r:.2f}x" for r in ratios)
            + f" (median {statistics.median(ratios):.2f}x)"
        )
    print(flush=True)


def part_memory(n: int, workers: int) -> None:
    peaks = []
    for size in (n, 3 * n):
        with ReplicaServer(synthetic=size) as server, tempfile.TemporaryDirectory() as tmp:
            elapsed, rss, pss = _crawl(server, Path(tmp) / "m.sqlite3", workers, sample=True)
        peaks.append((size, rss, pss, elapsed))
    print(f"{'articles':>8} {'peak RSS MB':>11} {'peak PSS MB':>11} {'time s':>7}")
    for size, rss, pss, elapsed in peaks:
        print(f"{size * 3:>8} {rss / 2**20:>11.0f} {pss / 2**20:>11.0f} {elapsed:>7.1f}")
    print(f"3x articles: peak RSS {peaks[1][1] / peaks[0][1]:.2f}x, peak PSS {peaks[1][2] / peaks[0][2]:.2f}x")


def part_storage(n: int) -> None:
    from dataclasses import replace

    from crawler.crawl.pool import extract_page
    from crawler.extract.items import ArticleItem
    from storage import search
    from storage.batch import ArticleWrite, save_batch
    from storage.db import open_db

    def writes_of(server: ReplicaServer) -> list[ArticleWrite]:
        """The crawl's writes: pages sent as bytes, so the worker function prepares them."""
        writes = []
        for key, site in server.sites.items():
            for r in site.routes_of("article"):
                raw = site.render(r, site.real_base)
                url = site.real_base + r.path
                item = extract_page(raw, url, site.real_base, key, "2026-01-01T00:00:00+00:00").result
                if isinstance(item, ArticleItem):
                    writes.append(ArticleWrite(item.record(), raw, item.url, prepared=item.prepared))
        return writes

    def statements_per_article(writes: list[ArticleWrite]) -> tuple[float, float]:
        """SQL statements SQLite ran per article, and how many of them FTS5 ran for the triggers."""
        db = open_db(":memory:")
        statements = [0, 0]

        def count(sql: str) -> None:
            statements[0] += 1  # each execution, each executemany row, each statement of a trigger
            statements[1] += sql.startswith("-- ") and "_fts_" in sql

        db.conn.set_trace_callback(count)
        for i in range(0, len(writes), 100):
            save_batch(db, writes[i : i + 100])
        db.close()
        return statements[0] / len(writes), statements[1] / len(writes)

    def rate(path: Path, writes: list[ArticleWrite], batch: int = 100, fts_after: bool = False) -> float:
        db = open_db(path)
        if fts_after:  # the FTS triggers against one INSERT ... SELECT per index after each batch
            for table in (search.EXACT_FTS, search.FOLDED_FTS):
                for suffix in ("ai", "ad", "au"):
                    db.execute(f"drop trigger {table}_{suffix}")
        started = time.perf_counter()
        for i in range(0, len(writes), batch):
            last = db.execute("select coalesce(max(rowid), 0) from articles").fetchone()[0]
            save_batch(db, writes[i : i + batch])
            if fts_after:
                with db.conn:
                    for table, fold_it in ((search.EXACT_FTS, False), (search.FOLDED_FTS, True)):
                        cols = ", ".join(search.fold_sql(c) if fold_it else c for c in ("title", "lead", "body"))
                        db.execute(
                            f"insert into {table} (rowid, title, lead, body) select rowid, {cols} from articles"
                            " where rowid > ?",
                            [last],
                        )
        elapsed = time.perf_counter() - started
        db.close()
        return len(writes) / elapsed

    replica = statements_per_article(writes_of(ReplicaServer()))
    writes = writes_of(ReplicaServer(synthetic=n))
    unprepared = [replace(w, prepared=None) for w in writes]
    with tempfile.TemporaryDirectory() as tmp:
        batched = rate(Path(tmp) / "batched.sqlite3", writes)
        fts_after = rate(Path(tmp) / "fts.sqlite3", writes, fts_after=True)
        storage_prepares = rate(Path(tmp) / "unprepared.sqlite3", unprepared)
        single = rate(Path(tmp) / "single.sqlite3", writes, batch=1)
        bare = open_db(Path(tmp) / "bare.sqlite3")
        rows = [tuple(str(v) for v in w.record.values()) for w in writes]
        marks = ", ".join("?" for _ in writes[0].record)
        bare.execute(f"create table bare ({', '.join(writes[0].record)})")
        started = time.perf_counter()
        with bare.conn:
            bare.conn.executemany(f"insert into bare values ({marks})", rows)
        plain = len(writes) / (time.perf_counter() - started)
    print(f"{len(writes)} synthetic articles stored per second (articles, versions, pages, aliases, near-duplicates):")
    print(f"  batches of 100, prepared by the extraction workers (the crawl)  {batched:8.0f}")
    print(
        f"  the same, FTS by one INSERT ... SELECT per batch, no triggers    {fts_after:8.0f}  ({fts_after / batched:.2f}x)"
    )
    print(f"  batches of 100, prepared by storage (ingest, reextract)         {storage_prepares:8.0f}")
    print(f"  one transaction per article, prepared                           {single:8.0f}")
    print(f"  bare executemany of the records into one plain table            {plain:8.0f}")
    synthetic = statements_per_article(writes)
    print(
        "SQLite statements per article, batches of 100 (trace callback: each execution and executemany row; "
        f"FTS5's own in brackets): replica pages {replica[0]:.1f} ({replica[1]:.1f}), synthetic {synthetic[0]:.1f} "
        f"({synthetic[1]:.1f}; a site's synthetic articles are one crowded cluster)"
    )


def main() -> None:
    args = parser().parse_args()
    if args.part in ("extraction", "all"):
        part_extraction()
    if args.part in ("endtoend", "all"):
        part_endtoend(args.n, args.workers)
    if args.part in ("storage", "all"):
        part_storage(args.n)
    if args.part in ("startup", "all"):
        part_startup(args.workers)
    if args.part in ("versus", "all"):
        part_versus(args.sizes, args.workers, args.repeat, tuple(args.busy), args.shared_bodies)
    if args.part in ("memory", "all"):
        part_memory(args.n, args.workers)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", default="all", choices=("extraction", "endtoend", "memory", "storage", "versus", "startup", "all")
    )
    parser.add_argument("--n", type=int, default=1000, help="synthetic articles per site")
    parser.add_argument("--workers", type=int, default=2, help="extraction processes")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 10000], help="versus: articles per site, one run each"
    )
    parser.add_argument("--repeat", type=int, default=1, help="versus: rounds per size (median and range)")
    parser.add_argument(
        "--busy",
        type=int,
        nargs="+",
        default=[0],
        help="versus: a table per count of other busy processes spinning during the runs (0 1: quiet and one job)",
    )
    parser.add_argument(
        "--shared-bodies",
        action="store_true",
        help="versus: every synthetic article with the template's body (all near-copies), as before issue 28",
    )
    return parser


if __name__ == "__main__":
    main()

"""The hostile cases of issues 16 and 22, each run against the ``newscrawl`` command in a temp dir.

    python -m bench.attack

One row per case: the exit code, the one line the command printed last on stderr (the
refusal, or its summary), and whether the data it touched is intact — the database, the file
or the stream is what it was, or holds exactly what it should. Every row should say "yes".
The CAO replica serves the crawls (127.0.0.1); the Redis case needs Debian's redis-server.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import REPO
from crawler.testing.commands import run_cli as cli
from crawler.testing.replica import SiteReplica
from crawler.testing.server import ReplicaServer
from storage.db import open_db
from storage.runs import start_run

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "DOWNLOAD_DELAY_JITTER=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
TEMPLATE = (
    "/tin-chinh/cong-an-tphcm-trien-khai-cao-diem-bao-dam-an-ninh-trat-tu-tet-nguyen-dan-binh-ngo-2026_184612.html"
)


@dataclass
class Outcome:
    code: int
    message: str
    intact: bool


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    """The command's own last word on stderr (a crawl's log lines come before it)."""
    lines = done.stderr.strip().splitlines()
    own = [line for line in lines if line.startswith(("newscrawl", "exported"))]
    return (own or lines or [""])[-1]


def one_line(done: subprocess.CompletedProcess[str]) -> bool:
    return len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Bench:
    """Shared state: a replica, a crawled database, a scratch folder per case."""

    def __init__(self, root: Path, server: ReplicaServer) -> None:
        self.root = root
        self.server = server
        self.site: SiteReplica = server.sites["cao"]
        self.base = server.base_url("cao")
        self.crawled = root / "crawled.sqlite3"
        done = cli("crawl", "cao", "--db", str(self.crawled), "--base-url", f"cao={self.base}", *FAST)
        if done.returncode != 0:
            raise SystemExit(f"the reference crawl failed: {last_line(done)}")
        self.articles = self.count(self.crawled)
        self._n = 0

    def folder(self) -> Path:
        self._n += 1
        path = self.root / f"case{self._n}"
        path.mkdir()
        return path

    def copy(self) -> Path:
        target = self.folder() / "news.sqlite3"
        source, dest = sqlite3.connect(self.crawled), sqlite3.connect(target)
        source.backup(dest)
        source.close()
        dest.execute("pragma journal_mode = wal")
        dest.close()
        return target

    def crawl(self, db: Path, *extra: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return cli("crawl", "cao", "--db", str(db), "--base-url", f"cao={self.base}", *FAST, *extra, timeout=timeout)

    @staticmethod
    def count(db: Path, table: str = "articles") -> int:
        conn = sqlite3.connect(db)
        try:
            return int(conn.execute(f"select count(*) from {table}").fetchone()[0])
        finally:
            conn.close()

    def fetched(self) -> int:
        return sum(self.site.requests.values())


def other_apps_db(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("create table notes (id integer primary key, text text)")
    conn.execute("insert into notes (text) values ('ghi chú của ứng dụng khác')")
    conn.commit()
    conn.close()
    return digest(path)


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """The file cannot be written, even by root: ``chattr +i`` as root, mode 0444 otherwise."""
    root = os.geteuid() == 0
    if root:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o444)
    try:
        yield
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o644)


# --- the cases --------------------------------------------------------------------------------


def export_symlink(b: Bench) -> Outcome:
    folder = b.folder()
    target, link = folder / "store.jsonl", folder / "dump.jsonl"
    target.write_text("old\n", encoding="utf-8")
    link.symlink_to(target)
    done = cli("export", "--db", str(b.crawled), "-o", str(link))
    lines = target.read_text(encoding="utf-8").count("\n")
    return Outcome(done.returncode, last_line(done), link.is_symlink() and lines == b.articles)


def export_fifo(b: Bench) -> Outcome:
    fifo = b.folder() / "dump.pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = cli("export", "--db", str(b.crawled), "-o", str(fifo), timeout=60)
    reader.join(10)
    ok = stat.S_ISFIFO(os.lstat(fifo).st_mode) and bool(got) and got[0].count(b"\n") == b.articles
    return Outcome(done.returncode, last_line(done), ok)


def export_directory(b: Bench) -> Outcome:
    folder = b.folder()
    done = cli("export", "--db", str(b.crawled), "-o", str(folder))
    return Outcome(done.returncode, last_line(done), folder.is_dir() and one_line(done))


def export_umask(b: Bench) -> Outcome:
    dump = b.folder() / "dump.jsonl"
    done = cli("export", "--db", str(b.crawled), "-o", str(dump), umask=0o022)
    return Outcome(done.returncode, last_line(done), stat.S_IMODE(dump.stat().st_mode) == 0o644)


def read_other_apps_db(command: list[str]) -> Callable[[Bench], Outcome]:
    def case(b: Bench) -> Outcome:
        other = b.folder() / "app.sqlite3"
        before = other_apps_db(other)
        extra = ["--base-url", f"cao={b.base}"] if command[0] == "crawl" else []
        b.site.requests.clear()
        done = cli(*command, "--db", str(other), *extra, timeout=60)
        ok = digest(other) == before and not Path(f"{other}-wal").exists() and not b.fetched()
        return Outcome(done.returncode, last_line(done), ok and one_line(done))

    return case


def crawl_immutable(b: Bench) -> Outcome:
    db = b.copy()
    before = digest(db)
    b.site.requests.clear()
    with immutable(db):
        done = b.crawl(db)
    return Outcome(done.returncode, last_line(done), digest(db) == before and not b.fetched() and one_line(done))


def crawl_busy(b: Bench) -> Outcome:
    db = b.copy()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("begin immediate")
    b.site.requests.clear()
    try:
        done = b.crawl(db, "-s", "NEWS_DB_BUSY_TIMEOUT=1")
    finally:
        holder.execute("rollback")
        holder.close()
    return Outcome(done.returncode, last_line(done), b.count(db) == b.articles and not b.fetched())


def crawl_bad_path(where: str) -> Callable[[Bench], Outcome]:
    def case(b: Bench) -> Outcome:
        folder = b.folder()
        (folder / "FILE").write_text("a file", encoding="utf-8")
        path = where.replace("FILE", str(folder / "FILE"))
        done = b.crawl(Path(path))
        return Outcome(done.returncode, last_line(done), not Path(path).exists() and one_line(done))

    return case


def publish(site: SiteReplica, article_id: int, change: Callable[[str], str]) -> str:
    """A new CAO article made from the template page by ``change``, linked first in its feed."""
    template = site.lookup(TEMPLATE)
    assert template is not None
    path = f"/tin-chinh/bai-thu-nghiem-{article_id}_{article_id}.html"
    page = site.raw(template).decode("utf-8").replace(TEMPLATE, path)
    own = f"<p>Bài thử nghiệm số {article_id}: một đoạn văn chúng tôi tự viết để bài này khác các bài khác.</p>"
    page = page.replace('<div id="article_content">', '<div id="article_content">' + own, 1)
    site.publish(path, change(page), name=str(article_id))
    feed = site.lookup("/rss/tin-chinh")
    assert feed is not None
    item = f"<item><title>Bài {article_id}</title><link>{{{{BASE}}}}{path}</link></item>"
    site.publish("/rss/tin-chinh", site.raw(feed).decode("utf-8").replace("<channel>", "<channel>" + item, 1), "feed")
    return path


def hostile_pages(b: Bench) -> Outcome:
    """Nested JSON-LD, 50,000 nested divs and terminal escapes, published and crawled."""
    ld = '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>"
    paths = {
        "json_ld": publish(b.site, 990001, lambda p: p.replace("</head>", ld + "</head>", 1)),
        "deep": publish(b.site, 990002, lambda p: p.replace("<p>", "<div>" * 50_000 + "<p>", 1)),
        "controls": publish(b.site, 990003, lambda p: p.replace("Tết", "T\x1b[2J\u202eết")),
    }
    db = b.copy()
    done = b.crawl(db)
    conn = sqlite3.connect(db)
    stored = {r[0] for r in conn.execute("select url from articles")}
    log = dict(conn.execute("select url, reason from url_log"))
    bodies = "".join(r[0] + r[1] for r in conn.execute("select title, body from articles"))
    conn.close()
    real = "https://congan.com.vn"
    ok = (
        real + paths["json_ld"] in stored  # the bad JSON-LD is ignored, the article kept
        and log.get(real + paths["deep"]) == "parse_depth"  # not stored truncated; retried
        and real + paths["controls"] in stored
        and "\x1b" not in bodies
        and "\u202e" not in bodies
    )
    summary = f"JSON-LD and ESC pages stored clean; 50k-div page logged as {log.get(real + paths['deep'])}"
    return Outcome(done.returncode, summary, ok)


@contextmanager
def restored(site: SiteReplica, *paths: str) -> Iterator[None]:
    """Put ``paths`` (the feeds and listings a case rewrites) back as they were afterwards."""
    saved = {path: site.raw(route) for path in paths if (route := site.lookup(path)) is not None}
    try:
        yield
    finally:
        for path, body in saved.items():
            site.publish(path, body, "feed" if path.startswith("/rss/") else "listing")


def stored(db: Path) -> dict[str, dict[str, object]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = {r["url"]: dict(r) for r in conn.execute("select * from articles")}
    conn.close()
    return rows


REAL = "https://congan.com.vn"


def metadata_pages(b: Bench) -> Outcome:
    """JSON-LD of every wrong shape: numbers, lists, nested @graph, year-1 dates, 5,000 authors."""
    shapes = [
        {"@type": "NewsArticle", "author": 42},
        {"@type": "NewsArticle", "author": {"name": ["Trần Văn A", "Lê Thị B"]}},
        {"@type": 7},
        {"@graph": {"@graph": [{"@type": [["NewsArticle"]], "datePublished": "0001-01-01T00:00:00+14:00"}]}},
        {"@type": "NewsArticle", "author": [{"name": f"Phóng viên {i}"} for i in range(5000)]},
    ]
    with restored(b.site, "/rss/tin-chinh"):
        paths = [publish(b.site, 990100 + n, _with_ld(ld)) for n, ld in enumerate(shapes)]
        db = b.copy()
        done = b.crawl(db)
    rows = stored(db)
    kept = [REAL + p in rows for p in paths]
    authors = max(len(json.loads(str(rows[REAL + p]["authors"]))) for p in paths if REAL + p in rows)
    ok = all(kept) and authors <= 20
    return Outcome(done.returncode, f"{sum(kept)} of {len(paths)} pages stored; at most {authors} authors", ok)


def _with_ld(obj: object) -> Callable[[str], str]:
    script = '<script type="application/ld+json">' + json.dumps(obj) + "</script>"
    return lambda page: page.replace("</head>", script + "</head>", 1)


def budget_page(b: Bench) -> Outcome:
    """300,000 one-letter spans (4.5 MB): over 10 minutes of extraction. Three runs, a 3 s budget."""
    with restored(b.site, "/rss/tin-chinh"):
        path = publish(b.site, 990200, lambda p: p.replace("<p>", "<span>a</span>" * 300_000 + "<p>", 1))
        db = b.copy()
        fetches = []
        for _ in range(3):
            before = b.site.fetched(path)
            done = b.crawl(db, "-s", "NEWS_EXTRACT_TIMEOUT=3")
            fetches.append(b.site.fetched(path) - before)
    conn = sqlite3.connect(db)
    logged = conn.execute("select outcome, reason from url_log where url = ?", [REAL + path]).fetchone()
    conn.close()
    ok = fetches == [1, 1, 0] and tuple(logged or ()) == ("dropped", "over_budget")
    return Outcome(done.returncode, f"fetched {fetches} in three runs; logged {logged}", ok)


def listing_flood(b: Bench) -> Outcome:
    """A listing page with 100,000 article links, all dead (404). Three runs."""
    listing = b.site.lookup("/tin-chinh")
    assert listing is not None
    links = "".join(
        f'<li><h3><a href="/tin-chinh/bai-da-go-{i}_{9000000 + i}.html">Bài {i}</a></h3></li>' for i in range(100_000)
    )
    with restored(b.site, "/tin-chinh"):
        page = (
            b.site.raw(listing).decode("utf-8").replace('<ul class="list_news">', '<ul class="list_news">' + links, 1)
        )
        b.site.publish("/tin-chinh", page, "listing")
        db = b.copy()
        dead = []
        for _ in range(3):
            b.site.requests.clear()
            done = b.crawl(db)
            dead.append(sum(n for p, n in b.site.requests.items() if "bai-da-go-" in p))
    ok = dead[0] <= 1000 and dead[1] <= 1000 and dead[2] == 0
    return Outcome(done.returncode, f"dead links requested per run: {dead} (cap 1000)", ok)


def meta_charset(b: Bench) -> Outcome:
    """A windows-1258 page that names its charset only in <meta> (the header says UTF-8)."""
    tones = "\u0300\u0301\u0303\u0309\u0323"

    def cp1258(text: str) -> bytes:
        out = []
        for char in text:
            parts = unicodedata.normalize("NFD", char)
            marks = "".join(c for c in parts if c in tones)
            out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones)) + marks)
        return "".join(out).encode("cp1258", errors="xmlcharrefreplace")

    with restored(b.site, "/rss/tin-chinh"):
        path = publish(
            b.site, 990300, lambda p: p.replace('<meta charset="utf-8">', '<meta charset="windows-1258">', 1)
        )
        b.site.publish(path, cp1258(b.site.raw(b.site.routes[path]).decode("utf-8")))
        db = b.copy()
        done = b.crawl(db)
    row = stored(db).get(REAL + path, {})
    text = f"{row.get('title')}{row.get('body')}"
    ok = bool(row) and "\ufffd" not in text and "Công an" in text
    return Outcome(done.returncode, f"stored: {str(row.get('title', 'nothing'))[:60]}", ok)


def dates_and_scripts(b: Bench) -> Outcome:
    """A year-1 date, a date in 2199, and script, style and template text inside the headline."""
    hidden = "<script>var X='MA_KICH_BAN';</script><style>.x{}</style><template>MA_KHUON</template>"
    with restored(b.site, "/rss/tin-chinh"):
        paths = [
            publish(
                b.site,
                990400,
                lambda p: re.sub(r"(white-space: ?nowrap[^>]*>)[^<]*", r"\g<1>01/01/0001 07:30", p, count=1),
            ),
            publish(
                b.site,
                990401,
                lambda p: re.sub(r"(white-space: ?nowrap[^>]*>)[^<]*", r"\g<1>01/01/2199 07:30", p, count=1),
            ),
            publish(
                b.site,
                990402,
                lambda p: p.replace('<h1 class="article_title">', '<h1 class="article_title">' + hidden, 1),
            ),
        ]
        db = b.copy()
        done = b.crawl(db)
    rows = stored(db)
    got = [rows.get(REAL + p) for p in paths]
    ok = (
        all(got)
        and [r["published_at"] for r in got[:2] if r] == [None, None]
        and [r["published_at_raw"] for r in got[:2] if r] == ["01/01/0001 07:30", "01/01/2199 07:30"]
        and not any("MA_" in f"{r['title']}{r['lead']}{r['body']}" for r in got if r)
    )
    return Outcome(done.returncode, "stored undated with the raw date kept; no script text in title/body", ok)


def sigterm(b: Bench) -> Outcome:
    db = b.folder() / "news.sqlite3"
    command = [sys.executable, "-m", "crawler.cli", "crawl", "cao", "--db", str(db), "--base-url", f"cao={b.base}"]
    command += ["-s", "DOWNLOAD_DELAY=0.5", "-s", "AUTOTHROTTLE_ENABLED=False"]
    b.site.requests.clear()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and b.fetched() < 4:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    lines = stderr.strip().splitlines()
    conn = sqlite3.connect(db)
    status = [r[0] for r in conn.execute("select status from crawl_runs")]
    ok = status == ["interrupted"] and conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    conn.close()
    return Outcome(proc.returncode, lines[-1] if lines else "", ok)


def sigkilled_run(b: Bench) -> Outcome:
    db_path = b.copy()
    db = open_db(db_path)
    ghost = start_run(db, "cao")
    db.close()
    done = b.crawl(db_path)
    conn = sqlite3.connect(db_path)
    status = conn.execute("select status from crawl_runs where id = ?", [ghost]).fetchone()[0]
    conn.close()
    return Outcome(done.returncode, last_line(done) or "(quiet)", status == "killed")


def bad_argument(args: list[str], state: object = None) -> Callable[[Bench], Outcome]:
    def case(b: Bench) -> Outcome:
        folder = b.folder()
        out = folder / "dump.jsonl"
        argv = [a.replace("OUT", str(out)) for a in args]
        if state is not None:
            selection = {"site": None, "since": None, "since_field": "published", "one_per_cluster": False}
            (folder / "state.json").write_text(json.dumps({"last_version_rowid": state, "selection": selection}))
            argv = [a.replace("STATE", str(folder / "state.json")) for a in argv]
        db = b.copy()
        before = b.count(db)
        if argv[0] not in ("replica", "schedule"):
            argv += ["--db", str(db)]
        b.site.requests.clear()
        done = cli(*argv, timeout=60)
        ok = one_line(done) and not out.exists() and not b.fetched() and b.count(db) == before
        return Outcome(done.returncode, last_line(done), ok)

    return case


def extract_dev_zero(b: Bench) -> Outcome:
    done = cli("extract", "--site", "cao", "--url", "https://congan.com.vn/vu-an/x_1.html", "/dev/zero", timeout=60)
    return Outcome(done.returncode, last_line(done), one_line(done))


def remote_control(b: Bench) -> Outcome:
    db = b.folder() / "news.sqlite3"
    done = b.crawl(db)
    off = "RemoteControl" not in done.stderr and "Remote control" not in done.stderr
    return Outcome(done.returncode, "no remote-control endpoint" if off else "endpoint listening", off)


def redis_without_password(b: Bench) -> Outcome:
    db = b.folder() / "worker.sqlite3"
    done = cli("crawl", "cao", "--redis", "redis://redis-host.invalid:6379/0", "--db", str(db), timeout=60)
    return Outcome(done.returncode, last_line(done), not db.exists() and one_line(done))


def redis_zlib_bomb(b: Bench) -> Outcome:
    if shutil.which("redis-server") is None:
        return Outcome(-1, "redis-server not installed: not run", True)
    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = b.folder()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        data: dict[str, object] = {
            "site": "cao", "url": "https://congan.com.vn/vu-an/bom_1.html", "title": "t", "lead": None,
            "body": "b" * 400, "authors": [], "published_at": None, "published_at_raw": None, "category": None,
            "tags": [], "images": [], "language": "vi", "extractor": "site", "url_hash": "h", "content_hash": "c",
        }  # fmt: skip
        bomb = zlib.compress(b"\0" * (1024 * 1024 * 1024), 9)  # 1 MB in Redis, 1 GB inflated
        client.xadd("newscrawl:records", {b"type": b"article", b"data": json.dumps(data).encode(), b"html": bomb})
        db = folder / "news.sqlite3"
        url = f"redis://127.0.0.1:{port}/0"
        done = cli("ingest", "--redis", url, "--db", str(db), "--idle-exit", "1", timeout=120)
        ok = db.exists() and b.count(db) == 0 and client.xlen("newscrawl:records") == 0
        lines = done.stdout.strip().splitlines()
        return Outcome(done.returncode, lines[-1] if lines else last_line(done), ok)
    finally:
        server.terminate()
        server.wait(10)


# --- issue 22: outputs onto inputs, settings, odd databases, streams, unreachable sites -------------


def output_onto_database(option: str, via: str) -> Callable[[Bench], Outcome]:
    """``export``/``crawl`` with an output (``-o``, ``--log-file``) naming the database itself,
    through a symlink, a hard link or ``..``: refused, the database byte for byte the same."""

    def case(b: Bench) -> Outcome:
        db = b.copy()
        folder = db.parent / "elsewhere"
        folder.mkdir()
        target = {
            "path": db,
            "symlink": folder / "link.jsonl",
            "hard link": folder / "hard.jsonl",
            "..": folder / ".." / db.name,
            "-wal": Path(f"{db}-wal"),
        }[via]
        if via == "symlink":
            target.symlink_to(db)
        elif via == "hard link":
            os.link(db, target)
        before = digest(db)
        b.site.requests.clear()
        if option == "-o":
            done = cli("export", "--db", str(db), "-o", str(target), timeout=60)
        else:
            done = b.crawl(db, option, str(target), timeout=60)
        ok = digest(db) == before and one_line(done) and not b.fetched()
        return Outcome(done.returncode, last_line(done), ok)

    return case


def state_is_the_dump(b: Bench) -> Outcome:
    folder = b.folder()
    state = folder / "state.json"
    done = cli("export", "--db", str(b.crawled), "-o", str(state), "--incremental", str(state), timeout=60)
    return Outcome(done.returncode, last_line(done), not state.exists() and one_line(done))


def bad_environment(name: str, value: str) -> Callable[[Bench], Outcome]:
    def case(b: Bench) -> Outcome:
        db = b.copy()
        before = digest(db)
        b.site.requests.clear()
        env = {**os.environ, name: value}
        done = cli("crawl", "cao", "--db", str(db), "--base-url", f"cao={b.base}", env=env, timeout=60)
        ok = one_line(done) and name in done.stderr and digest(db) == before and not b.fetched()
        return Outcome(done.returncode, last_line(done), ok)

    return case


def odd_database(path: str) -> Callable[[Bench], Outcome]:
    """``crawl --db`` that names no file a database can live in, run in an empty folder:
    refused before anything (a lock, a database, a file named like a URI) is created there."""

    def case(b: Bench) -> Outcome:
        folder = b.folder()
        b.site.requests.clear()
        command = [sys.executable, "-m", "crawler.cli", "crawl", "cao", "--db", path, "--base-url", f"cao={b.base}"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60, check=False, env=env)
        ok = one_line(done) and not list(folder.iterdir()) and not b.fetched()
        return Outcome(done.returncode, last_line(done), ok)

    return case


def broken_stdout(redirect: str) -> Callable[[Bench], Outcome]:
    """``runs`` (results) and ``crawl`` (a summary only) with stdout full or closed: one line;
    the crawl keeps its own exit code and stores what it fetched."""

    def case(b: Bench) -> Outcome:
        db = b.copy()
        python = f"{sys.executable} -m crawler.cli"
        runs = subprocess.run(
            ["bash", "-c", f"{python} runs --db {db} {redirect}"], cwd=REPO, capture_output=True, text=True, check=False
        )
        fresh = b.folder() / "news.sqlite3"
        crawl = f"{python} crawl cao --db {fresh} --base-url cao={b.base} {' '.join(FAST)} {redirect}"
        crawled = subprocess.run(["bash", "-c", crawl], cwd=REPO, capture_output=True, text=True, check=False)
        # The crawl's log may hold warnings about the hostile pages published above; its own
        # last word is the lost summary, and every article is stored all the same.
        ok = (
            runs.returncode == 1
            and one_line(runs)
            and crawled.returncode == 0
            and "cannot write the results to stdout" in last_line(crawled)
            and "Traceback" not in crawled.stderr
            and b.count(fresh) >= b.articles
        )
        return Outcome(runs.returncode, f"{last_line(runs)}; crawl exit {crawled.returncode}", ok)

    return case


def unreachable(command: str) -> Callable[[Bench], Outcome]:
    """A crawl or probe of a site whose name does not resolve and one that refuses connections:
    one line (or verdict) per site, each asked once, no traceback, ended in seconds."""

    def case(b: Bench) -> Outcome:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            refused = f"cao=http://127.0.0.1:{probe.getsockname()[1]}"
        urls = ["--base-url", refused, "--base-url", "thanhtra=http://newscrawl-attack.invalid"]
        db = b.folder() / "news.sqlite3"
        started = time.monotonic()
        if command == "crawl":
            done = cli("crawl", "cao", "thanhtra", "--db", str(db), *urls, timeout=120)
            lines = done.stderr.strip().splitlines()
        else:
            done = cli("probe", "cao", "thanhtra", *urls, timeout=120)
            lines = [line for line in done.stdout.splitlines() if " broken " in line]
        elapsed = time.monotonic() - started
        ok = len(lines) == 2 and all("unreachable" in line for line in lines) and "Traceback" not in done.stderr
        return Outcome(done.returncode, f"{len(lines)} lines, one per site, in {elapsed:.0f} s: {lines[0][:60]}", ok)

    return case


def redis_down(b: Bench) -> Outcome:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    db = b.folder() / "worker.sqlite3"
    done = cli("crawl", "cao", "--redis", url, "--db", str(db), "--base-url", f"cao={b.base}", timeout=60)
    return Outcome(done.returncode, last_line(done), not db.exists() and one_line(done))


HUGE = "9223372036854775808"
CASES: list[tuple[str, Callable[[Bench], Outcome]]] = [
    ("export -o a symlink", export_symlink),
    ("export -o a FIFO", export_fifo),
    ("export -o a directory", export_directory),
    ("export under umask 022", export_umask),
    ("search another app's SQLite", read_other_apps_db(["search", "x"])),
    ("export another app's SQLite", read_other_apps_db(["export", "-o", "-"])),
    ("serve another app's SQLite", read_other_apps_db(["serve", "--port", "0"])),
    ("crawl into another app's SQLite", read_other_apps_db(["crawl", "cao"])),
    ("crawl into an immutable database", crawl_immutable),
    ("crawl a database held busy", crawl_busy),
    ("crawl --db /proc/x.db", crawl_bad_path("/proc/x.db")),
    ("crawl --db under a file", crawl_bad_path("FILE/x.db")),
    ("hostile pages (JSON-LD, depth, ESC)", hostile_pages),
    ("JSON-LD of any shape, 5,000 authors", metadata_pages),
    ("a page over the extraction budget", budget_page),
    ("a listing of 100k dead links", listing_flood),
    ("a charset only in <meta> (cp1258)", meta_charset),
    ("dates out of range, script in <h1>", dates_and_scripts),
    ("SIGTERM mid-crawl", sigterm),
    ("a run left 'running' by SIGKILL", sigkilled_run),
    ("search --limit 2**63", bad_argument(["search", "x", "--limit", HUGE])),
    ("health --accept 1e20", bad_argument(["health", "--accept", "1e20"])),
    ("serve --port 99999", bad_argument(["serve", "--port", "99999"])),
    ("serve --host bad", bad_argument(["serve", "--host", "bad"])),
    ("crawl -s CONCURRENT_REQUESTS=abc", bad_argument(["crawl", "cao", "-s", "CONCURRENT_REQUESTS=abc"])),
    ("crawl --base-url cao=garbage", bad_argument(["crawl", "cao", "--base-url", "cao=garbage"])),
    ("crawl --base-url cao=ftp://...", bad_argument(["crawl", "cao", "--base-url", "cao=ftp://127.0.0.1/"])),
    ("crawl --base-url cao=file://...", bad_argument(["crawl", "cao", "--base-url", "cao=file:///etc"])),
    ("explain 'http://[::1'", bad_argument(["explain", "http://[::1"])),
    ("export --incremental /proc/s.json", bad_argument(["export", "-o", "OUT", "--incremental", "/proc/s.json"])),
    ("state file rowid 'abc'", bad_argument(["export", "-o", "OUT", "--incremental", "STATE"], "abc")),
    ("state file rowid 2**70", bad_argument(["export", "-o", "OUT", "--incremental", "STATE"], 2**70)),
    ("extract /dev/zero", extract_dev_zero),
    ("remote control in a crawl", remote_control),
    ("crawl --redis remote, no password", redis_without_password),
    ("ingest a zlib bomb from Redis", redis_zlib_bomb),
    ("export -o the database", output_onto_database("-o", "path")),
    ("export -o a symlink to the database", output_onto_database("-o", "symlink")),
    ("export -o a hard link to the database", output_onto_database("-o", "hard link")),
    ("export -o dir/../the database", output_onto_database("-o", "..")),
    ("crawl --log-file the database's -wal", output_onto_database("--log-file", "-wal")),
    ("export -o the --incremental state", state_is_the_dump),
    ("NEWS_DB_BUSY_TIMEOUT=abc", bad_environment("NEWS_DB_BUSY_TIMEOUT", "abc")),
    ("NEWS_EXTRACT_WORKERS=many", bad_environment("NEWS_EXTRACT_WORKERS", "many")),
    ("NEWS_DB_BUSY_TIMEOUT=-5", bad_environment("NEWS_DB_BUSY_TIMEOUT", "-5")),
    ("NEWS_RECHECK_DAYS=1e9", bad_environment("NEWS_RECHECK_DAYS", "1e9")),
    ("crawl -s NEWS_RECHECK_DAYS=1e9", bad_argument(["crawl", "cao", "-s", "NEWS_RECHECK_DAYS=1e9"])),
    ("crawl --db :memory:", odd_database(":memory:")),
    ("crawl --db /dev/null", odd_database("/dev/null")),
    ("crawl --db file:news.sqlite3", odd_database("file:news.sqlite3")),
    ("crawl --db a directory", odd_database(".")),
    ("runs and crawl > /dev/full", broken_stdout(">/dev/full")),
    ("runs and crawl, stdout closed", broken_stdout(">&-")),
    ("crawl: no DNS, connection refused", unreachable("crawl")),
    ("probe: no DNS, connection refused", unreachable("probe")),
    ("crawl --redis, Redis down", redis_down),
]


def main() -> None:
    rows: list[tuple[str, Outcome]] = []
    with tempfile.TemporaryDirectory() as tmp, ReplicaServer(["cao"]) as server:
        bench = Bench(Path(tmp), server)
        for name, case in CASES:
            rows.append((name, case(bench)))
            print(f"  {name}: done", file=sys.stderr, flush=True)
    width = max(len(name) for name, _ in rows)
    print(f"{'case':{width}}  exit  intact  message")
    for name, out in rows:
        message = out.message if len(out.message) <= 110 else out.message[:107] + "..."
        code = "-" if out.code < 0 else str(out.code)
        print(f"{name:{width}}  {code:>4}  {'yes' if out.intact else 'NO':6}  {message}")
    failed = [name for name, out in rows if not out.intact]
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} cases intact" + (f"; NOT: {', '.join(failed)}" if failed else "")
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""Local replicas of the three sites, served on 127.0.0.1 for tests and the offline demo.

Each site folder under ``tests/sites/<key>/`` holds a ``site.json`` route table and the page
files (see ``tests/sites/README.md``). Each site is served on its own port (port 0: the OS
picks), so root-relative links work as on the real site. The server answers conditional GETs
(ETag / Last-Modified -> 304), counts requests per path, and lets a test publish or edit pages
between two crawls.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.faults import FaultPlan, serve_fault
from crawler.urls import canonical_url

SITES_DIR = Path(__file__).resolve().parent.parent / "tests" / "sites"
BASE_PLACEHOLDER = "{{BASE}}"
_CONTENT_TYPES = {
    "robots": "text/plain; charset=utf-8",
    "feed": "application/rss+xml; charset=utf-8",
    "sitemap": "application/xml; charset=utf-8",
}
_HTML = "text/html; charset=utf-8"


@dataclass
class Route:
    """One served URL path (with its query where it matters)."""

    path: str
    kind: str
    file: str | None = None
    name: str | None = None
    location: str | None = None
    content_type: str | None = None
    modified: float = 0.0

    @property
    def mime(self) -> str:
        return self.content_type or _CONTENT_TYPES.get(self.kind, _HTML)


def route_key(path: str) -> str:
    """Lookup key of a request path: canonical form, tracking parameters dropped."""
    return canonical_url("http://replica" + path).removeprefix("http://replica")


class SiteReplica:
    """The pages of one site, as the site itself would serve them."""

    def __init__(self, folder: Path) -> None:
        spec = json.loads((folder / "site.json").read_text(encoding="utf-8"))
        self.folder = folder
        self.key: str = spec["key"]
        self.real_base: str = spec["real_base"].rstrip("/")
        started = time.time()
        self.routes: dict[str, Route] = {}
        self._bodies: dict[str, bytes] = {}
        for raw in spec["routes"]:
            route = Route(**{k: v for k, v in raw.items() if k in Route.__dataclass_fields__})
            route.modified = started
            self.routes[route_key(route.path)] = route
        self.requests: Counter[str] = Counter()
        self.timeline: list[tuple[float, str]] = []  # (monotonic time, path) of each request
        self.faults: list[tuple[str, str]] = []
        # Pages made on request (the synthetic replica, crawler/synthetic.py), by route key.
        self.generators: dict[str, Callable[[], bytes]] = {}
        self._lock = threading.Lock()

    def routes_of(self, kind: str) -> list[Route]:
        """Routes of one kind, in site.json order."""
        return [r for r in self.routes.values() if r.kind == kind]

    def raw(self, route: Route) -> bytes:
        """The stored file of ``route`` (or its published override), placeholder unreplaced."""
        with self._lock:
            override = self._bodies.get(route_key(route.path))
        if override is not None:
            return override
        generate = self.generators.get(route_key(route.path))
        if generate is not None:
            return generate()
        assert route.file is not None, f"route {route.path} has no file"
        return (self.folder / "pages" / route.file).read_bytes()

    def render(self, route: Route, base: str) -> bytes:
        """The page as served from ``base`` (``{{BASE}}`` replaced)."""
        return self.raw(route).replace(BASE_PLACEHOLDER.encode(), base.rstrip("/").encode())

    def publish(self, path: str, body: str | bytes, kind: str = "article", name: str | None = None) -> None:
        """Add or replace a page between crawls (a new article, an edit, a changed listing)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        key = route_key(path)
        with self._lock:
            route = self.routes.get(key) or Route(path=path, kind=kind, name=name)
            route.modified = time.time() + 1  # strictly after any earlier Last-Modified
            self.routes[key] = route
            self._bodies[key] = data

    def lookup(self, path: str) -> Route | None:
        return self.routes.get(route_key(path))

    def log_fault(self, path: str, kind: str) -> None:
        with self._lock:
            self.faults.append((path, kind))

    def log(self, path: str) -> None:
        with self._lock:
            self.requests[path] += 1
            self.timeline.append((time.monotonic(), path))

    def fetched(self, path: str) -> int:
        """How many times ``path`` (canonical form) was requested."""
        key = route_key(path)
        with self._lock:
            return sum(n for p, n in self.requests.items() if route_key(p) == key)


def _handler(site: SiteReplica, plan: FaultPlan | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "replica"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            site.log(self.path)
            route = site.lookup(self.path)
            if route is None:
                self._send(404, b"<html><body><h1>404</h1></body></html>", _HTML)
                return
            if route.kind == "redirect":
                self._send(301, b"", _HTML, {"Location": self._base() + (route.location or "/")})
                return
            body = site.render(route, self._base())
            fault = plan.choose(route.kind, self.path) if plan is not None else None
            if fault is not None:
                site.log_fault(self.path, fault)
                serve_fault(self, fault, body, route.mime, self._base(), self.server.other_port)  # type: ignore[attr-defined]
                return
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            modified = email.utils.formatdate(route.modified, usegmt=True)
            headers = {"ETag": etag, "Last-Modified": modified}
            if self._not_modified(etag, route.modified):
                self._send(304, b"", None, headers)
                return
            self._send(200, body, route.mime, headers)

        def _not_modified(self, etag: str, modified: float) -> bool:
            if self.headers.get("If-None-Match"):
                return etag in self.headers["If-None-Match"]
            since = self.headers.get("If-Modified-Since")
            if since:
                parsed = email.utils.parsedate_to_datetime(since)
                return int(modified) <= parsed.timestamp()
            return False

        def _base(self) -> str:
            return f"http://127.0.0.1:{self.server.server_address[1]}"  # type: ignore[index]

        def _send(self, status: int, body: bytes, mime: str | None, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            if mime:
                self.send_header("Content-Type", mime)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests are counted in SiteReplica.requests instead

    return Handler


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections when a crawl without politeness
    # opens dozens at once; each dropped SYN then costs a second or more.
    request_queue_size = 128


def _closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ReplicaServer:
    """Serves site replicas, each on its own 127.0.0.1 port, in background threads."""

    def __init__(
        self,
        keys: list[str] | None = None,
        sites_dir: Path = SITES_DIR,
        port: int = 0,
        faults: FaultPlan | None = None,
        synthetic: int = 0,
        per_page: int = 50,
    ) -> None:
        """``synthetic`` > 0 serves that many generated articles per site instead of the real
        replica pages (crawler/synthetic.py), ``per_page`` to a listing page."""
        folders = sorted(p for p in sites_dir.iterdir() if (p / "site.json").is_file())
        self.sites = {f.name: SiteReplica(f) for f in folders if keys is None or f.name in keys}
        missing = set(keys or []) - set(self.sites)
        if missing:
            raise KeyError(f"no replica for site(s): {', '.join(sorted(missing))}")
        if synthetic > 0:
            from crawler.registry import sites
            from crawler.synthetic import SyntheticSite

            configs = sites()
            for key, site in self.sites.items():
                SyntheticSite(site, configs[key], synthetic, per_page).install()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._port = port
        self.faults = faults

    def start(self) -> ReplicaServer:
        for offset, (key, site) in enumerate(self.sites.items()):
            port = self._port + offset if self._port else 0
            server = _Server(("127.0.0.1", port), _handler(site, self.faults))
            server.daemon_threads = True
            server.fault_plan = self.faults  # type: ignore[attr-defined]
            server.other_port = _closed_port()  # type: ignore[attr-defined]
            threading.Thread(target=server.serve_forever, name=f"replica-{key}", daemon=True).start()
            self._servers[key] = server
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def base_url(self, key: str) -> str:
        """``http://127.0.0.1:<port>`` of one site's replica."""
        return f"http://127.0.0.1:{self._servers[key].server_address[1]}"

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""The replica server: site replicas on 127.0.0.1 for tests, benchmarks and the offline demo.

Each site is served on its own port (port 0: the OS picks), so root-relative links work as on
the real site. The server answers conditional GETs (ETag / Last-Modified -> 304), logs every
request on its :class:`~crawler.testing.replica.SiteReplica`, and can inject faults
(``crawler/testing/faults.py``) or serve a large generated site (``crawler/testing/synthetic.py``).
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.sites.registry import sites
from crawler.testing.faults import FaultPlan, serve_fault
from crawler.testing.replica import HTML, SITES_DIR, SiteReplica
from crawler.testing.synthetic import SyntheticSite


def _handler(site: SiteReplica, plan: FaultPlan | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "replica"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            site.log(self.path)
            route = site.lookup(self.path)
            if route is None:
                self._send(404, b"<html><body><h1>404</h1></body></html>", HTML)
                return
            if route.kind == "redirect":
                self._send(301, b"", HTML, {"Location": self._base() + (route.location or "/")})
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
        own_bodies: bool = False,
    ) -> None:
        """``synthetic`` > 0 serves that many generated articles per site instead of the real
        replica pages (crawler/testing/synthetic.py), ``per_page`` to a listing page; with
        ``own_bodies`` they do not share the template's body paragraphs."""
        folders = sorted(p for p in sites_dir.iterdir() if (p / "site.json").is_file())
        self.sites = {f.name: SiteReplica(f) for f in folders if keys is None or f.name in keys}
        missing = set(keys or []) - set(self.sites)
        if missing:
            raise KeyError(f"no replica for site(s): {', '.join(sorted(missing))}")
        if synthetic > 0:
            configs = sites()
            for key, site in self.sites.items():
                SyntheticSite(site, configs[key], synthetic, per_page, own_bodies).install()
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

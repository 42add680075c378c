"""Local replicas of the sites: the pages of one site as the site itself would serve them.

Each site folder under ``tests/sites/<key>/`` holds a ``site.json`` route table and the page
files (see ``tests/sites/README.md``). :class:`SiteReplica` counts requests per path and lets a
test publish or edit pages between two crawls; ``crawler/testing/server.py`` serves it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crawler.extract.urls import canonical_url

SITES_DIR = Path(__file__).resolve().parents[2] / "tests" / "sites"
BASE_PLACEHOLDER = "{{BASE}}"
_CONTENT_TYPES = {
    "robots": "text/plain; charset=utf-8",
    "feed": "application/rss+xml; charset=utf-8",
    "sitemap": "application/xml; charset=utf-8",
}
HTML = "text/html; charset=utf-8"


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
        return self.content_type or _CONTENT_TYPES.get(self.kind, HTML)


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
        # Pages made on request (the synthetic replica, crawler/testing/synthetic.py), by route key.
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

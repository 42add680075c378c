"""Fault injection for the replica server: the hostile network and pages real sites serve.

A :class:`FaultPlan` decides, per response, whether it is faulted and how. The first faulted
responses walk through every kind in order (so a short crawl still meets each kind once);
after that kinds are drawn at random. robots.txt is never faulted.
"""

from __future__ import annotations

import gzip
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler

KINDS: tuple[str, ...] = (
    "http_500",
    "http_503",
    "http_429",
    "reset",
    "slow",
    "truncated",
    "bad_utf8",
    "wrong_charset",
    "redirect_loop",
    "redirect_other_port",
    "redirect_private",
    "empty",
    "challenge",
    "huge",
    "gzip_bomb",
    "billion_laughs",
)
# Kinds that only make sense for one kind of route.
_XML_ONLY = {"billion_laughs"}
_HTML_ONLY = {"bad_utf8", "wrong_charset", "empty", "challenge"}

CHALLENGE_PAGE = b"""<html><head><META NAME="robots" CONTENT="noindex,nofollow">
<script src="/_Incapsula_Resource?SWJIYLWA=5074a744e2e3d891814e9a2dace20bd4,719d34d31c8e3a6e6fffd425f7e032f3">
</script></head><body><iframe id="main-iframe" src="/_Incapsula_Resource?CWUDNSAI=22&xinfo=1-2-3"
frameborder=0 width="100%" height="100%">Request unsuccessful. Incapsula incident ID: 0-12345</iframe>
</body></html>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><link>&lol9;</link></item></channel></rss>"""

HUGE_BYTES = 50 * 1024 * 1024
PRIVATE_TARGET = "http://10.255.255.1"  # never contacted: the crawler must drop it unconnected


@cache
def gzip_bomb() -> bytes:
    """About 200 KB of gzip that inflates to 200 MB of zeros."""
    return gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)


@dataclass
class FaultPlan:
    """Which responses to fault: ``rate`` of them; every kind once in order, then at random."""

    rate: float
    seed: int = 1
    kinds: tuple[str, ...] = KINDS
    slow_seconds: float = 3.0
    injected: dict[str, int] = field(default_factory=dict)
    _rng: random.Random = field(init=False)
    _pending: list[str] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _responses: int = field(default=0, init=False)
    _faulted: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._pending = list(self.kinds)

    def choose(self, route_kind: str, path: str) -> str | None:
        """A fault kind for the next response (for ``path``, a route of ``route_kind``), or None.

        Faults are spread evenly: after n responses, ``int(n * rate)`` of them were faulted.
        An XML route is faulted at once while an XML-only kind is still pending (they are few).
        """
        if route_kind == "robots" or self.rate <= 0:
            return None
        with self._lock:
            self._responses += 1
            xml = route_kind in ("feed", "sitemap")
            fits = [k for k in self._pending if (k not in _XML_ONLY or xml) and (k not in _HTML_ONLY or not xml)]
            fits.sort(key=lambda k: k not in _XML_ONLY)
            urgent = bool(fits) and fits[0] in _XML_ONLY
            if not urgent and int(self._responses * self.rate) <= self._faulted:
                return None
            if fits:
                kind = fits[0]
                self._pending.remove(kind)
            else:
                pool = [k for k in self.kinds if (k not in _XML_ONLY or xml) and (k not in _HTML_ONLY or not xml)]
                kind = self._rng.choice(pool)
            self._faulted += 1
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind


def serve_fault(handler: BaseHTTPRequestHandler, kind: str, body: bytes, mime: str, base: str, other_port: int) -> None:
    """Answer the current request with fault ``kind`` (``body`` is the page it spoils)."""
    send = _Sender(handler)
    if kind in ("http_500", "http_503", "http_429"):
        send(int(kind[5:]), b"<html><body>Service unavailable</body></html>", {"Retry-After": "1"})
    elif kind == "reset":
        # A status line, then a TCP RST (SO_LINGER 0) before the headers end, as an overloaded
        # proxy does. A reset before any byte would be retried silently by the client's
        # connection pool, and one after full headers looks like a truncated body.
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html")
            handler.wfile.flush()
        except OSError:
            pass
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.connection.close()
    elif kind == "slow":
        time.sleep(handler.server.fault_plan.slow_seconds)  # type: ignore[attr-defined]
        send(200, body, {"Content-Type": mime})
    elif kind == "truncated":
        send(200, body[: len(body) // 2], {"Content-Type": mime}, length=len(body))
        handler.close_connection = True
    elif kind == "bad_utf8":
        cut = body.find(b"</p>")
        spoiled = body[:cut] + b"\xff\xfe\xc3(" + body[cut:] if cut > 0 else body + b"\xff"
        send(200, spoiled, {"Content-Type": mime})
    elif kind == "wrong_charset":
        send(200, body, {"Content-Type": "text/html; charset=iso-8859-1"})
    elif kind == "redirect_loop":
        send(302, b"", {"Location": base + handler.path})
    elif kind == "redirect_other_port":
        send(302, b"", {"Location": f"http://127.0.0.1:{other_port}{handler.path}"})
    elif kind == "redirect_private":
        send(302, b"", {"Location": PRIVATE_TARGET + handler.path})
    elif kind == "empty":
        send(200, b"", {"Content-Type": mime})
    elif kind == "challenge":
        send(200, CHALLENGE_PAGE, {"Content-Type": "text/html; charset=utf-8"})
    elif kind == "huge":
        _send_huge(handler)
    elif kind == "gzip_bomb":
        send(200, gzip_bomb(), {"Content-Type": mime, "Content-Encoding": "gzip"})
    elif kind == "billion_laughs":
        send(200, BILLION_LAUGHS, {"Content-Type": "application/xml"})
    else:
        raise ValueError(f"unknown fault kind {kind}")


class _Sender:
    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self.handler = handler

    def __call__(self, status: int, body: bytes, headers: dict[str, str], length: int | None = None) -> None:
        h = self.handler
        try:
            h.send_response(status)
            for name, value in headers.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(body) if length is None else length))
            h.end_headers()
            h.wfile.write(body)
        except OSError:
            h.close_connection = True  # the client gave up first


def _send_huge(handler: BaseHTTPRequestHandler) -> None:
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(HUGE_BYTES))
        handler.end_headers()
        chunk = b"<p>" + b"x" * 65_529 + b"</p>"
        for _ in range(HUGE_BYTES // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        pass  # the crawler cancels a download over its size limit
    handler.close_connection = True

"""Checking ``newscrawl`` arguments before anything is opened, fetched or written.

Every refusal is one line and exit 2: argparse's own errors through :class:`Parser`, the
others as :class:`UsageError` (caught by ``crawler.cli.main``). Values are bounded where
SQLite, the socket layer or Scrapy would otherwise fail later with a traceback.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

from crawler.exit_codes import EXIT_USAGE

# SQLite integers are signed 64-bit: a larger --limit or run id overflows in the query.
MAX_SQL_INT = 2**63 - 1


class UsageError(Exception):
    """A bad argument the parser could not catch; printed as one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: no usage block, just what is wrong and where to look."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def bounded_int(low: int, high: int = MAX_SQL_INT) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


port = bounded_int(0, 65535)


def listen_host(text: str) -> str:
    """An argparse type: an interface address to listen on (an IP address, or ``localhost``).

    Names other than ``localhost`` are refused rather than resolved: a typo must not become a
    DNS lookup, and what we bind to should be stated, not looked up.
    """
    if text == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an IP address such as 127.0.0.1 or ::1, got {text!r}") from None


def check_base_url(site: str, url: str) -> str:
    """``url`` if it can serve as a site's base URL (http or https, a host, a valid port)."""
    try:
        parts = urlsplit(url)
        port_number = parts.port
    except ValueError as exc:
        raise UsageError(f"--base-url {site}={url}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url {site}={url}: must be an http:// or https:// URL with a host")
    if port_number == 0 or parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"--base-url {site}={url}: no port 0, query, fragment or credentials allowed")
    return url


def check_settings(overrides: dict[str, str], defaults: Any) -> None:
    """Refuse ``-s NAME=VALUE`` values the crawl could not use: not of the setting's type, or
    outside its range (crawler/crawl/runner.py: ``check_setting``, the environment's check too)."""
    from crawler.crawl.runner import SettingError, check_setting

    for name, value in overrides.items():
        try:
            check_setting(name, value, defaults, f"-s {name}={value}")
        except SettingError as exc:
            raise UsageError(str(exc)) from None


def check_redis_url(url: str, insecure: bool) -> None:
    """Refuse a Redis a worker cannot trust: the queue holds pickled requests, so whoever can
    write to it runs code on the workers. A password is required unless Redis is on this
    machine (loopback or a Unix socket) or ``--insecure-redis`` says the network is trusted."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise UsageError(f"--redis {url}: {exc}") from None
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise UsageError(f"--redis {url}: must be a redis://, rediss:// or unix:// URL")
    if parts.scheme == "unix" or insecure:
        return
    password = parts.password or parse_qs(parts.query).get("password")
    if password:
        return
    host = parts.hostname or ""
    if host == "localhost" or _is_loopback(host):
        return
    raise UsageError(
        f"--redis {url}: a Redis on another machine needs a password (redis://:PASSWORD@{parts.netloc}/...): "
        "whoever can write to it runs code on the workers; --insecure-redis to go without"
    )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

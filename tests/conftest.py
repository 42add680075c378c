"""Shared fixtures: the replica site folders, read the way the real site would serve them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.testing.replica import SITES_DIR, Route, SiteReplica
from crawler.testing.server import ReplicaServer

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/sites/*/expected/*.json")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def replica(key: str) -> SiteReplica:
    """The replica of one site, loaded from its folder."""
    return SiteReplica(SITES_DIR / key)


def real_page(site: SiteReplica, route: Route) -> bytes:
    """A replica page as the real site serves it (``{{BASE}}`` is the real domain)."""
    return site.render(route, site.real_base)


def site_keys() -> list[str]:
    return sorted(p.name for p in SITES_DIR.iterdir() if (p / "site.json").is_file())


def crawl_args(server: ReplicaServer, db: Path, *keys: str, delay: float = 0.0) -> list[str]:
    """Arguments of ``newscrawl crawl`` for replica sites (all when no key is given) into ``db``.

    Politeness delays are off (``delay`` seconds between requests, no jitter, no AutoThrottle):
    the server is the test's own; robots.txt is still obeyed.
    """
    args = ["crawl", *keys, "--db", str(db)]
    for key in keys or tuple(server.sites):
        args += ["--base-url", f"{key}={server.base_url(key)}"]
    return [*args, "-s", f"DOWNLOAD_DELAY={delay}", "-s", "DOWNLOAD_DELAY_JITTER=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``python -m crawler.cli ARGS`` from the repository, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

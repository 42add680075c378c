"""Shared fixtures: the replica site folders, read the way the real site would serve them."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.replica import SITES_DIR, Route, SiteReplica

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

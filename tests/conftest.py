"""Shared fixtures. Helper functions live in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlite_utils

from storage.db import open_db


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/sites/*/expected/*.json")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def db() -> Iterator[sqlite_utils.Database]:
    """A fresh database in memory, every migration applied."""
    database = open_db(":memory:")
    yield database
    database.close()

"""Comparing stored publication dates with a bound.

``published_at`` holds an ISO time in +07:00 (``2024-03-15T08:00:00+07:00``) or, when the page
gave only a day, a date (``2024-03-15``). As strings a date sorts before every time of its own
day, so a plain ``published_at >= bound`` would drop a date-only article published on the
bound's day. Here a date counts as its whole day. The first condition alone is a range on the
column, so SQLite still answers it from the ``published_at`` indexes.
"""

from __future__ import annotations


def on_or_after(column: str, day: str = "?", moment: str = "?") -> str:
    """SQL: ``column`` on or after a bound given as its day (``day``) and itself (``moment``).

    ``day`` and ``moment`` are the placeholders the caller binds to :func:`bound_params`.
    """
    return f"({column} >= {day} and (length({column}) = 10 or {column} >= {moment}))"


def bound_params(since: str) -> list[str]:
    """The parameters of :func:`on_or_after` for an ISO bound in +07:00: its day, then itself."""
    return [since[:10], since]


def on_or_before(column: str, moment: str = "?") -> str:
    """SQL: ``column`` on or before an ISO bound in +07:00 (``moment``, a placeholder).

    A date-only value sorts before every time of its own day, so it counts as on or before a
    bound on that day, as :func:`on_or_after` counts it as on or after one: its whole day.
    """
    return f"{column} <= {moment}"

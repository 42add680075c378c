"""Publication dates: day-first Vietnamese formats and ISO strings, stored in Vietnam time.

A record's ``published_at`` says no more than its page: a page that gives only a day gets a
date (``2024-03-15``, no invented midnight), and ``published_at_precision`` says how precise
the value is (``day``, ``minute`` or ``second``), see :func:`parse_published`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

from storage.when import VN_TZ

Precision = Literal["day", "minute", "second"]
# No Vietnamese news page is older than this; an earlier date is a placeholder or a typo.
EARLIEST = date(1900, 1, 1)


# "Thứ Tư, 20/01/2021 16:10", "Thứ sáu, 29/01/2021 - 18:25", "08:00 22/11/2024", "21/01/2021"
# Hand-written, not dateparser or htmldate (measured with dateparser 1.5, htmldate 1.11):
# dateparser(languages=["vi"], DATE_ORDER="DMY") reads these four but takes ~2.8 ms a call
# against ~50 µs here (every article page parses one or more dates), and returns None for a
# date inside a label ("Cập nhật lúc 07h30 ngày 05.03.2025"); htmldate finds the day of a page
# but drops the time of day. ISO strings go to datetime.fromisoformat and RSS dates to
# email.utils: only the visible day-first form is ours.
_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")
_HM = re.compile(r"(?<!\d)(\d{1,2})[:hH](\d{2})(?!\d)")
_ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*$")
_ISO_SECONDS = re.compile(r"[T ]\d{2}:\d{2}:\d{2}")
_CLOCK_SECONDS = re.compile(r"(?<!\d)\d{1,2}:\d{2}:\d{2}(?!\d)")
_WEEKDAY = r"(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy)|chủ\s+nhật)"
# The top bar's "today" line, "Thứ Năm, Ngày 20 Tháng 3, 2025" (CAO, SITES.md §3.3, CONFIRMED):
# the day of the fetch, never a publication time.
_TODAY_BANNER = re.compile(
    rf"^\s*(?:{_WEEKDAY}\s*,\s*)?ngày\s+\d{{1,2}}\s+tháng\s+\d{{1,2}}\s*,?\s*(?:năm\s+)?\d{{4}}\s*$", re.IGNORECASE
)
# A visible date line that starts with its weekday: "Thứ Tư, 19/03/2025 13:37",
# "Chủ nhật, 16/03/2025 - 09:30". Related-item cards ("08:00 22/11/2024") have no weekday.
_WEEKDAY_DATE = re.compile(rf"^\s*{_WEEKDAY}\s*,\s*\d{{1,2}}/\d{{1,2}}/\d{{4}}", re.IGNORECASE)


def nfc(text: str) -> str:
    """``text`` in NFC: CAO writes its weekday names decomposed (SITES.md §3.3), and a regex
    or comparison on the decomposed form misses ``Thứ``."""
    return unicodedata.normalize("NFC", text)


def is_today_banner(text: str | None) -> bool:
    """Whether ``text`` is a page's top-bar "today" date (the fetch day), not a publication date."""
    return bool(text) and _TODAY_BANNER.match(nfc(text or "")) is not None


def is_weekday_date(text: str | None) -> bool:
    """Whether ``text`` is a visible date line that starts with a weekday name (any case, any
    Unicode normal form)."""
    return bool(text) and _WEEKDAY_DATE.match(nfc(text or "")) is not None


def to_vn_iso(moment: datetime) -> str:
    """ISO 8601 in Vietnam time, whole seconds (``2021-01-20T16:10:00+07:00``).

    A naive datetime is taken to be Vietnam time already.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ).replace(microsecond=0).isoformat()


def parse_iso(raw: str) -> str | None:
    """An ISO 8601 string (JSON-LD, meta tags; ``Z`` allowed) as Vietnam-time ISO, or None."""
    try:
        return to_vn_iso(datetime.fromisoformat(raw.strip()))
    except (ValueError, OverflowError):  # year 1 at +14:00 has no Vietnam-time instant
        return None


def parse_vn_date(raw: str) -> str | None:
    """A visible day-first date with optional ``HH:MM`` (Vietnam time) as ISO, or None."""
    found = _DMY.search(raw)
    if not found:
        return None
    day, month, year = (int(g) for g in found.groups())
    rest = raw[: found.start()] + " " + raw[found.end() :]
    hour = minute = 0
    clock = _HM.search(rest)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
    try:
        return to_vn_iso(datetime(year, month, day, hour, minute, tzinfo=VN_TZ))
    except (ValueError, OverflowError):
        return None


def parse_rfc822(raw: str) -> str | None:
    """An RSS ``pubDate`` as Vietnam-time ISO, or None."""
    try:
        return to_vn_iso(parsedate_to_datetime(raw.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def parse_any(raw: str | None) -> str | None:
    """Try ISO first (machine-readable sources), then the visible day-first form."""
    if not raw or not raw.strip():
        return None
    return parse_iso(raw) or parse_vn_date(raw) or parse_rfc822(raw)


def parse_published(raw: str | None, today: date | None = None) -> tuple[str | None, Precision | None]:
    """A publication date as the page gives it, and its precision; ``(None, None)`` if unreadable
    or implausible.

    ``2024-03-15`` and ``15/03/2024`` give ``("2024-03-15", "day")``; a time of day gives the
    Vietnam-time ISO instant with ``minute`` (``20/01/2021 16:10``, ``2021-01-20T16:10+07:00``)
    or ``second`` precision (seconds written, as in ``2026-10-05T09:47:12.640Z`` or an RSS
    ``pubDate``). Same order of trust as :func:`parse_any`: ISO, then day-first, then RFC 822.

    A date before :data:`EARLIEST` or after tomorrow (``today``, Vietnam time by default, plus
    one day) is no publication time: a CMS placeholder (``0001-01-01``), an epoch-zero field or a
    typo. It gives ``(None, None)``; the caller keeps the raw text (``published_at_raw``).
    """
    value, precision = _parse_published(raw)
    if value is None:
        return None, None
    latest = (today or datetime.now(VN_TZ).date()) + timedelta(days=1)
    if not EARLIEST <= date.fromisoformat(value[:10]) <= latest:
        return None, None
    return value, precision


def _parse_published(raw: str | None) -> tuple[str | None, Precision | None]:
    """:func:`parse_published` without the plausibility check.

    ``2024-03-15`` and ``15/03/2024`` give ``("2024-03-15", "day")``; a time of day gives the
    Vietnam-time ISO instant with ``minute`` (``20/01/2021 16:10``, ``2021-01-20T16:10+07:00``)
    or ``second`` precision (seconds written, as in ``2026-10-05T09:47:12.640Z`` or an RSS
    ``pubDate``). Same order of trust as :func:`parse_any`: ISO, then day-first, then RFC 822.
    """
    if not raw or not raw.strip():
        return None, None
    day_only = _ISO_DATE.match(raw)
    if day_only:
        try:
            return date.fromisoformat(day_only.group(1)).isoformat(), "day"
        except ValueError:
            return None, None
    value = parse_iso(raw)
    if value is not None:
        return value, "second" if _ISO_SECONDS.search(raw) else "minute"
    found = _DMY.search(raw)
    if found:
        value = parse_vn_date(raw)
        if value is None:
            return None, None
        rest = raw[: found.start()] + " " + raw[found.end() :]
        if not _HM.search(rest):
            return value[:10], "day"
        return value, "second" if _CLOCK_SECONDS.search(rest) else "minute"
    value = parse_rfc822(raw)
    if value is not None:
        return value, "second" if _CLOCK_SECONDS.search(raw) else "minute"
    return None, None

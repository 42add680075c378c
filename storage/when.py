"""Dates people type: ISO, day-first, and relative (``yesterday``, ``7d``), as Vietnam-time ISO.

Every command and API call that takes a date reads it here, so ``--since 24/09/2025`` means
the same thing on ``search``, ``export``, ``dupes`` and ``archive.search(since=...)``.

Hand-written, not dateparser: the accepted forms are few and fixed (listed in
:data:`FORMS`), and a bound must never be guessed from free text (dateparser reads ``7d`` as
the 7th of this month). Day-first because that is how Vietnamese dates are written
(``24/09/2025``); ISO dates start with the year, so the two never collide.

A date names a whole day: as a lower bound it is that day's midnight, as an upper bound its
last second (``published_at`` is stored to the second). A relative form (``7d``, ``24h``,
``2w``) is a moment: now minus that much.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

# Vietnam's zone (UTC+7, no daylight saving): its one home; crawler.extract.dates and the
# storage modules that date things in it import it from here.
VN_TZ = timezone(timedelta(hours=7))
FORMS = "2026-01-31, 31/01/2026, an ISO time, today, yesterday, 7d, 24h or 2w"
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RELATIVE = re.compile(r"^(\d{1,5})\s*([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class DateError(ValueError):
    """A date that is none of :data:`FORMS`; the message names the value and the forms."""


def parse_when(value: str, *, end: bool = False, now: datetime | None = None) -> str:
    """``value`` as ISO 8601 in +07:00 (``2025-09-24T00:00:00+07:00``).

    ``end`` makes a whole day its last second (for ``--until``); ``now`` is for tests.
    Raises :class:`DateError` for anything else.
    """
    text = value.strip().lower() if isinstance(value, str) else ""
    current = (now or datetime.now(UTC)).astimezone(VN_TZ)
    day: date | None = None
    if text in ("today", "yesterday"):
        day = current.date() - timedelta(days=1 if text == "yesterday" else 0)
    elif found := _DAY_FIRST.match(text):
        day = _day(int(found.group(3)), int(found.group(2)), int(found.group(1)), value)
    elif _ISO_DAY.match(text):
        day = _day(int(text[:4]), int(text[5:7]), int(text[8:10]), value)
    elif found := _RELATIVE.match(text):
        return _iso(current - int(found.group(1)) * _UNITS[found.group(2)])
    else:
        try:
            moment = datetime.fromisoformat(text.upper())
        except ValueError:
            raise DateError(f"must be a date like {FORMS}, got {value!r}") from None
        return _iso(moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ))
    return _iso(datetime.combine(day, time(23, 59, 59) if end else time(0), VN_TZ))


def _day(year: int, month: int, day: int, value: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise DateError(f"must be a date like {FORMS}, got {value!r} ({exc})") from None


def _iso(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).replace(microsecond=0).isoformat()

"""Pure wall-clock helpers: parsing, zones, local -> UTC across DST, and the sending window."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@lru_cache(maxsize=4096)
def parse_hhmm(text: str) -> time:
    """'9:00' or '09:00' -> time(9, 0). ValueError names what is wrong."""
    match = _HHMM.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day as HH:MM (00:00-23:59)")
    return time(int(match.group(1)), int(match.group(2)))


def format_hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


# "EST", "CET", "EST5EDT": legacy names for a fixed offset or a rule shared by a region, not a place.
# They are accepted by zoneinfo, so enrolment and clinic settings refuse them themselves.
LEGACY_ZONE = re.compile(r"(?!UTC$|UCT$|GMT$)[A-Z]{3}(\d{1,2}[A-Z]{3})?")


@cache
def zone(name: str) -> ZoneInfo:
    """An IANA zone; ValueError for anything else (including 'EST'-style abbreviations with no rules)."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. America/New_York)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. America/New_York)") from None


@lru_cache(maxsize=65536)  # pure, and patients share zones, days and times: planning asks again and again
def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    A time skipped by a DST jump moves forward to the first valid instant (the jump itself);
    a time that happens twice takes its first occurrence.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == naive:
        return utc  # exists (fold=0 is the first occurrence when repeated)
    # In a gap: fold=0 used the offset before the jump, fold=1 the one after; the jump lies between.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = utc
    after = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def in_window(local: time, start: time, end: time) -> bool:
    """Is a local time inside the sending window [start, end)? A window may wrap past midnight."""
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def next_window_open(instant: datetime, tz: ZoneInfo, start: time, end: time) -> datetime:
    """The first instant at or after `instant` when the local time is inside the window."""
    local = instant.astimezone(tz)
    if in_window(local.time(), start, end):
        return instant
    # Outside the window the local time is before today's opening, or past today's closing.
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return local_to_utc(day, start, tz)


def to_utc_z(value: datetime | None) -> str | None:
    """ISO-8601 UTC with Z, as CONTRACT.md wants in JSON."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

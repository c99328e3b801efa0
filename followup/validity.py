"""How long Twilio may keep a message queued: its ValidityPeriod, in whole seconds.

Twilio holds a queued message up to 10 hours (36,000 s, also the most it accepts) and then sends it,
late. followup never sends late: a scheduled message is due within its grace (2 h), and nothing
scheduled goes out in quiet hours. So Twilio is told the seconds left until whichever comes first,
the end of the message's grace (its expires_at) or, for a message that respects quiet hours, the
start of quiet hours in the recipient's zone. What Twilio cannot send by then fails with 30036
(validity period expired) instead of arriving at 23:00.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .localtime import in_window, local_to_utc

TWILIO_MAX = 36_000  # seconds (Twilio's error 21624/90007: integers from 1 to 36,000)
TWILIO_MIN = 1


def window_closes(instant: datetime, tz: ZoneInfo, start: time, end: time) -> datetime | None:
    """When the sending window that holds `instant` closes (quiet hours begin); None if outside it."""
    local = instant.astimezone(tz)
    if not in_window(local.time(), start, end):
        return None
    day = local.date()
    if start > end and local.time() >= start:  # a window past midnight closes tomorrow
        day += timedelta(days=1)
    return local_to_utc(day, end, tz)


def validity_seconds(
    now: datetime,
    expires_at: datetime | None,
    quiet: tuple[ZoneInfo, time, time] | None = None,
) -> int | None:
    """Seconds Twilio may keep the message queued, or None when it may not be sent at all now (quiet
    hours have begun; the caller skips a message past its grace before asking). `quiet`: (zone,
    window start, window end) when the message respects quiet hours; None for one exempt from them
    (replies, emergency alerts)."""
    limits = [expires_at] if expires_at is not None else []
    if quiet is not None:
        closes = window_closes(now, *quiet)
        if closes is None:
            return None
        limits.append(closes)
    if not limits:
        return TWILIO_MAX
    seconds = math.floor((min(limits) - now).total_seconds())
    if seconds < TWILIO_MIN and quiet is not None and min(limits) != expires_at:
        return None  # quiet hours begin within the second
    # The last second of a grace still counts (the caller skips what is past it): Twilio's minimum.
    return max(TWILIO_MIN, min(seconds, TWILIO_MAX))

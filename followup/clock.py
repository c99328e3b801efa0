"""now(): the one place that reads the time.

FOLLOWUP_NOW (or `--now`) pins "now" to an instant, so every command can be replayed on a fake clock.
A long-running process started with a pinned clock lets it advance from there in real time
(`start_ticking`), so `followup run` on a fake date still behaves like a service.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

_pinned: datetime | None = None
_ticking_since: float | None = None


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant with an offset (`Z` allowed); naive times are refused as ambiguous."""
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(f"not an ISO-8601 instant: {text!r}") from exc
    if value.tzinfo is None:
        raise ValueError(f"instant {text!r} needs an offset, e.g. 2026-12-01T14:00:00Z")
    return value.astimezone(UTC)


def pin(instant: datetime | str | None) -> None:
    """Pin now() to an instant (None: back to the real clock)."""
    global _pinned, _ticking_since
    _pinned = parse_instant(instant) if isinstance(instant, str) else instant
    _ticking_since = None


def start_ticking() -> None:
    """From here on a pinned clock advances with real time."""
    global _ticking_since
    if _pinned is not None:
        _ticking_since = time.monotonic()


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    pinned = _pinned
    if pinned is None:
        env = os.environ.get("FOLLOWUP_NOW")
        if not env:
            return datetime.now(UTC)
        pinned = parse_instant(env)
    if _ticking_since is not None:
        return pinned + timedelta(seconds=time.monotonic() - _ticking_since)
    return pinned

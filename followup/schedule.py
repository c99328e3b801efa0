"""Pure: an enrolment and a time window -> the messages due in it, as UTC instants.

Local wall-clock times in the patient's IANA zone; DST handled by localtime.local_to_utc
(skipped times move forward, repeated times take the first occurrence); nothing outside the
sending window; nothing before the start or after the last day of the programme.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .localtime import format_hhmm, in_window, local_to_utc, zone


@dataclass(frozen=True)
class Plan:
    timezone: str
    start: date
    weeks: int
    reminder_times: tuple[time, ...]
    checkin_time: time
    checkin_every_days: int
    window_start: time  # the clinic's sending window, patient-local
    window_end: time

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=7 * self.weeks - 1)


@dataclass(frozen=True)
class Slot:
    kind: str  # reminder | checkin
    local_date: date
    slot: str  # "HH:MM" as planned (before any DST shift)
    due: datetime  # UTC


def slots(plan: Plan, window_from: datetime, window_to: datetime) -> list[Slot]:
    """Every reminder and check-in with window_from <= due < window_to, in order of due time."""
    tz = zone(plan.timezone)
    # A UTC window spans at most one extra local day at each end, whatever the offset.
    first = max(plan.start, window_from.astimezone(tz).date() - timedelta(days=1))
    last = min(plan.last_day, window_to.astimezone(tz).date() + timedelta(days=1))
    found: list[Slot] = []
    day = first
    while day <= last:
        wanted = [("reminder", t) for t in plan.reminder_times]
        if (day - plan.start).days % plan.checkin_every_days == 0:
            wanted.append(("checkin", plan.checkin_time))
        for kind, at in wanted:
            due = local_to_utc(day, at, tz)
            if not (window_from <= due < window_to):
                continue
            if not in_window(due.astimezone(tz).time(), plan.window_start, plan.window_end):
                continue  # the clinic narrowed its hours after enrolment, or DST pushed it out
            found.append(Slot(kind, day, format_hhmm(at), due))
        day += timedelta(days=1)
    found.sort(key=lambda s: (s.due, s.kind))
    return found


def programme_over(plan: Plan, now: datetime) -> bool:
    """True once the patient's last programme day has ended in their zone."""
    return now.astimezone(zone(plan.timezone)).date() > plan.last_day

"""The pure schedule: local times in the patient's zone, across DST, inside the window and the programme."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from followup.schedule import Plan, programme_over, slots

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
    "UTC",
]


def plan(**kw) -> Plan:
    base = dict(
        timezone="America/New_York",
        start=date(2026, 3, 1),
        weeks=2,
        reminder_times=(time(9, 0),),
        checkin_time=time(19, 0),
        checkin_every_days=1,
        window_start=time(8, 0),
        window_end=time(21, 0),
    )
    return Plan(**{**base, **kw})


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_a_day_has_its_reminders_and_checkin_at_local_wall_clock_time_across_spring_forward():
    found = slots(plan(), utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))
    assert [(s.kind, s.local_date.day, s.due) for s in found] == [
        ("reminder", 7, utc(2026, 3, 7, 14)),  # 09:00 EST
        ("checkin", 7, utc(2026, 3, 8, 0)),  # 19:00 EST
        ("reminder", 8, utc(2026, 3, 8, 13)),  # 09:00 EDT: an hour earlier in UTC
        ("checkin", 8, utc(2026, 3, 8, 23)),
    ]


def test_nothing_is_planned_before_the_start_or_after_the_last_day():
    p = plan(start=date(2026, 3, 2), weeks=1)
    found = slots(p, utc(2026, 2, 25), utc(2026, 3, 20))
    days = sorted({s.local_date for s in found})
    assert days[0] == date(2026, 3, 2) and days[-1] == date(2026, 3, 8) and len(days) == 7
    assert programme_over(p, utc(2026, 3, 9, 4, 1)) and not programme_over(p, utc(2026, 3, 9, 3, 59))  # EDT


def test_checkins_every_n_days_count_from_the_start():
    found = slots(plan(checkin_every_days=3), utc(2026, 3, 1), utc(2026, 3, 10))
    assert [s.local_date.day for s in found if s.kind == "checkin"] == [1, 4, 7]


def test_slots_outside_the_sending_window_are_dropped():
    found = slots(
        plan(reminder_times=(time(7, 0), time(9, 0)), window_start=time(8, 0)),
        utc(2026, 3, 2),
        utc(2026, 3, 3),
    )
    assert [s.slot for s in found if s.kind == "reminder"] == ["09:00"]


def test_a_window_boundary_is_half_open():
    found = slots(plan(), utc(2026, 3, 2, 14), utc(2026, 3, 3, 14))
    assert [s.due for s in found if s.kind == "reminder"] == [utc(2026, 3, 2, 14)]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    weeks=st.integers(1, 8),
    times=st.lists(st.times(), min_size=1, max_size=4, unique=True),
    checkin=st.times(),
    every=st.integers(1, 5),
    offset_h=st.integers(-24, 24 * 60),
    span_h=st.integers(1, 96),
)
def test_every_slot_is_in_the_window_inside_the_programme_and_at_its_local_time(
    zone, start, weeks, times, checkin, every, offset_h, span_h
):
    times = tuple(t.replace(second=0, microsecond=0) for t in times)
    checkin = checkin.replace(second=0, microsecond=0)
    p = plan(
        timezone=zone,
        start=start,
        weeks=weeks,
        reminder_times=times,
        checkin_time=checkin,
        checkin_every_days=every,
        window_start=time(0, 0),
        window_end=time(0, 0),
    )  # whole day open
    tz = ZoneInfo(zone)
    frm = datetime.combine(start, time(0), tz).astimezone(UTC) + timedelta(hours=offset_h)
    to = frm + timedelta(hours=span_h)
    found = slots(p, frm, to)

    assert [s.due for s in found] == sorted(s.due for s in found)
    assert len({(s.kind, s.local_date, s.slot) for s in found}) == len(found)
    for s in found:
        assert frm <= s.due < to
        assert start <= s.local_date <= start + timedelta(weeks=weeks, days=-1)
        wanted = datetime.combine(s.local_date, time.fromisoformat(s.slot))
        local = s.due.astimezone(tz).replace(tzinfo=None)
        exists = wanted.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wanted
        if exists:
            # fold=0 is the earlier of two occurrences of a repeated wall time (PEP 495).
            assert s.due == wanted.replace(tzinfo=tz, fold=0).astimezone(UTC)
        else:
            # Skipped by a DST jump: the first valid instant, i.e. the jump itself.
            assert local > wanted
            assert (s.due - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None) < wanted
        if s.kind == "checkin":
            assert (s.local_date - start).days % every == 0


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES), day=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
def test_each_programme_day_gets_every_reminder_exactly_once(zone, day):
    p = plan(timezone=zone, start=day - timedelta(days=3), weeks=2, reminder_times=(time(9, 0), time(14, 30)))
    tz = ZoneInfo(zone)
    frm = datetime.combine(day, time(0), tz).astimezone(UTC) - timedelta(days=1)
    found = slots(p, frm, frm + timedelta(days=3))
    on_day = [s for s in found if s.local_date == day and s.kind == "reminder"]
    assert [s.slot for s in on_day] == ["09:00", "14:30"]
    assert all(s.due.astimezone(tz).strftime("%H:%M") == s.slot for s in on_day)

"""Ten patients, fourteen days, ticking every 30 minutes on a fake clock, across two DST changes:
every reminder and check-in goes out once, at its local time (within one tick), never in quiet hours."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from factories import FakeClock, add_clinic, enrol, utc, worker
from sqlalchemy import select

from followup.db import engine_for, session_scope
from followup.models import Message, Patient

TICK = timedelta(minutes=30)
PATIENTS = [  # zone, reminder times, check-in time, every N days, start
    ("America/New_York", "09:00", "19:00", 1, date(2026, 10, 22)),
    ("America/New_York", "08:30;13:00", "20:30", 2, date(2026, 10, 23)),
    ("America/Chicago", "10:15", "18:00", 1, date(2026, 10, 22)),
    ("Europe/London", "09:00;17:45", "19:00", 1, date(2026, 10, 22)),
    # 20:30, not 20:45: with 30-minute ticks a 20:45 message is first tried at 21:00, when the window has
    # closed, and is rightly skipped (the real dispatcher runs every second).
    ("Europe/London", "08:00", "20:30", 3, date(2026, 10, 24)),
    ("Australia/Sydney", "09:30", "19:30", 1, date(2026, 10, 22)),
    ("Asia/Kolkata", "08:30;12:30;16:30", "19:00", 1, date(2026, 10, 22)),
    ("America/Los_Angeles", "11:00", "19:00", 2, date(2026, 10, 25)),
    ("America/St_Johns", "09:30", "20:00", 1, date(2026, 10, 22)),
    ("Pacific/Auckland", "09:00", "19:00", 1, date(2026, 10, 23)),
]


def expected_for(zone: str, reminders: str, checkin: str, every: int, start: date):
    tz = ZoneInfo(zone)
    for offset in range(14):
        day = start + timedelta(days=offset)
        for at in reminders.split(";"):
            yield "reminder", datetime.combine(day, time.fromisoformat(at), tz).astimezone(UTC)
        if offset % every == 0:
            yield "checkin", datetime.combine(day, time.fromisoformat(checkin), tz).astimezone(UTC)


def test_two_weeks_of_reminders_and_checkins_go_out_once_each_at_local_time(db_url):
    clock = FakeClock(utc(2026, 10, 21, 12, 0))
    clinic = add_clinic(db_url, clock())
    ids = []
    for i, (zone, reminders, checkin, every, start) in enumerate(PATIENTS):
        ids += enrol(
            db_url,
            clinic,
            clock(),
            n=1,
            phone=f"+1617555{2000 + i:04d}",
            timezone=zone,
            reminder_times=reminders,
            checkin_time=checkin,
            checkin_every_days=every,
            weeks=2,
            start=start.isoformat(),
        )
    w, sms, email = worker(db_url, clock)
    while clock() < utc(2026, 11, 9, 0, 0):
        w.tick()
        clock.advance(minutes=30)

    with session_scope(engine_for(db_url)) as session:
        rows = session.execute(
            select(Message, Patient)
            .join(Patient, Patient.id == Message.patient_id)
            .where(Message.status == "sent", Message.direction == "out")
        ).all()
        statuses = {p.status for p in session.execute(select(Patient)).scalars()}
    # Reminders and check-ins only: these patients never reply, so nudges and R1 alerts rightly go out too.
    sent = Counter((p.id, m.kind, m.due_at) for m, p in rows if m.kind in ("reminder", "checkin"))
    expected = Counter(
        (pid, kind, due) for pid, spec in zip(ids, PATIENTS) for kind, due in expected_for(*spec)
    )

    assert sent == expected  # every expected message, once, and nothing else
    assert len(sms.sent) + len(email.sent) >= len(rows)  # counted at the channels: no row without its send
    assert len([s for s in sms.sent if s.message.kind in ("reminder", "checkin")]) == sum(expected.values())
    for m, p in rows:
        if m.kind == "alert":
            continue  # clinic alerts follow the clinic's sending window, not the patient's
        if m.kind in ("reminder", "checkin"):  # unscheduled messages queued outside the window wait for it
            assert timedelta(0) <= m.sent_at - m.due_at <= TICK, (m.kind, m.due_at, m.sent_at)
        local = m.sent_at.astimezone(ZoneInfo(p.timezone)).time()
        assert time(8, 0) <= local < time(21, 0)
    assert statuses == {"completed"}

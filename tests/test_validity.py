"""ValidityPeriod (followup/validity.py): the seconds Twilio may keep a message queued."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from followup.validity import TWILIO_MAX, validity_seconds

NY = ZoneInfo("America/New_York")
WINDOW = (NY, time(8), time(21))


def at(hour, minute=0, day=1):
    return datetime(2026, 12, day, hour, minute, tzinfo=NY).astimezone(UTC)


def test_the_grace_or_the_start_of_quiet_hours_whichever_comes_first():
    assert validity_seconds(at(9), at(11), WINDOW) == 7200  # a 09:00 reminder: its 2 h grace
    assert validity_seconds(at(20, 15), at(22, 15), WINDOW) == 2700  # until 21:00, not 22:15
    assert validity_seconds(at(21, 5), at(23), WINDOW) is None  # quiet hours have begun: not now


def test_a_message_exempt_from_quiet_hours_is_bounded_by_its_grace_and_twilios_maximum():
    assert validity_seconds(at(23), at(23) + timedelta(hours=2)) == 7200
    assert validity_seconds(at(9), at(9) + timedelta(hours=48)) == TWILIO_MAX  # 10 h at most
    assert validity_seconds(at(9), at(9)) == 1  # the last second of its grace still counts


def test_a_window_past_midnight_closes_the_next_morning():
    night = (NY, time(22), time(2))
    assert validity_seconds(at(23), at(23) + timedelta(hours=5), night) == 3 * 3600

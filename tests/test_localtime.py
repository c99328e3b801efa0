"""Wall-clock arithmetic across DST, with plain values."""

from datetime import UTC, date, datetime, time

import pytest

from followup.clock import parse_instant
from followup.localtime import in_window, local_to_utc, next_window_open, parse_hhmm, zone

NY, LONDON, SYDNEY = zone("America/New_York"), zone("Europe/London"), zone("Australia/Sydney")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "tz, day, at, expected",
    [
        (
            NY,
            date(2026, 3, 8),
            time(2, 30),
            utc(2026, 3, 8, 7, 0),
        ),  # skipped: 03:00 EDT, the first valid instant
        (NY, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),  # repeated: first occurrence (EDT)
        (LONDON, date(2026, 3, 29), time(1, 15), utc(2026, 3, 29, 1, 0)),  # skipped: 02:00 BST
        (LONDON, date(2026, 10, 25), time(1, 15), utc(2026, 10, 25, 0, 15)),
        (SYDNEY, date(2026, 10, 4), time(2, 45), utc(2026, 10, 3, 16, 0)),  # skipped: 03:00 AEDT
        (SYDNEY, date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 15, 30)),  # repeated: first (AEDT)
        (
            zone("Australia/Lord_Howe"),
            date(2026, 10, 4),
            time(2, 10),
            utc(2026, 10, 3, 15, 30),
        ),  # 30-minute jump
        (NY, date(2026, 7, 1), time(9, 0), utc(2026, 7, 1, 13, 0)),
    ],
)
def test_local_times_map_to_utc_across_dst(tz, day, at, expected):
    assert local_to_utc(day, at, tz) == expected


def test_the_sending_window_can_wrap_past_midnight():
    assert in_window(time(23, 0), time(22, 0), time(6, 0))
    assert not in_window(time(12, 0), time(22, 0), time(6, 0))
    assert in_window(time(8, 0), time(8, 0), time(21, 0)) and not in_window(
        time(21, 0), time(8, 0), time(21, 0)
    )


def test_outside_the_window_the_next_opening_is_found():
    start, end = time(8, 0), time(21, 0)
    assert next_window_open(utc(2026, 12, 1, 3, 0), NY, start, end) == utc(
        2026, 12, 1, 13, 0
    )  # 22:00 -> 08:00
    assert next_window_open(utc(2026, 12, 1, 11, 0), NY, start, end) == utc(
        2026, 12, 1, 13, 0
    )  # 06:00 -> 08:00
    assert next_window_open(utc(2026, 12, 1, 15, 0), NY, start, end) == utc(2026, 12, 1, 15, 0)  # inside


@pytest.mark.parametrize("text", ["9", "24:00", "12:60", "9am", "", "12:3"])
def test_malformed_times_of_day_are_refused(text):
    with pytest.raises(ValueError):
        parse_hhmm(text)


@pytest.mark.parametrize("name", ["Mars/Base", "", "../etc/passwd", "/etc/localtime", " America/New_York"])
def test_anything_but_an_iana_zone_is_refused(name):
    with pytest.raises(ValueError):
        zone(name)


def test_fake_clock_instants_need_an_offset():
    assert parse_instant("2026-12-01T14:00:00Z") == utc(2026, 12, 1, 14)
    assert parse_instant("2026-12-01T09:00:00-05:00") == utc(2026, 12, 1, 14)
    with pytest.raises(ValueError):
        parse_instant("2026-12-01T14:00:00")

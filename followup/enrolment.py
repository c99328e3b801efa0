"""Enrolment: validate one patient or a whole CSV (every problem, with its row), then create them
(patients.create). Nothing is written until every row is valid, so a bad CSV changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from . import episodes, patients
from .clinics import check_email
from .errors import BadInput
from .localtime import LEGACY_ZONE, format_hhmm, in_window, local_to_utc, parse_hhmm, zone
from .messages import LANGUAGES
from .models import Clinic, Patient
from .phones import parse_phone, region_of
from .programs import all_programs

FIELDS = (
    "name",
    "phone",
    "email",
    "channel",
    "timezone",
    "program",
    "start",
    "reminder_times",
    "checkin_time",
    "checkin_every_days",
    "weeks",
    "language",
    "consent",
)
REQUIRED = ("name", "phone", "timezone", "consent")
CHANNELS = ("sms", "email", "both")
CONSENT_YES = ("yes", "true", "1", "y")
MAX_NAME = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class NewPatient:
    name: str
    phone: str
    email: str | None
    channel: str
    timezone: str
    language: str
    program: str
    start: date
    weeks: int
    reminder_times: tuple[time, ...]
    checkin_time: time
    checkin_every_days: int


def _int(field: str, text: str, low: int, high: int, problems: list[str]) -> int | None:
    try:
        value = int(text)
    except ValueError:
        problems.append(f"{field}: {text!r} is not a whole number")
        return None
    if not low <= value <= high:
        problems.append(f"{field}: {value} is outside {low}-{high}")
        return None
    return value


# EST, MST, HST (fixed offsets, no daylight saving) and EST5EDT, CET, WET and the like (one rule for a
# whole region): names from before the place-named zones. zoneinfo knows them, but a patient in New
# York given EST gets every message an hour late all summer. UTC (and Etc/...) is deliberate and kept.


def _times(field: str, text: str, clinic: Clinic, problems: list[str]) -> list[time]:
    start, end = parse_hhmm(clinic.quiet_start), parse_hhmm(clinic.quiet_end)
    found = []
    for part in (p for p in re.split(r"[\s,;]+", text.strip()) if p):
        try:
            value = parse_hhmm(part)
        except ValueError as exc:
            problems.append(f"{field}: {exc}")
            continue
        if not in_window(value, start, end):
            problems.append(
                f"{field}: {part} is outside the sending window {clinic.quiet_start}-{clinic.quiet_end} "
                f"(the clinic's quiet hours are the rest of the day)"
            )
            continue
        found.append(value)
    if not found and not problems:
        problems.append(f"{field}: at least one time is required")
    return found


def validate(
    raw: Mapping[str, str | None], clinic: Clinic, today: date
) -> tuple[NewPatient | None, list[str]]:
    """One patient's fields as text (CLI options or a CSV row) -> a NewPatient, or every problem found."""
    problems: list[str] = []
    get = lambda k: (raw.get(k) or "").strip()  # noqa: E731
    if raw.get("__extra__"):
        problems.append("more values than columns (is there an unquoted comma?)")

    for field in REQUIRED:
        if not get(field) and field != "consent":
            problems.append(f"{field}: required")
    name = get("name")
    if len(name) > MAX_NAME:
        problems.append(f"name: longer than {MAX_NAME} characters")
    elif _CONTROL.search(name):
        problems.append("name: contains control characters")

    phone = None
    if get("phone"):
        try:
            phone = parse_phone(get("phone"), region_of(clinic.phone))
        except ValueError as exc:
            problems.append(f"phone: {exc}")

    email = check_email("email", get("email") or None, problems)
    channel = get("channel").lower() or "sms"
    if channel not in CHANNELS:
        problems.append(f"channel: {channel!r} is not one of {', '.join(CHANNELS)}")
    elif channel in ("email", "both") and not email and not any(p.startswith("email") for p in problems):
        problems.append(f"email: required for channel {channel}")

    tz_name = get("timezone")
    if tz_name:
        try:
            zone(tz_name)
        except ValueError as exc:
            problems.append(f"timezone: {exc}")
        else:
            if LEGACY_ZONE.fullmatch(tz_name):
                problems.append(
                    f"timezone: {tz_name!r} is a legacy zone (a fixed offset or a rule shared by a "
                    f"region), not a place: give the patient's IANA zone, e.g. America/New_York"
                )

    language = get("language").lower() or "en"
    if language not in LANGUAGES:
        problems.append(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")

    program = get("program") or "upper-back"
    if program not in all_programs():
        problems.append(
            f"program: unknown programme {program!r} (known: {', '.join(sorted(all_programs()))})"
        )

    weeks = _int("weeks", get("weeks") or "6", 1, 52, problems)
    every = _int("checkin_every_days", get("checkin_every_days") or "1", 1, 28, problems)

    start = today
    if get("start"):
        try:
            start = date.fromisoformat(get("start"))
        except ValueError:
            problems.append(f"start: {get('start')!r} is not a date as YYYY-MM-DD")
    if weeks and start + timedelta(weeks=weeks) <= today:
        problems.append(f"start: a {weeks}-week programme starting {start} has already ended")

    reminders = _times("reminder_times", get("reminder_times") or "09:00", clinic, problems)
    checkins = _times("checkin_time", get("checkin_time") or "19:00", clinic, problems)
    if len(checkins) > 1:
        problems.append("checkin_time: give one time")

    consent = get("consent").lower()
    if consent not in CONSENT_YES:
        shown = f", got {raw.get('consent')!r}" if consent else ""
        problems.append(f"consent: express consent is required (yes/true/1){shown}")

    if problems:
        return None, problems
    return NewPatient(
        name=name,
        phone=phone,
        email=email,
        channel=channel,
        timezone=tz_name,
        language=language,
        program=program,
        start=start,
        weeks=weeks,
        reminder_times=tuple(sorted(set(reminders))),
        checkin_time=checkins[0],
        checkin_every_days=every,
    ), []


def programme_end(start: date, weeks: int, timezone: str) -> datetime:
    """Midnight after the last programme day, in the patient's zone."""
    return local_to_utc(start + timedelta(weeks=weeks), time(0, 0), zone(timezone))


def clinic_today(clinic: Clinic, now: datetime) -> date:
    return now.astimezone(zone(clinic.timezone)).date()


def _existing_phones(session: Session, clinic_id: int, phones: Iterable[str]) -> dict[str, int]:
    phones = list(set(phones))
    found: dict[str, int] = {}
    for i in range(0, len(phones), 500):
        chunk = phones[i : i + 500]
        rows = session.exec(
            select(Patient.phone, Patient.id).where(Patient.clinic_id == clinic_id, Patient.phone.in_(chunk))
        )
        found.update({phone: pid for phone, pid in rows})
    return found


def enrol(
    session: Session,
    clinic: Clinic,
    rows: list[tuple[str, Mapping[str, str | None]]],
    now: datetime,
    method: str,
    progress: Callable[[int], None] | None = None,
) -> list[Patient]:
    """Validate every row (labelled for messages), then create all patients or none."""
    today = clinic_today(clinic, now)
    valid: list[NewPatient] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for label, raw in rows:
        item, row_problems = validate(raw, clinic, today)
        if item and item.phone in seen:
            row_problems.append(f"phone: {item.phone} appears twice (also {seen[item.phone]})")
        if item:
            seen.setdefault(item.phone, label)
        problems.extend(f"{label}{': ' if label else ''}{p}" for p in row_problems)
        if item:
            valid.append(item)
        if progress:
            progress(1)
    existing = _existing_phones(session, clinic.id, (v.phone for v in valid))
    # An ended enrolment (completed, unenrolled) is no obstacle: a new episode of the same patient.
    returning = {phone: session.get(Patient, pid) for phone, pid in existing.items()}
    returning = {ph: p for ph, p in returning.items() if episodes.can_return(p.status, p.name)}
    for item in valid:
        if item.phone in existing and item.phone not in returning:
            problems.append(
                f"{seen[item.phone]}{': ' if seen[item.phone] else ''}phone: {item.phone} is already "
                f"enrolled at this clinic (patient {existing[item.phone]})"
            )
    if problems:
        what = "no patients enrolled" if len(rows) > 1 else "patient not enrolled"
        raise BadInput(what, problems)
    return _create(session, clinic, valid, now, method, returning)


def _create(
    session: Session,
    clinic: Clinic,
    items: list[NewPatient],
    now: datetime,
    method: str,
    returning: dict[str, Patient] | None = None,
) -> list[Patient]:
    people = [
        (
            patients.Person(i.name, i.phone, i.email, i.timezone, i.language, i.channel),
            patients.Programme(
                program=i.program,
                start_date=i.start,
                weeks=i.weeks,
                reminder_times=",".join(format_hhmm(t) for t in i.reminder_times),
                checkin_time=format_hhmm(i.checkin_time),
                checkin_every_days=i.checkin_every_days,
                ends_at=programme_end(i.start, i.weeks, i.timezone),
            ),
        )
        for i in items
    ]
    return [patient for patient, _ in patients.create(session, clinic, people, now, method, returning)]


def read_csv(path: str) -> list[tuple[str, dict[str, str]]]:
    """Rows labelled 'row N' (N is the line in a spreadsheet: the header is row 1)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise BadInput(f"csv: cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadInput(
            f"csv: {path} is not UTF-8 text (first bad byte on line {line}); save it as CSV UTF-8"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise BadInput(f"csv: {path} is empty; the first line must name the columns ({', '.join(FIELDS)})")
    unknown = [h for h in header if h not in FIELDS]
    missing = [f for f in REQUIRED if f not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = [f"unknown column {h!r}" for h in unknown] + [f"missing column {m!r}" for m in missing]
        if len(set(header)) != len(header):
            problems.append("a column appears twice")
        raise BadInput(f"csv: header of {path} is wrong (columns: {', '.join(FIELDS)})", problems)
    reader.fieldnames = header
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            rows.append((f"row {number}", {"__extra__": "x", **{k: v for k, v in row.items() if k}}))
            continue
        if not any((v or "").strip() for v in row.values()):
            continue  # blank line
        rows.append((f"row {number}", row))
    if not rows:
        raise BadInput(f"csv: {path} has a header but no patients")
    return rows

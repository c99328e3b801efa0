"""Clinics: add, list, find."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlparse

from sqlmodel import Session, select

from . import audit, segments
from .config import Settings
from .errors import BadInput, NotFound
from .events import FORMATS
from .localtime import LEGACY_ZONE, format_hhmm, parse_hhmm, zone
from .models import Clinic
from .phones import parse_phone

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(field: str, value: str | None, problems: list[str]) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _EMAIL.match(value):
        problems.append(f"{field}: {value!r} is not an email address")
    return value


ROUTES = ("alert_email", "alert_phone", "alert_webhook")
NO_ROUTE = (
    "alert route: a clinic needs at least one of --alert-email, --alert-phone or --alert-webhook "
    "(escalations would otherwise alert nobody)"
)


def check_fields(fields: dict, problems: list[str]) -> dict:
    """The clinic's fields as given -> as stored, with every problem found added to `problems`.
    Shared by add and update, so both accept and refuse the same values."""
    out = dict(fields)
    if "name" in fields and (not fields["name"] or not fields["name"].strip()):
        problems.append("name: a clinic name is required")
    elif "name" in fields:
        out["name"] = fields["name"].strip()
    for field in ("phone", "alert_phone"):
        if fields.get(field):
            try:
                out[field] = parse_phone(fields[field])
            except ValueError as exc:
                problems.append(f"{field.replace('_', '-')}: {exc}")
        elif field in fields:
            out[field] = None
    for field in ("email", "alert_email"):
        if field in fields:
            out[field] = check_email(field.replace("_", "-"), fields[field], problems)
    if "alert_webhook" in fields or "alert_webhook_format" in fields:
        url = check_webhook(fields.get("alert_webhook"), fields.get("alert_webhook_format"), problems)
        if "alert_webhook" in fields:
            out["alert_webhook"] = url
    if "timezone" in fields:
        timezone = fields["timezone"]
        try:
            zone(timezone)
            if LEGACY_ZONE.fullmatch(timezone or ""):
                problems.append(
                    f"timezone: {timezone!r} is a legacy zone (a fixed offset or a rule shared by a "
                    f"region), not a place: give the clinic's IANA zone, e.g. America/New_York"
                )
        except ValueError as exc:
            problems.append(f"timezone: {exc}")
    for field in ("quiet_start", "quiet_end"):
        if field in fields:
            try:
                out[field] = format_hhmm(parse_hhmm(fields[field]))
            except ValueError as exc:
                problems.append(f"{field.replace('_', '-')}: {exc}")
    if fields.get("sms_name") is not None:  # what SMS call the clinic (issue 15)
        trouble = segments.sms_name_problem(fields["sms_name"])
        if trouble:
            problems.append(trouble)
        out["sms_name"] = fields["sms_name"].strip() or None
    if "emergency_number" in fields and not re.fullmatch(r"\d{2,6}", fields["emergency_number"] or ""):
        problems.append(
            f"emergency-number: {fields['emergency_number']!r} is not a short dialling code like 911"
        )
    return out


def check_webhook(url: str | None, fmt: str | None, problems: list[str]) -> str | None:
    """An https URL (http only to this machine, for testing); the body format standard or slack."""
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"alert-webhook-format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if url is None or not url.strip():
        return None
    url = url.strip()
    parsed = urlparse(url)
    if "@" in parsed.netloc:  # not echoed: the password would land in the terminal's scrollback
        problems.append(
            "alert-webhook: the URL has a user name or password in it, which would be stored and shown "
            "in clear; the receiver checks the signature (FOLLOWUP_WEBHOOK_SECRET) instead"
        )
        return url
    if any(c.isspace() for c in url):
        problems.append(f"alert-webhook: {url!r} has a space in it (write it as %20)")
        return url
    loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    try:
        parsed.port  # noqa: B018  (urlparse checks the port only when asked)
    except ValueError:
        problems.append(f"alert-webhook: the port is not a number in {url!r}")
        return url
    if (
        len(url) > 2048
        or not parsed.hostname
        or not (parsed.scheme == "https" or (parsed.scheme == "http" and loopback))
    ):
        problems.append(f"alert-webhook: {url!r} is not an https URL (http only to 127.0.0.1 or localhost)")
    return url


def _check_window(clinic_like: dict, problems: list[str]) -> None:
    if not problems and parse_hhmm(clinic_like["quiet_start"]) == parse_hhmm(clinic_like["quiet_end"]):
        problems.append("quiet-end: the sending window is empty (quiet-start equals quiet-end)")


def add_clinic(
    session: Session,
    now: datetime,
    *,
    name: str,
    phone: str,
    timezone: str,
    email: str | None = None,
    alert_email: str | None = None,
    alert_phone: str | None = None,
    alert_webhook: str | None = None,
    alert_webhook_format: str = "standard",
    quiet_start: str = "08:00",
    quiet_end: str = "21:00",
    emergency_number: str = "911",
    sms_name: str | None = None,
) -> Clinic:
    problems: list[str] = []
    fields = check_fields(
        dict(
            name=name,
            phone=phone,
            email=email,
            alert_email=alert_email,
            alert_phone=alert_phone,
            alert_webhook=alert_webhook,
            alert_webhook_format=alert_webhook_format,
            timezone=timezone,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            emergency_number=emergency_number,
            sms_name=sms_name,
        ),
        problems,
    )
    _check_window(fields, problems)
    if not problems and not any(fields[r] for r in ROUTES):
        problems.append(NO_ROUTE)
    if problems:
        raise BadInput("clinic not added", problems) if len(problems) > 1 else BadInput(problems[0])
    clinic = Clinic(**fields, created_at=now)
    session.add(clinic)
    session.flush()
    audit.record(session, now, "cli", "clinic.add", clinic_id=clinic.id)
    return clinic


def change(session: Session, clinic: Clinic, changes: dict[str, object]) -> None:
    """`clinic update`'s new values, validated by updates.py: this module writes the clinic table."""
    for name, value in changes.items():
        setattr(clinic, name, value)
    session.add(clinic)


def name_warning(clinic: Clinic) -> str | None:
    """For `clinic add` and `clinic update`: a warning when the name would make every SMS UCS-2."""
    return segments.name_warning(clinic.name, clinic.sms_name)


def get_clinic(session: Session, clinic_id: int) -> Clinic:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound(f"clinic: no clinic with id {clinic_id}")
    return clinic


def list_clinics(session: Session) -> list[Clinic]:
    return list(session.exec(select(Clinic).order_by(Clinic.id)))


def clinic_json(c: Clinic) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "alert_email": c.alert_email,
        "alert_phone": c.alert_phone,
        "alert_webhook": c.alert_webhook,
        "alert_webhook_format": c.alert_webhook_format,
        "timezone": c.timezone,
        "quiet_start": c.quiet_start,
        "quiet_end": c.quiet_end,
        "emergency_number": c.emergency_number,
        "sms_name": c.sms_name,
    }


def require_secret(settings: Settings, url: str | None) -> None:
    """`clinic add/update --alert-webhook` without FOLLOWUP_WEBHOOK_SECRET: refused. A clinic that
    names a webhook expects its alerts there; unsigned, they could never be sent (a receiver must
    reject them), and the emergency would wait in the outbox unseen until it expired."""
    problems: list[str] = []
    check_webhook(url, None, problems)  # a bad URL is said first, with the clinic's other problems
    if url and url.strip() and not problems and not settings.webhook_secret:
        raise BadInput(
            "alert-webhook: FOLLOWUP_WEBHOOK_SECRET is not set, so events to it could not be signed: "
            "set it (whsec_…, as the workers have it) and run this again"
        )

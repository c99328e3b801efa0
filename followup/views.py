"""The JSON shapes of CONTRACT.md, and the rows behind the listing commands."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from . import media
from .localtime import to_utc_z
from .models import Enrolment, Escalation, Message, Patient, Reading


def patient_json(p: Patient, enrolment: Enrolment | None) -> dict:
    data = {
        "id": p.id,
        "clinic_id": p.clinic_id,
        "name": p.name,
        "phone": p.phone,
        "email": p.email,
        "timezone": p.timezone,
        "language": p.language,
        "channel": p.channel,
        "status": p.status,
        "program": enrolment.program if enrolment else None,
    }
    if enrolment:
        data["enrolment"] = {
            "start": enrolment.start_date.isoformat(),
            "weeks": enrolment.weeks,
            "reminder_times": enrolment.reminder_times.split(","),
            "checkin_time": enrolment.checkin_time,
            "checkin_every_days": enrolment.checkin_every_days,
        }
    return data


def message_json(m: Message) -> dict:
    return {
        "id": m.id,
        "patient_id": m.patient_id,
        "direction": m.direction,
        "kind": m.kind,
        "channel": m.channel,
        "status": m.status,
        "due_at": to_utc_z(m.due_at),
        "sent_at": to_utc_z(m.sent_at),
        "body": m.body,
        "provider_id": m.provider_id,
        "error": m.error,
        "attempts": m.attempts,
        "media": media.from_column(m.media),  # an inbound MMS's attachments: [{"url", "type"}]
    }


def escalation_json(e: Escalation) -> dict:
    return {
        "id": e.id,
        "patient_id": e.patient_id,
        "rule": e.rule,
        "tier": e.tier,
        "reason": e.reason,
        "created_at": to_utc_z(e.created_at),
        "acknowledged_at": to_utc_z(e.acknowledged_at),
        "acknowledged_by": e.acknowledged_by,
        "note": e.note,
    }


def list_patients(session: Session, clinic_id: int | None = None, status: str | None = None):
    query = select(Patient, Enrolment).join(Enrolment, Enrolment.patient_id == Patient.id, isouter=True)
    if clinic_id is not None:
        query = query.where(Patient.clinic_id == clinic_id)
    if status:
        query = query.where(Patient.status == status)
    return session.exec(query.order_by(Patient.id)).all()


MESSAGE_KINDS = (
    "reminder",
    "checkin",
    "confirmation",
    "nudge",
    "reply",
    "escalation",
    "alert",
    "help",
    "optout",
    "optin",
    "staff",
)
MESSAGE_STATUSES = ("pending", "sending", "sent", "delivered", "failed", "skipped", "cancelled", "received")
MESSAGE_CHANNELS = ("sms", "email")


def known_values(session: Session, column, listed: tuple[str, ...]) -> list[str]:
    """The values a filter accepts: those the contract lists and any other the log holds."""
    found = {v for v in session.exec(select(column).distinct()) if v}
    return [*listed, *sorted(found - set(listed))]


def list_messages(
    session: Session,
    patient_id: int | None = None,
    direction: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
    channel: str | None = None,
) -> list[Message]:
    """In the order they happened: an outbound message at its due time, an inbound one (which has
    none) when it arrived. `limit` keeps the newest, still listed oldest first."""
    query = select(Message)
    if patient_id is not None:
        query = query.where(Message.patient_id == patient_id)
    if direction:
        query = query.where(Message.direction == direction)
    if status:
        query = query.where(Message.status == status)
    if kind:
        query = query.where(Message.kind == kind)
    if channel:
        query = query.where(Message.channel == channel)
    when = func.coalesce(Message.due_at, Message.sent_at, Message.created_at)
    if limit:
        newest = list(session.exec(query.order_by(when.desc(), Message.id.desc()).limit(limit)))
        return newest[::-1]
    return list(session.exec(query.order_by(when, Message.id)))


def list_escalations(
    session: Session, patient_id: int | None = None, open_only: bool = False
) -> list[Escalation]:
    query = select(Escalation).order_by(Escalation.id)
    if patient_id is not None:
        query = query.where(Escalation.patient_id == patient_id)
    if open_only:
        query = query.where(Escalation.acknowledged_at.is_(None))
    return list(session.exec(query))


def readings_json(session: Session, patient_id: int) -> list[dict]:
    rows = session.exec(
        select(Reading).where(Reading.patient_id == patient_id).order_by(Reading.at, Reading.id)
    )
    return [
        {
            "message_id": r.message_id,
            "answers_message_id": r.answers_message_id,
            "at": to_utc_z(r.at),
            "pain": r.pain,
            "numbness": r.numbness,
            "done": r.done,
            "flags": r.flags.split(),
            "understood": r.understood,
        }
        for r in rows
    ]


def timeline(patient: dict) -> list[tuple[str | None, str]]:
    """One patient's messages (with what each reply said) and escalations, in time order, as text."""
    said = {r["message_id"]: r for r in patient.get("readings", [])}
    lines: list[tuple[str | None, tuple, str]] = []  # (when, tie-breaker, text)
    for m in patient["messages"]:
        why = f" ({m['error']})" if m["error"] else ""
        line = (
            f"{'→' if m['direction'] == 'out' else '←'} {m['kind']:<12} {m['channel']:<5} {m['status']}{why}"
        )
        if m["direction"] == "in":
            r = said.get(m["id"])
            reading = (
                "not understood"
                if r and not r["understood"]
                else ", ".join(
                    part
                    for part in (
                        f"pain {r['pain']}" if r and r["pain"] is not None else "",
                        f"numbness {'yes' if r['numbness'] else 'no'}"
                        if r and r["numbness"] is not None
                        else "",
                        f"done {r['done']}" if r and r["done"] else "",
                        " ".join(r["flags"]) if r else "",
                    )
                    if part
                )
            )
            line += f'  "{m["body"][:60]}"' + (f" -> {reading}" if reading else "")
            for item in m.get("media") or []:  # the clinician opens the photo from here
                line += f"\n      + {media.described('', [media.Media(item['url'], item['type'])])}"
        lines.append((m["sent_at"] or m["due_at"], (0, m["id"]), line))  # same minute: in order of arrival
    for e in patient.get("escalations", []):
        lines.append(
            (
                e["created_at"],
                (1, e["id"]),
                f"! escalation {e['id']} {e['rule']} ({e['tier']}): {e['reason']}",
            )
        )
        if e["acknowledged_at"]:
            lines.append(
                (
                    e["acknowledged_at"],
                    (1, e["id"]),
                    f"✓ escalation {e['id']} acknowledged by {e['acknowledged_by']}",
                )
            )
    return [(when, text) for when, _, text in sorted(lines, key=lambda item: (item[0] or "9999", item[1]))]

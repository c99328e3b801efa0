"""Adherence and symptom trends, per patient and per clinic (`followup report`).

Adherence: DONE replies per reminder sent. Response rate: check-ins answered (an understood reply
linked to it) per check-in sent. Pain and numbness: the latest reading of each local day.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from contextlib import redirect_stdout
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from .localtime import to_utc_z, zone
from .messages import html_environment
from .models import Escalation, Message, Patient, Reading
from .rules import TIER_ORDER


def count_patients(session: Session, clinic_id: int | None = None) -> int:
    query = select(func.count()).select_from(Patient)
    if clinic_id is not None:
        query = query.where(Patient.clinic_id == clinic_id)
    return session.execute(query).scalar_one()


STAGES = 4  # build() calls step(1) after each: patients, messages, replies, escalations


def build(
    session: Session,
    now: datetime,
    clinic_id: int | None = None,
    patient_id: int | None = None,
    step=lambda _n: None,
) -> dict:
    query = select(Patient).order_by(Patient.id)
    if clinic_id is not None:
        query = query.where(Patient.clinic_id == clinic_id)
    if patient_id is not None:
        query = query.where(Patient.id == patient_id)
    patients = list(session.execute(query).scalars())
    ids = [p.id for p in patients]
    step(1)
    # Counted per slot, not per row: a `both` patient's reminder goes out as an SMS and an email, and
    # is still one reminder to do the exercises once.
    sent: dict[tuple[int, str], int] = defaultdict(int)
    slots = (
        select(Message.patient_id, Message.kind)
        .where(
            Message.patient_id.in_(ids),
            Message.direction == "out",
            Message.kind.in_(("reminder", "checkin")),
            Message.status.in_(("sent", "delivered")),
        )
        .group_by(
            Message.patient_id, Message.kind, func.coalesce(Message.local_date, Message.sent_at), Message.slot
        )
        .subquery()
    )
    for pid, kind, n in session.execute(
        select(slots.c.patient_id, slots.c.kind, func.count()).group_by(slots.c.patient_id, slots.c.kind)
    ):
        sent[(pid, kind)] = n
    step(1)
    answered = aliased(Message)
    readings = session.execute(
        select(
            Reading.patient_id,
            Reading.local_date,
            Reading.pain,
            Reading.numbness,
            Reading.done,
            Reading.understood,
            Reading.answers_message_id,
            answered.kind,
            answered.local_date.label("slot_date"),
            answered.slot,
        )
        .outerjoin(answered, answered.id == Reading.answers_message_id)
        .where(Reading.patient_id.in_(ids))
        .order_by(Reading.at, Reading.id)
    ).all()
    per_patient: dict[int, dict] = {pid: {"done": 0, "answered": set(), "days": {}} for pid in ids}
    for r in readings:
        entry = per_patient[r.patient_id]
        if r.done:
            entry["done"] += 1
        if r.understood and r.kind == "checkin":
            # the check-in's slot: a reply to the SMS and one to the email answer the same check-in
            entry["answered"].add((r.slot_date, r.slot) if r.slot_date is not None else r.answers_message_id)
        if r.pain is not None or r.numbness is not None:
            day = entry["days"].setdefault(r.local_date.isoformat(), {"pain": None, "numbness": None})
            day["pain"] = r.pain if r.pain is not None else day["pain"]
            day["numbness"] = r.numbness if r.numbness is not None else day["numbness"]
    data_days = _data_days(session, patients, now)
    step(1)
    escalations = list(session.execute(select(Escalation).where(Escalation.patient_id.in_(ids))).scalars())
    step(1)
    by_patient_tier: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in escalations:
        by_patient_tier[e.patient_id][e.tier] += 1

    rows = []
    for p in patients:
        entry = per_patient[p.id]
        reminders, checkins = sent[(p.id, "reminder")], sent[(p.id, "checkin")]
        days = sorted(entry["days"].items())
        pains = [d["pain"] for _, d in days if d["pain"] is not None]
        rows.append(
            {
                "patient_id": p.id,
                "name": p.name,
                "status": p.status,
                "reminders_sent": reminders,
                "done_replies": entry["done"],
                "adherence": round(min(1.0, entry["done"] / reminders), 2) if reminders else None,
                "checkins_sent": checkins,
                "checkins_answered": len(entry["answered"]),
                "response_rate": round(len(entry["answered"]) / checkins, 2) if checkins else None,
                "first_pain": pains[0] if pains else None,
                "last_pain": pains[-1] if pains else None,
                "numb_days": sum(1 for _, d in days if d["numbness"]),
                "data_days_30": data_days.get(p.id, 0),
                "escalations": dict(by_patient_tier[p.id]),
                "pain_trend": [
                    {"date": day, "pain": d["pain"], "numbness": d["numbness"]} for day, d in days
                ],
            }
        )
    ack_minutes = [
        (e.acknowledged_at - e.created_at).total_seconds() / 60 for e in escalations if e.acknowledged_at
    ]
    tiers = defaultdict(int)
    for e in escalations:
        tiers[e.tier] += 1
    total_reminders = sum(r["reminders_sent"] for r in rows)
    total_checkins = sum(r["checkins_sent"] for r in rows)
    return {
        "generated_at": to_utc_z(now),
        "clinic_id": clinic_id,
        "patient_id": patient_id,
        "clinic": {
            "patients": len(rows),
            "adherence": round(min(1.0, sum(r["done_replies"] for r in rows) / total_reminders), 2)
            if total_reminders
            else None,
            "response_rate": round(sum(r["checkins_answered"] for r in rows) / total_checkins, 2)
            if total_checkins
            else None,
            "escalations_by_tier": {t: tiers[t] for t in TIER_ORDER if tiers.get(t)},
            "open_escalations": sum(1 for e in escalations if e.acknowledged_at is None),
            "median_minutes_to_acknowledge": round(statistics.median(ack_minutes), 1)
            if ack_minutes
            else None,
        },
        "patients": rows,
    }


CSV_COLUMNS = [
    "patient_id",
    "name",
    "status",
    "reminders_sent",
    "done_replies",
    "adherence",
    "checkins_sent",
    "checkins_answered",
    "response_rate",
    "first_pain",
    "last_pain",
    "numb_days",
    "data_days_30",
]


DATA_WINDOW = timedelta(days=30)


def _data_days(session: Session, patients: list[Patient], now: datetime) -> dict[int, int]:
    """Remote-monitoring data days: distinct days, in the patient's own zone, with at least one
    reply from them in the 30 days up to now (a day that began more than 30 days ago counts when a
    reply in the window fell on it)."""
    zones = {p.id: zone(p.timezone) for p in patients}
    days: dict[int, set] = defaultdict(set)
    for pid, at in session.execute(
        select(Message.patient_id, Message.sent_at).where(
            Message.patient_id.in_(list(zones)),
            Message.direction == "in",
            Message.sent_at > now - DATA_WINDOW,
            Message.sent_at <= now,
        )
    ):
        days[pid].add(at.astimezone(zones[pid]).date())
    return {pid: len(found) for pid, found in days.items()}


def as_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS + ["escalations"], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in report["patients"]:
        writer.writerow(
            {**row, "escalations": " ".join(f"{t}:{n}" for t, n in sorted(row["escalations"].items()))}
        )
    return out.getvalue()


def duration(minutes: float | None) -> str:
    """Minutes in the unit a person reads: 45 min, 3.5 h, 2.1 days."""
    if minutes is None:
        return "n/a"
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def as_table(report: dict, table) -> str:
    """The clinic's summary line, then one row per patient (`table` prints rows, as the CLI does)."""
    c = report["clinic"]
    n = c["patients"]
    tiers = ", ".join(f"{k} {v}" for k, v in c["escalations_by_tier"].items()) or "none"
    head = (
        f"{n} patient{'' if n == 1 else 's'}; reminder adherence {_share(c['adherence'])}; check-in response "
        f"{_share(c['response_rate'])}; escalations: {tiers} ({c['open_escalations']} open); median time to "
        f"acknowledge {duration(c['median_minutes_to_acknowledge'])}\n"
    )
    rows = [
        {**row, "escalations": ", ".join(f"{k} {v}" for k, v in sorted(row["escalations"].items()))}
        for row in report["patients"]
    ]
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        table(rows, CSV_COLUMNS + ["escalations"])
    return head + buffer.getvalue()


def as_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"


def as_html(report: dict) -> str:
    """One self-contained file: inline CSS and SVG, no scripts, nothing fetched from the network."""
    return (
        html_environment()
        .get_template("report.html")
        .render(report=report, tiers=TIER_ORDER, duration=duration)
    )

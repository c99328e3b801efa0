"""Opt-out and opt-in: the patient's word (STOP/START) or the carrier's (Twilio 21610) changes status at once,
and every change is kept in the consent history."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from . import audit, events, outbox
from .enrolment import CONSENT_WORDING, get_patient
from .messages import render
from .models import Clinic, Consent


def opt_out(
    session: Session, patient_id: int, now: datetime, *, method: str, evidence: str, confirm: bool = True
) -> bool:
    """Opt the patient out now: cancel what is pending, and (when the patient asked) confirm once.

    Returns False when the patient was already opted out (nothing is sent twice).
    """
    patient = get_patient(session, patient_id)
    if patient.status == "opted_out":
        return False
    previous = patient.status
    patient.status, patient.status_reason, patient.updated_at = "opted_out", evidence, now
    session.add(patient)
    session.add(
        Consent(
            patient_id=patient.id,
            action="opted_out",
            method=method,
            wording_version=CONSENT_WORDING,
            evidence=evidence,
            at=now,
        )
    )
    audit.record(
        session,
        now,
        method,
        "patient.opted_out",
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        previous=previous,
    )
    events.patient_opted(session, patient, "opted_out", now)
    outbox.cancel_pending(session, patient.id, now, "patient opted out")
    if confirm:
        clinic = session.get(Clinic, patient.clinic_id)
        text = render(
            "optout",
            "sms",
            patient.language,
            clinic={"name": clinic.name, "sms_name": clinic.sms_name, "phone": clinic.phone},
        )
        outbox.queue(
            session,
            patient_id=patient.id,
            clinic_id=clinic.id,
            kind="optout",
            channel="sms",
            body=text.body,
            now=now,
            quiet_exempt=True,
        )
    session.flush()
    return True


def opt_in(session: Session, patient_id: int, now: datetime, *, method: str, evidence: str) -> bool:
    """The patient texted START/UNSTOP/YES: active again, messages planned from now."""
    patient = get_patient(session, patient_id)
    if patient.status != "opted_out":
        return False
    patient.status, patient.status_reason, patient.updated_at = "active", None, now
    session.add(patient)
    session.add(
        Consent(
            patient_id=patient.id,
            action="opted_in",
            method=method,
            wording_version=CONSENT_WORDING,
            evidence=evidence,
            at=now,
        )
    )
    audit.record(session, now, method, "patient.opted_in", patient_id=patient.id, clinic_id=patient.clinic_id)
    events.patient_opted(session, patient, "opted_in", now)
    session.flush()
    outbox.replan(session, patient.id, now)
    return True

"""Consent: the history of grants, opt-outs and opt-ins, and the moves the patient's word (STOP,
START) or the carrier's (Twilio's 21610, a number that cannot take SMS) makes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from .. import audit, events, outbox, planner
from ..messages import render
from ..models import Clinic, Consent, Patient
from .rows import get_patient
from .states import By, Status, _move

CONSENT_WORDING = "enrol-v1"  # the consent wording the clinic read out; bump when it changes


def _consent(
    session: Session, patient_id: int, action: str, method: str, evidence: str, now: datetime
) -> None:
    """One entry of the consent history: granted, opted_out or opted_in, how, and under which wording."""
    session.add(
        Consent(
            patient_id=patient_id,
            action=action,
            method=method,
            wording_version=CONSENT_WORDING,
            evidence=evidence,
            at=now,
        )
    )


def opt_out(
    session: Session, patient_id: int, now: datetime, *, method: str, evidence: str, confirm: bool = True
) -> bool:
    """Opt the patient out now: cancel what is pending, and (when the patient asked) confirm once.

    `method`: "sms" (the patient's STOP) or "carrier" (Twilio's 21610). Returns False when the
    patient was already opted out (nothing is sent twice).
    """
    patient = get_patient(session, patient_id)
    if patient.status == Status.OPTED_OUT:
        return False
    previous = _move(
        patient, Status.OPTED_OUT, By.CARRIER if method == "carrier" else By.PATIENT, now, evidence
    )
    session.add(patient)
    _consent(session, patient_id, "opted_out", method, evidence, now)
    audit.record(
        session,
        now,
        method,
        "patient.opted_out",
        patient_id=patient_id,
        clinic_id=patient.clinic_id,
        previous=previous,
    )
    events.patient_opted(session, patient, "opted_out", now)
    outbox.cancel_pending(session, patient_id, now, "patient opted out")
    if confirm:
        clinic = session.get_one(Clinic, patient.clinic_id)
        text = render(
            "optout",
            "sms",
            patient.language,
            clinic={"name": clinic.name, "sms_name": clinic.sms_name, "phone": clinic.phone},
        )
        outbox.queue(
            session,
            patient_id=patient_id,
            clinic_id=patient.clinic_id,
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
    if patient.status != Status.OPTED_OUT:
        return False
    _move(patient, Status.ACTIVE, By.PATIENT, now, None)
    session.add(patient)
    _consent(session, patient_id, "opted_in", method, evidence, now)
    audit.record(session, now, method, "patient.opted_in", patient_id=patient_id, clinic_id=patient.clinic_id)
    events.patient_opted(session, patient, "opted_in", now)
    session.flush()
    planner.replan(session, patient_id, now)
    return True


def carrier_refused(
    session: Session, patient_id: int, consequence: str, now: datetime, evidence: str, actor: str = "dispatch"
) -> None:
    """What a provider's refusal means for the patient (channels.base.DeliveryError.consequence):
    "opted_out" (they replied STOP to the carrier) or "unusable" (the number cannot take SMS)."""
    if consequence == "opted_out":
        opt_out(session, patient_id, now, method="carrier", evidence=evidence, confirm=False)
    elif consequence == "unusable":
        session.execute(
            update(Patient).where(col(Patient.id) == patient_id).values(phone_unusable=True, updated_at=now)
        )
        audit.record(session, now, actor, "patient.phone_unusable", patient_id=patient_id, error=evidence)

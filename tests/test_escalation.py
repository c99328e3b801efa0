"""escalation.record: the one door of the escalation table, read back as it was written."""

from factories import add_clinic, enrol, utc
from sqlalchemy import select

from followup import escalation
from followup.db import engine_for, session_scope
from followup.models import Clinic, ClinicRow, Escalation, Message, Patient, PatientRow
from followup.rules import Decision


def test_a_recorded_escalation_is_stored_as_returned_and_its_alerts_and_event_name_it(db_url):
    now = utc(2026, 12, 1, 18, 0)
    clinic_id = add_clinic(db_url, now, alert_webhook="https://hooks.elm.test/followup")
    (patient_id,) = enrol(db_url, clinic_id, now)
    with session_scope(engine_for(db_url)) as session:
        patient = PatientRow.of(session.get(Patient, patient_id))
        clinic = ClinicRow.of(session.get(Clinic, clinic_id))
        first = escalation.record(session, patient, clinic, Decision("E1", "emergency", "chest pain"), now)
        second = escalation.record(
            session, patient, clinic, Decision("U3", "urgent", "pain 8"), now, source_message_id=7
        )
    assert second.id == first.id + 1
    with session_scope(engine_for(db_url)) as session:
        stored = session.execute(select(Escalation).order_by(Escalation.id)).scalars().all()
        assert [
            (e.id, e.patient_id, e.rule, e.tier, e.reason, e.source_message_id, e.created_at) for e in stored
        ] == [tuple(first), tuple(second)]
        assert all(e.acknowledged_at is None and e.realerted_at is None for e in stored)
        keys = set(
            session.execute(select(Message.dedupe_key).where(Message.kind.in_(("alert", "event")))).scalars()
        )
    assert {f"alert:{first.id}:email", f"alert:{first.id}:sms", f"event:escalation.opened:{first.id}"} <= keys
    assert {f"alert:{second.id}:email", f"alert:{second.id}:sms"} <= keys

"""A patient's record as a FHIR R4 Bundle (type `collection`): `followup patient export ID --format fhir`.

Built from the same read functions as the JSON export (records.export, views), so both say the same
thing. The mapping, and why each choice, is the README's table ("FHIR export"). In short:

- Patient, Organization (the clinic);
- CarePlan: the programme, shaped as the HL7 Physical Activity IG's PACarePlan (intent `plan`, the
  PhysicalActivity and assess-plan categories, a period, a narrative); one activity per exercise with
  its dosage and reminder times (patient-local wall-clock times, as Timing.timeOfDay is), and one for
  the check-in;
- Communication: one per message sent to or received from the patient (never planned, cancelled or
  skipped ones). Alerts and webhook events to the clinic are left out: they were not exchanged with
  the patient, and what they reported is the escalation's Task;
- Observation: pain (LOINC 72514-3, an integer), numbness (SNOMED CT 44077006, yes/no), exercise
  sessions reported done; each is tied to the reply it came from by a Provenance (R4's
  Observation.derivedFrom may not point at a Communication);
- Task: an escalation is work the clinic must do and acknowledge; Task has status, owner, priority and
  the time it was done, where Flag only warns;
- Consent: one per grant, opt-out and opt-in, the latest `active`, the earlier `inactive`.

Ids are deterministic (uuid5 of the deployment's public URL and followup's own id): exporting twice
gives the same fullUrls, and two deployments do not collide.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from sqlmodel import Session

from . import media
from .clinics import get_clinic
from .dispatch import CLINIC_KINDS
from .localtime import to_utc_z
from .models import Clinic, Enrolment, Escalation
from .patients import FORGOTTEN, enrolment_of, get_patient
from .programs import get_program
from .records import export
from .views import list_escalations

JSON = dict[str, Any]  # a FHIR resource or element as plain JSON
LOINC, SNOMED = "http://loinc.org", "http://snomed.info/sct"
PAIN = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
NUMBNESS = {"system": SNOMED, "code": "44077006", "display": "Numbness"}
YES = {"system": SNOMED, "code": "373066001", "display": "Yes"}
NO = {"system": SNOMED, "code": "373067005", "display": "No"}
EXERCISE_THERAPY = {"system": SNOMED, "code": "229065009", "display": "Exercise therapy"}
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PA_CATEGORY = {
    "system": "http://hl7.org/fhir/us/physical-activity/CodeSystem/pa-temporary-codes",
    "code": "PhysicalActivity",
    "display": "Physical Activity",
}
ASSESS_PLAN = {
    "system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
    "code": "assess-plan",
    "display": "Assessment and Plan of Treatment",
}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

# followup's patient status -> CarePlan.status and CarePlan.activity.detail.status.
CAREPLAN_STATUS = {
    "active": ("active", "in-progress"),
    "paused": ("on-hold", "on-hold"),
    "opted_out": ("on-hold", "on-hold"),  # START resumes it: not revoked
    "completed": ("completed", "completed"),
    "unenrolled": ("revoked", "stopped"),
}
# Messages that were handed over or arrived. Planned, cancelled and skipped ones never happened.
COMMUNICATED = {"sent", "delivered", "failed", "received"}
# escalation tier -> Task.priority (RequestPriority)
PRIORITY = {"emergency": "stat", "urgent": "asap", "soon": "urgent", "routine": "routine"}


def bundle(session: Session, patient_id: int, base_url: str, now: datetime) -> JSON:
    """The patient's record as a FHIR R4 Bundle of type `collection`, as a JSON-ready dict."""
    record = export(session, patient_id)
    patient_row = get_patient(session, patient_id)
    clinic = get_clinic(session, patient_row.clinic_id)
    enrolment = enrolment_of(session, patient_id)
    escalations = list_escalations(session, patient_id)
    ids = _Ids(base_url)
    p = record["patient"]
    patient_ref = ids.ref("Patient", p["id"])
    clinic_ref = ids.ref("Organization", clinic.id)
    careplan_ref = ids.ref("CarePlan", enrolment.id)
    entries = [
        _patient(ids, p, patient_row.name != FORGOTTEN, clinic_ref),
        _organization(ids, clinic),
        _careplan(ids, p, enrolment, patient_ref, clinic_ref),
    ]
    communicated = {
        m["id"]
        for m in record["messages"]
        if m["status"] in COMMUNICATED and m["kind"] not in CLINIC_KINDS  # with the patient only
    }
    for m in record["messages"]:
        if m["id"] in communicated:
            entries.append(_communication(ids, m, patient_ref, clinic_ref))
    for reading in record["readings"]:
        if reading["message_id"] not in communicated:
            continue
        observations = _observations(ids, reading, patient_ref, careplan_ref)
        entries += observations
        if observations:
            entries.append(_provenance(ids, reading, observations, clinic_ref))
    for e in escalations:
        source = e.source_message_id if e.source_message_id in communicated else None
        entries.append(_task(ids, e, source, patient_ref, clinic_ref))
    consents = record["consent"]
    for index, c in enumerate(consents):
        entries.append(_consent(ids, c, index, index == len(consents) - 1, patient_ref, clinic_ref))
    return {
        "resourceType": "Bundle",
        "id": ids.uuid("Bundle", f"{p['id']}:{to_utc_z(now)}"),
        "meta": {"lastUpdated": to_utc_z(now)},
        "identifier": {"system": f"{base_url}/fhir/export", "value": f"patient-{p['id']}-{to_utc_z(now)}"},
        "type": "collection",
        "timestamp": to_utc_z(now),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in entries],
    }


class _Ids:
    """Deterministic resource ids and references within one deployment."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, base_url)

    def uuid(self, kind: str, key: object) -> str:
        return str(uuid.uuid5(self.namespace, f"{kind}/{key}"))

    def ref(self, kind: str, key: object) -> JSON:
        return {"reference": f"urn:uuid:{self.uuid(kind, key)}", "type": kind}

    def identifier(self, what: str, value: object) -> list[JSON]:
        return [{"system": f"{self.base_url}/fhir/{what}", "value": str(value)}]


def _narrative(text: str) -> JSON:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(text)}</div>'}


def _patient(ids: _Ids, p: JSON, identified: bool, clinic_ref: JSON) -> JSON:
    resource = {
        "resourceType": "Patient",
        "id": ids.uuid("Patient", p["id"]),
        "identifier": ids.identifier("patient", p["id"]),
        "active": p["status"] in ("active", "paused"),
        "managingOrganization": clinic_ref,
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": p["language"]}]},
                "preferred": True,
            }
        ],
    }
    if identified:  # a forgotten patient keeps an id and nothing else
        resource["name"] = [{"text": p["name"]}]
        telecom = [{"system": "sms", "value": p["phone"], "use": "mobile", "rank": 1}]
        if p["email"]:
            telecom.append({"system": "email", "value": p["email"]})
        resource["telecom"] = telecom
    return resource


def _organization(ids: _Ids, clinic: Clinic) -> JSON:
    telecom = [{"system": "phone", "value": clinic.phone, "use": "work"}]
    if clinic.email:
        telecom.append({"system": "email", "value": clinic.email, "use": "work"})
    return {
        "resourceType": "Organization",
        "id": ids.uuid("Organization", clinic.id),
        "identifier": ids.identifier("clinic", clinic.id),
        "active": True,
        "name": clinic.name,
        "telecom": telecom,
    }


def _time_of_day(hhmm: str) -> str:
    return f"{hhmm}:00"


def _careplan(ids: _Ids, p: JSON, enrolment: Enrolment, patient_ref: JSON, clinic_ref: JSON) -> JSON:
    program = get_program(enrolment.program)
    plan_status, activity_status = CAREPLAN_STATUS[p["status"]]
    start: date = enrolment.start_date
    last_day = start + timedelta(days=enrolment.weeks * 7 - 1)
    period = {"start": start.isoformat(), "end": last_day.isoformat()}
    reminder_times = [_time_of_day(t) for t in enrolment.reminder_times.split(",")]
    activities = []
    for exercise in program.exercises:
        sessions_a_day = exercise.per_day * exercise.sets
        detail = {
            "kind": "ServiceRequest",
            "code": {"coding": [EXERCISE_THERAPY], "text": exercise.name},
            "status": activity_status,
            "scheduledTiming": {
                "repeat": {
                    "boundsPeriod": period,
                    # "up to 10 times a day": at most that many, at least once
                    "frequency": 1 if exercise.up_to else sessions_a_day,
                    **({"frequencyMax": sessions_a_day} if exercise.up_to else {}),
                    "period": 1,
                    "periodUnit": "d",
                    "timeOfDay": reminder_times,
                }
            },
            "description": f"{exercise.name}: {exercise.dosage()}",
        }
        if exercise.reps > 1:
            detail["quantity"] = {
                "value": exercise.reps,
                "unit": "repetitions",
                "system": "http://unitsofmeasure.org",
                "code": "{repetitions}",
            }
        activities.append({"detail": detail})
    activities.append(
        {
            "detail": {
                "kind": "CommunicationRequest",
                "code": {"text": "Symptom check-in by text message (pain 0-10, numbness yes/no)"},
                "status": activity_status,
                "scheduledTiming": {
                    "repeat": {
                        "boundsPeriod": period,
                        "frequency": 1,
                        "period": enrolment.checkin_every_days,
                        "periodUnit": "d",
                        "timeOfDay": [_time_of_day(enrolment.checkin_time)],
                    }
                },
                "description": "Check-in question; the answers are the Observations of this bundle",
            }
        }
    )
    summary = (
        f"{program.title}, {enrolment.weeks} weeks from {start.isoformat()}; reminders at "
        f"{', '.join(enrolment.reminder_times.split(','))} and a check-in at {enrolment.checkin_time} every "
        f"{enrolment.checkin_every_days} day(s), {p['timezone']} time. "
        + " ".join(f"{e.name}: {e.dosage()}." for e in program.exercises)
    )
    return {
        "resourceType": "CarePlan",
        "id": ids.uuid("CarePlan", enrolment.id),
        "identifier": ids.identifier("enrolment", enrolment.id),
        "text": _narrative(summary),
        "status": plan_status,
        "intent": "plan",
        "category": [{"coding": [PA_CATEGORY]}, {"coding": [ASSESS_PLAN]}],
        "title": program.title,
        "description": f"Home exercise programme '{program.key}'; times are {p['timezone']} wall-clock times",
        "subject": patient_ref,
        "period": period,
        "created": to_utc_z(enrolment.created_at),
        "author": clinic_ref,
        "activity": activities,
    }


def _communication(ids: _Ids, m: JSON, patient_ref: JSON, clinic_ref: JSON) -> JSON:
    outbound = m["direction"] == "out"
    if m["status"] == "failed":
        status = "not-done"
    elif m["status"] == "sent" and m["channel"] == "sms":
        status = "in-progress"  # handed to the carrier; no delivery receipt (yet)
    else:
        status = "completed"
    resource = {
        "resourceType": "Communication",
        "id": ids.uuid("Communication", m["id"]),
        "identifier": ids.identifier("message", m["id"]),
        "status": status,
        "category": [{"text": m["kind"]}],
        "medium": [{"text": "SMS" if m["channel"] == "sms" else "email"}],
        "subject": patient_ref,
        "sender": clinic_ref if outbound else patient_ref,
        "recipient": [patient_ref if outbound else clinic_ref],
        "payload": media.fhir_payload(m["body"], m.get("media")),
    }
    if m["status"] == "failed":
        resource["statusReason"] = {"text": m["error"] or "failed"}
    if m["sent_at"]:
        resource["sent"] = m["sent_at"]
        if not outbound:
            resource["received"] = m["sent_at"]
    return resource


def _observation(
    ids: _Ids,
    key: str,
    reading: JSON,
    patient_ref: JSON,
    careplan_ref: JSON,
    category: str,
    code: JSON,
    value: JSON,
) -> JSON:
    return {
        "resourceType": "Observation",
        "id": ids.uuid("Observation", f"{key}/{reading['message_id']}"),
        "status": "final",
        "basedOn": [careplan_ref],
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
        "code": code,
        "subject": patient_ref,
        "effectiveDateTime": reading["at"],
        "issued": reading["at"],
        "performer": [patient_ref],  # patient-reported
        **value,
    }


def _observations(ids: _Ids, reading: JSON, patient_ref: JSON, careplan_ref: JSON) -> list[JSON]:
    found = []
    if reading["pain"] is not None:
        found.append(
            _observation(
                ids,
                "pain",
                reading,
                patient_ref,
                careplan_ref,
                "survey",
                {"coding": [PAIN], "text": "Pain 0-10"},
                {"valueInteger": reading["pain"]},
            )
        )
    if reading["numbness"] is not None:
        answer = YES if reading["numbness"] else NO
        found.append(
            _observation(
                ids,
                "numbness",
                reading,
                patient_ref,
                careplan_ref,
                "survey",
                {"coding": [NUMBNESS], "text": "Numbness"},
                {"valueCodeableConcept": {"coding": [answer], "text": answer["display"].lower()}},
            )
        )
    if reading["done"]:
        found.append(
            _observation(
                ids,
                "done",
                reading,
                patient_ref,
                careplan_ref,
                "activity",
                {"text": "Home exercise sessions reported done"},
                {"valueInteger": reading["done"]},
            )
        )
    return found


def _provenance(ids: _Ids, reading: JSON, observations: list[JSON], clinic_ref: JSON) -> JSON:
    """What ties each Observation to the reply it was read from."""
    return {
        "resourceType": "Provenance",
        "id": ids.uuid("Provenance", reading["message_id"]),
        "target": [{"reference": f"urn:uuid:{o['id']}", "type": "Observation"} for o in observations],
        "recorded": reading["at"],
        "agent": [{"who": clinic_ref}],
        "entity": [
            {
                "role": "source",
                "what": {**ids.ref("Communication", reading["message_id"]), "display": "the patient's reply"},
            }
        ],
    }


def _task(
    ids: _Ids, e: Escalation, source_message_id: int | None, patient_ref: JSON, clinic_ref: JSON
) -> JSON:
    created = to_utc_z(e.created_at)
    acknowledged = to_utc_z(e.acknowledged_at)
    task = {
        "resourceType": "Task",
        "id": ids.uuid("Task", e.id),
        "identifier": ids.identifier("escalation", e.id),
        "status": "completed" if acknowledged else "requested",
        "businessStatus": {"text": "acknowledged" if acknowledged else "open"},
        "intent": "order",
        "priority": PRIORITY.get(e.tier, "routine"),
        "code": {"text": f"Clinic review of an escalation (tier {e.tier})"},
        "description": e.reason,
        "for": patient_ref,
        "authoredOn": created,
        "lastModified": acknowledged or created,
        "requester": clinic_ref,
        "owner": clinic_ref,
        "reasonCode": {
            "coding": [{"system": f"{ids.base_url}/fhir/escalation-rule", "code": e.rule}],
            "text": f"rule {e.rule}, tier {e.tier}",
        },
        "executionPeriod": {"start": created, **({"end": acknowledged} if acknowledged else {})},
    }
    if source_message_id is not None:
        task["focus"] = ids.ref("Communication", source_message_id)
    if acknowledged:
        note = {"authorString": e.acknowledged_by, "time": acknowledged, "text": e.note or "acknowledged"}
        task["note"] = [note]
    return task


def _consent(ids: _Ids, c: JSON, index: int, latest: bool, patient_ref: JSON, clinic_ref: JSON) -> JSON:
    permit = c["action"] != "opted_out"
    return {
        "resourceType": "Consent",
        "id": ids.uuid("Consent", f"{patient_ref['reference']}/{index}"),
        "text": _narrative(
            f"{c['action'].replace('_', ' ')} by {c['method']} under wording {c['wording_version']}"
            + (f" ({c['evidence']})" if c["evidence"] else "")
        ),
        "status": "active" if latest else "inactive",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ],
            "text": "text messages and email from the clinic",
        },
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Consent Document"}]}],
        "patient": patient_ref,
        "dateTime": c["at"],
        "organization": [clinic_ref],
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN" if permit else "OPTOUT"}]},
        "provision": {"type": "permit" if permit else "deny", "period": {"start": c["at"]}},
    }

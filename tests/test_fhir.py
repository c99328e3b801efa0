"""`followup patient export ID --format fhir`: a FHIR R4 Bundle that the R4B models of fhir.resources
accept, holding the programme, every message, the readings tied to their replies, escalations and the
consent history."""

import json
import os
import stat

from fhir.resources.R4B.bundle import Bundle

PHONE = "+16175550123"

# Required bindings the models do not check (they take any code): the spec's value sets.
STATUSES = {
    "CarePlan": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    "Communication": {
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    },
    "Observation": {"registered", "preliminary", "final", "amended", "corrected", "cancelled"},
    "Task": {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled"}
    | {"in-progress", "on-hold", "failed", "completed", "entered-in-error"},
    "Consent": {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"},
}


def _history(followup) -> int:
    """A patient with two reminder times, a check-in every 2 days, a reply with pain and numbness (an
    escalation, acknowledged), a STOP and a START."""
    patient = followup.enrol(
        followup.clinic(),
        **{"reminder-times": "09:00,13:00", "checkin-time": "19:00", "checkin-every-days": "2"},
    )
    followup("tick", now="2026-12-01T14:00:05Z")  # confirmation and the 09:00 reminder
    followup("tick", now="2026-12-02T00:00:05Z")  # the 19:00 check-in
    followup("reply", "--from", PHONE, "--body", "pain 7, numb yes", now="2026-12-02T00:20:00Z")
    followup("escalations", "ack", "1", "--by", "Dr Lee", "--note", "called her", now="2026-12-02T00:50:00Z")
    followup("reply", "--from", PHONE, "--body", "STOP", now="2026-12-02T01:00:00Z")
    followup("reply", "--from", PHONE, "--body", "START", now="2026-12-02T01:05:00Z")
    return patient


def _export(followup, patient: int, tmp_path) -> dict:
    out = tmp_path / "bundle.json"
    followup("patient", "export", patient, "--format", "fhir", "--out", out, now="2026-12-02T02:00:00Z")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    data = json.loads(out.read_text())
    Bundle.model_validate(data)  # raises on any field, type or cardinality the R4B models refuse
    return data


def _of(data: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def test_a_patients_fhir_export_is_a_valid_collection_bundle_whose_references_all_resolve(followup, tmp_path):
    data = _export(followup, _history(followup), tmp_path)
    assert data["resourceType"] == "Bundle" and data["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in data["entry"]}
    assert {"Patient", "Organization", "CarePlan", "Communication", "Observation", "Task", "Consent"} <= kinds
    full_urls = {e["fullUrl"] for e in data["entry"]}
    assert len(full_urls) == len(data["entry"])

    def references(node):
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                yield node["reference"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    dangling = [r for r in references(data["entry"]) if r not in full_urls]
    assert dangling == []
    for kind, allowed in STATUSES.items():
        assert {r["status"] for r in _of(data, kind)} <= allowed, kind
    patient = _of(data, "Patient")[0]
    assert patient["name"] == [{"text": "Ana Diaz"}]
    assert patient["telecom"][0]["value"] == PHONE
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "en"
    assert _of(data, "Organization")[0]["name"] == "Elm Street Physio"


def test_pain_and_numbness_are_coded_observations_each_tied_to_the_reply_they_came_from(followup, tmp_path):
    data = _export(followup, _history(followup), tmp_path)
    by_url = {e["fullUrl"]: e["resource"] for e in data["entry"]}
    observations = _of(data, "Observation")
    pain = [o for o in observations if o["code"].get("coding", [{}])[0].get("code") == "72514-3"]
    numb = [o for o in observations if o["code"].get("coding", [{}])[0].get("code") == "44077006"]
    assert [o["valueInteger"] for o in pain] == [7]
    assert [o["valueCodeableConcept"]["coding"][0]["display"] for o in numb] == ["Yes"]
    [provenance] = _of(data, "Provenance")
    targets = {t["reference"] for t in provenance["target"]}
    assert {f"urn:uuid:{pain[0]['id']}", f"urn:uuid:{numb[0]['id']}"} <= targets
    reply = by_url[provenance["entity"][0]["what"]["reference"]]
    assert reply["resourceType"] == "Communication"
    assert reply["payload"][0]["contentString"] == "pain 7, numb yes"
    assert reply["sender"]["type"] == "Patient" and reply["status"] == "completed"


def test_the_careplan_names_each_exercise_with_its_dosage_and_the_patients_times(followup, tmp_path):
    data = _export(followup, _history(followup), tmp_path)
    [plan] = _of(data, "CarePlan")
    assert plan["intent"] == "plan" and plan["status"] == "active"
    assert plan["period"] == {"start": "2026-12-01", "end": "2027-01-11"}  # six weeks
    codes = {c["coding"][0]["code"] for c in plan["category"]}
    assert codes == {"PhysicalActivity", "assess-plan"}  # the Physical Activity IG's PACarePlan
    exercises = [a["detail"] for a in plan["activity"] if a["detail"]["kind"] == "ServiceRequest"]
    assert [d["code"]["text"] for d in exercises] == ["Prone head lift", "Scapular retraction"]
    assert "hold 5 s, rest 5 s, up to 10 times a day" in exercises[0]["description"]
    assert exercises[0]["scheduledTiming"]["repeat"]["frequencyMax"] == 10
    assert (
        exercises[1]["quantity"]["value"] == 5 and exercises[1]["scheduledTiming"]["repeat"]["frequency"] == 2
    )
    assert exercises[0]["scheduledTiming"]["repeat"]["timeOfDay"] == ["09:00:00", "13:00:00"]
    [checkin] = [a["detail"] for a in plan["activity"] if a["detail"]["kind"] == "CommunicationRequest"]
    assert checkin["scheduledTiming"]["repeat"]["timeOfDay"] == ["19:00:00"]
    assert checkin["scheduledTiming"]["repeat"]["period"] == 2


def test_escalations_are_tasks_and_the_consent_history_is_one_consent_per_change(followup, tmp_path):
    data = _export(followup, _history(followup), tmp_path)
    [task] = _of(data, "Task")
    assert task["status"] == "completed" and task["priority"] == "asap"  # urgent, acknowledged
    assert (
        task["note"][0]["authorString"] == "Dr Lee"
        and task["executionPeriod"]["end"] == "2026-12-02T00:50:00Z"
    )
    by_url = {e["fullUrl"]: e["resource"] for e in data["entry"]}
    assert by_url[task["focus"]["reference"]]["payload"][0]["contentString"] == "pain 7, numb yes"
    consents = _of(data, "Consent")
    assert [(c["provision"]["type"], c["status"]) for c in consents] == [
        ("permit", "inactive"),
        ("deny", "inactive"),
        ("permit", "active"),
    ]
    assert [c["policyRule"]["coding"][0]["code"] for c in consents] == ["OPTIN", "OPTOUT", "OPTIN"]
    sent = [c for c in _of(data, "Communication") if c["sender"]["type"] == "Organization"]
    assert sent and all(c["recipient"][0]["type"] == "Patient" for c in sent)


def test_fhir_export_of_an_unknown_patient_or_format_is_exit_2_and_writes_nothing(followup_sqlite, tmp_path):
    out = tmp_path / "none.json"
    result = followup_sqlite("patient", "export", "99", "--format", "fhir", "--out", out, expect=2)
    assert "99" in result.stderr and not out.exists()
    followup_sqlite("patient", "export", "1", "--format", "xml", expect=2)


def test_alerts_and_events_to_the_clinic_are_not_exported_as_communications_to_the_patient(
    followup_sqlite, tmp_path
):
    from test_events import SECRET, Receiver

    followup, receiver = followup_sqlite, Receiver()
    try:
        followup.env = {**followup.env, "FOLLOWUP_WEBHOOK_SECRET": SECRET}
        clinic = followup.clinic(**{"alert-webhook": receiver.url})
        patient = followup.enrol(clinic)
        followup("tick", now="2026-12-01T14:00:05Z")
        followup("reply", "--from", PHONE, "--body", "I can't control my bowels", now="2026-12-01T15:00:00Z")
        followup("tick", now="2026-12-01T15:00:05Z")  # the alerts (email, SMS) and escalation.opened
        assert receiver.posts
    finally:
        receiver.server.shutdown()
    messages = followup.json("messages", "--patient", patient)
    sent = {m["kind"] for m in messages if m["status"] in ("sent", "delivered", "failed", "received")}
    assert {"alert", "event"} <= sent
    communications = _of(_export(followup, patient, tmp_path), "Communication")
    assert {c["category"][0]["text"] for c in communications} == sent - {"alert", "event"}
    for c in communications:
        assert "Patient" in (c["sender"]["type"], c["recipient"][0]["type"])
        assert "URGENT" not in c["payload"][0]["contentString"]

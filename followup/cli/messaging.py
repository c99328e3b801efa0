"""Messages, replies, escalations and reports."""

from __future__ import annotations

import click
from sqlalchemy import select

from .. import clinics, clock, escalation, inbound, reports, views
from ..models import Clinic, Patient
from ..patients import get_patient
from ..phones import parse_phone, region_of
from . import (
    App,
    check_writable,
    cli,
    emit,
    json_option,
    note,
    out_option,
    pass_app,
    progress,
    table,
    write_private,
)

LARGE_REPORT = 500  # patients: below this a report is quick enough that a progress bar would only flicker


# --- replies and escalations ---------------------------------------------------------------------


@cli.command()
@click.option("--from", "sender", required=True, help="The patient's phone number.")
@click.option("--body", required=True, help="The text of the SMS.")
@click.option("--sid", help="Twilio MessageSid (a repeated sid is processed once).")
@json_option
@pass_app
def reply(app: App, sender: str, body: str, sid: str | None, as_json: bool) -> None:
    """Process one inbound SMS as the webhook does.

    Prints the reply sent back."""
    with app.session() as session:
        result = inbound.handle(
            session,
            sender=_international(session, sender),
            body=body,
            sid=sid,
            now=clock.now(),
            twilio_answers=app.settings.keyword_answers == "twilio",
        )
    emit(result.as_json(), as_json, lambda d: click.echo(d["reply"] or "(no reply)"))


def _international(session, sender: str) -> str:
    """A number written without its country code takes the country of the clinic's phone, as in
    `enroll`; with clinics in several countries, the first under which a patient has that number."""
    if sender.strip().startswith("+"):
        return sender
    candidates = []
    for clinic_phone in session.execute(select(Clinic.phone).order_by(Clinic.id)).scalars():
        try:
            number = parse_phone(sender, region_of(clinic_phone))
        except ValueError:
            continue
        if number not in candidates:
            candidates.append(number)
    for number in candidates:
        if session.execute(select(Patient.id).where(Patient.phone == number).limit(1)).first():
            return number
    return candidates[0] if candidates else sender


@cli.group(invoke_without_command=True)
@click.option("--open", "open_only", is_flag=True, help="Only those not yet acknowledged.")
@click.option("--patient", "patient_id", type=int, help="Only this patient's escalations.")
@json_option
@click.pass_context
def escalations(ctx: click.Context, open_only: bool, patient_id: int | None, as_json: bool) -> None:
    """Escalations, open and acknowledged.

    `escalations ack ID --by NAME` acknowledges one."""
    if ctx.invoked_subcommand:
        return

    from .. import alerts

    with ctx.obj.session() as session:
        data = [views.escalation_json(e) for e in views.list_escalations(session, patient_id, open_only)]
        sent = alerts.summaries(session, [e["id"] for e in data])
    for e in data:  # where each alert went, and whether it got there (a failed one falls back)
        e["alerts"], e["alert"] = sent[e["id"]], alerts.in_words(sent[e["id"]])
    emit(
        data,
        as_json,
        lambda d: table(
            d, ["id", "patient_id", "rule", "tier", "reason", "created_at", "acknowledged_by", "alert"]
        ),
    )


@escalations.command("ack")
@click.argument("escalation_id", type=int)
@click.option("--by", required=True, help="Who acknowledges.")
@click.option("--note", help="What was done (kept with the escalation).")
@json_option
@pass_app
def escalations_ack(app: App, escalation_id: int, by: str, note: str | None, as_json: bool) -> None:
    """Acknowledge an escalation (stops its re-alert)."""
    with app.session() as session:
        data = views.escalation_json(escalation.acknowledge(session, escalation_id, by, note, clock.now()))
    emit(data, as_json, lambda d: click.echo(f"escalation {d['id']} acknowledged by {d['acknowledged_by']}"))


@cli.command()
@click.option("--clinic", "clinic_id", type=int, help="Only this clinic's patients.")
@click.option("--patient", "patient_id", type=int, help="Only this patient.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "html"]),
    default="table",
    show_default=True,
    help="table for a terminal; html is one self-contained file.",
)
@out_option
@pass_app
def report(app: App, clinic_id: int | None, patient_id: int | None, fmt: str, out: str | None) -> None:
    """Adherence and symptom trends per patient and for the clinic."""
    if out:
        check_writable(out)  # before the work, which may take a while
    with app.session() as session:
        if clinic_id is not None:
            clinics.get_clinic(session, clinic_id)
        if patient_id is not None:
            get_patient(session, patient_id)
        many = patient_id is None and reports.count_patients(session, clinic_id) >= LARGE_REPORT
        with progress(reports.STAGES + 1, "building the report", quiet=not many) as advance:
            data = reports.build(session, clock.now(), clinic_id, patient_id, step=advance)
            render = {
                "table": lambda d: reports.as_table(d, table),
                "csv": reports.as_csv,
                "json": reports.as_json,
                "html": reports.as_html,
            }[fmt]
            text = render(data)
            advance(1)
    if out:
        write_private(out, text)
        note(f"report written to {out}")
    else:
        click.echo(text, nl=False)

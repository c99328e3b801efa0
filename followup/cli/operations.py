"""Changing things after the fact, and writing to a patient: `patient update`, `clinic update`,
`message send`."""

from __future__ import annotations

import click

from .. import clinics, clock, patients, staff, updates, views
from . import App, cli, emit, json_option, pass_app, plural
from .people import clinic, patient


@patient.command("update")
@click.argument("patient_id", type=int)
@click.option("--name", help="The patient's name.")
@click.option("--phone", help="The patient's mobile; without a country code, the clinic's country.")
@click.option("--email", help='The patient\'s email ("" removes it; required for channel email or both).')
@click.option("--channel", help="sms, email or both.")
@click.option("--timezone", help="The patient's IANA zone.")
@click.option("--reminder-times", help="HH:MM[,HH:MM...] patient-local.")
@click.option("--checkin-time", help="HH:MM patient-local.")
@click.option("--checkin-every-days", type=int, help="Days between check-ins.")
@click.option("--weeks", type=int, help="Programme length in weeks, counted from its first day.")
@click.option("--language", help="en or es.")
@json_option
@pass_app
def patient_update(app: App, patient_id: int, as_json: bool, **fields) -> None:
    """Change an enrolment; pending messages are planned again.

    Sent messages are left as they were. Audited. Bad input changes nothing."""
    with app.session() as session:
        p = updates.update_patient(session, patient_id, clock.now(), **fields)
        data = views.patient_json(p, patients.enrolment_of(session, p.id))
    emit(data, as_json, lambda d: click.echo(f"patient {d['id']} updated"))


@clinic.command("update")
@click.argument("clinic_id", type=int)
@click.option("--name", help="The clinic's name.")
@click.option("--phone", help="The clinic's phone, international form.")
@click.option("--email", help='The clinic\'s contact email ("" removes it).')
@click.option("--alert-email", help='Where escalation alerts are emailed ("" removes it).')
@click.option("--alert-phone", help='Where escalation alerts are texted ("" removes it).')
@click.option("--alert-webhook", help='Where signed events are posted, an https URL ("" removes it).')
@click.option(
    "--alert-webhook-format",
    type=click.Choice(["standard", "slack"]),
    help="standard: {type, timestamp, data}; slack: {text} for Slack/Teams incoming webhooks.",
)
@click.option("--timezone", help="IANA zone, e.g. America/New_York.")
@click.option("--quiet-start", help="Sending window opens (patient-local), HH:MM.")
@click.option("--quiet-end", help="Sending window closes (patient-local), HH:MM.")
@click.option("--emergency-number", help="Named in emergency answers.")
@click.option("--sms-name", help="The name texts start with, in GSM-7 only (see clinic add --help).")
@json_option
@pass_app
def clinic_update(app: App, clinic_id: int, as_json: bool, **fields) -> None:
    """Change a clinic; pending messages are planned again.

    Quiet hours, zone, name and emergency number change what is pending. At least one alert route
    must remain. Audited. Bad input changes nothing."""
    clinics.require_secret(app.settings, fields.get("alert_webhook"))  # as at clinic add
    with app.session() as session:
        changed, replanned = updates.update_clinic(session, clinic_id, clock.now(), **fields)
        data = {**clinics.clinic_json(changed), "replanned_patients": replanned}
        warning = clinics.name_warning(changed)
    if warning:
        click.echo(warning, err=True)
    emit(
        data,
        as_json,
        lambda d: click.echo(
            f"clinic {d['id']} updated"
            + (f"; messages planned again for {plural(replanned, 'patient')}" if replanned else "")
        ),
    )


@cli.group()
def message() -> None:
    """Messages from the clinic's staff."""


@message.command("send")
@click.argument("patient_id", type=int)
@click.option("--body", required=True, help="The text (at most 1,600 characters).")
@json_option
@pass_app
def message_send(app: App, patient_id: int, body: str, as_json: bool) -> None:
    """Write to a patient (kind staff), sent within quiet hours.

    On each of the patient's channels. Refused for a patient who opted out. A reply goes to review."""
    with app.session() as session:
        queued = [views.message_json(m) for m in staff.send(session, patient_id, body, clock.now())]
    emit(
        queued,
        as_json,
        lambda d: click.echo(
            f"queued {plural(len(d), 'message')} to patient {patient_id} "
            f"({', '.join(m['channel'] for m in d)}); the scheduler sends within quiet hours"
        ),
    )

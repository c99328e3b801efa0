"""Clinics, programmes, enrolment and patients."""

from __future__ import annotations

import json

import click

from .. import clinics, clock, enrolment, episodes, fhir, records, spool, views
from ..errors import BadInput
from ..localtime import zone
from ..models import Message
from ..patients import enrolment_of, get_patient, pause, resume, unenroll
from ..programs import all_programs, get_program
from . import (
    App,
    check_writable,
    cli,
    emit,
    json_option,
    out_option,
    pass_app,
    plural,
    progress,
    table,
    write_private,
)

# --- clinics --------------------------------------------------------------------------------------


@cli.group()
def clinic() -> None:
    """Clinics."""


@clinic.command("add")
@click.option("--name", required=True, help="The clinic's name.")
@click.option("--phone", required=True, help="The clinic's phone, international form (+1 617 555 0123).")
@click.option("--email", help="The clinic's contact email.")
@click.option("--alert-email", help="Where escalation alerts are emailed.")
@click.option("--alert-phone", help="Where escalation alerts are texted.")
@click.option("--alert-webhook", help="Where signed events are posted (https URL; README, Integrations).")
@click.option(
    "--alert-webhook-format",
    type=click.Choice(["standard", "slack"]),
    default="standard",
    show_default=True,
    help="standard: {type, timestamp, data}; slack: {text} for Slack/Teams incoming webhooks.",
)
@click.option("--timezone", required=True, help="IANA zone, e.g. America/New_York.")
@click.option(
    "--quiet-start", default="08:00", show_default=True, help="Sending window opens (patient-local)."
)
@click.option(
    "--quiet-end", default="21:00", show_default=True, help="Sending window closes (patient-local)."
)
@click.option("--emergency-number", default="911", show_default=True, help="Named in emergency answers.")
@click.option(
    "--sms-name",
    help="The name texts start with, in GSM-7 only, when --name has letters (í, ó, ç) that would make "
    "every SMS UCS-2 and about twice the segments.",
)
@json_option
@pass_app
def clinic_add(app: App, as_json: bool, **fields) -> None:
    """Add a clinic; prints its id.

    It needs at least one alert route: --alert-email, --alert-phone or --alert-webhook."""
    clinics.require_secret(app.settings, fields.get("alert_webhook"))
    with app.session() as session:
        added = clinics.add_clinic(session, clock.now(), **fields)
        data = clinics.clinic_json(added)
        warning = clinics.name_warning(added)
    if warning:
        click.echo(warning, err=True)
    emit(data, as_json, lambda d: click.echo(d["id"]))


@clinic.command("list")
@json_option
@pass_app
def clinic_list(app: App, as_json: bool) -> None:
    """List clinics."""
    with app.session() as session:
        data = [clinics.clinic_json(c) for c in clinics.list_clinics(session)]
    for c in data:  # clinics from before migration 0011 may have none: say so where it is seen
        c["alert_routes"] = [r.removeprefix("alert_") for r in clinics.ROUTES if c[r]]
    emit(
        data,
        as_json,
        lambda d: table(
            [
                {**c, "alert_routes": ", ".join(c["alert_routes"]) or "NONE (clinic update ID --alert-…)"}
                for c in d
            ],
            ["id", "name", "phone", "timezone", "quiet_start", "quiet_end", "alert_routes"],
        ),
    )


# --- programmes -----------------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def programs(ctx: click.Context, as_json: bool) -> None:
    """Exercise programmes (`programs show KEY` for one)."""
    if ctx.invoked_subcommand:
        return
    data = [p.as_json() for p in all_programs().values()]
    emit(
        data,
        as_json,
        lambda d: table(
            [{"key": p["key"], "title": p["title"], "exercises": len(p["exercises"])} for p in d],
            ["key", "title", "exercises"],
        ),
    )


@programs.command("show")
@click.argument("key")
@json_option
def programs_show(key: str, as_json: bool) -> None:
    """One programme with its exercises and dosage."""
    data = get_program(key).as_json()

    def human(d):
        click.echo(f"{d['key']}: {d['title']}")
        for exercise in get_program(key).exercises:
            click.echo(f"  - {exercise.name}: {exercise.dosage()}")

    emit(data, as_json, human)


# --- enrolment ------------------------------------------------------------------------------------


@cli.command()
@click.option("--clinic", "clinic_id", type=int, required=True, help="Clinic id.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Enrol every row of a CSV file.")
@click.option("--name", help="The patient's name.")
@click.option("--phone", help="The patient's mobile; without a country code, the clinic's country.")
@click.option("--email", help="The patient's email (required for channel email or both).")
@click.option("--channel", help="sms (default), email or both.")
@click.option("--timezone", help="The patient's IANA zone.")
@click.option("--program", help="Programme key (default upper-back).")
@click.option("--start", help="First day, YYYY-MM-DD (default: today at the clinic).")
@click.option("--reminder-times", help="HH:MM[,HH:MM...] patient-local (default 09:00).")
@click.option("--checkin-time", help="HH:MM patient-local (default 19:00).")
@click.option("--checkin-every-days", type=int, help="Days between check-ins (default 1).")
@click.option("--weeks", type=int, help="Programme length in weeks (default 6).")
@click.option("--language", help="en (default) or es.")
@click.option("--consent", is_flag=True, help="The patient gave express consent to receive messages.")
@json_option
@pass_app
def enroll(app: App, clinic_id: int, csv_path: str | None, consent: bool, as_json: bool, **fields) -> None:
    """Enrol one patient or a CSV file of many.

    One patient: prints the id. A CSV: every row valid, or nothing is imported."""
    fields = {
        k: None if v is None else str(v) for k, v in fields.items()
    }  # validated as text, like a CSV row
    given = [k for k, v in fields.items() if v is not None]
    if csv_path:
        if given or consent:
            raise BadInput(
                "--csv takes every field from the file; "
                f"drop --{given[0].replace('_', '-') if given else 'consent'}"
            )
        rows = enrolment.read_csv(csv_path)
    else:
        rows = [("", {**fields, "consent": "yes" if consent else None})]
    with app.session() as session:
        target = clinics.get_clinic(session, clinic_id)
        with progress(len(rows), "validating and enrolling", quiet=as_json or len(rows) < 50) as advance:
            patients = enrolment.enrol(
                session, target, rows, clock.now(), method="csv" if csv_path else "cli", progress=advance
            )
        data = [views.patient_json(p, enrolment_of(session, p.id)) for p in patients]
    if as_json:
        emit(data if csv_path else data[0], True)
    elif csv_path:
        ids = f"id {data[0]['id']}" if len(data) == 1 else f"ids {data[0]['id']}-{data[-1]['id']}"
        click.echo(f"enrolled {plural(len(data), 'patient')} ({ids})")
    else:
        click.echo(data[0]["id"])


@cli.command()
@click.option("--clinic", "clinic_id", type=int, help="Only this clinic's patients.")
@click.option(
    "--status",
    type=click.Choice(["active", "paused", "opted_out", "completed", "unenrolled"]),
    help="Only patients with this status.",
)
@json_option
@pass_app
def patients(app: App, clinic_id: int | None, status: str | None, as_json: bool) -> None:
    """List patients."""
    with app.session() as session:
        data = [views.patient_json(p, e) for p, e in views.list_patients(session, clinic_id, status)]
    emit(
        data,
        as_json,
        lambda d: table(d, ["id", "clinic_id", "name", "phone", "timezone", "channel", "status"]),
    )


@cli.group()
def patient() -> None:
    """One patient."""


@patient.command("show")
@click.argument("patient_id", type=int)
@json_option
@pass_app
def patient_show(app: App, patient_id: int, as_json: bool) -> None:
    """Profile, enrolment and timeline.

    The timeline: messages, replies (with what each said) and escalations, patient-local."""
    with app.session() as session:
        p = get_patient(session, patient_id)
        data = views.patient_json(p, enrolment_of(session, patient_id))
        data["messages"] = [
            views.message_json(m) for m in views.list_messages(session, patient_id=patient_id)
        ]
        data["escalations"] = [views.escalation_json(e) for e in views.list_escalations(session, patient_id)]
        data["readings"] = views.readings_json(session, patient_id)
        data["episodes"] = episodes.episodes_json(session, patient_id, enrolment_of(session, patient_id))

    def human(d):
        tz = zone(d["timezone"])
        click.echo(f"Patient {d['id']}: {d['name']}  {d['phone']}  {d['timezone']}  [{d['status']}]")
        e = d.get("enrolment") or {}
        click.echo(
            f"Programme {d['program']} from {e.get('start')} for {e.get('weeks')} weeks; reminders "
            f"{', '.join(e.get('reminder_times', []))}; check-in {e.get('checkin_time')} every "
            f"{e.get('checkin_every_days')} day(s)"
        )
        if len(d["episodes"]) > 1:
            click.echo("Episodes:")
            for ep in d["episodes"]:
                ended = f", ended {ep['ended_at'][:10]} ({ep['outcome']})" if ep["ended_at"] else " (current)"
                click.echo(
                    f"  {ep['episode']}. {ep['program']} from {ep['start']} for {ep['weeks']} weeks{ended}"
                )
        click.echo("Timeline (patient-local):")
        for when, line in views.timeline(d):
            local = clock.parse_instant(when).astimezone(tz).strftime("%a %Y-%m-%d %H:%M") if when else "?"
            click.echo(f"  {local} {line}")

    emit(data, as_json, human)


@patient.command("export")
@click.argument("patient_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "fhir"]),
    default="json",
    show_default=True,
    help="json: followup's own shape; fhir: a FHIR R4 Bundle (type collection).",
)
@out_option
@pass_app
def patient_export(app: App, patient_id: int, fmt: str, out: str | None) -> None:
    """The patient's full record as JSON or as a FHIR R4 Bundle.

    Profile, consent history, messages, readings, escalations and audit trail."""
    if out:
        check_writable(out)
    with app.session() as session:
        if fmt == "fhir":
            data = fhir.bundle(session, patient_id, app.settings.public_url, clock.now())
        else:
            data = records.export(session, patient_id)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if out:
        write_private(out, text)
    else:
        click.echo(text, nl=False)


@patient.command("forget")
@click.argument("patient_id", type=int)
@click.option("--yes", is_flag=True, help="Confirm: this cannot be undone.")
@pass_app
def patient_forget(app: App, patient_id: int, yes: bool) -> None:
    """Delete a patient's personal data on request.

    Messages are kept only as anonymised counts."""
    if not yes:
        raise BadInput("forget cannot be undone: add --yes (export the record first if the clinic keeps it)")
    with app.session() as session:
        already = records.is_forgotten(session, patient_id)
        phone = None if already else get_patient(session, patient_id).phone
        done = None if already else records.forget(session, patient_id, clock.now())
    if phone:  # replies kept while the database was away hold the number and the text too
        spool.forget(app.settings.spool_dir, {phone})
    # Then the copies SQLite keeps in its write-ahead log; again on a repeat, which finishes a forget
    # whose checkpoint another connection had held up.
    records.erase_copies(app.engine, patient_id)
    if already:
        raise BadInput(f"patient {patient_id} was already forgotten")
    click.echo(f"patient {patient_id} forgotten; {done['messages_deleted']} messages deleted, counts kept")


def _status_command(name: str, action, help_text: str):
    @cli.command(name, help=help_text)
    @click.argument("patient_id", type=int)
    @click.option("--reason", help="Why (kept in the audit trail).")
    @pass_app
    def command(app: App, patient_id: int, reason: str | None) -> None:
        with app.session() as session:
            get_patient(session, patient_id)  # an unknown id: one line, exit 2
            p = action(session, patient_id, clock.now(), reason)
            click.echo(f"patient {p.id} is {p.status}")

    return command


_status_command("pause", pause, "Pause a patient: pending reminders and check-ins are dropped.")
_status_command("resume", resume, "Resume a paused patient: messages are planned again from now.")
_status_command("unenroll", unenroll, "End a patient's programme: pending messages are cancelled.")


@cli.command()
@click.option("--patient", "patient_id", type=int, help="Only this patient's messages.")
@click.option("--direction", type=click.Choice(["in", "out"]), help="in (from patients) or out (to them).")
@click.option("--status", help="pending, sending, sent, delivered, failed, skipped, cancelled or received.")
@click.option("--kind", help="reminder, checkin, confirmation, nudge, reply, alert, staff, ...")
@click.option("--channel", help="sms or email.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N.")
@json_option
@pass_app
def messages(app: App, patient_id, direction, status, kind, channel, limit, as_json: bool) -> None:
    """The message log, in time order.

    Outbound messages at their due time, inbound ones where they arrived."""
    with app.session() as session:
        if patient_id is not None:
            get_patient(session, patient_id)
        for option, value, column, listed in (
            ("--status", status, Message.status, views.MESSAGE_STATUSES),
            ("--kind", kind, Message.kind, views.MESSAGE_KINDS),
            ("--channel", channel, Message.channel, views.MESSAGE_CHANNELS),
        ):
            if (
                value is not None and value not in listed
            ):  # only then the (whole-log) look at what else is there
                known = views.known_values(session, column, listed)
                if value not in known:
                    raise BadInput(f"{option}: {value!r} is not one of {', '.join(known)}")
        found = views.list_messages(session, patient_id, direction, status, kind, limit, channel)
        data = [views.message_json(m) for m in found]
    emit(
        data,
        as_json,
        lambda d: table(
            d, ["id", "patient_id", "direction", "kind", "channel", "status", "due_at", "sent_at", "error"]
        ),
    )

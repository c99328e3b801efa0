"""Click commands only: parse, call followup.*, print. Exit codes: 0 ok, 2 bad input, 1 anything else."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from functools import wraps

import click

from . import clinics, clock, config, enrolment, migrate, views
from .db import engine_for, session_scope
from .errors import BadInput, ConfigError, FollowupError
from .localtime import to_utc_z, zone
from .programs import all_programs, get_program


class App:
    """What every command needs: settings (validated once) and a database session."""

    def __init__(self, db: str | None, now: str | None):
        self.settings = config.load(database_url=db, now=now)
        clock.pin(self.settings.now)
        self._checked = False

    @property
    def engine(self):
        return engine_for(self.settings.database_url)

    @contextmanager
    def session(self):
        if not self._checked:
            from alembic.script import ScriptDirectory

            head = ScriptDirectory.from_config(migrate.alembic_config(self.settings.database_url)).get_current_head()
            if migrate.current(self.settings.database_url) != head:
                raise FollowupError("the database is not set up or not up to date: run `followup db upgrade`")
            self._checked = True
        with session_scope(self.engine) as session:
            yield session


pass_app = click.make_pass_decorator(App)


def emit(data, as_json: bool, human=None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    elif human is not None:
        human(data)


def table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))).replace("\n", " ") for c in columns] for r in rows]
    widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo("  ".join((v if len(v) <= w else v[: w - 1] + "…").ljust(w) for v, w in zip(row, widths)).rstrip())


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")(f)


class UserError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class FollowupGroup(click.Group):
    """Known errors become one line on stderr: exit 2 for bad input or settings, 1 for the rest."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (BadInput, ConfigError) as exc:
            raise UserError(str(exc), 2) from exc
        except FollowupError as exc:
            raise UserError(str(exc), 1) from exc


@click.group(cls=FollowupGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="FOLLOWUP_DATABASE_URL", help="SQLAlchemy URL (default sqlite:///followup.db).")
@click.option("--now", envvar="FOLLOWUP_NOW", help="Fake clock: an ISO-8601 instant with offset.")
@click.version_option(package_name="followup")
@click.pass_context
def cli(ctx: click.Context, db: str | None, now: str | None) -> None:
    """followup: exercise reminders, check-ins and escalation for patients at home."""
    ctx.obj = App(db, now)


# --- database -------------------------------------------------------------------------------------

@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Create or migrate the database to the latest schema (idempotent)."""
    migrate.upgrade(app.settings.database_url)
    click.echo(f"database at revision {migrate.current(app.settings.database_url)}", err=True)


# --- clinics --------------------------------------------------------------------------------------

@cli.group()
def clinic() -> None:
    """Clinics."""


@clinic.command("add")
@click.option("--name", required=True)
@click.option("--phone", required=True, help="The clinic's phone, international form (+1 617 555 0123).")
@click.option("--email")
@click.option("--alert-email", help="Where escalation alerts are emailed.")
@click.option("--alert-phone", help="Where escalation alerts are texted.")
@click.option("--timezone", required=True, help="IANA zone, e.g. America/New_York.")
@click.option("--quiet-start", default="08:00", show_default=True, help="Sending window opens (patient-local).")
@click.option("--quiet-end", default="21:00", show_default=True, help="Sending window closes (patient-local).")
@click.option("--emergency-number", default="911", show_default=True)
@json_option
@pass_app
def clinic_add(app: App, as_json: bool, **fields) -> None:
    """Add a clinic; prints its id."""
    with app.session() as session:
        added = clinics.add_clinic(session, clock.now(), **fields)
        data = clinics.clinic_json(added)
    emit(data, as_json, lambda d: click.echo(d["id"]))


@clinic.command("list")
@json_option
@pass_app
def clinic_list(app: App, as_json: bool) -> None:
    """List clinics."""
    with app.session() as session:
        data = [clinics.clinic_json(c) for c in clinics.list_clinics(session)]
    emit(data, as_json, lambda d: table(d, ["id", "name", "phone", "timezone", "quiet_start", "quiet_end"]))


# --- programmes -----------------------------------------------------------------------------------

@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def programs(ctx: click.Context, as_json: bool) -> None:
    """Exercise programmes (`programs show KEY` for one)."""
    if ctx.invoked_subcommand:
        return
    data = [p.as_json() for p in all_programs().values()]
    emit(data, as_json, lambda d: table([{"key": p["key"], "title": p["title"], "exercises": len(p["exercises"])}
                                         for p in d], ["key", "title", "exercises"]))


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
@click.option("--name")
@click.option("--phone")
@click.option("--email")
@click.option("--channel", help="sms (default), email or both.")
@click.option("--timezone", help="The patient's IANA zone.")
@click.option("--program", help="Programme key (default upper-back).")
@click.option("--start", help="First day, YYYY-MM-DD (default: today at the clinic).")
@click.option("--reminder-times", help="HH:MM[,HH:MM...] patient-local (default 09:00).")
@click.option("--checkin-time", help="HH:MM patient-local (default 19:00).")
@click.option("--checkin-every-days", help="Days between check-ins (default 1).")
@click.option("--weeks", help="Programme length in weeks (default 6).")
@click.option("--language", help="en (default) or es.")
@click.option("--consent", is_flag=True, help="The patient gave express consent to receive messages.")
@json_option
@pass_app
def enroll(app: App, clinic_id: int, csv_path: str | None, consent: bool, as_json: bool, **fields) -> None:
    """Enrol one patient (prints the id) or a CSV of many (all rows valid, or nothing imported)."""
    given = [k for k, v in fields.items() if v is not None]
    if csv_path:
        if given or consent:
            raise BadInput(f"--csv takes every field from the file; drop --{given[0].replace('_', '-') if given else 'consent'}")
        rows = enrolment.read_csv(csv_path)
    else:
        rows = [("", {**fields, "consent": "yes" if consent else None})]
    with app.session() as session:
        target = clinics.get_clinic(session, clinic_id)
        with _progress(len(rows), "validating and enrolling", quiet=as_json or len(rows) < 50) as advance:
            patients = enrolment.enrol(session, target, rows, clock.now(), method="csv" if csv_path else "cli",
                                       progress=advance)
        data = [views.patient_json(p, None) for p in patients]
    if as_json:
        emit(data if csv_path else data[0], True)
    elif csv_path:
        click.echo(f"enrolled {len(data)} patients (ids {data[0]['id']}-{data[-1]['id']})")
    else:
        click.echo(data[0]["id"])


@contextmanager
def _progress(length: int, label: str, quiet: bool):
    """A progress bar on a terminal (yields its update function); nothing in pipes or under --json."""
    if quiet or not sys.stderr.isatty():
        yield lambda _n: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


@cli.command()
@click.option("--clinic", "clinic_id", type=int)
@click.option("--status", type=click.Choice(["active", "paused", "opted_out", "completed", "unenrolled"]))
@json_option
@pass_app
def patients(app: App, clinic_id: int | None, status: str | None, as_json: bool) -> None:
    """List patients."""
    with app.session() as session:
        data = [views.patient_json(p, e) for p, e in views.list_patients(session, clinic_id, status)]
    emit(data, as_json, lambda d: table(d, ["id", "clinic_id", "name", "phone", "timezone", "channel", "status"]))


@cli.group()
def patient() -> None:
    """One patient."""


@patient.command("show")
@click.argument("patient_id", type=int)
@json_option
@pass_app
def patient_show(app: App, patient_id: int, as_json: bool) -> None:
    """Profile, enrolment and timeline of messages, replies and escalations."""
    with app.session() as session:
        p = enrolment.get_patient(session, patient_id)
        data = views.patient_json(p, enrolment.enrolment_of(session, patient_id))
        data["messages"] = [views.message_json(m) for m in views.list_messages(session, patient_id=patient_id)]
        data["escalations"] = [views.escalation_json(e) for e in views.list_escalations(session, patient_id)]
        data["readings"] = views.readings_json(session, patient_id)

    def human(d):
        tz = zone(d["timezone"])
        click.echo(f"Patient {d['id']}: {d['name']}  {d['phone']}  {d['timezone']}  [{d['status']}]")
        e = d.get("enrolment") or {}
        click.echo(f"Programme {d['program']} from {e.get('start')} for {e.get('weeks')} weeks; reminders "
                   f"{', '.join(e.get('reminder_times', []))}; check-in {e.get('checkin_time')} every "
                   f"{e.get('checkin_every_days')} day(s)")
        click.echo("Timeline (patient-local):")
        for when, line in views.timeline(d):
            local = clock.parse_instant(when).astimezone(tz).strftime("%a %Y-%m-%d %H:%M") if when else "?"
            click.echo(f"  {local} {line}")

    emit(data, as_json, human)


def _status_command(name: str, action, help_text: str):
    @cli.command(name, help=help_text)
    @click.argument("patient_id", type=int)
    @click.option("--reason", help="Why (kept in the audit trail).")
    @pass_app
    def command(app: App, patient_id: int, reason: str | None) -> None:
        with app.session() as session:
            p = action(session, patient_id, clock.now(), reason)
            click.echo(f"patient {p.id} is {p.status}")

    return command


_status_command("pause", enrolment.pause, "Pause a patient: pending reminders and check-ins are cancelled.")
_status_command("resume", enrolment.resume, "Resume a paused patient: messages are planned again from now.")
_status_command("unenroll", enrolment.unenroll, "End a patient's programme: pending messages are cancelled.")


@cli.command()
@click.option("--patient", "patient_id", type=int)
@click.option("--direction", type=click.Choice(["in", "out"]))
@click.option("--status")
@click.option("--kind")
@click.option("--limit", type=int)
@json_option
@pass_app
def messages(app: App, patient_id, direction, status, kind, limit, as_json: bool) -> None:
    """The message log."""
    with app.session() as session:
        data = [views.message_json(m) for m in views.list_messages(session, patient_id, direction, status, kind, limit)]
    emit(data, as_json, lambda d: table(d, ["id", "patient_id", "direction", "kind", "channel", "status", "due_at",
                                            "sent_at", "error"]))


# --- replies and escalations ---------------------------------------------------------------------

@cli.command()
@click.option("--from", "sender", required=True, help="The patient's phone number.")
@click.option("--body", required=True, help="The text of the SMS.")
@click.option("--sid", help="Twilio MessageSid (a repeated sid is processed once).")
@json_option
@pass_app
def reply(app: App, sender: str, body: str, sid: str | None, as_json: bool) -> None:
    """Process one inbound SMS exactly as the webhook does; prints the reply sent back."""
    from . import inbound

    with app.session() as session:
        result = inbound.handle(session, sender=sender, body=body, sid=sid, now=clock.now())
    emit(result.as_json(), as_json, lambda d: click.echo(d["reply"] or "(no reply)"))


@cli.group(invoke_without_command=True)
@click.option("--open", "open_only", is_flag=True, help="Only those not yet acknowledged.")
@click.option("--patient", "patient_id", type=int)
@json_option
@click.pass_context
def escalations(ctx: click.Context, open_only: bool, patient_id: int | None, as_json: bool) -> None:
    """Escalations (`escalations ack ID --by NAME` to acknowledge one)."""
    if ctx.invoked_subcommand:
        return
    from . import escalation

    with ctx.obj.session() as session:
        data = [views.escalation_json(e) for e in escalation.list_escalations(session, open_only, patient_id)]
    emit(data, as_json, lambda d: table(d, ["id", "patient_id", "rule", "tier", "reason", "created_at",
                                            "acknowledged_by"]))


@escalations.command("ack")
@click.argument("escalation_id", type=int)
@click.option("--by", required=True, help="Who acknowledges.")
@click.option("--note")
@json_option
@pass_app
def escalations_ack(app: App, escalation_id: int, by: str, note: str | None, as_json: bool) -> None:
    """Acknowledge an escalation (stops its re-alert)."""
    from . import escalation

    with app.session() as session:
        data = views.escalation_json(escalation.acknowledge(session, escalation_id, by, note, clock.now()))
    emit(data, as_json, lambda d: click.echo(f"escalation {d['id']} acknowledged by {d['acknowledged_by']}"))


@cli.command()
@click.option("--clinic", "clinic_id", type=int)
@click.option("--patient", "patient_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "html"]), default="table",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to a file instead of stdout.")
@pass_app
def report(app: App, clinic_id: int | None, patient_id: int | None, fmt: str, out: str | None) -> None:
    """Adherence and symptom trends per patient and for the clinic."""
    from . import reports

    with app.session() as session:
        if clinic_id is not None:
            clinics.get_clinic(session, clinic_id)
        if patient_id is not None:
            enrolment.get_patient(session, patient_id)
        data = reports.build(session, clock.now(), clinic_id, patient_id)
    render = {"table": lambda d: reports.as_table(d, table), "csv": reports.as_csv, "json": reports.as_json,
              "html": reports.as_html}[fmt]
    text = render(data)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"report written to {out}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.option("--patients", default=3, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 365))
@click.option("--seed", default=1, show_default=True, type=int)
@json_option
def simulate(patients: int, days: int, seed: int, as_json: bool) -> None:
    """A whole programme on a fake clock with fake channels and scripted patients, in a temporary
    database. A transcript for up to 5 patients, a summary for more. Deterministic for a seed."""
    from .simulate import simulate as run_simulation

    result = run_simulation(patients, days, seed)
    if as_json:
        emit({"summary": result.summary, "transcript": result.lines, "database": result.database}, True)
        return
    click.echo(result.text())


# --- the scheduler and the service ---------------------------------------------------------------

def _worker(app: App):
    from . import service

    return service.build_worker(app.settings, app.engine)


def _service_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every run of every job


@cli.command()
@json_option
@pass_app
def tick(app: App, as_json: bool) -> None:
    """One scheduler cycle at "now": plan, send what is due, run time-based rules."""
    with app.session():
        pass  # checks the schema once before any work
    report = _worker(app).tick()
    emit(report.as_json(), as_json, lambda _d: click.echo(report.summary()))


@cli.command()
@pass_app
def worker(app: App) -> None:
    """The scheduler alone (many may share one PostgreSQL database). Stops cleanly on SIGINT/SIGTERM."""
    from . import service

    with app.session():
        pass
    _service_logging()
    if app.settings.now:
        clock.start_ticking()
    service.run_worker(_worker(app))


def _serve(app: App, host: str, port: int, with_scheduler: bool, workers: int = 1) -> None:
    import os

    import uvicorn

    from . import service, web

    with app.session():
        pass
    _service_logging()
    if workers > 1:
        # Each worker process reads its settings from the environment; pass on what options changed.
        os.environ["FOLLOWUP_DATABASE_URL"] = app.settings.database_url
        if app.settings.now:
            os.environ["FOLLOWUP_NOW"] = app.settings.now
        uvicorn.run("followup.web:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="info")
        return
    if app.settings.now:
        clock.start_ticking()
    scheduler = None
    if with_scheduler:
        worker = _worker(app)
        scheduler = service.start_scheduler(worker)
    try:
        uvicorn.run(web.create_app(app.settings), host=host, port=port, log_level="info")
    finally:
        if scheduler is not None:
            service.stop_scheduler(scheduler, worker)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (more than 1 is for PostgreSQL: SQLite has one writer).")
@pass_app
def serve(app: App, host: str, port: int, workers: int) -> None:
    """The webhook server alone."""
    _serve(app, host, port, with_scheduler=False, workers=workers)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@pass_app
def run(app: App, host: str, port: int) -> None:
    """The service: scheduler and webhook server in one process."""
    _serve(app, host, port, with_scheduler=True)


def main() -> None:
    cli(prog_name="followup")

"""The scheduler, the service and the simulation."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import socket
import sys
import tempfile
import time

import click
from sqlalchemy.exc import OperationalError

from .. import clock, config, events, logs, metrics, service
from ..db import error_reason
from ..errors import BadInput
from ..simulate import simulate as run_simulation
from . import App, check_writable, cli, configuration_problem, emit, json_option, note, pass_app, progress

# --- the scheduler and the service ---------------------------------------------------------------


def _worker(app: App):
    with app.session() as session:
        unsigned = events.unsigned(session, app.settings)
    if unsigned:
        note(unsigned, logging.WARNING)  # at start, not three days later when the events expire
    return service.build_worker(app.settings, app.engine)


def _await_database(app: App, every: float = 2.0) -> None:
    """A service started while the database is away waits for it, saying so once, instead of
    exiting: under systemd an exit becomes a crash loop, and then a unit that gives up."""
    log = logging.getLogger("followup.service")
    # As text, these two lines are the command's own words on stderr; as JSON, log lines like the rest.
    say = click.echo if app.settings.log_format == "text" else lambda line, err: log.warning(line)
    waiting = False
    while True:
        try:
            with app.session():
                pass  # also checks the schema is up to date (that is not worth waiting for)
        except OperationalError as exc:
            problem = configuration_problem(exc)
            if problem is not None:
                raise problem from None  # a database that does not exist will not appear by waiting
            if not waiting:
                say(f"database unavailable ({error_reason(exc)}); waiting for it", err=True)
                waiting = True
            time.sleep(every)
            continue
        if waiting:
            say("database available; starting", err=True)
        return


def _service_logging(app: App) -> None:
    logs.configure(app.settings.log_format)


@cli.command()
@json_option
@pass_app
def tick(app: App, as_json: bool) -> None:
    """One scheduler cycle at "now".

    Plans, sends what is due and runs the time-based rules."""
    with app.session():
        pass  # checks the schema once before any work
    if as_json:
        # Console channels print each message on stdout; under --json stdout holds the JSON alone.
        with contextlib.redirect_stdout(sys.stderr), _worker(app) as worker:
            report = worker.tick()
    else:
        with _worker(app) as worker:
            report = worker.tick()
    emit(report.as_json(), as_json, lambda _d: click.echo(report.summary()))


@cli.command()
@pass_app
def worker(app: App) -> None:
    """The scheduler alone (many may share one PostgreSQL database). Stops cleanly on SIGINT/SIGTERM."""
    _service_logging(app)
    _await_database(app)
    if app.settings.now:
        clock.start_ticking()
    service.run_worker(_worker(app))


def _check_port(host: str, port: int) -> None:
    """Bind the address once before anything starts: a port in use is one line and exit 2, not
    uvicorn's start-up and shut-down logs and exit 3."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BadInput(f"--host {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BadInput(
                    f"--port {port}: {host}:{port} is already in use (another followup serve or run? "
                    f"choose another with --port)"
                ) from None
            raise BadInput(f"--host {host} --port {port}: cannot listen there: {exc.strerror}") from None


def _serve(app: App, host: str, port: int, with_scheduler: bool, workers: int = 1) -> None:
    # Not at the top: the web server's imports (FastAPI, uvicorn) are half a second that every other
    # command would pay at start-up. Only `run` and `serve` come here. (No cycle.)
    import uvicorn

    from .. import web

    _check_port(host, port)
    config.check_spool_dir(app.settings)  # now, not when the first outage needs it
    _service_logging(app)
    _await_database(app)
    log_config = logs.uvicorn_log_config(app.settings.log_format)
    if workers > 1:
        # Each worker process reads its settings from the environment; pass on what options changed.
        os.environ["FOLLOWUP_DATABASE_URL"] = app.settings.database_url
        if app.settings.now:
            os.environ["FOLLOWUP_NOW"] = app.settings.now
        own_metrics_dir = None
        if not os.environ.get(metrics.MULTIPROC_ENV):
            # /metrics lands on any one of the processes: they share their request counters through
            # prometheus-client's multiprocess files, in a directory of this server's own.
            own_metrics_dir = os.environ[metrics.MULTIPROC_ENV] = tempfile.mkdtemp(prefix="followup-metrics-")
        uvicorn.run(
            "followup.web:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            log_config=log_config,
        )
        if own_metrics_dir:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
        return
    if app.settings.now:
        clock.start_ticking()
    scheduler = None
    if with_scheduler:
        worker = _worker(app)
        scheduler = service.start_scheduler(worker)
    try:
        uvicorn.run(
            web.create_app(app.settings), host=host, port=port, log_level="info", log_config=log_config
        )
    finally:
        if scheduler is not None:
            service.stop_scheduler(scheduler, worker)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (more than 1 is for PostgreSQL: SQLite has one writer).",
)
@pass_app
def serve(app: App, host: str, port: int, workers: int) -> None:
    """The webhook server alone."""
    _serve(app, host, port, with_scheduler=False, workers=workers)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@pass_app
def run(app: App, host: str, port: int) -> None:
    """The service: scheduler and webhook server in one process."""
    _serve(app, host, port, with_scheduler=True)


@cli.command()
@click.option(
    "--patients",
    default=3,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="How many scripted patients.",
)
@click.option(
    "--days", default=7, show_default=True, type=click.IntRange(1, 365), help="How many days to run."
)
@click.option("--seed", default=1, show_default=True, type=int, help="The same seed, the same run.")
@click.option(
    "--keep", metavar="FILE", help="Keep the simulated SQLite database in FILE, to explore it afterwards."
)
@json_option
def simulate(patients: int, days: int, seed: int, keep: str | None, as_json: bool) -> None:
    """A whole programme on a fake clock.

    Fake channels and scripted patients, in a temporary database. A transcript for up to 5
    patients, a summary for more. Deterministic for a seed."""
    if keep:
        check_writable(keep)

    with progress(days, "simulating days", quiet=as_json) as advance:
        result = run_simulation(patients, days, seed, on_day=advance, keep=keep)
    if as_json:
        emit({"summary": result.summary, "transcript": result.lines, "database": result.database}, True)
        return
    click.echo(result.text())

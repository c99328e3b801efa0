"""Click commands only: parse, call followup.*, print. Exit codes: 0 ok, 2 bad input, 1 anything else.

The group, its helpers and `db` live here; the commands are in people.py (clinics, programmes,
enrolment, patients), messaging.py (messages, replies, escalations, reports) and running.py (tick,
worker, serve, run, simulate).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import sys
import tempfile
from contextlib import contextmanager

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from .. import clock, config, migrate
from ..db import engine_for, error_reason, session_scope
from ..errors import BadInput, ConfigError, FollowupError
from ..logs import configure, error_line


class App:
    """What every command needs: settings (validated once) and a database session."""

    def __init__(self, db: str | None, now: str | None):
        self.settings = config.load(database_url=db, now=now)
        clock.pin(self.settings.now)
        if self.settings.log_format == "json":
            configure("json")
        self._checked = False

    @property
    def engine(self):
        return engine_for(self.settings.database_url)

    @contextmanager
    def session(self):
        if not self._checked:
            from alembic.script import ScriptDirectory

            url = self.settings.database_url
            path = make_url(url).database if url.startswith("sqlite") else None
            if path not in (None, "", ":memory:") and not os.path.exists(path):
                # Opening it would create an empty file; say what to do and leave nothing behind.
                raise ConfigError(f"FOLLOWUP_DATABASE_URL: {path} does not exist: run `followup db upgrade`")
            head = ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()
            if migrate.current(url) != head:
                raise ConfigError("the database is not set up or not up to date: run `followup db upgrade`")
            self._checked = True
        with session_scope(self.engine) as session:
            yield session


pass_app = click.make_pass_decorator(App)


def emit(data, as_json: bool, human=None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    elif human is not None:
        human(data)


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))).replace("\n", " ") for c in columns] for r in rows]
    widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo(
            "  ".join((v if len(v) <= w else v[: w - 1] + "…").ljust(w) for v, w in zip(row, widths)).rstrip()
        )


@contextmanager
def progress(length: int, label: str, quiet: bool):
    """A progress bar on a terminal (yields its update function); nothing in pipes or under --json."""
    if quiet or not sys.stderr.isatty():
        yield lambda _n: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


# --- files the CLI writes ----------------------------------------------------------------------------
# Exports and reports carry patient data: written owner-only (0600), whole or not at all.

_BAD_PATH = {
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENAMETOOLONG,
}


def _cannot_write(path: str, reason: str, exc: OSError | None = None) -> FollowupError:
    # A path that cannot be written is bad input (exit 2); a full disk or an I/O error is not (exit 1).
    message = f"--out {path}: cannot write it: {reason}"
    return BadInput(message) if exc is None or exc.errno in _BAD_PATH else FollowupError(message)


def check_writable(path: str) -> None:
    """Before the work: refuse an --out that cannot be written, and create nothing."""
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise _cannot_write(path, "it is a directory")
    if not os.path.isdir(directory):
        raise _cannot_write(path, f"the directory {os.path.dirname(os.path.abspath(path))} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK) or (
        os.path.exists(target) and not os.access(target, os.W_OK)
    ):
        raise _cannot_write(path, "permission denied")


def write_private(path: str, text: str) -> None:
    """Write `text` to `path`, readable and writable by its owner only (0600), whatever the umask and
    whatever the mode of a file it replaces: a temporary file (mkstemp: 0600) renamed into place, so
    a failure leaves the old file or nothing, never half a report. A FIFO or a device is written as is."""
    target = os.path.realpath(path)
    try:
        if os.path.exists(target) and not os.path.isfile(target) and not os.path.isdir(target):
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)
            return
        fd, temporary = tempfile.mkstemp(
            dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        )
    except OSError as exc:
        raise _cannot_write(path, exc.strerror or str(exc), exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        _remove(temporary)
        raise _cannot_write(path, exc.strerror or str(exc), exc) from None
    except BaseException:
        _remove(temporary)
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def out_option(f):
    return click.option("--out", metavar="FILE", help="Write to a file (owner-only) instead of stdout.")(f)


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")(f)


class UserError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        if _json_logs():  # under a log collector: a JSON line too
            click.echo(error_line(self.format_message()), err=True)
            return
        click.echo(f"error: {self.format_message()}", err=True)


# PostgreSQL refusing the connection for a reason no wait will fix: the URL names a database, role or
# password that the server does not know. (psycopg reports no SQLSTATE for a failed connection.)
_MISCONFIGURED = re.compile(
    r'FATAL:\s+((database|role) "[^"]*" does not exist|password authentication failed.*'
    r"|no pg_hba\.conf entry.*)"
)


def configuration_problem(exc: OperationalError) -> ConfigError | None:
    """A database error that is a setting to fix (exit 2), not an outage to wait out."""
    found = _MISCONFIGURED.search(str(getattr(exc, "orig", None) or exc))
    return ConfigError(f"FOLLOWUP_DATABASE_URL: {found.group(1)}") if found else None


def _json_logs() -> bool:
    return os.environ.get("FOLLOWUP_LOG_FORMAT") == "json"


def note(line: str, level: int = logging.INFO) -> None:
    """A command's word on stderr ("database at revision 0011"): in JSON mode a log line like the rest."""
    if _json_logs():
        logging.getLogger("followup.cli").log(level, line)
    else:
        click.echo(line, err=True)


def _usage_line(exc: click.UsageError) -> UserError:
    """A usage error (bad option, unknown command) as one line, for JSON mode: click's own is three
    (usage, hint, error), which a log collector would take for three entries. Exit code 2, as click's."""
    where = exc.ctx.command_path if exc.ctx else "followup"
    return UserError(f"{where}: {exc.format_message()}", exc.exit_code)


_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # `followup` alone shows the help


class FollowupGroup(click.Group):
    """Known errors become one line on stderr: exit 2 for bad input or settings, 1 for the rest."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:  # the group's own options
            if not _json_logs() or isinstance(exc, _HELP):
                raise
            raise _usage_line(exc) from exc

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a command's options and arguments, an unknown command
            if not _json_logs() or isinstance(exc, _HELP):
                raise
            raise _usage_line(exc) from exc
        except (BadInput, ConfigError) as exc:
            raise UserError(str(exc), 2) from exc
        except FollowupError as exc:
            raise UserError(str(exc), 1) from exc
        except OperationalError as exc:
            problem = configuration_problem(exc)
            if problem is not None:
                raise UserError(str(problem), 2) from exc
            # Disk full, database away, file read-only: say what the database said, and that the
            # transaction under way was rolled back, not a traceback full of SQL and patient data.
            reason = error_reason(exc)
            raise UserError(f"database: {reason} (the change under way was rolled back)", 1) from exc


@click.group(
    cls=FollowupGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
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
    note(f"database at revision {migrate.current(app.settings.database_url)}")


def main() -> None:
    cli(prog_name="followup")


from . import messaging, operations, people, running  # noqa: E402,F401  (importing registers the commands)

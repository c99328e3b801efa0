"""Service logs on stderr: lines of text (the default) or, with FOLLOWUP_LOG_FORMAT=json, one JSON object
a line, uvicorn's lines included, for journald, Loki or any collector that reads JSON.

A line names patients, clinics, escalations and messages by id (the `patient_id`, `clinic_id`,
`escalation_id`, `message_id` keys, passed as `extra=`), never by number, address or text: nothing
logged anywhere carries them (tests/test_privacy.py), and the JSON lines add only those ids.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
IDS = ("patient_id", "clinic_id", "escalation_id", "message_id", "event")
# uvicorn's own loggers: in JSON mode they lose their handlers and pass their lines to ours.
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in IDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class PathOnly(logging.Filter):
    """uvicorn's access lines with the request's path only: a query string is whatever the caller put
    there (`/healthz?to=+1617…&body=…`), and an acknowledgement link's path is a bearer token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], path_only(args[2]), *args[3:])
        return True


def path_only(full_path: str) -> str:
    path = full_path.split("?", 1)[0]
    return "/ack/TOKEN" if path.startswith("/ack/") else path


class _Ours(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs, so configuring twice replaces it instead of doubling lines.
    It writes to whatever sys.stderr is at the time (a command run in-process may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(log_format: str) -> None:
    """Logging for `worker`, `serve` and `run` (and uvicorn's worker processes); in JSON, for every
    command (a `tick` from cron logs like a worker)."""
    root = logging.getLogger()
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PathOnly) for f in access.filters):
        access.addFilter(PathOnly())  # survives uvicorn's dictConfig, which replaces handlers only
    if log_format == "json":
        for handler in [h for h in root.handlers if isinstance(h, _Ours)]:
            root.removeHandler(handler)
        handler = _Ours(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        for name in UVICORN:
            logger = logging.getLogger(name)
            logger.handlers = []
            logger.propagate = True
    else:
        logging.basicConfig(level=logging.INFO, format=TEXT_FORMAT)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every run of every job
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl …" at every schema check


def uvicorn_log_config(log_format: str) -> dict[str, Any] | None:
    """What to pass uvicorn.run(log_config=…): its own coloured text config, or None (JSON) so that it
    installs no handlers and its loggers propagate to ours."""
    if log_format == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG


def error_line(message: str) -> str:
    """A fatal CLI error as one JSON object (FOLLOWUP_LOG_FORMAT=json), the way a log line would say it."""
    return JsonFormatter().format(
        logging.LogRecord("followup", logging.ERROR, __file__, 0, message, None, None)
    )

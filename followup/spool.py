"""Webhooks that arrived while the database was away, kept on local disk until it is back.

Twilio retries a failed webhook at most 5 times within 15 s (its connection overrides), so a 503
alone loses a patient's reply to any longer outage. Instead the webhook writes the signed, parsed
form here (one owner-only file per message, fsync'd, renamed into place, the directory fsync'd) and
answers at once with a holding reply; `drain` later runs each through the normal inbound handler with
its arrival time, and queues the real answer as an outbound SMS, since the webhook's own answer has
already gone. Status callbacks (a delivery, a failure, a 21610) are kept the same way.
A file is claimed by renaming it, so several server processes can drain one directory.

An entry that fails for a reason other than an outage (a value the database refuses, a damaged file)
is set aside as `*.failed` with one log line, for a person to look at: retrying it would never end.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from . import inbound, media
from .db import session_scope

log = logging.getLogger("followup.spool")
STALE_CLAIM_SECONDS = 300  # a claimed file this old belongs to a drainer that died
# SQLSTATE classes that mean "the database is away or busy, try later", not "this entry is bad":
# connection exception, transaction rollback (deadlock, serialization), insufficient resources (disk
# full, too many connections), operator intervention (shutdown, statement timeout), system error,
# internal error, and lock_not_available (lock_timeout).
_OUTAGE_SQLSTATES = ("08", "40", "53", "57", "58", "XX", "55P03")


def save(directory: str, form: dict, received_at: datetime) -> Path:
    """Durably keep one inbound SMS. Raises OSError if it cannot (the caller then answers 503)."""
    record = {
        "from": form.get("From"),
        "to": form.get("To"),
        "body": form.get("Body"),
        "sid": form.get("MessageSid"),
        "received_at": received_at.isoformat(),
        "opt_out_type": form.get("OptOutType"),
        "media": [list(m) for m in media.from_form(form)],
    }
    return _write(directory, _safe(form.get("MessageSid")) or uuid.uuid4().hex, record)


def save_status(
    directory: str,
    sid: str,
    status: str,
    error: str | None,
    received_at: datetime,
    message_id: int | None = None,
) -> Path:
    """Durably keep one status callback (one file per message and status: a retry replaces its copy)."""
    record = {
        "kind": "status",
        "sid": sid,
        "status": status,
        "error": error,
        "received_at": received_at.isoformat(),
        "message_id": message_id,
    }
    return _write(directory, f"status-{_safe(sid)}-{_safe(status)[:32]}", record)


def forget(directory: str | None, phones: set[str]) -> int:
    """Delete what the spool holds from these numbers (waiting, claimed or set aside): `patient
    forget` erases a patient's words everywhere followup keeps them. Returns the files removed."""
    folder = Path(directory) if directory else None
    if folder is None or not folder.is_dir():
        return 0
    removed = 0
    for path in list(folder.glob("*.json")) + list(folder.glob("*.claimed")) + list(folder.glob("*.failed")):
        try:
            sender = json.loads(path.read_text()).get("from")
        except (OSError, ValueError):
            continue
        if sender in phones or _digits(sender) in {_digits(p) for p in phones}:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        _fsync_directory(folder)
    return removed


def _digits(value) -> str:
    return re.sub(r"\D", "", value or "") or "-"


def _safe(value: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value or "")[:64]


def _write(directory: str, name: str, record: dict) -> Path:
    folder = Path(directory)
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _fsync_directory(folder.parent)
    temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # patient data: owner only
    try:
        os.write(fd, json.dumps(record).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    final = folder / f"{name}.json"
    os.replace(temporary, final)
    _fsync_directory(folder)  # the rename itself survives a power cut only once its directory is synced
    return final


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pending(directory: str) -> bool:
    try:
        return any(entry.name.endswith(".json") for entry in os.scandir(directory))
    except FileNotFoundError:
        return False


def is_outage(exc: BaseException) -> bool:
    """Whether a database error means the database is away or busy (keep the entry, try later) rather
    than that this entry can never be stored (a 3 KB MessageSid overflows an index entry: 54000)."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(_OUTAGE_SQLSTATES)
    # No SQLSTATE: psycopg's own connection failures, and SQLite (locked, I/O error, cannot open).
    return isinstance(exc, OperationalError)


def drain(engine: Engine, directory: str, twilio_answers: bool = False) -> int:
    """Process every kept webhook, oldest first; stops (keeping the rest) if the database is still away."""
    from .db import error_reason

    folder = Path(directory)
    if not folder.is_dir():
        return 0
    for stale in folder.glob("*.claimed"):  # a drainer that died mid-file: hand the file back
        try:
            if time.time() - stale.stat().st_mtime > STALE_CLAIM_SECONDS:
                os.replace(stale, folder / (stale.name.split(".", 1)[0] + ".json"))
        except FileNotFoundError:
            pass
    done = 0
    for path in sorted(folder.glob("*.json"), key=_mtime):
        claimed = path.with_suffix(f".{os.getpid()}.claimed")
        try:
            os.replace(path, claimed)
            os.utime(claimed)  # the claim's time, for the stale check above
        except FileNotFoundError:
            continue  # another process took it
        try:
            outcome = _process(engine, json.loads(claimed.read_text()), twilio_answers)
        except SQLAlchemyError as exc:
            if is_outage(exc):
                os.replace(claimed, path)  # still away: keep it for the next drain
                break
            _set_aside(claimed, path, f"the database refuses it: {error_reason(exc)}")
            continue
        except Exception as exc:  # one bad file must not block the rest
            _set_aside(claimed, path, type(exc).__name__)
            log.debug("spooled entry %s", path.stem, exc_info=True)
            continue
        claimed.unlink()
        done += 1
        log.info("spooled %s processed: %s", path.stem, outcome)
    return done


def _set_aside(claimed: Path, path: Path, reason: str) -> None:
    failed = path.with_suffix(".failed")
    os.replace(claimed, failed)
    log.error(
        "spooled entry %s cannot be processed (%s); set aside as %s for a person, not retried",
        path.stem,
        reason,
        failed.name,
    )


def _process(engine: Engine, record: dict, twilio_answers: bool = False) -> str:
    received_at = datetime.fromisoformat(record["received_at"])
    if record.get("kind") == "status":
        with session_scope(engine) as session:
            inbound.apply_status(
                session,
                record["sid"],
                record["status"],
                record.get("error"),
                received_at,
                message_id=record.get("message_id"),
            )
        return f"status {record['status']}"
    for last in (False, True):
        try:
            with session_scope(engine) as session:
                result = inbound.handle(
                    session,
                    sender=record["from"],
                    body=record["body"],
                    sid=record["sid"],
                    to=record["to"],
                    now=received_at,
                    answered_inline=False,
                    attachments=tuple(media.Media(*m) for m in record.get("media") or ()),
                    opt_out_type=record.get("opt_out_type"),
                    twilio_answers=twilio_answers,
                )
            return f"inbound SMS {result.inbound_id}: {result.action}"
        except IntegrityError:
            if last:  # the same MessageSid stored meanwhile by the webhook (Twilio retried): now a duplicate
                raise
    raise AssertionError("unreachable")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0

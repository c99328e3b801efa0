"""Inbound SMS that arrived while the database was away, kept on local disk until it is back.

Twilio retries a failed webhook at most 5 times within 15 s (its connection overrides), so a 503
alone loses a patient's reply to any longer outage. Instead the webhook writes the signed, parsed
form here (one owner-only file per message, fsync'd, renamed into place) and answers at once with a
holding reply; `drain` later runs each through the normal inbound handler with its arrival time,
and queues the real answer as an outbound SMS, since the webhook's own answer has already gone.
A file is claimed by renaming it, so several server processes can drain one directory.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger("followup.spool")


def save(directory: str, form: dict, received_at: datetime) -> Path:
    """Durably keep one inbound SMS. Raises OSError if it cannot (the caller then answers 503)."""
    folder = Path(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9]", "", form.get("MessageSid") or "")[:64] or uuid.uuid4().hex
    record = {"from": form.get("From"), "to": form.get("To"), "body": form.get("Body"),
              "sid": form.get("MessageSid"), "received_at": received_at.isoformat()}
    temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # patient data: owner only
    try:
        os.write(fd, json.dumps(record).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    final = folder / f"{name}.json"
    os.replace(temporary, final)
    return final


def pending(directory: str) -> bool:
    try:
        return any(entry.name.endswith(".json") for entry in os.scandir(directory))
    except FileNotFoundError:
        return False


def drain(engine: Engine, directory: str) -> int:
    """Process every kept SMS, oldest first; stops (keeping the rest) if the database is still away."""
    from . import inbound
    from .db import session_scope

    done = 0
    try:
        entries = sorted(Path(directory).glob("*.json"), key=lambda p: p.stat().st_mtime)
    except FileNotFoundError:
        return 0
    for path in entries:
        claimed = path.with_suffix(f".{os.getpid()}.claimed")
        try:
            os.replace(path, claimed)
        except FileNotFoundError:
            continue  # another process took it
        record = json.loads(claimed.read_text())
        at = datetime.fromisoformat(record["received_at"])
        try:
            with session_scope(engine) as session:
                result = inbound.handle(session, sender=record["from"], body=record["body"], sid=record["sid"],
                                        to=record["to"], now=at, answered_inline=False)
        except OperationalError:
            os.replace(claimed, path)  # still away: keep it for the next drain
            break
        claimed.unlink()
        done += 1
        log.info("spooled inbound SMS %s processed: %s", result.inbound_id, result.action)
    return done

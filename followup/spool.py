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
import time
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger("followup.spool")
STALE_CLAIM_SECONDS = 300  # a claimed file this old belongs to a drainer that died


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
            record = json.loads(claimed.read_text())
            with session_scope(engine) as session:
                result = inbound.handle(session, sender=record["from"], body=record["body"], sid=record["sid"],
                                        to=record["to"], now=datetime.fromisoformat(record["received_at"]),
                                        answered_inline=False)
        except OperationalError:
            os.replace(claimed, path)  # still away: keep it for the next drain
            break
        except Exception:  # one bad file must not block the rest: set it aside for a person
            os.replace(claimed, path.with_suffix(".failed"))
            log.exception("spooled SMS %s could not be processed; kept as %s", path.stem, path.with_suffix(".failed"))
            continue
        claimed.unlink()
        done += 1
        log.info("spooled inbound SMS %s processed: %s", result.inbound_id, result.action)
    return done


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0

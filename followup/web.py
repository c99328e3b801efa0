"""The HTTP side: Twilio's webhooks (signed) and a health check."""

from __future__ import annotations

import logging
import re
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from xml.sax.saxutils import escape
from twilio.request_validator import RequestValidator

from . import clock, consent, inbound, outbox, spool
from .config import Settings
from .db import engine_for, error_reason, session_scope
from .messages import render

log = logging.getLogger("followup.web")
MAX_BODY = 64 * 1024  # Twilio's largest form is a few KiB; anything bigger is not Twilio
# Field sizes Twilio never exceeds. A reply past them is refused (400), not stored or spooled: a 3 KB
# MessageSid cannot even be indexed by PostgreSQL, and would be retried from the spool forever.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")  # Twilio's Message SID: SM or MM, 32 hex digits
MAX_ADDRESS = 128  # From/To: E.164 is 16 characters; channel addresses ("whatsapp:+1…") a few more
MAX_TEXT = 4096  # Body: 1,600 characters for SMS, 4,096 for WhatsApp (stored cut to 1,600)
MAX_STATUS, MAX_ERROR_CODE = 32, 16


def create_app(settings: Settings) -> FastAPI:
    engine = engine_for(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app):
        # The spool drainer lives as long as the server: stopped on shutdown, so servers started and
        # stopped in one process (the tests) do not leave a thread each behind.
        stop = threading.Event()
        drainer = _start_spool_drainer(engine, settings.spool_dir, stop) if settings.spool_dir else None
        yield
        stop.set()
        if drainer is not None:
            drainer.join(timeout=10)

    app = FastAPI(title="followup", version="0.1.0", lifespan=lifespan)
    token = settings.twilio_auth_token
    validator = RequestValidator(token or "")
    if settings.allow_unsigned:
        log.warning("FOLLOWUP_ALLOW_UNSIGNED=1: webhook signatures are NOT checked. Local development only.")
    elif not token:
        log.warning("TWILIO_AUTH_TOKEN is not set: /twilio/* answers 403 to every request "
                    "(FOLLOWUP_ALLOW_UNSIGNED=1 accepts unsigned webhooks, for local development only)")

    async def signed_form(request: Request):
        """The form of a genuine Twilio request, or a Response refusing it."""
        body = await _bounded_body(request)
        if isinstance(body, Response):
            return body

        async def replay():
            return {"type": "http.request", "body": body, "more_body": False}

        form = await Request(request.scope, replay).form()
        if not settings.allow_unsigned:
            if not token:  # a signature made with the empty key proves nothing
                return Response("webhook signatures cannot be checked: TWILIO_AUTH_TOKEN is not set",
                                status_code=403)
            # Twilio signs the public URL it called (not our local one) and the multi-dict of the form.
            url = settings.public_url + request.url.path
            if request.url.query:
                url += "?" + request.url.query
            signature = request.headers.get("x-twilio-signature", "")
            if not signature or not validator.validate(url, form, signature):
                return Response("invalid signature", status_code=403)
        # PostgreSQL text cannot hold NUL; Twilio never sends one, but a request that does must not
        # be a 500. Everything else is kept exactly as sent.
        return {key: value.replace("\x00", "\ufffd") for key, value in form.items() if isinstance(value, str)}

    @app.post("/twilio/sms")
    async def twilio_sms(request: Request):
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        problem = _sms_problem(form)
        if problem:
            return Response(problem, status_code=400)
        sender, body, sid = form["From"], form["Body"], form["MessageSid"]
        try:
            result = await run_in_threadpool(_handle_inbound, engine, sender, body, sid, form.get("To"))
        except OperationalError as exc:
            reason = error_reason(exc)
            if settings.spool_dir:
                try:
                    await run_in_threadpool(spool.save, settings.spool_dir, form, clock.now())
                except OSError as spool_error:
                    log.error("database unavailable (%s) and the spool failed (%s): 503, Twilio may retry",
                              reason, spool_error)
                    return Response("database unavailable", status_code=503)
                log.warning("database unavailable (%s): inbound SMS kept in the spool", reason)
                return Response(twiml(render("received_offline", "sms", "en").body), media_type="application/xml")
            log.warning("database unavailable (%s) for an inbound SMS: 503, Twilio may retry", reason)
            return Response("database unavailable", status_code=503)
        return Response(twiml(result.reply), media_type="application/xml")

    @app.post("/twilio/status")
    async def twilio_status(request: Request):
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        problem = _status_problem(form)
        if problem:
            return Response(problem, status_code=400)
        sid, status = form["MessageSid"], form["MessageStatus"]
        error = form.get("ErrorCode") or None
        with session_scope(engine) as session:
            apply_status(session, sid, status, error, clock.now())
        return Response(status_code=204)

    @app.get("/healthz")
    def healthz():
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the database is away: say so, do not crash
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
        return {"status": "ok", "database": "ok"}

    return app


async def _bounded_body(request: Request) -> bytes | Response:
    """The request body, read as it streams in and refused once past MAX_BODY, whatever the encoding
    (a chunked body has no Content-Length to check first)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            return Response("malformed Content-Length", status_code=400)
        if int(declared) > MAX_BODY:
            return Response("request body too large", status_code=413)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return Response("request body too large", status_code=413)
            chunks.append(chunk)
    except ClientDisconnect:  # the client went away mid-body: nobody will read an answer
        return Response("client disconnected", status_code=400)
    return b"".join(chunks)


def _sms_problem(form: dict) -> str | None:
    """Why this inbound-SMS form is not one Twilio sends (one line), or None."""
    sender, body, sid = form.get("From"), form.get("Body"), form.get("MessageSid")
    if not sender or body is None or not sid:
        return "From, Body and MessageSid are required"
    if not MESSAGE_SID.fullmatch(sid):
        return "MessageSid is not a Twilio message SID (SM or MM and 32 hex digits)"
    if len(sender) > MAX_ADDRESS or len(form.get("To") or "") > MAX_ADDRESS:
        return f"From and To are at most {MAX_ADDRESS} characters"
    if len(body) > MAX_TEXT:
        return f"Body is at most {MAX_TEXT} characters"
    return None


def _status_problem(form: dict) -> str | None:
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not sid or not status:
        return "MessageSid and MessageStatus are required"
    if not MESSAGE_SID.fullmatch(sid):
        return "MessageSid is not a Twilio message SID (SM or MM and 32 hex digits)"
    if len(status) > MAX_STATUS or len(form.get("ErrorCode") or "") > MAX_ERROR_CODE:
        return f"MessageStatus is at most {MAX_STATUS} characters and ErrorCode {MAX_ERROR_CODE}"
    return None


def _start_spool_drainer(engine, directory: str, stop: threading.Event, every: float = 2.0) -> threading.Thread:
    """Process spooled replies once the database is back, until `stop` is set."""

    def loop():
        while not stop.wait(every):
            if not spool.pending(directory):
                continue
            try:
                done = spool.drain(engine, directory)
                if done:
                    log.info("processed %d spooled inbound SMS", done)
            except Exception:  # never let the drainer die: the spool would wait forever
                log.exception("draining the spool failed; trying again")

    thread = threading.Thread(target=loop, name="spool-drainer", daemon=True)
    thread.start()
    return thread


def app_from_environment() -> FastAPI:
    """For uvicorn's worker processes (`followup serve --workers N`): settings from the environment."""
    from . import config

    settings = config.load()
    clock.pin(settings.now)
    if settings.now:
        clock.start_ticking()
    return create_app(settings)


def twiml(reply: str | None) -> str:
    if not reply:
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(reply)}</Message></Response>'


def _handle_inbound(engine, sender: str, body: str, sid: str, to: str | None):
    try:
        with session_scope(engine) as session:
            return inbound.handle(session, sender=sender, body=body, sid=sid, to=to, now=clock.now())
    except IntegrityError:
        # The same MessageSid arrived twice at once (Twilio retried): the other request stored it.
        with session_scope(engine) as session:
            return inbound.handle(session, sender=sender, body=body, sid=sid, to=to, now=clock.now())


def apply_status(session, sid: str, status: str, error: str | None, now) -> None:
    """A status callback: the message's status moves forward; a 21610 opts its patient out."""
    message = outbox.apply_status(session, sid, status, error, now)
    if message is not None and error == "21610" and message.patient_id:
        consent.opt_out(session, message.patient_id, now, method="carrier",
                        evidence="Twilio 21610 (status callback)", confirm=False)

"""The HTTP side: Twilio's webhooks (signed) and a health check."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from xml.sax.saxutils import escape
from twilio.request_validator import RequestValidator

from . import clock, consent, inbound, outbox, spool
from .config import Settings
from .db import engine_for, error_reason, session_scope
from .messages import render

log = logging.getLogger("followup.web")
MAX_BODY = 64 * 1024  # Twilio's largest form is a few KiB; anything bigger is not Twilio


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
    validator = RequestValidator(settings.twilio_auth_token or "")
    if settings.allow_unsigned:
        log.warning("FOLLOWUP_ALLOW_UNSIGNED=1: webhook signatures are NOT checked. Local development only.")

    async def signed_form(request: Request):
        """The form of a genuine Twilio request, or a Response refusing it."""
        declared = request.headers.get("content-length") or "0"
        if not declared.isdigit():
            return Response("malformed Content-Length", status_code=400)
        if int(declared) > MAX_BODY:
            return Response("request body too large", status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("request body too large", status_code=413)
        form = await request.form()
        if not settings.allow_unsigned:
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
        sender, body, sid = form.get("From"), form.get("Body"), form.get("MessageSid")
        if not sender or body is None or not sid:
            return Response("From, Body and MessageSid are required", status_code=400)
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
        sid, status = form.get("MessageSid"), form.get("MessageStatus")
        if not sid or not status:
            return Response("MessageSid and MessageStatus are required", status_code=400)
        error = form.get("ErrorCode") or None
        with session_scope(engine) as session:
            message = outbox.apply_status(session, sid, status, error, clock.now())
            if message is not None and error == "21610" and message.patient_id:
                consent.opt_out(session, message.patient_id, clock.now(), method="carrier",
                                evidence="Twilio 21610 (status callback)", confirm=False)
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


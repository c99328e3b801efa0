"""The HTTP side: Twilio's webhooks (signed) and a health check.

Twilio waits 15 s for an answer. Every request that touches the database does so in a worker thread
that the request walks away from after DEADLINE_S: the message is then spooled and answered at once,
as in any outage. That covers a database that is stopped rather than down (SIGSTOP, a frozen VM),
which accepts connections and never answers, and a SQLite file locked by a frozen process.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape, quoteattr

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from twilio.request_validator import RequestValidator

from . import ack_pages, clock, config, inbound, logs, media, metrics, spool, tracking, warmup
from .config import Settings
from .db import Cutter, engine_for, error_reason, session_scope
from .messages import render

log = logging.getLogger("followup.web")
MAX_BODY = 64 * 1024  # Twilio's largest form is a few KiB; anything bigger is not Twilio
# How long a request waits for the database before it spools (Twilio gives up at 15 s). A commit
# already under way gets COMMIT_GRACE_S more: cutting it would leave its outcome in doubt.
DEADLINE_S = 5.0
COMMIT_GRACE_S = 3.0
# Field sizes Twilio never exceeds. A reply past them is refused (400), not stored or spooled: a 3 KB
# MessageSid cannot even be indexed by PostgreSQL, and would be retried from the spool forever.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")  # Twilio's Message SID: SM or MM, 32 hex digits
MAX_ADDRESS = 128  # From/To: E.164 is 16 characters; channel addresses ("whatsapp:+1…") a few more
MAX_TEXT = 4096  # Body: 1,600 characters for SMS, 4,096 for WhatsApp (stored cut to 1,600)
MAX_STATUS, MAX_ERROR_CODE = 32, 16


class DatabaseTimeout(Exception):
    """The database did not answer within the request's deadline."""


class _Abandoned(Exception):
    """The request stopped waiting for this work: it must not commit (the message was spooled)."""


class _Attempt:
    """One request's database work in a thread: it commits only if the request still waits for it."""

    def __init__(self):
        self.cutter = Cutter()
        self._lock = threading.Lock()
        self._state = "running"  # -> committing -> done, or -> abandoned

    def check(self) -> None:
        with self._lock:
            if self._state == "abandoned":
                raise _Abandoned()

    def begin_commit(self) -> None:
        with self._lock:
            if self._state == "abandoned":
                raise _Abandoned()
            self._state = "committing"

    def finish(self) -> None:
        with self._lock:
            if self._state != "abandoned":
                self._state = "done"

    def abandon(self, even_committing: bool = False) -> bool:
        """Give up on the work unless it is done (or committing, unless `even_committing`)."""
        with self._lock:
            if self._state == "done" or (self._state == "committing" and not even_committing):
                return False
            self._state = "abandoned"
        self.cutter.cut()
        return True


def _attempt_run(attempt: _Attempt, fn, *args):
    attempt.check()  # it waited for a thread past its deadline: the request has moved on
    try:
        with attempt.cutter.watching():
            return fn(attempt, *args)
    finally:
        attempt.finish()


def _swallow(future) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: an abandoned attempt's error is expected, not worth a log line


async def within_deadline(executor: ThreadPoolExecutor, fn, *args):
    """Run `fn(attempt, *args)` in a thread; DatabaseTimeout if the database keeps it past the deadline."""
    attempt = _Attempt()
    future = asyncio.get_running_loop().run_in_executor(executor, _attempt_run, attempt, fn, *args)
    future.add_done_callback(_swallow)
    try:
        return await asyncio.wait_for(asyncio.shield(future), DEADLINE_S)
    except TimeoutError:
        pass
    if not attempt.abandon():  # committing (or just done): let it finish
        try:
            return await asyncio.wait_for(asyncio.shield(future), COMMIT_GRACE_S)
        except TimeoutError:
            attempt.abandon(even_committing=True)
    raise DatabaseTimeout(f"no answer within {DEADLINE_S:g} s")


def create_app(settings: Settings) -> FastAPI:
    engine = engine_for(settings.database_url, bounded=True)
    # The webhook's own threads (not the shared threadpool): a request walks away from a thread that
    # waits on the database, and those must not starve the rest.
    executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="followup-webhook")

    @asynccontextmanager
    async def lifespan(_app):
        # The spool drainer lives as long as the server: stopped on shutdown, so servers started and
        # stopped in one process (the tests) do not leave a thread each behind.
        # Before the first request: a reader loaded on first use could cost that reply its deadline.
        await run_in_threadpool(warmup.reader)
        stop = threading.Event()
        drainer = (
            _start_spool_drainer(engine, settings.spool_dir, stop, twilio_answers=twilio_answers)
            if settings.spool_dir
            else None
        )
        yield
        stop.set()
        if drainer is not None:
            # Waiting for the drainer's last write is blocking work: not on the event loop, which
            # may still be answering other requests while the server shuts down.
            await asyncio.to_thread(drainer.join, 10)
        executor.shutdown(wait=False)
        scraper.close()

    app = FastAPI(title="followup", version="0.1.0", lifespan=lifespan)
    http_metrics = metrics.HttpMetrics()
    scraper = metrics.Scraper(settings.database_url, clock.now, settings.spool_dir, http_metrics)
    app.add_middleware(metrics.RequestMetrics, http=http_metrics)
    token = settings.twilio_auth_token
    # Twilio signs the URL it called without the user:pass@ of HTTP basic auth (which it sends in
    # the Authorization header instead); answers and callbacks still go to the URL as given.
    signed_base = without_credentials(settings.public_url)
    twilio_answers = settings.keyword_answers == "twilio"
    validator = RequestValidator(token or "")
    if settings.allow_unsigned:
        log.warning("FOLLOWUP_ALLOW_UNSIGNED=1: webhook signatures are NOT checked. Local development only.")
    elif not token:
        log.warning(
            "TWILIO_AUTH_TOKEN is not set: /twilio/* answers 403 to every request "
            "(FOLLOWUP_ALLOW_UNSIGNED=1 accepts unsigned webhooks, for local development only)"
        )

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
                return Response(
                    "webhook signatures cannot be checked: TWILIO_AUTH_TOKEN is not set", status_code=403
                )
            # Twilio signs the public URL it called (not our local one) and the multi-dict of the form.
            url = signed_base + request.url.path
            if request.url.query:
                url += "?" + request.url.query
            signature = request.headers.get("x-twilio-signature", "")
            if not signature or not validator.validate(url, form, signature):
                return Response("invalid signature", status_code=403)
        # PostgreSQL text cannot hold NUL; Twilio never sends one, but a request that does must not
        # be a 500. Everything else is kept exactly as sent.
        return {key: value.replace("\x00", "\ufffd") for key, value in form.items() if isinstance(value, str)}

    async def keep(save, *args, what: str, reason: str) -> Response | None:
        """Spool a webhook the database could not take; None if kept, else the 503 to answer."""
        if settings.spool_dir:
            try:
                # Not in `executor`: its threads may all be waiting on the database.
                await run_in_threadpool(save, settings.spool_dir, *args)
            except OSError as spool_error:
                log.error(
                    "database unavailable (%s) and the spool failed (%s): 503 for a %s, Twilio may retry",
                    reason,
                    spool_error,
                    what,
                )
                return Response("database unavailable", status_code=503)
            log.warning("database unavailable (%s): %s kept in the spool", reason, what)
            return None
        log.warning("database unavailable (%s) for a %s: 503, Twilio may retry", reason, what)
        return Response("database unavailable", status_code=503)

    @app.post("/twilio/sms")
    async def twilio_sms(request: Request):
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        problem = _sms_problem(form)
        if problem:
            return Response(problem, status_code=400)
        # A media-only MMS may come without a Body field (courier answers it 200, and so do we).
        sender, body, sid = form["From"], form.get("Body") or "", form["MessageSid"]
        extra = {
            "attachments": media.from_form(form),
            "opt_out_type": form.get("OptOutType") or None,
            "twilio_answers": twilio_answers,
        }
        try:
            result = await within_deadline(
                executor, _handle_inbound, engine, sender, body, sid, form.get("To"), extra
            )
        except (SQLAlchemyError, DatabaseTimeout) as exc:
            refused = await keep(spool.save, form, clock.now(), what="inbound SMS", reason=_reason(exc))
            if refused is not None:
                return refused
            return Response(twiml(render("received_offline", "sms", "en").body), media_type="application/xml")
        log.info(
            "inbound SMS: %s",
            result.action,
            extra={"patient_id": result.patient_id, "message_id": result.inbound_id},
        )
        # The answer is tracked: Twilio posts its delivery status to the action URL (tracking.py).
        action = tracking.action_url(settings.public_url, result.answer_id) if result.answer_id else None
        return Response(twiml(result.reply, action), media_type="application/xml")

    @app.post("/twilio/status")
    async def twilio_status(request: Request):
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        problem = _status_problem(form)
        if problem:
            return Response(problem, status_code=400)
        sid, status, error = form["MessageSid"], form["MessageStatus"], form.get("ErrorCode") or None
        named = request.query_params.get("message")  # a TwiML answer's row (its action URL)
        if named is not None and not (named.isdigit() and len(named) < 19):
            return Response("message must be a message id", status_code=400)
        message_id = int(named) if named is not None else None
        try:
            await within_deadline(executor, _handle_status, engine, sid, status, error, message_id)
        except (SQLAlchemyError, DatabaseTimeout) as exc:
            refused = await keep(
                spool.save_status,
                sid,
                status,
                error,
                clock.now(),
                message_id,
                what="status callback",
                reason=_reason(exc),
            )
            if refused is not None:
                return refused
        return Response(status_code=204)

    ack_pages.add_routes(app, settings, lambda fn, *args: within_deadline(executor, fn, engine, *args))

    @app.get("/metrics")
    async def prometheus_metrics():
        # Its own threads and connections (metrics.Scraper): scrapes never take the replies' ones.
        body = await scraper.scrape(DEADLINE_S)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    @app.get("/healthz")
    async def healthz():
        try:
            await within_deadline(executor, _ping, engine)
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
    if body is None and media.from_form(form):
        body = ""  # an MMS of media only
    if not sender or body is None or not sid:
        return "From, Body and MessageSid are required"
    trouble = media.problem(form)
    if trouble:
        return trouble
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


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, DatabaseTimeout) else error_reason(exc)


def _start_spool_drainer(
    engine, directory: str, stop: threading.Event, every: float = 2.0, twilio_answers: bool = False
) -> threading.Thread:
    """Process spooled replies once the database is back, until `stop` is set."""

    def loop():
        while not stop.wait(every):
            if not spool.pending(directory):
                continue
            try:
                done = spool.drain(engine, directory, twilio_answers=twilio_answers)
                if done:
                    log.info("processed %d spooled inbound SMS", done)
            except Exception:  # never let the drainer die: the spool would wait forever
                log.exception("draining the spool failed; trying again")

    thread = threading.Thread(target=loop, name="spool-drainer", daemon=True)
    thread.start()
    return thread


def app_from_environment() -> FastAPI:
    """For uvicorn's worker processes (`followup serve --workers N`): settings from the environment."""
    settings = config.load()
    logs.configure(settings.log_format)  # a process of its own: the parent's logging is not inherited
    clock.pin(settings.now)
    if settings.now:
        clock.start_ticking()
    return create_app(settings)


def twiml(reply: str | None, action: str | None = None) -> str:
    if not reply:
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    attribute = f" action={quoteattr(action)}" if action else ""
    head = '<?xml version="1.0" encoding="UTF-8"?><Response>'
    return f"{head}<Message{attribute}>{escape(reply)}</Message></Response>"


def without_credentials(url: str) -> str:
    """The URL without user:pass@, as Twilio signs it."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _handle_inbound(
    attempt: _Attempt, engine, sender: str, body: str, sid: str, to: str | None, extra: dict | None = None
):
    for last in (False, True):
        try:
            with session_scope(engine) as session:
                attempt.check()
                result = inbound.handle(
                    session, sender=sender, body=body, sid=sid, to=to, now=clock.now(), **(extra or {})
                )
                attempt.begin_commit()
            return result
        except IntegrityError:
            # The same MessageSid arrived twice at once (Twilio retried): the other request stored it,
            # and the second try finds it.
            if last:
                raise
    raise AssertionError("unreachable")


def _handle_status(
    attempt: _Attempt, engine, sid: str, status: str, error: str | None, message_id: int | None = None
) -> None:
    with session_scope(engine) as session:
        attempt.check()
        inbound.apply_status(session, sid, status, error, clock.now(), message_id=message_id)
        attempt.begin_commit()


def _ping(attempt: _Attempt, engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))

"""The acknowledgement link's pages on `followup serve`: GET /ack/TOKEN and POST /ack/TOKEN
(followup/acks.py makes and reads the tokens)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from . import ack_links, acks, clock
from .config import Settings
from .db import session_scope
from .messages import html_environment
from .models import Escalation

UNAVAILABLE = (
    "followup cannot reach its database right now; nothing was changed. Try again in a minute, or "
    "text ACK and the escalation's number from the clinic's alert phone."
)


def _shown(e: Escalation) -> dict[str, Any]:
    """What the page shows of an escalation: nothing of the patient."""
    return {
        "id": e.id,
        "tier": e.tier,
        "rule": e.rule,
        "created_at": e.created_at,
        "acknowledged_at": e.acknowledged_at,
        "acknowledged_by": e.acknowledged_by,
    }


Run = Callable[..., Awaitable[Any]]


def add_routes(app: FastAPI, settings: Settings, run: Run) -> None:
    """GET shows the escalation (id, tier, rule, opened, state) and one button; POST acknowledges.
    A GET never acknowledges: mail scanners and link previews fetch links on their own.
    `run(fn, *args)`: the web module's way to run database work within its deadline."""
    key = settings.ack_secret

    def show(status: int, **context: Any) -> HTMLResponse:
        html = (
            html_environment()
            .get_template("ack.html")
            .render(**{"escalation": None, "done": False, **context})
        )
        return HTMLResponse(html, status_code=status)

    def view(_attempt: object, engine: Engine, token: str) -> dict[str, Any]:
        escalation_id, _to = ack_links.read_token(key, token)
        with session_scope(engine) as session:
            return _shown(acks.page(session, escalation_id))

    def post(_attempt: object, engine: Engine, token: str, name: str | None) -> dict[str, Any]:
        escalation_id, to = ack_links.read_token(key, token)
        with session_scope(engine) as session:
            return _shown(acks.by_link(session, escalation_id, to, name, clock.now()))

    async def ack_page(token: str) -> HTMLResponse:
        try:
            return show(200, escalation=await run(view, token), token=token)
        except ack_links.LinkProblem as problem:
            return show(problem.status, problem=problem.text)
        except Exception:  # the database is away or not answering (web.within_deadline): nothing changed
            return show(503, problem=UNAVAILABLE)

    async def ack_post(token: str, request: Request) -> HTMLResponse:
        body = b""
        async for chunk in request.stream():  # a name and a button: anything bigger is not our form
            body += chunk
            if len(body) > 4096:
                return show(413, problem="The form is too large.")
        names = parse_qs(body.decode("utf-8", "replace")).get("by")
        try:
            return show(200, escalation=await run(post, token, names[0] if names else None), done=True)
        except ack_links.LinkProblem as problem:
            return show(problem.status, problem=problem.text)
        except Exception:  # the database is away or not answering (web.within_deadline): nothing changed
            return show(503, problem=UNAVAILABLE)

    # Registered without decorators: FastAPI's are untyped, and the functions keep their types.
    app.add_api_route("/ack/{token}", ack_page, methods=["GET"], response_class=HTMLResponse)
    app.add_api_route("/ack/{token}", ack_post, methods=["POST"], response_class=HTMLResponse)

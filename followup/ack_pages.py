"""The acknowledgement link's pages on `followup serve`: GET /ack/TOKEN and POST /ack/TOKEN
(followup/acks.py makes and reads the tokens)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse

from . import acks, clock
from .db import session_scope
from .messages import html_environment

UNAVAILABLE = (
    "followup cannot reach its database right now; nothing was changed. Try again in a minute, or "
    "text ACK and the escalation's number from the clinic's alert phone."
)


def add_routes(app, settings, run) -> None:
    """GET shows the escalation (id, tier, rule, opened, state) and one button; POST acknowledges.
    A GET never acknowledges: mail scanners and link previews fetch links on their own.
    `run(fn, *args)`: the web module's way to run database work within its deadline."""
    key = settings.ack_secret

    def show(status: int, **context) -> HTMLResponse:
        html = (
            html_environment()
            .get_template("ack.html")
            .render(**{"escalation": None, "done": False, **context})
        )
        return HTMLResponse(html, status_code=status)

    def view(_attempt, engine, token: str):
        escalation_id, _to = acks.read_token(key, token)
        with session_scope(engine) as session:
            e = acks.page(session, escalation_id)
            return {
                "id": e.id,
                "tier": e.tier,
                "rule": e.rule,
                "created_at": e.created_at,
                "acknowledged_at": e.acknowledged_at,
                "acknowledged_by": e.acknowledged_by,
            }

    def post(_attempt, engine, token: str, name: str | None):
        escalation_id, to = acks.read_token(key, token)
        with session_scope(engine) as session:
            e = acks.by_link(session, escalation_id, to, name, clock.now())
            return {
                "id": e.id,
                "tier": e.tier,
                "rule": e.rule,
                "created_at": e.created_at,
                "acknowledged_at": e.acknowledged_at,
                "acknowledged_by": e.acknowledged_by,
            }

    @app.get("/ack/{token}", response_class=HTMLResponse)
    async def ack_page(token: str):
        try:
            return show(200, escalation=await run(view, token), token=token)
        except acks.LinkProblem as problem:
            return show(problem.status, problem=problem.text)
        except Exception:  # the database is away or not answering (web.within_deadline): nothing changed
            return show(503, problem=UNAVAILABLE)

    @app.post("/ack/{token}", response_class=HTMLResponse)
    async def ack_post(token: str, request: Request):
        body = b""
        async for chunk in request.stream():  # a name and a button: anything bigger is not our form
            body += chunk
            if len(body) > 4096:
                return show(413, problem="The form is too large.")
        name = (parse_qs(body.decode("utf-8", "replace")).get("by") or [None])[0]
        try:
            return show(200, escalation=await run(post, token, name), done=True)
        except acks.LinkProblem as problem:
            return show(problem.status, problem=problem.text)
        except Exception:  # the database is away or not answering (web.within_deadline): nothing changed
            return show(503, problem=UNAVAILABLE)

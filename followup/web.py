"""The HTTP side: FastAPI app for Twilio's webhooks and a health check."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from .config import Settings
from .db import engine_for


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="followup", version="0.1.0")
    engine = engine_for(settings.database_url)

    @app.get("/healthz")
    def healthz():
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the database is away: say so, do not crash
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
        return {"status": "ok", "database": "ok"}

    return app

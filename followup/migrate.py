"""`followup db upgrade`: Alembic driven from code, with the scripts found wherever followup is installed."""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from alembic import command

from .db import engine_for
from .resources import resource_dir


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resource_dir("alembic")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    with engine_for(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()

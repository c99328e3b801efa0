"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from followup import models  # noqa: F401  (registers the tables)
from followup.db import engine_for


def test_the_migrated_schema_matches_the_models_with_every_index(db_url):
    with engine_for(db_url).connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []


def test_0008_downgrades_and_upgrades_again_keeping_the_outbox(db_url):
    from sqlalchemy import inspect

    from alembic import command
    from followup import db, migrate

    def columns() -> set[str]:
        db.dispose(db_url)
        return {c["name"] for c in inspect(engine_for(db_url)).get_columns("message")}

    head = migrate.current(db_url)
    assert "lease_token" in columns()
    command.downgrade(migrate.alembic_config(db_url), "0007")
    assert "lease_token" not in columns() and migrate.current(db_url) == "0007"
    migrate.upgrade(db_url)
    assert "lease_token" in columns() and migrate.current(db_url) == head
    with engine_for(db_url).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_0011_downgrades_and_upgrades_again_keeping_clinics_without_an_alert_route(db_url):
    """Clinics added before 0011 may have no alert route: the migration keeps them as they are."""
    from sqlalchemy import inspect, text

    from alembic import command
    from followup import db, migrate

    command.downgrade(migrate.alembic_config(db_url), "0010")  # the revision before 0011
    db.dispose(db_url)
    with engine_for(db_url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO clinic (name, phone, timezone, quiet_start, quiet_end, emergency_number, "
                "created_at) VALUES ('Old', '+16175550100', 'America/New_York', '08:00', '21:00', '911', "
                "'2026-01-01 00:00:00')"
            )
        )
    migrate.upgrade(db_url)
    db.dispose(db_url)
    assert "enrolment_episode" in inspect(engine_for(db_url)).get_table_names()
    with engine_for(db_url).connect() as conn:
        assert conn.execute(text("SELECT name, alert_webhook FROM clinic")).all() == [("Old", None)]

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

"""Prepared statements store and read exactly what SQLAlchemy would, in the caller's transaction."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from followup.db import engine_for, session_scope
from followup.models import Message, Reading
from followup.prepared import Prepared

M = Message.__table__.c
NEW_YORK = timezone(timedelta(hours=-5))
ROW = {
    "direction": "out",
    "kind": "reminder",
    "channel": "sms",
    "status": "pending",
    "dedupe_key": "k1",
    "local_date": date(2026, 12, 1),
    "due_at": datetime(2026, 12, 1, 9, 0, tzinfo=NEW_YORK),
    "body": "Hi",
    "attempts": 0,
    "quiet_exempt": True,
    "created_at": datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
    "updated_at": datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
}
INSERT = Prepared(insert(Message.__table__).returning(M.id), keys=tuple(ROW))
BY_KEY = Prepared(
    select(M.id, M.local_date, M.due_at, M.quiet_exempt, M.sent_at).where(
        M.dedupe_key == bindparam("key"), M.direction == "out"
    )
)


def test_a_prepared_insert_stores_what_sqlalchemy_reads_back(db_url):
    with session_scope(engine_for(db_url)) as session:
        new_id = INSERT.scalar(session.connection(), **ROW)
    with session_scope(engine_for(db_url)) as session:
        stored = session.get(Message, new_id)
        assert (stored.local_date, stored.due_at, stored.quiet_exempt) == (
            ROW["local_date"],
            ROW["due_at"],
            True,
        )
        assert stored.due_at.tzinfo == UTC and stored.due_at.hour == 14  # 09:00 in New York, as UTC


def test_a_prepared_select_returns_the_values_sqlalchemy_returns(db_url):
    with session_scope(engine_for(db_url)) as session:
        INSERT.run(session.connection(), **ROW)
        prepared = BY_KEY.first(session.connection(), key="k1")
        core = session.connection().execute(BY_KEY.statement, {"key": "k1"}).one()
    assert prepared == tuple(core)
    assert prepared[1:] == (date(2026, 12, 1), datetime(2026, 12, 1, 14, 0, tzinfo=UTC), True, None)
    with session_scope(engine_for(db_url)) as session:
        assert BY_KEY.first(session.connection(), key="nothing") is None


def test_a_prepared_statement_is_part_of_the_callers_transaction(db_url):
    with pytest.raises(RuntimeError):
        with session_scope(engine_for(db_url)) as session:
            INSERT.run(session.connection(), **ROW)
            raise RuntimeError("something later in the same transaction failed")
    with session_scope(engine_for(db_url)) as session:
        assert BY_KEY.first(session.connection(), key="k1") is None  # rolled back with it


def test_a_driver_error_comes_out_as_sqlalchemys_so_callers_catch_it(db_url):
    with pytest.raises(IntegrityError):
        with session_scope(engine_for(db_url)) as session:
            INSERT.run_many(session.connection(), [ROW, ROW])  # the same dedupe_key twice


def test_a_missing_value_is_named_and_an_in_list_is_refused(db_url):
    with session_scope(engine_for(db_url)) as session:
        with pytest.raises(TypeError, match="'key'"):
            BY_KEY.first(session.connection())
        with pytest.raises(TypeError, match="IN list"):
            Prepared(select(M.id).where(M.kind.in_(("a", "b")))).rows(session.connection())
        with pytest.raises(TypeError, match="column default"):
            Prepared(insert(Reading.__table__), keys=("patient_id",)).run(session.connection(), patient_id=1)

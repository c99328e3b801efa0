"""Prepared statements store and read exactly what SQLAlchemy would, in the caller's transaction."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    bindparam,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from followup.db import engine_for, session_scope
from followup.models import Message, Reading, UTCDateTime
from followup.prepared import MEMO_LIMIT, Prepared, _memos

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


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
def test_the_sqlalchemy_internals_prepared_relies_on_still_mean_what_they_did(dialect_name):
    """A canary: a SQLAlchemy release that renames or reshapes any of these fails here, by name,
    instead of as wrong values somewhere in a reply or a send (pyproject.toml pins the minor version)."""
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.sql.visitors import replacement_traverse

    dialect = sqlite.dialect() if dialect_name == "sqlite" else postgresql.psycopg.dialect()
    statement = select(M.id, M.due_at).where(M.dedupe_key == bindparam("key"), M.due_at < bindparam("at"))
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup if dialect.positional else list(compiled.params)
    assert names == ["key", "at"]
    assert compiled.binds["key"].required and compiled.binds["at"].required
    stored = compiled.binds["at"].type.dialect_impl(dialect).bind_processor(dialect)
    read = M.due_at.type.dialect_impl(dialect).result_processor(dialect, None)
    at = datetime(2026, 12, 1, 9, 0, tzinfo=NEW_YORK)
    if dialect_name == "sqlite":
        assert stored(at) == "2026-12-01 14:00:00.000000"
        assert read("2026-12-01 14:00:00.000000") == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    else:
        assert stored(at) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    constant = select(M.id).where(M.status == "pending").compile(dialect=dialect).binds
    bind = constant["status_1"]
    assert (bind.required, bind.callable, bind.effective_value) == (False, None, "pending")
    assert bind.type.literal_processor(dialect)("pending") == "'pending'"
    assert "__[POSTCOMPILE" in select(M.id).where(M.kind.in_(("a", "b"))).compile(dialect=dialect).string
    defaulted = insert(Reading.__table__).compile(dialect=dialect, column_keys=["patient_id"])
    assert defaulted.insert_prefetch  # the columns whose Python-side defaults a raw cursor would skip
    assert hasattr(compiled, "escaped_bind_names")
    assert replacement_traverse(statement, {}, lambda element, **kw: None) is not None
    assert all(hasattr(dialect, a) for a in ("positional", "is_disconnect")) and hasattr(
        type(dialect), "loaded_dbapi"
    )


class _Tagged(TypeDecorator[str]):
    """Stores what it was given, with its Python type: 1, True and 1.0 are three different values."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else f"{type(value).__name__}:{value!r}"


_SCRATCH = MetaData()
_KEPT = Table(
    "kept",
    _SCRATCH,
    Column("id", Integer, primary_key=True),
    Column("tag", _Tagged()),
    Column("at", UTCDateTime()),
)
_KEEP = Prepared(insert(_KEPT), keys=("tag", "at"))


def _kept(values):
    engine = create_engine("sqlite://")
    _SCRATCH.create_all(engine)
    with engine.begin() as conn:
        for tag, at in values:  # one statement each: the memo outlives a call
            _KEEP.run(conn, tag=tag, at=at)
        _KEEP.run_many(conn, [{"tag": tag, "at": at} for tag, at in values])
        stored = conn.execute(select(_KEPT.c.tag, _KEPT.c.at).order_by(_KEPT.c.id)).all()
    return [tuple(row) for row in stored]


def test_equal_values_of_different_types_are_stored_as_themselves():
    # 1 == True == 1.0, with one hash: a memo keyed by the value alone would store the first of them
    # for all three. Each is stored as it was given, whether bound alone or in one executemany.
    stored = _kept([(1, None), (True, None), (1.0, None), (1, None)])
    assert [tag for tag, _ in stored] == ["int:1", "bool:True", "float:1.0", "int:1"] * 2


def test_the_two_half_past_ones_of_a_fall_back_night_are_two_instants():
    # 2026-11-01 01:30 happens twice in New York (EDT, then EST). Python calls the two equal (same
    # zone, same wall time) and hashes them alike; they are an hour apart.
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    second = first.replace(fold=1)
    stored = _kept([("a", first), ("b", second), ("c", first)])
    expected = [datetime(2026, 11, 1, h, 30, tzinfo=UTC) for h in (5, 6, 5)]
    assert [at for _, at in stored] == expected * 2


def test_the_memo_is_bounded():
    engine = create_engine("sqlite://")
    _SCRATCH.create_all(engine)
    with engine.begin() as conn:
        _KEEP.run_many(conn, [{"tag": i, "at": None} for i in range(MEMO_LIMIT * 2 + 10)])
        assert conn.execute(select(func.count()).select_from(_KEPT)).scalar() == MEMO_LIMIT * 2 + 10
        assert conn.execute(select(_KEPT.c.tag).order_by(_KEPT.c.id.desc())).first() == (
            f"int:{MEMO_LIMIT * 2 + 9}",
        )
    assert all(len(memo) <= MEMO_LIMIT for memo in _memos.values())


def test_values_read_back_are_each_callers_own_when_they_could_be_changed():
    # The same stored text read twice: an instant is the same instant, a JSON column's dict is a
    # new dict each time (a caller that changes its copy does not change the next caller's).
    scratch = MetaData()
    table = Table(
        "doc",
        scratch,
        Column("id", Integer, primary_key=True),
        Column("doc", JSON),
        Column("at", UTCDateTime()),
    )
    engine = create_engine("sqlite://")
    scratch.create_all(engine)
    at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    read = Prepared(select(table.c.doc, table.c.at).where(table.c.id == bindparam("id")))
    with engine.begin() as conn:
        Prepared(insert(table), keys=("doc", "at")).run_many(conn, [{"doc": {"a": 1}, "at": at}] * 2)
        first = read.first(conn, id=1)
        first.doc["a"] = 2
        assert read.first(conn, id=1).doc == {"a": 1} and read.first(conn, id=2).doc == {"a": 1}
        assert read.first(conn, id=2).at == at == first.at

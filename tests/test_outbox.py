"""The outbox's claim reads the rows due now through the due index, never the whole plan."""

from factories import add_clinic, enrol, utc

from followup import outbox
from followup.db import engine_for, session_scope


def test_the_claim_finds_due_rows_by_the_due_index_not_the_grace_index(sqlite_url):
    # Every pending row is within its grace: through ix_message_grace the claim would read the
    # whole 48-hour plan to find the few rows due now (outbox._not_indexed keeps SQLite off it).
    now = utc(2026, 12, 1, 14, 0)
    enrol(sqlite_url, add_clinic(sqlite_url, now), now, n=20)
    with session_scope(engine_for(sqlite_url)) as session:
        connection = session.connection()
        connection.exec_driver_sql("ANALYZE")
        sql = outbox._claim(True)._form(connection.dialect).sql
        stamp = "2026-12-01 14:00:00.000000"
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql,
            ("sending", stamp, "w", "t", stamp, stamp, stamp, stamp, "sms", 50, 0),
        ).all()
    steps = " | ".join(row[3] for row in plan)
    assert "ix_message_due" in steps and "ix_message_grace" not in steps, steps


def test_each_dispatch_run_finds_expiring_alerts_by_the_grace_index_not_every_alert_ever_sent(sqlite_url):
    # Without statistics (no ANALYZE: simulate, most SQLite files) SQLite would answer `kind = 'alert'`
    # from the kind index and read every alert ever queued, once a dispatch run.
    now = utc(2026, 12, 1, 14, 0)
    enrol(sqlite_url, add_clinic(sqlite_url, now), now, n=2)
    with session_scope(engine_for(sqlite_url)) as session:
        connection = session.connection()
        sql = outbox._expiring(("alert", "event"))._form(connection.dialect).sql
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, ("2026-12-01 14:00:00.000000",)).all()
    steps = " | ".join(row[3] for row in plan)
    assert "ix_message_grace" in steps and "ix_message_kind" not in steps, steps

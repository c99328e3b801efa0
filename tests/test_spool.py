"""Replies kept in the spool while the database was away are processed once it is back: with their
arrival time, answered by SMS, and only once however many processes drain the spool."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from followup import spool
from followup.db import engine_for, session_scope
from followup.models import Escalation, Message

ARRIVED = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)  # 19:30 in Boston


def test_a_spooled_red_flag_is_escalated_as_of_its_arrival_and_answered_by_sms(followup, tmp_path):
    followup.enrol(followup.clinic())
    spool.save(
        str(tmp_path),
        {
            "From": "+16175550123",
            "To": "+16175550100",
            "MessageSid": "SMred",
            "Body": "I can't control my bladder since this morning",
        },
        ARRIVED,
    )
    spool.save(str(tmp_path), {"From": "+19995550000", "MessageSid": "SMstranger", "Body": "hello?"}, ARRIVED)

    assert spool.drain(engine_for(followup.url), str(tmp_path)) == 2
    assert not spool.pending(str(tmp_path))
    with session_scope(engine_for(followup.url)) as session:
        [escalation] = session.execute(select(Escalation)).scalars().all()
        answers = session.execute(select(Message).where(Message.kind == "escalation")).scalars().all()
        inbound = session.execute(select(Message).where(Message.direction == "in")).scalars().all()
    assert escalation.rule == "E1" and escalation.created_at == ARRIVED
    assert [(a.status, a.to_addr, a.quiet_exempt) for a in answers] == [("pending", "+16175550123", True)]
    assert "911" in answers[0].body  # the emergency answer goes out as an SMS, not lost with the webhook's
    assert sorted(m.provider_id for m in inbound) == ["SMred", "SMstranger"]  # the stranger gets no SMS


def test_two_drainers_process_each_spooled_reply_once(followup_sqlite, tmp_path):
    followup = followup_sqlite
    followup.enrol(followup.clinic())
    for i in range(40):
        spool.save(
            str(tmp_path), {"From": "+16175550123", "MessageSid": f"SM{i:04d}", "Body": f"{i % 5} N"}, ARRIVED
        )
    done = []
    drainers = [
        threading.Thread(target=lambda: done.append(spool.drain(engine_for(followup.url), str(tmp_path))))
        for _ in range(2)
    ]
    for d in drainers:
        d.start()
    for d in drainers:
        d.join()
    assert sum(done) == 40
    with session_scope(engine_for(followup.url)) as session:
        assert len(session.execute(select(Message.id).where(Message.direction == "in")).all()) == 40


def test_while_the_database_is_still_away_the_spool_keeps_everything(tmp_path):
    from pg import free_port

    spool.save(str(tmp_path), {"From": "+16175550123", "MessageSid": "SMwait", "Body": "6 N"}, ARRIVED)
    gone = engine_for(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone")
    assert spool.drain(gone, str(tmp_path)) == 0
    assert [p.name for p in tmp_path.glob("*.json")] == ["SMwait.json"]


def test_a_file_left_claimed_by_a_dead_drainer_is_processed_and_a_bad_file_is_set_aside(
    followup_sqlite, tmp_path
):
    import os
    import time

    followup = followup_sqlite
    followup.enrol(followup.clinic())
    tmp_path = tmp_path / "spool"  # apart from the database file
    kept = spool.save(
        str(tmp_path), {"From": "+16175550123", "MessageSid": "SMorphan", "Body": "2 N"}, ARRIVED
    )
    orphan = kept.with_suffix(".4242.claimed")
    os.replace(kept, orphan)  # its drainer was killed mid-file ten minutes ago
    os.utime(orphan, (time.time() - 600, time.time() - 600))
    (tmp_path / "SMbroken.json").write_text("{not json")

    assert spool.drain(engine_for(followup.url), str(tmp_path)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SMbroken.failed"]
    with session_scope(engine_for(followup.url)) as session:
        assert session.execute(
            select(Message.provider_id).where(Message.direction == "in")
        ).scalars().all() == ["SMorphan"]


def test_a_running_server_drains_its_spool_and_stops_its_drainer_when_it_stops(followup_sqlite, tmp_path):
    import time

    from channel_fixtures import LiveServer

    from followup import config

    followup = followup_sqlite
    followup.enrol(followup.clinic())
    spool.save(str(tmp_path), {"From": "+16175550123", "MessageSid": "SMlater", "Body": "4 N"}, ARRIVED)
    settings = config.load(
        {"FOLLOWUP_DATABASE_URL": followup.url, "TWILIO_AUTH_TOKEN": "t", "FOLLOWUP_SPOOL_DIR": str(tmp_path)}
    )
    with LiveServer(settings, lifespan="on"):
        for _ in range(200):
            if not spool.pending(str(tmp_path)):
                break
            time.sleep(0.05)
    assert not spool.pending(str(tmp_path))
    with session_scope(engine_for(followup.url)) as session:
        assert session.execute(
            select(Message.provider_id).where(Message.direction == "in")
        ).scalars().all() == ["SMlater"]
    assert not [t for t in threading.enumerate() if t.name == "spool-drainer" and t.is_alive()]


def _sent_reminder(url: str, patient_id: int, sid: str) -> None:
    from sqlalchemy import insert

    with session_scope(engine_for(url)) as session:
        session.execute(
            insert(Message.__table__),
            [
                {
                    "patient_id": patient_id,
                    "clinic_id": 1,
                    "direction": "out",
                    "kind": "reminder",
                    "channel": "sms",
                    "status": "sent",
                    "dedupe_key": "spool:reminder",
                    "due_at": ARRIVED,
                    "sent_at": ARRIVED,
                    "next_attempt_at": ARRIVED,
                    "body": "a reminder",
                    "provider_id": sid,
                    "attempts": 1,
                    "quiet_exempt": False,
                    "created_at": ARRIVED,
                    "updated_at": ARRIVED,
                }
            ],
        )


def test_a_spooled_21610_status_callback_fails_the_message_and_opts_the_patient_out(followup, tmp_path):
    patient = followup.enrol(followup.clinic())
    sid = "SM" + "1" * 32
    _sent_reminder(followup.url, patient, sid)
    tmp_path = tmp_path / "spool"  # apart from the database file
    spool.save_status(str(tmp_path), sid, "undelivered", "21610", ARRIVED)

    assert spool.drain(engine_for(followup.url), str(tmp_path)) == 1
    assert not list(tmp_path.iterdir())
    [reminder] = [m for m in followup.json("messages", "--patient", patient) if m["provider_id"] == sid]
    assert reminder["status"] == "failed" and reminder["error"].startswith("21610")
    assert followup.json("patient", "show", patient)["status"] == "opted_out"


@pytest.mark.postgres
def test_an_entry_the_database_can_never_store_is_set_aside_with_one_log_line_not_retried(
    pg_url, tmp_path, caplog
):
    from conftest import Followup

    followup = Followup(pg_url)
    followup.enrol(followup.clinic())
    import secrets

    # Kept by an older version that did not check sizes: PostgreSQL cannot index a 4 KB MessageSid
    # (random, so that it does not compress below the 2.7 KB an index entry may hold).
    poison = spool.save(
        str(tmp_path),
        {"From": "+16175550123", "MessageSid": "SM" + secrets.token_urlsafe(3000), "Body": "6 N"},
        ARRIVED,
    )
    spool.save(str(tmp_path), {"From": "+16175550123", "MessageSid": "SM" + "2" * 32, "Body": "4 N"}, ARRIVED)

    assert spool.drain(engine_for(pg_url), str(tmp_path)) == 1  # the good one, although it came after
    assert [p.name for p in tmp_path.iterdir()] == [poison.with_suffix(".failed").name]
    assert not spool.pending(str(tmp_path))  # so the drainer does not try it again every 2 s
    [line] = [r for r in caplog.records if r.name == "followup.spool" and r.levelname == "ERROR"]
    assert "set aside" in line.getMessage() and line.exc_info is None and "\n" not in line.getMessage()
    with session_scope(engine_for(pg_url)) as session:
        assert session.execute(
            select(Message.provider_id).where(Message.direction == "in")
        ).scalars().all() == ["SM" + "2" * 32]


def test_a_spooled_file_survives_a_power_cut_its_directory_is_synced_after_the_rename(tmp_path, monkeypatch):
    import os
    import stat

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(
        os,
        "fsync",
        lambda fd: (
            events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file"),
            real_fsync(fd),
        )[1],
    )
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("rename"), real_replace(a, b))[1])
    (tmp_path / "spool").mkdir()
    spool.save(str(tmp_path / "spool"), {"From": "+16175550123", "MessageSid": "SMx", "Body": "6 N"}, ARRIVED)
    assert events == ["fsync file", "rename", "fsync dir"]

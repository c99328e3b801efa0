"""`followup simulate`: a whole programme on a fake clock, with fake channels and scripted patients.

Everything real runs: enrolment, planning, dispatch, the inbound handler (the webhook's code), the
rules, escalations and the time-based rules. Only the clock, the channels and the patients are fake.
The clock jumps from one event to the next (a message due, a scripted reply, the hourly time-based
rules), so a month of a thousand patients takes seconds. Deterministic for a seed.
"""

from __future__ import annotations

import heapq
import os
import random
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select

from . import clinics, enrolment, inbound, migrate, outbox
from .channels.base import Outgoing
from .channels.fake import FakeChannel
from .db import dispose, engine_for, session_scope
from .localtime import zone
from .models import Escalation, Message, Patient
from .service import Worker

BEHAVIOURS = ("adherent", "forgetful", "worsening", "red flag", "opts out")
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Script:
    """How one scripted patient answers."""

    behaviour: str
    rng: random.Random
    day: int = 0

    def answer(self, kind: str, day: int) -> str | None:
        b, r = self.behaviour, self.rng
        if b == "opts out" and day >= 3:
            return "STOP"
        if b == "red flag" and day == 4 and kind == "checkin":
            return "I can't control my bladder since this morning"
        if b == "forgetful" and r.random() < 0.6:
            return None
        if kind == "reminder":
            return "DONE" if r.random() < 0.9 else None
        if kind == "checkin":
            if b == "worsening":
                pain = min(9, 3 + day // 2)
                return f"pain {pain}, numb {'yes' if day >= 5 else 'no'}"
            return f"{max(1, 5 - day)} N"  # getting better: a point a day
        return None


@dataclass
class Result:
    lines: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    database: str | None = None  # with `keep`: a URL for `followup --db URL report|patient show|messages`

    def text(self) -> str:
        s = self.summary
        counts = lambda d: ", ".join(f"{k} {v}" for k, v in d.items()) or "none"  # noqa: E731
        plural = lambda n, noun: f"{n} {noun}" + ("" if n == 1 else "s")  # noqa: E731
        return "\n".join(
            self.lines
            + [
                f"\n{plural(s['patients'], 'patient')}, {plural(s['days'], 'day')}, seed {s['seed']}: "
                f"{counts(s['behaviours'])}",
                f"sent: {counts(s['sent'])}",
                f"replies received: {s['replies_received']}; escalations: {counts(s['escalations'])}",
                f"patients: {counts(s['patient_status'])}; "
                f"skipped or failed: {counts(s['skipped_or_failed'])}",
            ]
            + (
                [f"explore it: followup --db {self.database} report --format html --out report.html"]
                if self.database
                else []
            )
        )


class _ScriptedPhones:
    """Wraps the fake SMS channel: each delivered message may schedule the patient's answer."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        self.inner = FakeChannel("sms", keep=False)
        self.name, self.concurrency = "sms", 1

    def send(self, message: Outgoing) -> str:
        provider_id = self.inner.send(message)
        self.sim.delivered(message)
        return provider_id


class Simulation:
    def __init__(
        self, patients: int, days: int, seed: int, transcript: bool, on_day=None, keep: str | None = None
    ):
        self.keep = keep
        self.on_day = on_day or (lambda _n: None)
        self.patients, self.days, self.seed, self.transcript = patients, days, seed, transcript
        self.rng = random.Random(seed)
        self.now = START
        self.events: list[tuple[datetime, int, str, str]] = []  # (when, seq, phone, body)
        self.seq = 0
        self.result = Result()
        self.by_phone: dict[str, tuple[int, Script, str, datetime]] = {}
        self.days_reported = 0
        self._taking_replies = None  # the open transaction of _replies, see there

    def clock(self) -> datetime:
        return self.now

    def delivered(self, message: Outgoing) -> None:
        if message.to not in self.by_phone:
            return  # the clinic's alert phone
        pid, script, tz, start = self.by_phone[message.to]
        day = (self.now - start).days
        self._say(pid, tz, "→", f"{message.kind}: {message.body.splitlines()[0][:70]}")
        body = script.answer(message.kind, day)
        if body is not None:
            self.seq += 1
            delay = timedelta(minutes=self.rng.randint(2, 90))
            heapq.heappush(self.events, (self.now + delay, self.seq, message.to, body))

    def _say(self, pid: int, tz: str, arrow: str, text: str) -> None:
        if self.transcript:
            local = self.now.astimezone(zone(tz)).strftime("%a %d %b %H:%M")  # the patient's own clock
            self.result.lines.append(f"{local}  patient {pid:<3} {arrow} {text}")

    def run(self) -> Result:
        """In a temporary directory, removed afterwards whatever happens; `keep` names a file to keep
        the simulated database in (owner-only)."""
        workdir = Path(tempfile.mkdtemp(prefix="followup-simulate-"))
        try:
            return self._run(workdir)
        finally:
            dispose(f"sqlite:///{workdir / 'simulation.db'}")
            shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, workdir: Path) -> Result:
        url = f"sqlite:///{workdir / 'simulation.db'}"
        migrate.upgrade(url)
        dispose(url)  # a fresh engine, so every connection gets the pragma below
        engine = engine_for(url)

        @event.listens_for(engine, "connect")
        def _throwaway(dbapi_conn, _record):
            # A scratch database with one connection at a time: durability across a power cut is
            # worth nothing here, so no waiting for the disk at each of tens of thousands of commits,
            # and a journal in memory (docs/PERFORMANCE.md has the figures). The report run on it
            # afterwards sets the WAL again.
            for pragma in ("synchronous=OFF", "journal_mode=MEMORY", "cache_size=-131072"):
                dbapi_conn.execute(f"PRAGMA {pragma}")

        with session_scope(engine) as session:
            clinic = clinics.add_clinic(
                session,
                self.now,
                name="Simulated Clinic",
                phone="+16175550100",
                timezone="America/New_York",
                alert_email="alerts@clinic.example",
                alert_phone="+16175550199",
            )
            rows = []
            for i in range(self.patients):
                rows.append(
                    (
                        f"row {i + 2}",
                        {
                            "name": f"Patient {i + 1}",
                            "phone": f"+1617555{2000 + i:04d}",
                            "timezone": ZONES[i % len(ZONES)],
                            "consent": "yes",
                            "reminder_times": "09:00",
                            "checkin_time": "19:00",
                            "weeks": str(max(1, -(-self.days // 7))),
                            "start": "2026-12-01",
                        },
                    )
                )
            created = enrolment.enrol(session, clinic, rows, self.now, method="csv")
        for patient in created:
            behaviour = (
                BEHAVIOURS[(patient.id - 1) % len(BEHAVIOURS)]
                if self.patients <= 5
                else self.rng.choices(BEHAVIOURS, weights=(50, 25, 10, 5, 10))[0]
            )
            self.by_phone[patient.phone] = (
                patient.id,
                Script(behaviour, random.Random(self.seed * 7919 + patient.id)),
                patient.timezone,
                START,
            )
            if self.transcript:
                self.result.lines.append(
                    f"patient {patient.id} ({patient.timezone}) is scripted as {behaviour}"
                )
        worker = Worker(
            engine, {"sms": _ScriptedPhones(self), "email": FakeChannel("email", keep=False)}, now=self.clock
        )
        end = START + timedelta(days=self.days)
        next_rules = self.now
        due = self._next_due(engine)
        try:
            self._loop(engine, worker, end, next_rules, due)
        except BaseException as exc:
            self._settle(exc)
            raise
        finally:
            worker.close()  # its lease heartbeat's thread
        self._settle()
        self.on_day(self.days - self.days_reported)
        self.result.summary = self._summary(engine)
        dispose(url)
        if self.keep:
            target = os.path.abspath(self.keep)
            os.chmod(workdir / "simulation.db", 0o600)
            shutil.move(str(workdir / "simulation.db"), target)
            self.result.database = f"sqlite:///{target}"
        return self.result

    def _loop(
        self, engine, worker: Worker, end: datetime, next_rules: datetime, due: datetime | None
    ) -> None:
        while self.now < end:
            if due is not None and due <= self.now:  # dispatching only when something is due halves the run
                self._settle()
                worker.dispatch()
                due = self._next_due(engine)
            if self.now >= next_rules:
                self._settle()
                days_done = (self.now - START).days
                if days_done > self.days_reported:
                    self.on_day(days_done - self.days_reported)
                    self.days_reported = days_done
                worker.plan()
                worker.rules()
                next_rules = self.now + timedelta(hours=1)
                due = self._next_due(engine)
            candidates = [t for t in (due, next_rules, self.events[0][0] if self.events else None, end) if t]
            self.now = max(self.now + timedelta(seconds=1), min(candidates))
            if self.events and self.events[0][0] <= self.now:
                due = self._replies(engine)

    def _replies(self, engine) -> datetime | None:
        """Every reply that has arrived by now, through the webhook's handler, each at its own instant.

        The webhook commits each reply on its own. Here one transaction takes the replies of every
        step until something else (dispatch, planning, the hourly rules) must run: nothing else
        reads or writes in between, so the outcome is the same, and a month of replies takes a
        few thousand commits instead of one per step. Returns when the next message is due."""
        if self._taking_replies is None:
            scope = session_scope(engine)
            self._taking_replies = (scope, scope.__enter__())
        session = self._taking_replies[1]
        while self.events and self.events[0][0] <= self.now:
            _, _, phone, body = heapq.heappop(self.events)
            answer = inbound.handle(session, sender=phone, body=body, now=self.now)
            pid, _, tz, _ = self.by_phone[phone]
            self._say(pid, tz, "←", body)
            if answer.reply:
                self._say(pid, tz, "→", f"reply: {answer.reply[:70]}")
        return outbox.next_due(session.connection())

    def _settle(self, error: BaseException | None = None) -> None:
        """Commit the replies taken so far (roll them back on `error`) before anything else runs."""
        if self._taking_replies is not None:
            scope, self._taking_replies = self._taking_replies[0], None
            scope.__exit__(type(error) if error else None, error, error.__traceback__ if error else None)

    @staticmethod
    def _next_due(engine) -> datetime | None:
        with engine.connect() as conn:  # a plain connection: no ORM session for one number
            return outbox.next_due(conn)

    def _summary(self, engine) -> dict:
        with session_scope(engine) as session:
            sent = Counter(
                f"{k}"
                for (k,) in session.execute(
                    select(Message.kind).where(Message.direction == "out", Message.status == "sent")
                )
            )
            received = session.execute(select(func.count()).where(Message.direction == "in")).scalar()
            escalations = Counter(r for (r,) in session.execute(select(Escalation.rule)))
            statuses = Counter(s for (s,) in session.execute(select(Patient.status)))
            skipped = Counter(
                e.split(":")[0]
                for (e,) in session.execute(
                    select(Message.error).where(Message.status.in_(("skipped", "failed")))
                )
            )
        behaviours = Counter(script.behaviour for _, script, _, _ in self.by_phone.values())
        return {
            "patients": self.patients,
            "days": self.days,
            "seed": self.seed,
            "behaviours": dict(behaviours),
            "sent": dict(sorted(sent.items())),
            "replies_received": received,
            "escalations": dict(sorted(escalations.items())),
            "patient_status": dict(statuses),
            "skipped_or_failed": dict(skipped),
        }


def simulate(
    patients: int, days: int, seed: int, transcript: bool | None = None, on_day=None, keep: str | None = None
) -> Result:
    """`on_day(n)` is told as simulated days complete (the CLI's progress bar); `keep` is a file to
    keep the database in, else nothing is left behind."""
    return Simulation(
        patients, days, seed, transcript if transcript is not None else patients <= 5, on_day, keep
    ).run()

"""SQLModel tables. Every datetime is timezone-aware UTC in Python (UTCDateTime does the storing)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

# Stable constraint names, so Alembic batch migrations on SQLite can find them again.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def table_of(model: type[SQLModel]) -> Table:
    """A model's Core table, typed: SQLModel declares no `__table__` for type checkers."""
    return model.__table__  # type: ignore[attr-defined, no-any-return]


def stored_id(row: object) -> int:
    """The id of a row already flushed to the database (an ORM id is None only before that)."""
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return value


PATIENT_STATUSES = ("active", "paused", "opted_out", "completed", "unenrolled")
TIERS = ("emergency", "urgent", "soon", "routine")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python; naive UTC text on SQLite (sorts correctly), timestamptz on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: followup stores instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _utc(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _fk(target: str, nullable: bool = False, index: bool = True, unique: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey(target, ondelete="CASCADE"), nullable=nullable, index=index, unique=unique
        ),
    )


class Clinic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    phone: str  # E.164
    email: str | None = None
    alert_email: str | None = None
    alert_phone: str | None = None  # E.164
    alert_webhook: str | None = None  # an https URL (migration 0009); a clinic needs one route at least
    # The events' body (migration 0009): "standard" ({"type", "timestamp", "data"}) or "slack" ({"text"}).
    alert_webhook_format: str = Field(
        default="standard", sa_column=Column(String, nullable=False, server_default="standard")
    )
    timezone: str
    # The sending window in the patient's local time; outside it nothing scheduled goes out.
    quiet_start: str = "08:00"
    quiet_end: str = "21:00"
    emergency_number: str = "911"
    # What SMS call the clinic when its name forces UCS-2 ("Clínica San José"): GSM-7 only (0010).
    sms_name: str | None = None
    created_at: datetime = _utc(nullable=False)


class Patient(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("clinic_id", "phone", name="uq_patient_clinic_phone"),
        Index("ix_patient_phone", "phone"),
    )  # every inbound SMS finds its sender by number

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = _fk("clinic.id")
    name: str
    phone: str  # E.164
    email: str | None = None
    timezone: str
    language: str = "en"
    channel: str = "sms"  # sms | email | both
    status: str = Field(default="active", index=True)
    status_reason: str | None = None
    phone_unusable: bool = False  # Twilio said the number cannot receive SMS (21211/21614)
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class Enrolment(SQLModel, table=True):
    # Ids are never reused (migration 0011): messages' dedupe keys name them, and a re-enrolment
    # replaces the patient's row with a new one (episodes.py).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _fk("patient.id", unique=True)
    program: str
    start_date: date
    weeks: int
    reminder_times: str  # "09:00,13:00" patient-local
    checkin_time: str  # "19:00" patient-local
    checkin_every_days: int = 1
    # Messages exist in the outbox up to here; the planner only visits enrolments that fall behind.
    planned_until: datetime | None = _utc(index=True)
    # The end of the last programme day in the patient's zone: completion is one indexed query.
    ends_at: datetime = _utc(nullable=False, index=True)
    # Emergency/urgent escalations hold exercise reminders (check-ins go on) until a clinician resumes.
    reminders_held: bool = False
    created_at: datetime = _utc(nullable=False)
    ended_at: datetime | None = _utc()


class EnrolmentEpisode(SQLModel, table=True):
    """An enrolment that ended (completed or unenrolled), kept when the patient is enrolled again
    (migration 0011). The enrolment table holds only the current one: one row per patient."""

    __tablename__ = "enrolment_episode"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _fk("patient.id")
    number: int  # 1 for the first enrolment
    enrolment_id: int  # the enrolment row it was (its messages' dedupe keys name it)
    program: str
    start_date: date
    weeks: int
    reminder_times: str
    checkin_time: str
    checkin_every_days: int
    outcome: str  # completed | unenrolled
    created_at: datetime = _utc(nullable=False)
    ended_at: datetime | None = _utc()


class Consent(SQLModel, table=True):
    """Every grant, opt-out and opt-in, with how and under which wording: the consent history."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _fk("patient.id")
    action: str  # granted | opted_out | opted_in
    method: str  # cli | csv | sms | carrier
    wording_version: str
    evidence: str | None = None  # e.g. the keyword the patient sent
    at: datetime = _utc(nullable=False)


def _only(name: str, column: str, status: str) -> Index:
    where = text(f"status = '{status}'")
    return Index(name, column, sqlite_where=where, postgresql_where=where)


class Message(SQLModel, table=True):
    """The outbox and the inbox: one row per SMS/email in either direction."""

    __table_args__ = (
        UniqueConstraint("direction", "provider_id", name="uq_message_direction_provider_id"),
        Index("ix_message_kind_sent_at", "kind", "sent_at"),  # check-ins sent in a window (R1)
        # A patient's latest, and every lookup by patient (the foreign key's own index).
        Index("ix_message_patient_direction_sent_at", "patient_id", "direction", "sent_at"),
        Index("ix_message_in_reply_to", "in_reply_to"),  # a retried webhook's earlier answer
        # Partial (migration 0007): only the rows waiting to go out, not every message ever sent.
        _only("ix_message_due", "next_attempt_at", "pending"),  # claim
        _only("ix_message_grace", "expires_at", "pending"),  # what ran out of grace (every dispatch run)
        _only("ix_message_lease", "lease_until", "sending"),  # expired leases, release
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int | None = _fk("patient.id", nullable=True, index=False)  # indexed with direction, sent_at
    clinic_id: int | None = _fk("clinic.id", nullable=True, index=False)
    direction: str  # out | in
    kind: str
    channel: str  # sms | email
    status: str
    # Outbound scheduled messages: enrolment:kind:local date:slot, so re-planning never duplicates.
    dedupe_key: str | None = Field(default=None, unique=True)
    local_date: date | None = None
    slot: str | None = None
    due_at: datetime | None = _utc()
    next_attempt_at: datetime | None = _utc()
    expires_at: datetime | None = _utc()
    sent_at: datetime | None = _utc()
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    subject: str | None = None
    to_addr: str | None = None
    from_addr: str | None = None
    provider_id: str | None = None
    error: str | None = None
    attempts: int = 0
    lease_until: datetime | None = _utc()
    lease_owner: str | None = None
    # A fresh value at every claim: a send, a lease extension or an outcome counts only while the
    # row still carries the claim it was made under (migration 0008).
    lease_token: str | None = None
    quiet_exempt: bool = False
    in_reply_to: int | None = None
    # An inbound MMS's attachments: JSON [{"url", "type"}], Twilio's MediaUrlN/MediaContentTypeN (0010).
    media: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class Reading(SQLModel, table=True):
    """What a patient's reply said, as the parser understood it."""

    __table_args__ = (
        # Every column the rules read: a patient's history is one range of the index (migration 0006).
        Index(
            "ix_reading_history", "patient_id", "at", "understood", "pain", "numbness", "flags", "local_date"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _fk("patient.id", index=False)
    message_id: int = _fk("message.id", unique=True)
    answers_message_id: int | None = None
    local_date: date
    at: datetime = _utc(nullable=False)
    pain: int | None = None
    numbness: bool | None = None
    done: int = 0
    flags: str = ""  # space-separated red-flag names found in free text
    understood: bool = True


class Escalation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _fk("patient.id")
    rule: str
    tier: str
    reason: str
    source_message_id: int | None = None
    created_at: datetime = _utc(nullable=False)
    acknowledged_at: datetime | None = _utc()
    acknowledged_by: str | None = None
    note: str | None = None
    realerted_at: datetime | None = _utc()


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(nullable=False)
    actor: str
    action: str
    clinic_id: int | None = None
    patient_id: int | None = Field(default=None, index=True)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class RateLimit(SQLModel, table=True):
    """A deployment-wide send schedule: the next free send slot, shared by every worker."""

    __tablename__ = "rate_limit"

    name: str = Field(primary_key=True)
    next_free_at: float = 0.0  # Unix seconds (wall clock: rate limits are physical, not fake-clock time)


# --- read-only rows -----------------------------------------------------------------------------------
# What the hot paths read of a patient and their clinic: plain rows, not ORM objects (whose loading
# and validation cost more than the rest of an inbound SMS: docs/PERFORMANCE.md). One type whoever
# read them, so that code given "a patient" knows what it holds.


class PatientRow(NamedTuple):
    id: int
    clinic_id: int
    name: str
    phone: str
    email: str | None
    timezone: str
    language: str
    channel: str
    status: str
    status_reason: str | None
    phone_unusable: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, source: Any, prefix: str = "") -> PatientRow:
        """From an ORM Patient, or a row whose columns are named `prefix` + the column's name."""
        return cls._make(_getter(cls._fields, prefix)(source))


class ClinicRow(NamedTuple):
    id: int
    name: str
    phone: str
    email: str | None
    alert_email: str | None
    alert_phone: str | None
    alert_webhook: str | None
    alert_webhook_format: str
    timezone: str
    quiet_start: str
    quiet_end: str
    emergency_number: str
    sms_name: str | None
    created_at: datetime

    @classmethod
    def of(cls, source: Any, prefix: str = "") -> ClinicRow:
        return cls._make(_getter(cls._fields, prefix)(source))


class EscalationRow(NamedTuple):
    """An escalation as escalation.record wrote it: what its alerts and events say of it."""

    id: int
    patient_id: int
    rule: str
    tier: str
    reason: str
    source_message_id: int | None
    created_at: datetime


@lru_cache(maxsize=8)
def _getter(fields: tuple[str, ...], prefix: str) -> attrgetter[Any]:
    """Reads each field by its (prefixed) name, in one call: every inbound SMS builds two rows."""
    return attrgetter(*(prefix + name for name in fields))

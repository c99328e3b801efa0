"""enrolment_episode, and a required alert route: re-enrolment with the history kept

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

After 0010, itself after 0009, which added clinic.alert_webhook (a third alert route beside
alert_email and alert_phone).

- `clinic add` now refuses a clinic with no alert route at all. Clinics added before this revision
  without any route are left as they are (nothing is guessed for them): their escalations are still
  recorded and shown by `followup escalations`, the patient is not told "the clinic has been told",
  `clinic list` marks them, and `followup clinic update ID --alert-email/--alert-phone/--alert-webhook`
  gives them one.
- enrolment ids are never reused (AUTOINCREMENT on SQLite), see upgrade().
- enrolment_episode: an enrolment that ended (completed or unenrolled), kept when the same patient
  is enrolled again. The enrolment table keeps one row per patient, the current one, so every query
  that joins a patient to its enrolment still finds one row.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "alert_webhook" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("clinic")}:
        op.add_column("clinic", sa.Column("alert_webhook", sa.String(), nullable=True))  # 0009 added it
    op.create_table(
        "enrolment_episode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patient.id", ondelete="CASCADE", name="fk_enrolment_episode_patient_id_patient"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("reminder_times", sa.String(), nullable=False),
        sa.Column("checkin_time", sa.String(), nullable=False),
        sa.Column("checkin_every_days", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_enrolment_episode"),
    )
    op.create_index("ix_enrolment_episode_patient_id", "enrolment_episode", ["patient_id"])
    if op.get_bind().dialect.name == "sqlite":
        # A new episode is a new enrolment row, and messages' dedupe keys name the enrolment's id:
        # SQLite would hand the id of a just-deleted last row out again, AUTOINCREMENT never does
        # (PostgreSQL's sequences never reuse one either).
        with op.batch_alter_table(
            "enrolment", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch_op:
            batch_op.alter_column("id", existing_type=sa.Integer())


def downgrade() -> None:
    op.drop_index("ix_enrolment_episode_patient_id", table_name="enrolment_episode")
    op.drop_table("enrolment_episode")
    # clinic.alert_webhook stays: 0009 (issue 18's events) added it, and its downgrade drops it.

"""message.in_reply_to and patient.phone: indexes for the inbound hot path

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Found by the 100,000-patient soak on PostgreSQL: every retried webhook looked up its earlier answer
by in_reply_to with a parallel sequential scan of the whole message table (over a second each at a
million rows), and every inbound SMS found its patient by phone with a scan of the patient table
(the unique index leads with clinic_id).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_message_in_reply_to", "message", ["in_reply_to"])
    op.create_index("ix_patient_phone", "patient", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_patient_phone", table_name="patient")
    op.drop_index("ix_message_in_reply_to", table_name="message")

"""message: indexes for the time-based rules and the reply handler

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Without them, the R1 rule (every minute) scanned every outbound message for the check-ins sent a
day ago, and each reply scanned its patient's messages for the one it answers.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_message_kind_sent_at", "message", ["kind", "sent_at"])
    op.create_index("ix_message_patient_direction_sent_at", "message", ["patient_id", "direction", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_message_patient_direction_sent_at", table_name="message")
    op.drop_index("ix_message_kind_sent_at", table_name="message")

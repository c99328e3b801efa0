"""message: the outbox's indexes hold only the rows waiting to go out

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

(status, next_attempt_at) and (status, expires_at) indexed every message ever sent or received,
though only pending and leased rows are ever looked up through them, and every row written paid
for both. They become three partial indexes: pending rows by next attempt and by expiry, leased
rows by lease end. An inbound SMS, its answer and every sent message no longer touch them, and
what remains is a few thousand rows, not the whole history. ix_message_patient_id goes too: the
(patient_id, direction, sent_at) index of 0003 starts with the same column.

SQLite uses a partial index only when the query names its condition term for term, so each holds
one status ('pending' or 'sending'), which is how claim, expiry and release ask.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = {
    "ix_message_due": ("next_attempt_at", "pending"),
    "ix_message_grace": ("expires_at", "pending"),
    "ix_message_lease": ("lease_until", "sending"),
}


def upgrade() -> None:
    for name, (column, status) in PARTIAL.items():
        where = sa.text(f"status = '{status}'")
        op.create_index(name, "message", [column], sqlite_where=where, postgresql_where=where)
    op.drop_index("ix_message_claim", table_name="message")
    op.drop_index("ix_message_expiry", table_name="message")
    op.drop_index("ix_message_patient_id", table_name="message")


def downgrade() -> None:
    op.create_index("ix_message_patient_id", "message", ["patient_id"])
    op.create_index("ix_message_expiry", "message", ["status", "expires_at"])
    op.create_index("ix_message_claim", "message", ["status", "next_attempt_at"])
    for name in PARTIAL:
        op.drop_index(name, table_name="message")

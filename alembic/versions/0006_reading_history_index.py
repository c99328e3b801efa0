"""reading (patient_id, at, ...): a patient's history in one index range, without a row lookup each

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Every reply that reports pain, numbness or a flag reads the patient's last 60 days of readings for
the rules. With only (patient_id) indexed, each reading was a separate lookup in the table, where a
patient's rows lie scattered among everyone else's: 90 us for 59 readings on SQLite. The new index
holds every column the rules read, so the history is one contiguous range of it, and it replaces
the old one, whose leading column it shares.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["patient_id", "at", "understood", "pain", "numbness", "flags", "local_date"]


def upgrade() -> None:
    op.create_index("ix_reading_history", "reading", COLUMNS)
    op.drop_index("ix_reading_patient_id", table_name="reading")


def downgrade() -> None:
    op.create_index("ix_reading_patient_id", "reading", ["patient_id"])
    op.drop_index("ix_reading_history", table_name="reading")

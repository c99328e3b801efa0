"""clinic.sms_name and message.media: what SMS call a clinic, and an MMS's attachments

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

clinic.sms_name: every SMS starts with the clinic's name, and one letter outside GSM-7 ("í") makes
every message UCS-2, about twice the segments. The SMS name is the GSM-7 spelling texts use instead.
message.media: the media URLs and content types of an inbound MMS, as JSON, shown to the clinic.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clinic", sa.Column("sms_name", sa.String(), nullable=True))
    op.add_column("message", sa.Column("media", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35), as in 0008: batch mode would rebuild message's partial indexes.
    op.drop_column("message", "media")
    op.drop_column("clinic", "sms_name")

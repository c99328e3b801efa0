"""clinic.alert_webhook_format (and clinic.alert_webhook where it is not there yet): signed events to a
clinic's webhook

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Events (escalation.opened, escalation.acknowledged, patient.opted_out, patient.opted_in,
message.failed) go out through the outbox as messages of kind `event` on the `webhook` channel, so
they need no table of their own: only where to send them and in which body. `alert_webhook` is also
checked for by the clinic-operations revision (0011), which was written beside it.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("clinic")}


def upgrade() -> None:
    if "alert_webhook" not in _columns():
        op.add_column("clinic", sa.Column("alert_webhook", sa.String(), nullable=True))
    op.add_column(
        "clinic",
        sa.Column("alert_webhook_format", sa.String(), nullable=False, server_default="standard"),
    )


def downgrade() -> None:
    # alert_webhook stays: it may be the clinic-operations revision's (its own downgrade drops it).
    op.drop_column("clinic", "alert_webhook_format")

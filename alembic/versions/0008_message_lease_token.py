"""message.lease_token: a send happens only while the claim it was made under still holds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Each claim writes a fresh token beside the lease owner. Right before every provider call the worker
extends its lease with an UPDATE that names the row, the owner and the token and must hit one row;
outcomes are recorded under the same condition. A worker whose lease ran out while it was stalled
(frozen, swapped out, a long GC pause) and whose rows another worker has since claimed finds
nothing to update, and does not send.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("message", sa.Column("lease_token", sa.String(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35), not batch mode: rebuilding the table would have to
    # carry the partial indexes of 0007 across by reflection.
    op.drop_column("message", "lease_token")

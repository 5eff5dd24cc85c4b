"""Complaints record the last year whose holiday arrangement their deadline was counted with
(deadline_known_through), so a provisional deadline is counted again only by a calendar that knows more

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Complaints already stored keep null: not recorded. Their provisional deadlines are counted
    # again by the first calendar that looks, which then records its own last year.
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline_known_through", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_column("deadline_known_through")

"""report_view.review: where a report's review stands, so that a plan requiring review counts
approved reports only and shows the pending ones

Reports kept before needed no review. A rebuild reads each report's review from its events.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_view", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review", sa.String(length=20), nullable=False, server_default="not_required"))


def downgrade() -> None:
    with op.batch_alter_table("report_view", schema=None) as batch_op:
        batch_op.drop_column("review")

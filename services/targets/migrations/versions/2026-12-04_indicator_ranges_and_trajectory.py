"""Indicators: a target or milestone may be a range (target_max, milestone_maxima), and a
trajectory (linear | compound) says how the years between baseline and target go

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing indicators are single figures on a linear path: what a file without these meant.
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_max", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("milestone_maxima", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("trajectory", sa.String(length=10), nullable=False, server_default="linear"))
    # The service always writes milestone_maxima; the default only filled the rows already there.
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.alter_column("milestone_maxima", existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_column("trajectory")
        batch_op.drop_column("milestone_maxima")
        batch_op.drop_column("target_max")

"""round_submission_seen: the departments' reports that cancel their rounds' alerts

Revision ID: w0003
Revises: w0002
Create Date: 2026-12-05 01:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "w0003"
down_revision = "w0002"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "round_submission_seen",
        sa.Column("plan", String(length=100), nullable=False),
        sa.Column("round", String(length=10), nullable=False),
        sa.Column("department", String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("plan", "round", "department"),
    )


def downgrade() -> None:
    op.drop_table("round_submission_seen")

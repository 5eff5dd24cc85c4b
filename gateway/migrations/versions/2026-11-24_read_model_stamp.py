"""The read model's stamp, new after each transaction that applied events (view cache key)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 03:00:00
"""

import uuid

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "read_model_stamp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stamp", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "stamp": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("read_model_stamp")

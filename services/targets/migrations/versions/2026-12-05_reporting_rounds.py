"""Reporting rounds with review (填报与审核): a plan's reporting settings, the departments'
round submissions, and on each progress report its round, submission, review status and version

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporting", sa.JSON(), nullable=True))
    op.create_table(
        "round_submission",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("plan_id", sa.String(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("round", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("first_submitted_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("attachment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "round", "department", name="uq_round_submission_plan_round_department"),
    )
    op.create_index("ix_round_submission_plan_id", "round_submission", ["plan_id"])
    # Reports made before are nobody's round and needed no review; each has been its version 1.
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column("submission_id", sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column("review", sa.String(length=20), nullable=False, server_default="not_required"))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_foreign_key("fk_progress_report_submission", "round_submission", ["submission_id"], ["id"])
        batch_op.create_index("ix_progress_report_submission_id", ["submission_id"])


def downgrade() -> None:
    with op.batch_alter_table("progress_report", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_report_submission_id")
        batch_op.drop_constraint("fk_progress_report_submission", type_="foreignkey")
        batch_op.drop_column("version")
        batch_op.drop_column("review")
        batch_op.drop_column("submission_id")
        batch_op.drop_column("round")
    op.drop_index("ix_round_submission_plan_id", table_name="round_submission")
    op.drop_table("round_submission")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("reporting")

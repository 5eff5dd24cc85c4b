"""Cases, campaigns, region policies (deadline rules, watch-list windows) and watch-list entries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:36:00.748661
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("focus", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("region", "name", name="uq_campaign_region_name"),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_region_id", ["region", "id"], unique=False)

    op.create_table(
        "enforcement_case",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("case_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("procedure", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("respondent_kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("respondent_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("respondent_uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
        sa.Column("respondent_id_number", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
        sa.Column("complainant", sa.JSON(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("filed_date", sa.Date(), nullable=False),
        sa.Column("handling_unit", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("deadline_rule", sa.JSON(), nullable=False),
        sa.Column("extension", sa.JSON(), nullable=True),
        sa.Column("suspensions", sa.JSON(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("overdue_since", sa.Date(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("decided_date", sa.Date(), nullable=True),
        sa.Column("decision_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("fine_fen", sa.BigInteger(), nullable=True),
        sa.Column("confiscation_fen", sa.BigInteger(), nullable=True),
        sa.Column("illegal_revenue_fen", sa.BigInteger(), nullable=True),
        sa.Column("transfer", sa.JSON(), nullable=True),
        sa.Column("closed_date", sa.Date(), nullable=True),
        sa.Column("closed_on_time", sa.Boolean(), nullable=True),
        sa.Column("timeline", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("region", "case_number", name="uq_case_region_number"),
    )
    with op.batch_alter_table("enforcement_case", schema=None) as batch_op:
        batch_op.create_index("ix_case_region_id", ["region", "id"], unique=False)
        batch_op.create_index("ix_case_respondent_decided", ["respondent_uscc", "decided_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_case_type"), ["case_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_closed_date"), ["closed_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_decided_date"), ["decided_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_filed_date"), ["filed_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_handling_unit"), ["handling_unit"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_overdue_since"), ["overdue_since"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_procedure"), ["procedure"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_case_status"), ["status"], unique=False)

    op.create_table(
        "region_policy",
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("deadline_rules", sa.JSON(), nullable=False),
        sa.Column("watch_windows", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region"),
    )
    op.create_table(
        "watchlist_entry",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("respondent_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("listed_periods", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("watchlist_entry", schema=None) as batch_op:
        batch_op.create_index("ix_watchlist_region_uscc", ["region", "uscc"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("watchlist_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_watchlist_region_uscc")

    op.drop_table("watchlist_entry")
    op.drop_table("region_policy")
    with op.batch_alter_table("enforcement_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_case_status"))
        batch_op.drop_index(batch_op.f("ix_enforcement_case_procedure"))
        batch_op.drop_index(batch_op.f("ix_enforcement_case_overdue_since"))
        batch_op.drop_index(batch_op.f("ix_enforcement_case_handling_unit"))
        batch_op.drop_index(batch_op.f("ix_enforcement_case_filed_date"))
        batch_op.drop_index(batch_op.f("ix_enforcement_case_decided_date"))
        batch_op.drop_index(batch_op.f("ix_enforcement_case_closed_date"))
        batch_op.drop_index(batch_op.f("ix_enforcement_case_case_type"))
        batch_op.drop_index(batch_op.f("ix_enforcement_case_campaign_id"))
        batch_op.drop_index("ix_case_respondent_decided")
        batch_op.drop_index("ix_case_region_id")

    op.drop_table("enforcement_case")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_region_id")

    op.drop_table("campaign")

"""Pledges (with subsidies and risk compensations), transactions, insurance policies,
matchmaking events, and the IP assets they are about

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:31:32.234713
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _money(name: str, nullable: bool = False) -> sa.Column:
    """Money is integer fen (zhichan.money_column.YuanInFen): exact on SQLite and PostgreSQL."""
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "pledge",
        sa.Column("id", _text(26), nullable=False),
        sa.Column("region", _text(32), nullable=False),
        sa.Column("registration_number", _text(100), nullable=False),
        sa.Column("pledgor_name", _text(200), nullable=False),
        sa.Column("pledgor_uscc", _text(18), nullable=False),
        sa.Column("pledgee", _text(200), nullable=False),
        _money("loan_amount"),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("loan_term_start", sa.Date(), nullable=False),
        sa.Column("loan_term_end", sa.Date(), nullable=False),
        sa.Column("guarantee_mode", _text(20), nullable=False),
        _money("valuation", nullable=True),
        sa.Column("appraisal_agency_uscc", _text(18), nullable=True),
        sa.Column("kind", _text(20), nullable=False),
        sa.Column("patent_count", sa.Integer(), nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("released_on", sa.Date(), nullable=True),
        sa.Column("defaulted_on", sa.Date(), nullable=True),
        _money("outstanding_at_default", nullable=True),
        sa.Column("disposed_on", sa.Date(), nullable=True),
        _money("disposal_proceeds", nullable=True),
        sa.Column("status_history", sa.JSON(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registration_number", name="uq_pledge_registration_number"),
    )
    with op.batch_alter_table("pledge", schema=None) as batch_op:
        batch_op.create_index("ix_pledge_kind", ["kind"], unique=False)
        batch_op.create_index("ix_pledge_pledgor_uscc", ["pledgor_uscc"], unique=False)
        batch_op.create_index("ix_pledge_region_id", ["region", "id"], unique=False)
        batch_op.create_index("ix_pledge_region_registered_on", ["region", "registered_on"], unique=False)
        batch_op.create_index("ix_pledge_status", ["status"], unique=False)

    op.create_table(
        "pledge_subsidy",
        sa.Column("id", _text(26), nullable=False),
        sa.Column("pledge_id", sa.String(length=26), nullable=False),
        _money("amount"),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("approving_body", _text(200), nullable=False),
        sa.Column("recorded_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pledge_id"], ["pledge.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pledge_subsidy", schema=None) as batch_op:
        batch_op.create_index("ix_pledge_subsidy_pledge_id", ["pledge_id"], unique=False)

    op.create_table(
        "pledge_risk_compensation",
        sa.Column("id", _text(26), nullable=False),
        sa.Column("pledge_id", sa.String(length=26), nullable=False),
        sa.Column("claimed_on", sa.Date(), nullable=False),
        _money("claim_amount"),
        _money("paid_amount"),
        sa.Column("fund", _text(200), nullable=True),
        sa.Column("recorded_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pledge_id"], ["pledge.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pledge_risk_compensation", schema=None) as batch_op:
        batch_op.create_index("ix_pledge_risk_compensation_pledge_id", ["pledge_id"], unique=False)

    op.create_table(
        "ip_transaction",
        sa.Column("id", _text(26), nullable=False),
        sa.Column("region", _text(32), nullable=False),
        sa.Column("type", _text(30), nullable=False),
        sa.Column("record_number", _text(100), nullable=True),
        sa.Column("grantor_name", _text(200), nullable=False),
        sa.Column("grantor_uscc", _text(18), nullable=True),
        sa.Column("grantee_name", _text(200), nullable=False),
        sa.Column("grantee_uscc", _text(18), nullable=True),
        _money("amount"),
        sa.Column("contract_date", sa.Date(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_number", name="uq_ip_transaction_record_number"),
    )
    with op.batch_alter_table("ip_transaction", schema=None) as batch_op:
        batch_op.create_index("ix_ip_transaction_region_id", ["region", "id"], unique=False)
        batch_op.create_index("ix_ip_transaction_region_recorded_on", ["region", "recorded_on"], unique=False)
        batch_op.create_index("ix_ip_transaction_type", ["type"], unique=False)

    op.create_table(
        "insurance_policy",
        sa.Column("id", _text(26), nullable=False),
        sa.Column("region", _text(32), nullable=False),
        sa.Column("policy_number", _text(100), nullable=False),
        sa.Column("insurer", _text(200), nullable=False),
        sa.Column("insured_name", _text(200), nullable=False),
        sa.Column("insured_uscc", _text(18), nullable=True),
        _money("insured_amount"),
        _money("premium"),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_number", name="uq_insurance_policy_policy_number"),
    )
    with op.batch_alter_table("insurance_policy", schema=None) as batch_op:
        batch_op.create_index("ix_insurance_policy_region_id", ["region", "id"], unique=False)
        batch_op.create_index("ix_insurance_policy_region_period_start", ["region", "period_start"], unique=False)

    op.create_table(
        "matchmaking_event",
        sa.Column("id", _text(26), nullable=False),
        sa.Column("region", _text(32), nullable=False),
        sa.Column("title", _text(200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("organiser", _text(200), nullable=False),
        sa.Column("banks", sa.JSON(), nullable=False),
        sa.Column("enterprises_attending", sa.Integer(), nullable=False),
        _money("intended_amount"),
        _money("signed_amount"),
        *_stamps(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("matchmaking_event", schema=None) as batch_op:
        batch_op.create_index("ix_matchmaking_event_region_held_on", ["region", "held_on"], unique=False)
        batch_op.create_index("ix_matchmaking_event_region_id", ["region", "id"], unique=False)

    op.create_table(
        "ip_asset",
        sa.Column("holder_type", _text(30), nullable=False),
        sa.Column("holder_id", _text(26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("asset_type", _text(20), nullable=False),
        sa.Column("number", _text(100), nullable=False),
        sa.Column("title", _text(300), nullable=False),
        sa.PrimaryKeyConstraint("holder_type", "holder_id", "position"),
    )
    with op.batch_alter_table("ip_asset", schema=None) as batch_op:
        batch_op.create_index("ix_ip_asset_asset_type_holder", ["asset_type", "holder_type", "holder_id"], unique=False)


def downgrade() -> None:
    # dropping a table drops its indexes; children before the pledge they point to
    for table in (
        "ip_asset",
        "matchmaking_event",
        "insurance_policy",
        "ip_transaction",
        "pledge_risk_compensation",
        "pledge_subsidy",
        "pledge",
    ):
        op.drop_table(table)

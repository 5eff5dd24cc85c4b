"""Supervision: practitioners, annual reports, complaints, credit archive, random inspections,
evaluations; agencies keep their brand level decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:32:50.463062
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
        "inspection_draw",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("drawn_on", sa.Date(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("algorithm", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("agency_count", sa.Integer(), nullable=False),
        sa.Column("inspector_count", sa.Integer(), nullable=False),
        sa.Column("grade_weights", sa.JSON(), nullable=False),
        sa.Column("eligible_agencies", sa.JSON(), nullable=False),
        sa.Column("inspector_pool", sa.JSON(), nullable=False),
        sa.Column("drawn_agencies", sa.JSON(), nullable=False),
        sa.Column("drawn_inspectors", sa.JSON(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inspection_draw", schema=None) as batch_op:
        batch_op.create_index("ix_inspection_draw_region_id", ["region", "id"], unique=False)

    op.create_table(
        "annual_report",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.Column("practitioners", sa.Integer(), nullable=False),
        sa.Column("service_revenue", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("filings_handled", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("supersedes", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=True),
        sa.Column("superseded_by", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=True),
        sa.Column("supersede_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("annual_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annual_report_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index("ix_annual_report_region_year", ["region", "year"], unique=False)
        batch_op.create_index(
            "uq_annual_report_current",
            ["agency_id", "year"],
            unique=True,
            sqlite_where=sa.text("status = 'current'"),
            postgresql_where=sa.text("status = 'current'"),
        )

    op.create_table(
        "complaint",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("complainant_contact", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("handling_working_days", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index("ix_complaint_open_deadline", ["status", "deadline"], unique=False)
        batch_op.create_index("ix_complaint_region_id", ["region", "id"], unique=False)

    op.create_table(
        "credit_entry",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_credit_entry_agency_date", ["agency_id", "occurred_on"], unique=False)

    op.create_table(
        "evaluation",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("evaluator", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_id", "year", name="uq_evaluation_agency_year"),
    )
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index("ix_evaluation_region_year", ["region", "year"], unique=False)

    op.create_table(
        "inspection",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("draw_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("inspectors", sa.JSON(), nullable=False),
        sa.Column("drawn_on", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("finding", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("decision_reference", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("concluded_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["inspection_draw.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_draw_id"), ["draw_id"], unique=False)
        batch_op.create_index("ix_inspection_region_id", ["region", "id"], unique=False)

    op.create_table(
        "practitioner",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("certificate_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("leave_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_practitioner_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_practitioner_certificate_number"), ["certificate_number"], unique=False)
        batch_op.create_index("ix_practitioner_region_id", ["region", "id"], unique=False)
        batch_op.create_index(
            "uq_practitioner_active_certificate",
            ["certificate_number"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brand_history", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_column("brand_history")

    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_practitioner_active_certificate",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index("ix_practitioner_region_id")
        batch_op.drop_index(batch_op.f("ix_practitioner_certificate_number"))
        batch_op.drop_index(batch_op.f("ix_practitioner_agency_id"))

    op.drop_table("practitioner")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_region_id")
        batch_op.drop_index(batch_op.f("ix_inspection_draw_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_agency_id"))

    op.drop_table("inspection")
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_region_year")

    op.drop_table("evaluation")
    with op.batch_alter_table("credit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_entry_agency_date")

    op.drop_table("credit_entry")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_region_id")
        batch_op.drop_index("ix_complaint_open_deadline")
        batch_op.drop_index(batch_op.f("ix_complaint_agency_id"))

    op.drop_table("complaint")
    with op.batch_alter_table("annual_report", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_annual_report_current",
            sqlite_where=sa.text("status = 'current'"),
            postgresql_where=sa.text("status = 'current'"),
        )
        batch_op.drop_index("ix_annual_report_region_year")
        batch_op.drop_index(batch_op.f("ix_annual_report_agency_id"))

    op.drop_table("annual_report")
    with op.batch_alter_table("inspection_draw", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_draw_region_id")

    op.drop_table("inspection_draw")

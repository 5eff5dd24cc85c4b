"""Indicators: the source is kept as the plan file writes it, in one JSON column, because a
source may now be a ratio or a growth of other sources, or a metric with an opening balance

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:45:00
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDICATOR = sa.table(
    "indicator",
    sa.column("id", sa.String),
    sa.column("source_metric", sa.String),
    sa.column("source_filters", sa.JSON),
    sa.column("source", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(INDICATOR.c.id, INDICATOR.c.source_metric, INDICATOR.c.source_filters).where(
            INDICATOR.c.source_metric.is_not(None)
        )
    ).all()
    for row_id, metric, filters in rows:
        filters = json.loads(filters) if isinstance(filters, str) else filters
        source = {"metric": metric, **({"filters": filters} if filters else {})}
        connection.execute(sa.update(INDICATOR).where(INDICATOR.c.id == row_id).values(source=source))
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_column("source_filters")
        batch_op.drop_column("source_metric")


def downgrade() -> None:
    # A ratio or a growth has no place in the old columns: it is read back as reported.
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_metric", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("source_filters", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    connection = op.get_bind()
    rows = connection.execute(sa.select(INDICATOR.c.id, INDICATOR.c.source).where(INDICATOR.c.source.is_not(None)))
    for row_id, source in rows.all():
        source = json.loads(source) if isinstance(source, str) else source
        if source and "metric" in source:
            connection.execute(
                sa.update(INDICATOR)
                .where(INDICATOR.c.id == row_id)
                .values(source_metric=source["metric"], source_filters=source.get("filters", {}))
            )
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.alter_column("source_filters", existing_type=sa.JSON(), server_default=None)
        batch_op.drop_column("source")

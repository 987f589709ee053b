"""drop caller_cases: routing reads a caller's open cases from the work orders

Revision ID: 0004_roster
Revises: 0002_roster
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_roster"
down_revision = "0002_roster"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The table never had a writer: its rows, if any were put there by hand, name no order.
    op.drop_index("ix_caller_cases_caller_number", "caller_cases")
    op.drop_table("caller_cases")


def downgrade() -> None:
    op.create_table(
        "caller_cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_caller_cases_caller_number", "caller_cases", ["caller_number"])

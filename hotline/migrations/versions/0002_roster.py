"""roster, calendar, open cases and routing decisions

Revision ID: 0002_roster
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_roster"
down_revision = "0001"
branch_labels = ("roster",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_operators",
        sa.Column("extension", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("grp", sa.String(16), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "roster_shifts",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("days", sa.String(10), nullable=False),
    )
    op.create_table(
        "roster_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "shift",
            sa.String(32),
            sa.ForeignKey("roster_shifts.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "extension",
            sa.String(8),
            sa.ForeignKey("roster_operators.extension", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.UniqueConstraint("day", "shift", "extension", name="uq_roster_assignment"),
    )
    op.create_index("ix_roster_assignments_day", "roster_assignments", ["day"])
    op.create_table(
        "roster_calendar",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("note", sa.String(64), nullable=False),
    )
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
    op.create_table(
        "call_routes",
        sa.Column("unique_id", sa.String(64), primary_key=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("wanted", sa.String(32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("classification", sa.JSON(), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("decision_ms", sa.Float(), nullable=False),
    )
    op.create_index("ix_call_routes_decided_at", "call_routes", ["decided_at"])


def downgrade() -> None:
    op.drop_index("ix_call_routes_decided_at", "call_routes")
    op.drop_table("call_routes")
    op.drop_index("ix_caller_cases_caller_number", "caller_cases")
    op.drop_table("caller_cases")
    op.drop_table("roster_calendar")
    op.drop_index("ix_roster_assignments_day", "roster_assignments")
    op.drop_table("roster_assignments")
    op.drop_table("roster_shifts")
    op.drop_table("roster_operators")

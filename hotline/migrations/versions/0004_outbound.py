"""outbound calls: jobs, attempts, do-not-call list, dialer switches, survey versions

Revision ID: 0004_outbound
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_outbound"
down_revision = "0001"
branch_labels = ("outbound",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbound_jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(128), nullable=True),
        sa.Column("open_key", sa.String(128), nullable=True, unique=True),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("max_tries", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_outbound_jobs_claim", "outbound_jobs", ["state", "due_at"])
    op.create_index("ix_outbound_jobs_order_id", "outbound_jobs", ["order_id"])
    op.create_index("ix_outbound_jobs_dedupe_key", "outbound_jobs", ["dedupe_key"])
    op.create_table(
        "outbound_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("outbound_jobs.id"), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False, unique=True),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("cause", sa.String(64), nullable=False),
        sa.Column("keys", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_outbound_attempts_job_id", "outbound_attempts", ["job_id"])
    op.create_index("ix_outbound_attempts_started_at", "outbound_attempts", ["started_at"])
    op.create_table(
        "outbound_do_not_call",
        sa.Column("number", sa.String(64), primary_key=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
    )
    op.create_table(
        "outbound_settings",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
    )
    op.create_table(
        "outbound_survey_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("comment", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("live_since", TZ, nullable=True),
        sa.Column("published_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbound_survey_versions")
    op.drop_table("outbound_settings")
    op.drop_table("outbound_do_not_call")
    op.drop_index("ix_outbound_attempts_started_at", "outbound_attempts")
    op.drop_index("ix_outbound_attempts_job_id", "outbound_attempts")
    op.drop_table("outbound_attempts")
    op.drop_index("ix_outbound_jobs_dedupe_key", "outbound_jobs")
    op.drop_index("ix_outbound_jobs_order_id", "outbound_jobs")
    op.drop_index("ix_outbound_jobs_claim", "outbound_jobs")
    op.drop_table("outbound_jobs")

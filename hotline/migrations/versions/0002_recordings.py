"""recordings: ingest jobs, the search index (FTS5 on SQLite, GIN on PostgreSQL), audit

Revision ID: 0002_recordings
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_recordings"
down_revision = "0001"
branch_labels = ("recordings",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recording_jobs",
        sa.Column("unique_id", sa.String(64), primary_key=True),
        sa.Column("capture_name", sa.String(80), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_recording_jobs_state", "recording_jobs", ["state"])
    op.create_index("ix_recording_jobs_due_at", "recording_jobs", ["due_at"])
    op.create_table(
        "recordings",
        sa.Column("unique_id", sa.String(64), primary_key=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("caller_name", sa.String(128), nullable=False),
        sa.Column("called_number", sa.String(64), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("group_name", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("out_of_scope_reason", sa.String(32), nullable=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=False),
        sa.Column("hold_by", sa.String(64), nullable=False),
        sa.Column("audio_path", sa.String(255), nullable=False),
        sa.Column("audio_format", sa.String(16), nullable=False),
        sa.Column("audio_sha256", sa.String(64), nullable=False),
        sa.Column("audio_bytes", sa.Integer(), nullable=False),
        sa.Column("transcribed", sa.Boolean(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("indexed_at", TZ, nullable=False),
    )
    for column in ("started_at", "caller_number", "operator", "group_name", "kind"):
        op.create_index(f"ix_recordings_{column}", "recordings", [column])
    op.create_index("ix_recordings_department", "recordings", ["department"])
    op.create_index("ix_recordings_expires_at", "recordings", ["expires_at"])
    op.create_table(
        "recording_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("unique_id", sa.String(64), nullable=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    for column in ("at", "user_name", "action", "unique_id"):
        op.create_index(f"ix_recording_audit_{column}", "recording_audit", [column])
    # Full-text search over transcripts: the one dialect-specific part.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE recordings_fts USING fts5("
            "search_text, unique_id UNINDEXED, tokenize = 'unicode61')"
        )
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_recordings_search ON recordings "
            "USING gin (to_tsvector('simple', search_text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE recordings_fts")
    op.drop_table("recording_audit")
    op.drop_table("recordings")
    op.drop_table("recording_jobs")

"""knowledge base: entries, their versions, the full-text index

Revision ID: 0004_kb
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_kb"
down_revision = "0001"
branch_labels = ("kb",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("question_key", sa.String(400), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("matters", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("starter_key", sa.String(16), nullable=True, unique=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    for column in ("question_key", "department", "active"):
        op.create_index(f"ix_kb_entries_{column}", "kb_entries", [column])
    op.create_table(
        "kb_entry_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("kb_entries.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("by_user", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.UniqueConstraint("entry_id", "version", name="uq_kb_entry_versions"),
    )
    op.create_index("ix_kb_entry_versions_entry_id", "kb_entry_versions", ["entry_id"])
    # Full-text search: the one dialect-specific part (as for recordings).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE kb_fts USING fts5("
            "search_text, entry_id UNINDEXED, tokenize = 'unicode61')"
        )
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_kb_entries_search ON kb_entries "
            "USING gin (to_tsvector('simple', search_text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE kb_fts")
    op.drop_index("ix_kb_entry_versions_entry_id", "kb_entry_versions")
    op.drop_table("kb_entry_versions")
    for column in ("active", "department", "question_key"):
        op.drop_index(f"ix_kb_entries_{column}", "kb_entries")
    op.drop_table("kb_entries")

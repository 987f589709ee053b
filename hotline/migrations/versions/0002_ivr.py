"""IVR: menu versions, activations, prompt recordings

Revision ID: 0002_ivr
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ivr"
down_revision = "0001"
branch_labels = ("ivr",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ivr_menu_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ivr_menu_versions_status", "ivr_menu_versions", ["status"])
    op.create_table(
        "ivr_activations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "version_id", sa.Integer(), sa.ForeignKey("ivr_menu_versions.id"), nullable=False
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ivr_prompts",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("language", sa.String(16), primary_key=True),
        sa.Column("synthetic", sa.Boolean(), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ivr_prompts")
    op.drop_table("ivr_activations")
    op.drop_index("ix_ivr_menu_versions_status", "ivr_menu_versions")
    op.drop_table("ivr_menu_versions")

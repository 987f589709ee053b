"""dispatch catalogue: versions of the catalogue document, activations

Revision ID: 0004_catalogue
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_catalogue"
down_revision = "0001"
branch_labels = ("catalogue",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "catalogue_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("draft_slot", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("matters", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("published_by", sa.String(64), nullable=True),
        sa.Column("published_at", TZ, nullable=True),
        sa.UniqueConstraint("draft_slot", name="uq_catalogue_versions_draft_slot"),
        sa.UniqueConstraint("revision", name="uq_catalogue_versions_revision"),
    )
    op.create_index("ix_catalogue_versions_status", "catalogue_versions", ["status"])
    op.create_table(
        "catalogue_activations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "version_id", sa.Integer(), sa.ForeignKey("catalogue_versions.id"), nullable=False
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalogue_activations")
    op.drop_index("ix_catalogue_versions_status", "catalogue_versions")
    op.drop_table("catalogue_versions")

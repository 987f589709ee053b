"""classifier model versions: the trained models and the live one

Revision ID: 0004_classify
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_classify"
down_revision = "0001"
branch_labels = ("classify",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "classify_models",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("base_rows", sa.Integer(), nullable=False),
        sa.Column("city_rows", sa.Integer(), nullable=False),
        sa.Column("data_sha256", sa.String(64), nullable=False),
        sa.Column("evaluation", sa.String(16), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("train_seconds", sa.Float(), nullable=False),
    )
    # No row: the shipped model (version 0) is live until `hotline classify use N`.
    op.create_table(
        "classify_live",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("classify_live")
    op.drop_table("classify_models")

"""users: token expiry, revocation, disabled users

Revision ID: 0003_users
Revises: 0001
Create Date: 2026-12-02

Tokens made before this revision had no expiry: they get 90 days from the upgrade.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0003_users"
down_revision = "0001"
branch_labels = ("users",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    users = sa.table("users", sa.column("expires_at", sa.DateTime(timezone=True)))
    op.execute(
        users.update()
        .where(users.c.expires_at.is_(None))
        .values(expires_at=datetime.now(UTC) + timedelta(days=90))
    )
    with op.batch_alter_table("users") as batch:
        batch.alter_column(
            "expires_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled")
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")

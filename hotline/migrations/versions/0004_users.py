"""users: the department a department user answers for

Revision ID: 0004_users
Revises: 0003_users
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_users"
down_revision = "0003_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("department", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("department")

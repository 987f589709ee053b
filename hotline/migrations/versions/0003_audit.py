"""audit: the recordings' audit log becomes the audit log of every feature

Revision ID: 0003_audit
Revises: 0002_recordings
Create Date: 2026-12-02

`recording_audit` rows move to `audit_log` (subject "recording"), which also records who
listed or opened calls and routing decisions. The downgrade moves the recording entries back
and drops the others.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_audit"
down_revision = "0002_recordings"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
COLUMNS = ("id", "at", "user_name", "role", "action", "unique_id", "client", "detail")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("unique_id", sa.String(64), nullable=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    for column in ("at", "user_name", "subject", "action", "unique_id"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column])
    names = ", ".join(COLUMNS)
    op.execute(
        f"INSERT INTO audit_log ({names}, subject) "
        f"SELECT {names}, 'recording' FROM recording_audit ORDER BY id"
    )
    if op.get_bind().dialect.name == "postgresql":
        # The copied ids were given explicitly: the sequence must continue after them.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
            "COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1, false)"
        )
    op.drop_table("recording_audit")


def downgrade() -> None:
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
    names = ", ".join(COLUMNS)
    op.execute(
        f"INSERT INTO recording_audit ({names}) "
        f"SELECT {names.replace('action', 'SUBSTR(action, 1, 16)')} FROM audit_log "
        "WHERE subject = 'recording' ORDER BY id"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('recording_audit', 'id'), "
            "COALESCE((SELECT MAX(id) FROM recording_audit), 0) + 1, false)"
        )
    op.drop_table("audit_log")

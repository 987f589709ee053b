"""work orders: orders, their history, the per-day number counter

Revision ID: 0004_orders
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_orders"
down_revision = "0001"
branch_labels = ("orders",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(16), nullable=False, unique=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("caller_name", sa.String(64), nullable=False),
        sa.Column("call_unique_id", sa.String(64), nullable=True, unique=True),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("classification", sa.JSON(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("matter", sa.String(64), nullable=True),
        sa.Column("in_scope", sa.Boolean(), nullable=False),
        sa.Column("out_of_scope_reason", sa.String(32), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("place", sa.String(128), nullable=False),
        sa.Column("deadline_class", sa.String(16), nullable=False),
        sa.Column("due_at", TZ, nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("return_reason", sa.Text(), nullable=False),
        sa.Column("kb_entry_id", sa.Integer(), nullable=True),
        sa.Column("needs_callback", sa.Boolean(), nullable=False),
        sa.Column("callback_result", sa.JSON(), nullable=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("work_orders.id"), nullable=True),
        sa.Column("follow_ups", sa.Integer(), nullable=False),
        sa.Column("dispatched_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
    )
    op.create_index("ix_work_orders_parent_id", "work_orders", ["parent_id"])
    op.create_index("ix_work_orders_status_due", "work_orders", ["status", "due_at"])
    op.create_index(
        "ix_work_orders_department_status", "work_orders", ["department", "status"]
    )
    op.create_index("ix_work_orders_caller_status", "work_orders", ["caller_number", "status"])
    op.create_index("ix_work_orders_created_at", "work_orders", ["created_at"])
    op.create_table(
        "work_order_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("work_orders.id"), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_work_order_history_order_id", "work_order_history", ["order_id"])
    op.create_table(
        "work_order_counters",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("work_order_counters")
    op.drop_index("ix_work_order_history_order_id", "work_order_history")
    op.drop_table("work_order_history")
    for name in ("created_at", "caller_status", "department_status", "status_due", "parent_id"):
        op.drop_index(f"ix_work_orders_{name}", "work_orders")
    op.drop_table("work_orders")

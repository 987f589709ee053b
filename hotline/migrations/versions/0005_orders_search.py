"""work orders: the full-text index of their text, and indexes for the console's lists

Revision ID: 0005_orders_search
Revises: 0004_orders
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_orders_search"
down_revision = "0004_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per order, keyed by its id (see hotline.orders.search): the one dialect-specific
    # part of the work orders' schema.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE work_orders_fts USING fts5(search_text, tokenize = 'unicode61')"
        )
    else:
        op.execute(
            "CREATE TABLE work_orders_fts ("
            "order_id INTEGER PRIMARY KEY REFERENCES work_orders (id) ON DELETE CASCADE, "
            "document TSVECTOR NOT NULL)"
        )
        op.execute(
            "CREATE INDEX ix_work_orders_fts_document ON work_orders_fts USING gin (document)"
        )
    _index_existing_orders()
    # Lists newest first within a status, or within a department (its own view): without
    # them a rare status walks the whole created_at index (hotline bench orders, EXPLAIN).
    op.create_index("ix_work_orders_status_created", "work_orders", ["status", "created_at"])
    op.create_index(
        "ix_work_orders_department_created", "work_orders", ["department", "created_at"]
    )


def _index_existing_orders() -> None:
    """Orders made before this revision get their entries (the terms the store writes)."""
    from hotline.orders.search import FIELD_BREAK, document_terms

    bind = op.get_bind()
    rows = [
        {"id": r[0], "t": document_terms(FIELD_BREAK.join(r[1:]))}
        for r in bind.execute(sa.text("SELECT id, transcript, summary, place FROM work_orders"))
    ]
    if not rows:
        return
    if bind.dialect.name == "sqlite":
        insert = "INSERT INTO work_orders_fts (rowid, search_text) VALUES (:id, :t)"
    else:
        insert = "INSERT INTO work_orders_fts (order_id, document) VALUES (:id, to_tsvector('simple', :t))"
    bind.execute(sa.text(insert), rows)


def downgrade() -> None:
    op.drop_index("ix_work_orders_department_created", "work_orders")
    op.drop_index("ix_work_orders_status_created", "work_orders")
    op.execute("DROP TABLE work_orders_fts")

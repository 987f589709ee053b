"""Finding work orders for the console: by number, by the day of a number, by words.

A caller reads out a number (`2026120100123`): thirteen digits find that order; the eight
digits of a day (`20261201`) list that day's orders, a range of the unique number index.
Anything else is words, looked up in a full-text index of the order's transcript, summary
and place, with the recordings' rule for Chinese (`recordings.search`): every Han character
is a term of its own and a query word is the phrase of its characters, so "暖气不热" finds
"我家暖气一直不热" only where those four stand together, with or without spaces between.

The index is a table of its own, keyed by the order's id, so results come newest first by
walking ids backwards and stop after a page: on SQLite an FTS5 table (rowid = order id), on
PostgreSQL `work_orders_fts(order_id, document tsvector)` with a GIN index (a stored tsvector,
so a phrase's position check reads it instead of recomputing it). `index_order` keeps it in
step and must be called in the transaction that creates an order or changes its transcript,
summary or place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hotline.orders.tables import WorkOrder
from recordings.search import fts5_match, pg_tsquery, search_text

#: longest query accepted, in characters
MAX_QUERY = 200
#: most orders one page returns
MAX_LIMIT = 100
DAY_DIGITS = re.compile(r"^\d{8}$")
NUMBER_DIGITS = re.compile(r"^\d{13}$")


class SearchError(ValueError):
    """A query that cannot be run; `code` names the problem for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Query:
    """What a console query asks for: `number` (one order), `day` (a day's orders, the value
    is the eight digits) or `words`."""

    kind: Literal["number", "day", "words"]
    value: str


def parse_query(q: str) -> Query:
    """Read the console's search box. Raises SearchError for an empty or overlong query, an
    impossible day, or words that leave nothing to search for (only punctuation)."""
    q = q.strip()
    if not q:
        raise SearchError("empty_query", "q: type an order number or some words")
    if len(q) > MAX_QUERY:
        raise SearchError("query_too_long", f"q: at most {MAX_QUERY} characters, got {len(q)}")
    if NUMBER_DIGITS.match(q):
        return Query("number", q)
    if DAY_DIGITS.match(q):
        try:
            date(int(q[:4]), int(q[4:6]), int(q[6:]))
        except ValueError:
            raise SearchError("bad_day", f"q: {q} is not a day (YYYYMMDD)") from None
        return Query("day", q)
    if not fts5_match(q):
        raise SearchError("no_words", f"q: {q!r} has no letters, digits or characters to find")
    return Query("words", q)


def document(order: WorkOrder) -> str:
    """The text of an order that goes into the index."""
    return search_text(" ".join((order.transcript or "", order.summary or "", order.place or "")))


def index_order(session: Session, order: WorkOrder) -> None:
    """Put `order`'s current text into the index, in `session`'s transaction (the order must
    have its id: flush first)."""
    index_documents(session, [(order.id, document(order))])


def index_documents(session: Session, documents: Iterable[tuple[int, str]]) -> None:
    """Replace the index entries of (order id, document) pairs; also the bulk path."""
    rows = [{"id": order_id, "t": doc} for order_id, doc in documents]
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM work_orders_fts WHERE rowid = :id"), rows)
        session.execute(
            text("INSERT INTO work_orders_fts (rowid, search_text) VALUES (:id, :t)"), rows
        )
    else:
        session.execute(
            text(
                "INSERT INTO work_orders_fts (order_id, document) "
                "VALUES (:id, to_tsvector('simple', :t)) "
                "ON CONFLICT (order_id) DO UPDATE SET document = excluded.document"
            ),
            rows,
        )


def reindex_orders(session: Session, batch: int = 2000) -> int:
    """Rebuild the whole index from the orders (after a restore or a bulk load). Returns how
    many orders were indexed."""
    session.execute(text("DELETE FROM work_orders_fts"))
    done = 0
    last = 0
    while True:
        rows = session.execute(
            select(WorkOrder.id, WorkOrder.transcript, WorkOrder.summary, WorkOrder.place)
            .where(WorkOrder.id > last)
            .order_by(WorkOrder.id)
            .limit(batch)
        ).all()
        if not rows:
            return done
        index_documents(session, ((r[0], search_text(" ".join(r[1:]))) for r in rows))
        done += len(rows)
        last = rows[-1][0]


def _matching_ids(session: Session, words: str, limit: int, before_id: int | None) -> list[int]:
    before = 2**31 if before_id is None else before_id
    if session.get_bind().dialect.name == "sqlite":
        statement = text(
            "SELECT rowid FROM work_orders_fts WHERE work_orders_fts MATCH :m AND rowid < :b "
            "ORDER BY rowid DESC LIMIT :n"
        ).bindparams(m=fts5_match(words), b=before, n=limit)
    else:
        tsquery = pg_tsquery(words)
        if not tsquery:
            return []
        statement = text(
            "SELECT order_id FROM work_orders_fts "
            "WHERE document @@ to_tsquery('simple', :q) AND order_id < :b "
            "ORDER BY order_id DESC LIMIT :n"
        ).bindparams(q=tsquery, b=before, n=limit)
    return [int(row[0]) for row in session.execute(statement)]


def search_orders(
    session: Session, q: str, *, limit: int = 20, before_id: int | None = None
) -> Sequence[WorkOrder]:
    """Orders matching the console's query, newest first; `before_id` (the last id of the
    previous page) gives the next page. Raises SearchError for a bad query or limit."""
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError("bad_limit", f"limit: 1 to {MAX_LIMIT}, got {limit}")
    query = parse_query(q)
    if query.kind == "number":
        found = session.scalar(select(WorkOrder).where(WorkOrder.number == query.value))
        return [found] if found is not None and (before_id is None or found.id < before_id) else []
    if query.kind == "day":
        # The day's numbers are one range of the unique index (no LIKE, which PostgreSQL's
        # default collation cannot serve from a b-tree).
        statement = (
            select(WorkOrder)
            .where(
                WorkOrder.number >= query.value + "00000",
                WorkOrder.number <= query.value + "99999",
            )
            .order_by(WorkOrder.number.desc())
            .limit(limit)
        )
        if before_id is not None:
            statement = statement.where(WorkOrder.id < before_id)
        return list(session.scalars(statement))
    ids = _matching_ids(session, query.value, limit, before_id)
    if not ids:
        return []
    rows = {o.id: o for o in session.scalars(select(WorkOrder).where(WorkOrder.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]

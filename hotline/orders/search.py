"""Finding work orders for the console: by number, by the day of a number, by words.

A caller reads out a number (`2026120100123`): thirteen digits find that order; the eight
digits of a day (`20261201`) list that day's orders, a range of the unique number index.
Anything else is words, looked up in a full-text index of the order's transcript, summary
and place.

Chinese has no spaces, and a recogniser's spaces fall where it guessed words ("我 家 暖气
不 热"), so the index holds, for each run of Han characters (spaces inside it ignored),
its overlapping pairs of characters and its last character: "暖气不热" -> 暖气 气不 不热 热.
A query word of two characters or more must have all its pairs in the order; a single
character is a prefix of a term (it starts a pair or ends a run). Latin words and digits
stay whole. Pairs make a term far rarer than a single character: no position check is
needed (an AND of plain terms is exact in PostgreSQL's GIN), and a frequent character no
longer drags thousands of rows through every query.

The index is a table of its own, keyed by the order's id: on SQLite an FTS5 table (rowid =
order id), on PostgreSQL `work_orders_fts(order_id, document tsvector)` with a GIN index.
Results come newest first: the newest orders are searched first (the last 20,000 ids, then
200,000, then all), so a frequent word reads a page of recent matches instead of every
match of the year. `index_order` keeps the index in step and must be called in the
transaction that creates an order or changes its transcript, summary or place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hotline.orders.tables import WorkOrder

#: longest query accepted, in characters
MAX_QUERY = 200
#: most orders one page returns
MAX_LIMIT = 100
DAY_DIGITS = re.compile(r"^\d{8}$")
NUMBER_DIGITS = re.compile(r"^\d{13}$")
#: between the fields of a document: ends a run of Han characters
FIELD_BREAK = "\u3002"
#: query terms kept (pairs and words)
MAX_TERMS = 32
#: how many of the newest ids each pass searches before it widens (None: all)
WINDOWS = (20_000, 200_000, None)


class SearchError(ValueError):
    """A query that cannot be run; `code` names the problem for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


def _runs(text: str) -> list[str]:
    """Runs of Han characters (whitespace inside a run ignored) and other words, in order."""
    out: list[str] = []
    han: list[str] = []
    word: list[str] = []

    def end(part: list[str]) -> None:
        if part:
            out.append("".join(part))
            part.clear()

    for char in unicodedata.normalize("NFKC", text).lower():
        if _is_han(char):
            end(word)
            han.append(char)
        elif char.isalnum():
            end(han)
            word.append(char)
        elif char.isspace():
            end(word)  # a space inside a run of Han characters is the recogniser's guess
        else:
            end(han)
            end(word)
    end(han)
    end(word)
    return out


def _pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def document_terms(text: str) -> str:
    """The terms of an order's text, space-separated, as the index stores them."""
    terms: list[str] = []
    for run in _runs(text):
        if _is_han(run[0]):
            terms.extend(_pairs(run))
            terms.append(run[-1])
        else:
            terms.append(run)
    return " ".join(terms)


def query_terms(words: str) -> list[tuple[str, bool]]:
    """The terms a query needs, each with whether it is a prefix (a lone Han character)."""
    terms: list[tuple[str, bool]] = []
    # The user's spaces separate words (unlike a recogniser's inside the text).
    for run in (r for word in words.split() for r in _runs(word)):
        if _is_han(run[0]) and len(run) > 1:
            terms.extend((pair, False) for pair in _pairs(run))
        else:
            terms.append((run, _is_han(run[0])))
    unique = list(dict.fromkeys(terms))
    return unique[:MAX_TERMS]


def fts5_query(terms: Sequence[tuple[str, bool]]) -> str:
    """An FTS5 MATCH expression: every term quoted, so no user text is FTS syntax."""
    return " AND ".join(
        '"' + t.replace('"', '""') + '"' + ("*" if prefix else "") for t, prefix in terms
    )


def pg_query(terms: Sequence[tuple[str, bool]]) -> str:
    """A `to_tsquery('simple', ...)` text: terms hold only letters and digits (`_runs`)."""
    return " & ".join(f"'{t}'" + (":*" if prefix else "") for t, prefix in terms)


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
    if not query_terms(q):
        raise SearchError("no_words", f"q: {q!r} has no letters, digits or characters to find")
    return Query("words", q)


def document(order: WorkOrder) -> str:
    """The text of an order that goes into the index."""
    return document_terms(FIELD_BREAK.join((order.transcript, order.summary, order.place)))


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
        index_documents(session, ((r[0], document_terms(FIELD_BREAK.join(r[1:]))) for r in rows))
        done += len(rows)
        last = rows[-1][0]


def _matching_ids(session: Session, words: str, limit: int, before_id: int | None) -> list[int]:
    terms = query_terms(words)
    if session.get_bind().dialect.name == "sqlite":
        sql = (
            "SELECT rowid FROM work_orders_fts WHERE work_orders_fts MATCH :m{range} "
            "ORDER BY rowid DESC LIMIT :n"
        )
        top = _last_id(session, "rowid") + 1
        return _windows(session, sql, "rowid", fts5_query(terms), top, before_id, limit)
    sql = (
        "SELECT order_id FROM work_orders_fts WHERE document @@ to_tsquery('simple', :m)"
        "{range} ORDER BY order_id DESC LIMIT :n"
    )
    top = _last_id(session, "order_id") + 1  # read by index, before index scans are off
    # PostgreSQL guesses the share of orders a pair of characters matches badly, and when it
    # guesses high it walks the ids backwards testing every row: seconds for a word that
    # matches nothing. Bitmap scans only (the GIN index, ANDed with the id range) cost what
    # the matches in the window cost. For these statements only: the settings come back.
    prior = session.execute(
        text(
            "SELECT current_setting('enable_indexscan'), current_setting('enable_seqscan'), "
            "set_config('enable_indexscan', 'off', true), set_config('enable_seqscan', 'off', true)"
        )
    ).one()
    try:
        return _windows(session, sql, "order_id", pg_query(terms), top, before_id, limit)
    finally:
        session.execute(
            text(
                "SELECT set_config('enable_indexscan', :i, true), "
                "set_config('enable_seqscan', :s, true)"
            ),
            {"i": prior[0], "s": prior[1]},
        )


def _windows(
    session: Session,
    sql: str,
    key: str,
    match: str,
    top: int,
    before_id: int | None,
    limit: int,
) -> list[int]:
    """Ids under `before_id` matching `match`, newest first, searching the newest ids first
    (`WINDOWS`); `top` is one more than the highest id."""
    before = before_id if before_id is not None else top
    found: list[int] = []
    for window in WINDOWS:
        after = max(0, before - window) if window is not None else 0
        # A bound that every row meets is left out: it would only add work to a bitmap scan.
        bounds = (f" AND {key} < :b" if before < top else "") + (
            f" AND {key} > :a" if after > 0 else ""
        )
        rows = session.execute(
            text(sql.replace("{range}", bounds)),
            {"m": match, "b": before, "a": after, "n": limit - len(found)},
        )
        found.extend(int(row[0]) for row in rows)
        if len(found) >= limit or after == 0:
            break
        before = after + 1
    return found


def _last_id(session: Session, key: str) -> int:
    return int(session.scalar(text(f"SELECT max({key}) FROM work_orders_fts")) or 0)


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

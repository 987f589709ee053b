"""The knowledge base's store: entries, their versions, search, the CSV import and export, the
starter set. The only code that writes `hotline.kb.tables`.

Every change is one transaction: the entry, its version row (the full content, who, when),
the full-text index row on SQLite and the audit entry (subject "kb"). The full-text index
finds candidates only; `hotline.kb.search.rank` orders them, identically on SQLite and
PostgreSQL.

The starter set (data/starter.csv) is loaded by `ensure_starter` when the knowledge base has
no entry at all (the service's start) and by `load_starter` on demand; either adds only the
starter entries whose key is not stored yet, so an entry ops changed or deactivated is never
touched again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, and_, exists, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.audit import audit
from hotline.core.db import utcnow
from hotline.kb.entry import (
    FIELDS,
    EntryFields,
    join_list,
    parse_date,
    parse_flag,
    problems,
    split_list,
)
from hotline.kb.search import (
    Candidate,
    Ranked,
    fts5_match_any,
    index_text,
    pg_tsquery_any,
    query_terms,
    rank,
)
from hotline.kb.tables import KbEntry, KbEntryVersion
from routing.text import normalize

MAX_QUERY = 2000
MAX_LIMIT = 50
MAX_IMPORT_ROWS = 5000
CSV_COLUMNS = ("id", "version", *FIELDS)
STARTER_COLUMNS = ("key", "question", "answer", "matters", "keywords", "department", "source")


class KbError(ValueError):
    """A request the knowledge base refuses; `code` names the problem for the API (invalid,
    not_found, duplicate, stale, bad_rows), the message says what and where."""

    def __init__(self, code: str, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


class KbImportError(KbError):
    """A CSV with bad rows; nothing of it was stored."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            "bad_rows", f"{len(errors)} bad row(s); nothing imported: {errors[0].message}"
        )
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    """Who changes the knowledge base, for the versions and the audit log."""

    name: str
    role: str
    client: str = ""


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class Hit:
    entry: dict[str, Any]
    score: float
    matched: list[str]


def entry_exists(session: Session, entry_id: int, *, active_only: bool = False) -> bool:
    """Whether the knowledge base holds entry `entry_id` (a work order answered from an entry
    records its id). An entry deactivated since is still an entry unless `active_only`."""
    query = select(KbEntry.id).where(KbEntry.id == entry_id)
    if active_only:
        query = query.where(KbEntry.active.is_(True))
    return session.scalar(select(exists(query))) is True


def fields_of(row: KbEntry) -> EntryFields:
    return EntryFields(
        question=row.question,
        answer=row.answer,
        matters=list(row.matters or []),
        keywords=list(row.keywords or []),
        department=row.department,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        source=row.source,
        active=row.active,
    )


def entry_dict(row: KbEntry, today: date | None = None) -> dict[str, Any]:
    data = fields_of(row).content()
    data.update(
        id=row.id,
        version=row.version,
        starter_key=row.starter_key,
        updated_at=_iso(row.updated_at),
        updated_by=row.updated_by,
    )
    if today is not None:
        data["valid_now"] = _valid_on(row, today)
    return data


def _iso(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite gives back naive datetimes; all stored are UTC
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.isoformat()


def _valid_on(row: KbEntry, day: date) -> bool:
    return (row.valid_from is None or row.valid_from <= day) and (
        row.valid_until is None or row.valid_until >= day
    )


def _question_key(question: str) -> str:
    return normalize(question)[:400]


def _fulltext_replace(session: Session, row: KbEntry) -> None:
    """Keep SQLite's FTS5 table in step with the row (PostgreSQL indexes the column)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("DELETE FROM kb_fts WHERE entry_id = :i"), {"i": row.id})
    session.execute(
        text("INSERT INTO kb_fts (search_text, entry_id) VALUES (:t, :i)"),
        {"t": row.search_text, "i": row.id},
    )


def _fulltext(dialect: str, terms: Sequence[str]) -> ColumnElement[bool]:
    if dialect == "sqlite":
        return KbEntry.id.in_(
            text("SELECT entry_id FROM kb_fts WHERE kb_fts MATCH :m")
            .bindparams(m=fts5_match_any(terms))
            .columns(entry_id=Integer)
        )
    return text(
        "to_tsvector('simple', kb_entries.search_text) @@ to_tsquery('simple', :q)"
    ).bindparams(q=pg_tsquery_any(terms))  # type: ignore[return-value]


def _records(text_value: str, errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """The CSV's records with the line each starts on (an answer may span lines); one the csv
    module cannot read (a field over its 128 KiB limit) ends the import with that line's."""
    reader = csv.reader(io.StringIO(text_value.lstrip("\ufeff")))
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise KbImportError([*errors, RowError(start, f"line {start}: {exc}")]) from None
        yield start, record
        start = reader.line_num + 1


class KbStore:
    def __init__(self, sessions: sessionmaker[Session], timezone: str = "Asia/Shanghai") -> None:
        self._sessions = sessions
        self.timezone = ZoneInfo(timezone)

    def today(self) -> date:
        return datetime.now(self.timezone).date()

    # ---- reading -------------------------------------------------------------------------
    def get(self, entry_id: int) -> dict[str, Any]:
        with self._sessions() as session:
            return entry_dict(self._row(session, entry_id), self.today())

    def versions(self, entry_id: int) -> list[dict[str, Any]]:
        """Every version of the entry, oldest first: its content, who made it, when, how."""
        with self._sessions() as session:
            self._row(session, entry_id)
            rows = session.scalars(
                select(KbEntryVersion)
                .where(KbEntryVersion.entry_id == entry_id)
                .order_by(KbEntryVersion.version)
            ).all()
            return [
                {
                    "version": r.version,
                    "at": _iso(r.at),
                    "by": r.by,
                    "action": r.action,
                    "content": r.content,
                }
                for r in rows
            ]

    def entries(
        self,
        *,
        include_inactive: bool = False,
        department: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        conditions: list[ColumnElement[bool]] = []
        if not include_inactive:
            conditions.append(KbEntry.active.is_(True))
        if department:
            conditions.append(KbEntry.department == department)
        where = and_(True, *conditions)
        today = self.today()
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(KbEntry).where(where)) or 0
            rows = session.scalars(
                select(KbEntry).where(where).order_by(KbEntry.id).limit(limit).offset(offset)
            ).all()
            return int(total), [entry_dict(r, today) for r in rows]

    def count(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(KbEntry)) or 0)

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        on: date | None = None,
        include_expired: bool = False,
        include_inactive: bool = False,
        department: str | None = None,
    ) -> list[Hit]:
        """The entries that best answer `query` (a transcript or a typed question), best
        first. Entries not valid `on` (default today) or inactive are left out unless asked.
        Raises KbError for a query over MAX_QUERY characters or a limit out of 1..MAX_LIMIT."""
        if len(query) > MAX_QUERY:
            raise KbError("invalid", f"q: at most {MAX_QUERY} characters (it has {len(query)})")
        if not 1 <= limit <= MAX_LIMIT:
            raise KbError("invalid", f"limit: between 1 and {MAX_LIMIT}")
        terms = query_terms(query)
        if not terms:
            return []
        day = on or self.today()
        conditions: list[ColumnElement[bool]] = []
        if not include_inactive:
            conditions.append(KbEntry.active.is_(True))
        if not include_expired:
            conditions.append(or_(KbEntry.valid_from.is_(None), KbEntry.valid_from <= day))
            conditions.append(or_(KbEntry.valid_until.is_(None), KbEntry.valid_until >= day))
        if department:
            conditions.append(KbEntry.department == department)
        searchable = and_(True, *conditions)
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(KbEntry).where(searchable))
            found = session.execute(
                select(
                    KbEntry.id, KbEntry.question, KbEntry.keywords, KbEntry.matters, KbEntry.answer
                ).where(searchable, _fulltext(session.get_bind().dialect.name, terms))
            ).all()
            candidates = [
                Candidate(
                    id=r.id,
                    question=r.question,
                    keywords=(*(r.keywords or []), *(r.matters or [])),
                    answer=r.answer,
                )
                for r in found
            ]
            ranked: list[Ranked] = rank(query, candidates, int(total or 0), limit)
            rows = {
                r.id: r
                for r in session.scalars(
                    select(KbEntry).where(KbEntry.id.in_([h.id for h in ranked]))
                )
            }
            return [Hit(entry_dict(rows[h.id], day), h.score, h.matched) for h in ranked]

    # ---- changing --------------------------------------------------------------------------
    def create(self, fields: EntryFields, actor: Actor) -> dict[str, Any]:
        """Store a new entry (version 1). Raises KbError: invalid (422), duplicate (409)."""
        fields = self._checked(fields)
        with self._sessions() as session:
            self._refuse_duplicate(session, fields)
            row = self._insert(session, fields, actor, "create")
            self._audit(session, actor, "create", row.id, {"version": 1})
            session.commit()
            return entry_dict(row, self.today())

    def update(
        self, entry_id: int, changes: Mapping[str, Any], version: int, actor: Actor
    ) -> dict[str, Any]:
        """Change some fields of an entry; the previous version stays in its history.
        `version` is the one the change was made on: another is KbError stale (409, with the
        current entry). Nothing changed: the entry as it is, no new version."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise KbError("invalid", f"unknown fields {unknown}; an entry has {', '.join(FIELDS)}")
        with self._sessions() as session:
            row = self._row(session, entry_id, lock=True)
            if row.version != version:
                raise KbError(
                    "stale",
                    f"entry {entry_id} is at version {row.version}, not {version}: "
                    "someone changed it; reload and apply your change again",
                    current=entry_dict(row, self.today()),
                )
            before = fields_of(row)
            after = self._checked(replace(before, **changes))
            if after == before:
                return entry_dict(row, self.today())
            if after.question != before.question:
                self._refuse_duplicate(session, after, besides=entry_id)
            try:
                action = self._apply(session, row, after, actor, None)
                changed = [n for n in FIELDS if getattr(after, n) != getattr(before, n)]
                detail = {"version": row.version, "fields": changed}
                self._audit(session, actor, action, entry_id, detail)
                session.commit()
            except IntegrityError:
                # Another change made the same version at the same moment (SQLite takes no
                # row lock): the unique (entry, version) pair let only one through.
                session.rollback()
                raise KbError(
                    "stale",
                    f"entry {entry_id} was changed at the same moment; reload it",
                    current=self.get(entry_id),
                ) from None
            return entry_dict(row, self.today())

    def deactivate(self, entry_id: int, actor: Actor) -> dict[str, Any]:
        """Take an entry out of search (it and its versions stay)."""
        with self._sessions() as session:
            row = self._row(session, entry_id, lock=True)
            if row.active:
                self._apply(session, row, replace(fields_of(row), active=False), actor, None)
                self._audit(session, actor, "deactivate", entry_id, {"version": row.version})
                session.commit()
            return entry_dict(row, self.today())

    # ---- CSV ----------------------------------------------------------------------------------
    def export_csv(self, *, include_inactive: bool = True) -> str:
        """Every entry as CSV (the import's columns): edit it, import it back."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        with self._sessions() as session:
            query = select(KbEntry).order_by(KbEntry.id)
            if not include_inactive:
                query = query.where(KbEntry.active.is_(True))
            for row in session.scalars(query):
                f = fields_of(row)
                writer.writerow(
                    [
                        row.id,
                        row.version,
                        f.question,
                        f.answer,
                        join_list(f.matters),
                        join_list(f.keywords),
                        f.department or "",
                        f.valid_from.isoformat() if f.valid_from else "",
                        f.valid_until.isoformat() if f.valid_until else "",
                        f.source,
                        "true" if f.active else "false",
                    ]
                )
        return out.getvalue()

    def import_csv(self, text_value: str, actor: Actor) -> dict[str, int]:
        """Add or change entries from a CSV: a row with an `id` changes that entry (its
        `version`, when given, must be the current one), a row without adds one. Columns:
        question and answer required; matters, keywords, department, valid_from,
        valid_until, source, active, id, version optional. All rows or none: any bad row
        raises KbImportError listing every bad row by line."""
        errors: list[RowError] = []
        records = _records(text_value, errors)
        first = next(records, None)
        header = [h.strip().lower() for h in (first[1] if first else [])]
        unknown = [h for h in header if h not in CSV_COLUMNS]
        missing = [c for c in ("question", "answer") if c not in header]
        if unknown or missing or len(set(header)) != len(header):
            raise KbImportError(
                [
                    RowError(
                        1,
                        "line 1: the header must name the columns question and answer, "
                        f"and may name {', '.join(c for c in CSV_COLUMNS if c not in ('question', 'answer'))}"
                        + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                        + (f"; missing: {', '.join(missing)}" if missing else "")
                        + ("; a column is named twice" if len(set(header)) != len(header) else ""),
                    )
                ]
            )
        parsed: list[tuple[int, int | None, int | None, dict[str, Any]]] = []
        for line, record in records:
            if not any(cell.strip() for cell in record):
                continue
            if len(parsed) >= MAX_IMPORT_ROWS:
                raise KbImportError(
                    [*errors, RowError(line, f"line {line}: over {MAX_IMPORT_ROWS} rows")]
                )
            if len(record) != len(header):
                errors.append(
                    RowError(line, f"line {line}: {len(record)} fields, expected {len(header)}")
                )
                continue
            cells = dict(zip(header, record, strict=True))
            try:
                parsed.append((line, *_row_of(cells)))
            except ValueError as exc:
                errors.append(RowError(line, f"line {line}: {exc}"))
        with self._sessions() as session:
            plan = self._plan(session, parsed, errors)
            if errors:
                raise KbImportError(sorted(errors, key=lambda e: e.line))
            created = updated = 0
            for row, fields in plan:
                if row is None:
                    new = self._insert(session, fields, actor, "import")
                    self._audit(session, actor, "import", new.id, {"version": 1})
                    created += 1
                elif fields != fields_of(row):
                    self._apply(session, row, fields, actor, "import")
                    self._audit(session, actor, "import", row.id, {"version": row.version})
                    updated += 1
            session.commit()
        return {"created": created, "updated": updated, "unchanged": len(plan) - created - updated}

    def _plan(
        self,
        session: Session,
        parsed: list[tuple[int, int | None, int | None, dict[str, Any]]],
        errors: list[RowError],
    ) -> list[tuple[KbEntry | None, EntryFields]]:
        """Check the parsed rows against the stored entries and each other: what to create
        (None) and what to change, in file order. Problems go to `errors`."""
        plan: list[tuple[KbEntry | None, EntryFields]] = []
        ids = [entry_id for _, entry_id, _, _ in parsed if entry_id is not None]
        stored = {r.id: r for r in session.scalars(select(KbEntry).where(KbEntry.id.in_(ids)))}
        questions: dict[str, tuple[int, int | None]] = {}  # key -> (line, entry id)
        seen_ids: dict[int, int] = {}
        for line, entry_id, version, values in parsed:
            row = None
            if entry_id is not None:
                row = stored.get(entry_id)
                if row is None:
                    errors.append(RowError(line, f"line {line}: no entry {entry_id}"))
                    continue
                if entry_id in seen_ids:
                    errors.append(
                        RowError(
                            line,
                            f"line {line}: entry {entry_id} is also on line {seen_ids[entry_id]}",
                        )
                    )
                    continue
                seen_ids[entry_id] = line
                if version is not None and version != row.version:
                    errors.append(
                        RowError(
                            line,
                            f"line {line}: entry {entry_id} is at version {row.version}, not "
                            f"{version} (changed since the export)",
                        )
                    )
                    continue
                base = fields_of(row)
            else:
                base = EntryFields(question="", answer="")
            fields = replace(base, **values).cleaned()
            wrong = problems(fields)
            if wrong:
                errors.append(RowError(line, f"line {line}: " + "; ".join(wrong)))
                continue
            key = _question_key(fields.question)
            if fields.active and key in questions:
                errors.append(
                    RowError(line, f"line {line}: same question as line {questions[key][0]}")
                )
                continue
            if fields.active:
                questions[key] = (line, entry_id)
                other = self._duplicate_of(session, fields, besides=entry_id)
                if other is not None and other not in ids:
                    errors.append(
                        RowError(
                            line,
                            f"line {line}: same question as entry {other}; give its id to change it",
                        )
                    )
                    continue
            plan.append((row, fields))
        return plan

    # ---- the starter set ----------------------------------------------------------------------
    def ensure_starter(self) -> int:
        """Load the starter set if the knowledge base has no entry at all (first start).
        Returns how many entries were added."""
        if self.count():
            return 0
        try:
            return self.load_starter(SYSTEM)
        except IntegrityError:
            return 0  # another process loaded it at the same moment

    def load_starter(self, actor: Actor) -> int:
        """Add the starter entries not stored yet (by key; none whose question an entry
        already has). Entries stored before, changed or not, stay as they are."""
        starter = starter_entries()
        with self._sessions() as session:
            keys = set(
                session.scalars(select(KbEntry.starter_key).where(KbEntry.starter_key.isnot(None)))
            )
            added = 0
            for key, fields in starter:
                if key in keys or self._duplicate_of(session, fields) is not None:
                    continue
                self._insert(session, fields, actor, "starter", starter_key=key)
                added += 1
            if added:
                self._audit(session, actor, "load_starter", None, {"added": added})
            session.commit()
            return added

    # ---- the steps -------------------------------------------------------------------------
    def _row(self, session: Session, entry_id: int, *, lock: bool = False) -> KbEntry:
        query = select(KbEntry).where(KbEntry.id == entry_id)
        if lock:
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise KbError("not_found", f"no knowledge-base entry {entry_id}")
        return row

    @staticmethod
    def _checked(fields: EntryFields) -> EntryFields:
        fields = fields.cleaned()
        wrong = problems(fields)
        if wrong:
            raise KbError("invalid", "; ".join(wrong), problems=wrong)
        return fields

    @staticmethod
    def _duplicate_of(
        session: Session, fields: EntryFields, besides: int | None = None
    ) -> int | None:
        query = select(KbEntry.id).where(
            KbEntry.question_key == _question_key(fields.question), KbEntry.active.is_(True)
        )
        if besides is not None:
            query = query.where(KbEntry.id != besides)
        return session.scalar(query.order_by(KbEntry.id).limit(1))

    def _refuse_duplicate(
        self, session: Session, fields: EntryFields, besides: int | None = None
    ) -> None:
        if not fields.active:
            return
        other = self._duplicate_of(session, fields, besides)
        if other is not None:
            raise KbError(
                "duplicate", f"entry {other} has the same question; change that one instead"
            )

    def _insert(
        self,
        session: Session,
        fields: EntryFields,
        actor: Actor,
        action: str,
        starter_key: str | None = None,
    ) -> KbEntry:
        now = utcnow()
        row = KbEntry(
            version=1,
            starter_key=starter_key,
            created_at=now,
            created_by=actor.name,
            updated_at=now,
            updated_by=actor.name,
        )
        _set(row, fields)
        session.add(row)
        session.flush()
        session.add(
            KbEntryVersion(
                entry_id=row.id,
                version=1,
                at=now,
                by=actor.name,
                action=action,
                content=fields.content(),
            )
        )
        _fulltext_replace(session, row)
        return row

    @staticmethod
    def _apply(
        session: Session, row: KbEntry, fields: EntryFields, actor: Actor, action: str | None
    ) -> str:
        """Make `fields` the entry's next version. Returns the version's action."""
        if action is None:
            if fields.active != row.active:
                action = "activate" if fields.active else "deactivate"
            else:
                action = "update"
        now = utcnow()
        row.version += 1
        row.updated_at = now
        row.updated_by = actor.name
        _set(row, fields)
        session.add(
            KbEntryVersion(
                entry_id=row.id,
                version=row.version,
                at=now,
                by=actor.name,
                action=action,
                content=fields.content(),
            )
        )
        session.flush()
        _fulltext_replace(session, row)
        return action

    @staticmethod
    def _audit(
        session: Session, actor: Actor, action: str, entry_id: int | None, detail: dict[str, Any]
    ) -> None:
        audit(
            session,
            user=actor.name,
            role=actor.role,
            subject="kb",
            action=action,
            unique_id=str(entry_id) if entry_id is not None else None,
            client=actor.client,
            detail=detail,
        )


def _set(row: KbEntry, fields: EntryFields) -> None:
    row.question = fields.question
    row.question_key = _question_key(fields.question)
    row.answer = fields.answer
    row.matters = list(fields.matters)
    row.keywords = list(fields.keywords)
    row.department = fields.department
    row.valid_from = fields.valid_from
    row.valid_until = fields.valid_until
    row.source = fields.source
    row.active = fields.active
    row.search_text = index_text(
        fields.question, " ".join(fields.keywords), " ".join(fields.matters), fields.answer
    )


def _row_of(cells: Mapping[str, str]) -> tuple[int | None, int | None, dict[str, Any]]:
    """A CSV row's id, version and the fields it sets. Raises ValueError naming the column."""
    entry_id = _whole(cells.get("id", ""), "id")
    version = _whole(cells.get("version", ""), "version")
    values: dict[str, Any] = {}
    for name, cell in cells.items():
        if name in ("id", "version"):
            continue
        if name in ("matters", "keywords"):
            values[name] = split_list(cell)
        elif name in ("valid_from", "valid_until"):
            values[name] = parse_date(cell, name)
        elif name == "active":
            if cell.strip():  # empty: a new entry is active, a changed one keeps its flag
                values[name] = parse_flag(cell, name)
        elif name == "department":
            values[name] = cell.strip() or None
        else:
            values[name] = cell
    return entry_id, version, values


def _whole(cell: str, name: str) -> int | None:
    cell = cell.strip()
    if not cell:
        return None
    if not cell.isdigit() or not 1 <= int(cell) <= 2**31 - 1:
        raise ValueError(f"{name}: {cell!r} is not a whole number")
    return int(cell)


def starter_entries() -> list[tuple[str, EntryFields]]:
    """The shipped starter set (data/starter.csv), each entry with its key."""
    source = resources.files("hotline.kb").joinpath("data/starter.csv").read_text("utf-8")
    reader = csv.DictReader(io.StringIO(source))
    assert tuple(reader.fieldnames or ()) == STARTER_COLUMNS, reader.fieldnames
    entries = []
    for cells in reader:
        fields = EntryFields(
            question=cells["question"],
            answer=cells["answer"],
            matters=split_list(cells["matters"]),
            keywords=split_list(cells["keywords"]),
            department=cells["department"] or None,
            source=cells["source"],
        ).cleaned()
        wrong = problems(fields)
        assert not wrong, (cells["key"], wrong)
        entries.append((cells["key"], fields))
    return entries

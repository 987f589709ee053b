"""The roster in the database, and what routing reads from storage.

`RosterStore` edits operators, shifts, assignments and the holiday calendar, imports a month's
roster from CSV (all rows or none), and hands out an immutable `routing.roster.Roster`
snapshot, rebuilt only after a change, so a routing decision never waits on the database for
it. `caller_history` (the caller's calls today, and their work orders from the `caller_orders`
the service passes in) and `save_decision` are the storage side of the router.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.store import fit
from hotline.calls.tables import Call
from hotline.core.db import utcnow
from hotline.core.privacy import View
from hotline.roster.tables import (
    AssignmentRow,
    CalendarDayRow,
    CallRouteRow,
    OperatorRow,
    ShiftRow,
)
from routing.decision import CallerHistory, Decision
from routing.roster import (
    SHIFT_DAYS,
    Assignment,
    HolidayCalendar,
    Operator,
    Roster,
    RosterError,
    Shift,
)
from routing.router import CallToRoute

CSV_COLUMNS = ("date", "shift", "extension")
#: caller_orders(call) -> the caller's work orders as routing sees them (`open_cases`,
#: `named_number`, `named_order` of a CallerHistory)
CallerOrders = Callable[[CallToRoute], CallerHistory]


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


def _records(reader: Any, errors: list[RowError]) -> Iterator[list[str]]:
    """The CSV's records; one the csv module cannot read (a field over its 128 KiB limit)
    ends the import with the errors so far and that line's."""
    while True:
        try:
            record: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            raise RosterImportError([*errors, RowError(line, f"line {line}: {exc}")]) from None
        yield record


class RosterImportError(RosterError):
    """A CSV roster with bad rows; nothing of it was stored."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            "bad_rows", f"{len(errors)} bad row(s); nothing imported: " + errors[0].message
        )
        self.errors = errors


class NotFound(RosterError):
    def __init__(self, what: str) -> None:
        super().__init__("not_found", f"{what} does not exist")


def parse_month(value: str) -> tuple[date, date]:
    """'2026-12' -> (first day, first day of the next month)."""
    try:
        first = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise RosterError("bad_month", f"month {value!r}: expected YYYY-MM") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following


def parse_time(value: str, what: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise RosterError("bad_time", f"{what} {value!r}: expected HH:MM") from None


class RosterStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        timezone: str,
        *,
        caller_orders: CallerOrders | None = None,
    ) -> None:
        self._sessions = sessions
        self.timezone = timezone
        #: where a caller's history finds their work orders (None: a history without them)
        self.caller_orders = caller_orders
        self._lock = threading.Lock()
        self._snapshot: Roster | None = None
        self._generation = 0
        #: called after every change (e.g. to re-sync Asterisk's queues)
        self.listeners: list[Any] = []

    # ---- the snapshot routing reads ------------------------------------------------------
    def roster(self) -> Roster:
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                snapshot = self._snapshot
                if snapshot is None:
                    # A change committed while this load reads would be lost if the load's
                    # (older) result were kept: keep it only if no change came meanwhile.
                    generation = self._generation
                    snapshot = self._load()
                    if generation == self._generation:
                        self._snapshot = snapshot
        return snapshot

    def _load(self) -> Roster:
        with self._sessions() as s:
            operators = [
                Operator(r.extension, r.name, r.group, frozenset(r.skills))  # type: ignore[arg-type]
                for r in s.scalars(select(OperatorRow).where(OperatorRow.active))
            ]
            shifts = [
                Shift(r.name, r.start, r.end, r.days)  # type: ignore[arg-type]
                for r in s.scalars(select(ShiftRow))
            ]
            assignments = [
                Assignment(r.day, r.shift, r.extension) for r in s.scalars(select(AssignmentRow))
            ]
            calendar = HolidayCalendar(
                {r.day: r.kind for r in s.scalars(select(CalendarDayRow))}  # type: ignore[misc]
            )
        return Roster(operators, shifts, assignments, calendar, self.timezone)

    def _changed(self) -> None:
        self._generation += 1
        self._snapshot = None
        for listener in list(self.listeners):
            listener()

    # ---- operators -----------------------------------------------------------------------
    def operators(self) -> list[OperatorRow]:
        with self._sessions() as s:
            return list(s.scalars(select(OperatorRow).order_by(OperatorRow.extension)))

    def put_operator(self, op: Operator, active: bool = True) -> None:
        with self._sessions() as s:
            s.merge(
                OperatorRow(
                    extension=op.extension,
                    name=op.name,
                    group=op.group,
                    skills=sorted(op.skills),
                    active=active,
                )
            )
            s.commit()
        self._changed()

    def delete_operator(self, extension: str) -> None:
        with self._sessions() as s:
            row = s.get(OperatorRow, extension)
            if row is None:
                raise NotFound(f"operator {extension}")
            s.execute(delete(AssignmentRow).where(AssignmentRow.extension == extension))
            s.delete(row)
            s.commit()
        self._changed()

    # ---- shifts --------------------------------------------------------------------------
    def shifts(self) -> list[ShiftRow]:
        with self._sessions() as s:
            return list(s.scalars(select(ShiftRow).order_by(ShiftRow.start, ShiftRow.name)))

    def put_shift(self, shift: Shift) -> None:
        with self._sessions() as s:
            s.merge(ShiftRow(name=shift.name, start=shift.start, end=shift.end, days=shift.days))
            s.commit()
        self._changed()

    def delete_shift(self, name: str) -> None:
        with self._sessions() as s:
            row = s.get(ShiftRow, name)
            if row is None:
                raise NotFound(f"shift {name!r}")
            s.execute(delete(AssignmentRow).where(AssignmentRow.shift == name))
            s.delete(row)
            s.commit()
        self._changed()

    # ---- assignments ---------------------------------------------------------------------
    def assignments(self, start: date, end: date) -> list[AssignmentRow]:
        """Assignments with start <= day < end."""
        with self._sessions() as s:
            return list(
                s.scalars(
                    select(AssignmentRow)
                    .where(AssignmentRow.day >= start, AssignmentRow.day < end)
                    .order_by(AssignmentRow.day, AssignmentRow.shift, AssignmentRow.extension)
                )
            )

    def add_assignment(self, day: date, shift: str, extension: str) -> AssignmentRow:
        with self._sessions() as s:
            self._check_assignment(s, day, shift, extension)
            row = AssignmentRow(day=day, shift=shift, extension=extension)
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                raise RosterError(
                    "duplicate", f"{extension} is already on shift {shift!r} on {day}"
                ) from None
        self._changed()
        return row

    def delete_assignment(self, assignment_id: int) -> None:
        with self._sessions() as s:
            row = s.get(AssignmentRow, assignment_id)
            if row is None:
                raise NotFound(f"assignment {assignment_id}")
            s.delete(row)
            s.commit()
        self._changed()

    def _check_assignment(self, s: Session, day: date, shift: str, extension: str) -> None:
        shift_row = s.get(ShiftRow, shift)
        if shift_row is None:
            raise RosterError("unknown_shift", f"shift {shift!r} does not exist")
        op = s.get(OperatorRow, extension)
        if op is None or not op.active:
            raise RosterError("unknown_operator", f"operator {extension} does not exist")
        calendar = HolidayCalendar(
            {r.day: r.kind for r in s.scalars(select(CalendarDayRow))}  # type: ignore[misc]
        )
        self._check_runs(calendar, shift_row, day)

    @staticmethod
    def _check_runs(calendar: HolidayCalendar, shift_row: ShiftRow, day: date) -> None:
        shift = Shift(shift_row.name, shift_row.start, shift_row.end, shift_row.days)  # type: ignore[arg-type]
        if not calendar.runs(shift, day):
            kind = "a working day" if calendar.is_working_day(day) else "a rest day"
            raise RosterError(
                "shift_not_running",
                f"shift {shift.name!r} runs on {shift.days} only and {day} is {kind}",
            )

    # ---- calendar ------------------------------------------------------------------------
    def calendar(self) -> list[CalendarDayRow]:
        with self._sessions() as s:
            return list(s.scalars(select(CalendarDayRow).order_by(CalendarDayRow.day)))

    def put_calendar_day(self, day: date, kind: str, note: str = "") -> None:
        if kind not in ("holiday", "workday"):
            raise RosterError("bad_day_kind", f"kind {kind!r}: 'holiday' or 'workday'")
        with self._sessions() as s:
            s.merge(CalendarDayRow(day=day, kind=kind, note=note))
            s.commit()
        self._changed()

    def delete_calendar_day(self, day: date) -> None:
        with self._sessions() as s:
            row = s.get(CalendarDayRow, day)
            if row is None:
                raise NotFound(f"calendar entry {day}")
            s.delete(row)
            s.commit()
        self._changed()

    # ---- CSV import ----------------------------------------------------------------------
    def import_csv(self, text: str, month: str) -> int:
        """Replace the assignments of `month` (YYYY-MM) with the CSV's rows
        (``date,shift,extension``). Returns the number stored. Raises RosterImportError with
        every bad row; then nothing is changed."""
        first, following = parse_month(month)
        errors: list[RowError] = []
        rows: list[tuple[date, str, str]] = []
        reader = _records(csv.reader(io.StringIO(text.lstrip("\ufeff"))), errors)
        header = next(reader, None)
        names = [h.strip().lower() for h in header or []]
        if not all(c in names for c in CSV_COLUMNS):
            raise RosterImportError(
                [RowError(1, f"line 1: the header must name the columns {', '.join(CSV_COLUMNS)}")]
            )
        col = {c: names.index(c) for c in CSV_COLUMNS}
        with self._sessions() as s:
            shifts = {r.name: r for r in s.scalars(select(ShiftRow))}
            operators = {r.extension: r for r in s.scalars(select(OperatorRow)) if r.active}
            calendar = HolidayCalendar(
                {r.day: r.kind for r in s.scalars(select(CalendarDayRow))}  # type: ignore[misc]
            )
        seen: dict[tuple[date, str, str], int] = {}
        for line, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) < len(names):
                errors.append(
                    RowError(line, f"line {line}: {len(record)} fields, expected {len(names)}")
                )
                continue
            raw_day, shift, ext = (record[col[c]].strip() for c in CSV_COLUMNS)
            problems: list[str] = []
            try:
                day = date.fromisoformat(raw_day)
            except ValueError:
                problems.append(f"date {raw_day!r} is not YYYY-MM-DD")
                day = None
            if day is not None and not first <= day < following:
                problems.append(f"date {raw_day} is outside {month}")
            if shift not in shifts:
                problems.append(f"unknown shift {shift!r}")
            if ext not in operators:
                problems.append(f"unknown operator {ext!r}")
            if day is not None and shift in shifts and not problems:
                try:
                    self._check_runs(calendar, shifts[shift], day)
                except RosterError as exc:
                    problems.append(str(exc))
            if day is not None and not problems:
                key = (day, shift, ext)
                if key in seen:
                    problems.append(f"same as line {seen[key]}")
                else:
                    seen[key] = line
                    rows.append(key)
            if problems:
                errors.append(RowError(line, f"line {line}: " + "; ".join(problems)))
        if errors:
            raise RosterImportError(errors)
        with self._sessions() as s, s.begin():
            s.execute(
                delete(AssignmentRow).where(
                    AssignmentRow.day >= first, AssignmentRow.day < following
                )
            )
            s.add_all(AssignmentRow(day=d, shift=sh, extension=e) for d, sh, e in rows)
        self._changed()
        return len(rows)

    # ---- caller history and decisions -----------------------------------------------------
    def caller_history(self, call: CallToRoute, at: datetime) -> CallerHistory:
        roster = self.roster()
        local = roster.local(at)
        midnight = datetime.combine(local.date(), time(0), roster.tz).astimezone(UTC)
        orders = self.caller_orders(call) if self.caller_orders else CallerHistory()
        with self._sessions() as s:
            calls = (
                s.scalar(
                    select(func.count())
                    .select_from(Call)
                    .where(
                        Call.caller_number == call.caller_number,
                        Call.started_at >= midnight,
                        Call.started_at <= at,
                        Call.unique_id != call.unique_id,
                    )
                )
                or 0
            )
        return dataclasses.replace(orders, calls_today=int(calls) if call.caller_number else 0)

    def save_decision(
        self,
        call: CallToRoute,
        decision: Decision,
        classification: Mapping[str, Any] | None,
        elapsed_ms: float,
    ) -> None:
        with self._sessions() as s:
            s.merge(
                CallRouteRow(
                    unique_id=call.unique_id,
                    decided_at=utcnow(),
                    caller_number=fit(call.caller_number, 64),
                    queue=decision.queue,
                    wanted=decision.wanted,
                    priority=decision.priority,
                    rule=decision.rule,
                    explanation=decision.explanation,
                    tags=dict(decision.tags),
                    classification=dict(classification) if classification else None,
                    transcript=call.transcript,
                    decision_ms=round(elapsed_ms, 3),
                )
            )
            s.commit()

    def decision_of(self, unique_id: str) -> CallRouteRow | None:
        with self._sessions() as s:
            row: CallRouteRow | None = s.get(CallRouteRow, unique_id)
            return row


def forget_words(session: Session, unique_id: str) -> list[str]:
    """Take what the caller said out of a call's routing decision (the transcript, the
    explanation, which can name the caller's open case, anything of the classification but
    its labels), in the caller's transaction: the retention of the call's recording has
    ended. The queue, rule and tags stay. Returns ["call_routes"] when something was taken
    out."""
    row = session.get(CallRouteRow, unique_id)
    if row is None:
        return []
    labels = View.without_words().classification(row.classification)
    if row.transcript is None and not row.explanation and labels == row.classification:
        return []
    row.transcript = None
    row.explanation = ""
    row.classification = labels
    return ["call_routes"]


def shift_from_fields(name: str, start: str, end: str, days: str = "all") -> Shift:
    if days not in SHIFT_DAYS:
        raise RosterError("bad_shift_days", f"days {days!r}: one of {', '.join(SHIFT_DAYS)}")
    return Shift(name, parse_time(start, "start"), parse_time(end, "end"), days)  # type: ignore[arg-type]

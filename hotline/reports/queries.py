"""Reports from work orders: what a centre is judged on, per day, shift, group or department.

Theory of operation: `load_facts` reads, for the orders created in a range of local days,
only what reports need (status, queue, department, matter, scope, due and answer times, the
callback's result: nothing personal), and `build` turns those facts into one table per
request. `build` is pure, so every rule below has a plain test:

- an order belongs to the local day, shift, group (its `queue`) and department of its
  creation; its shift is the roster's shift running when it was created, the one that
  started last when shifts overlap ("none" outside every shift);
- on time: an order with a due time was answered (its first move to `answered` or
  `replied`, from the history) no later than due; answered after it, or still unanswered
  past it (overdue), is late; unanswered and not yet due is not counted in the rate;
- the matter of an order is its matter from the dispatch catalogue or, when it has none,
  its department; satisfaction counts callbacks' results
  ({"solved": bool, "satisfaction": "satisfied|basic|unsatisfied"}); the satisfaction rate
  is (satisfied + basic) / rated, as 12345 centres count 满意率.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.orders.tables import WorkOrder, WorkOrderEvent
from hotline.roster.tables import CalendarDayRow, ShiftRow
from routing.roster import HolidayCalendar, Shift
from routing.taxonomy import OUT_OF_SCOPE_REASONS

REPORTS: Final = ("summary", "status", "on-time", "scope", "matters", "satisfaction")
BY: Final = ("day", "shift", "group", "department")
FORMATS: Final = ("json", "csv")
STATUSES: Final = (
    "draft",
    "answered",
    "dispatched",
    "replied",
    "callback",
    "closed",
    "returned",
    "reopened",
)
#: statuses whose order is finished (the citizen has had the answer)
FINISHED: Final = ("answered", "closed")
#: the moves that answer the citizen: the time of the first one is the order's answer time
ANSWERING: Final = ("answered", "replied")
SATISFACTION: Final = ("satisfied", "basic", "unsatisfied")
#: the longest range a report covers, in days (a year, leap years included)
MAX_DAYS: Final = 366
MAX_TOP: Final = 50
#: the bucket of an order that has no shift, group or department, and the total row's key
NONE: Final = "none"
TOTAL: Final = "total"


class ReportError(ValueError):
    """A report that cannot be made as asked; `code` names the problem, the message says
    which parameter and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ReportRequest:
    """Which report, over which local days (both included), in which buckets."""

    name: str
    start: date
    end: date
    by: str = "day"
    top: int = 10

    def __post_init__(self) -> None:
        if self.name not in REPORTS:
            raise ReportError(
                "unknown_report", f"report {self.name!r}: one of {', '.join(REPORTS)}"
            )
        if self.by not in BY:
            raise ReportError("bad_by", f"by {self.by!r}: one of {', '.join(BY)}")
        if self.end < self.start:
            raise ReportError(
                "bad_range", f"to {self.end.isoformat()} is before from {self.start.isoformat()}"
            )
        days = (self.end - self.start).days + 1
        if days > MAX_DAYS:
            raise ReportError("range_too_long", f"from..to covers {days} days; at most {MAX_DAYS}")
        if not 1 <= self.top <= MAX_TOP:
            raise ReportError("bad_top", f"top {self.top}: 1 to {MAX_TOP}")

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The range as UTC instants: start of the first day, start of the day after the last."""
        start = datetime.combine(self.start, time(), tz).astimezone(UTC)
        end = datetime.combine(self.end + timedelta(days=1), time(), tz).astimezone(UTC)
        return start, end


@dataclass(frozen=True)
class OrderFacts:
    """One order as reports see it."""

    created_at: datetime
    status: str
    queue: str = ""
    department: str | None = None
    matter: str | None = None
    in_scope: bool = True
    out_of_scope_reason: str | None = None
    due_at: datetime | None = None
    #: when the citizen was first answered (on the spot, or the department's reply)
    answered_at: datetime | None = None
    callback_result: dict[str, Any] | None = None


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; they were stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# ---- shifts -----------------------------------------------------------------------------
class ShiftClock:
    """Which shift a moment belongs to: the roster's shifts and holiday calendar."""

    def __init__(self, shifts: Sequence[Shift], calendar: HolidayCalendar, tz: ZoneInfo) -> None:
        self.shifts = sorted(shifts, key=lambda s: (s.start, s.name))
        self.calendar = calendar
        self.tz = tz
        self._by_day: dict[date, list[tuple[datetime, datetime, str]]] = {}

    def names(self) -> list[str]:
        """Shift names in the order of their start time."""
        return [s.name for s in self.shifts]

    def _instances(self, day: date) -> list[tuple[datetime, datetime, str]]:
        # The instances that may hold a moment of `day`: those starting that day or the day
        # before (overnight), latest start first.
        found = self._by_day.get(day)
        if found is None:
            found = []
            for start_day in (day - timedelta(days=1), day):
                for shift in self.shifts:
                    if self.calendar.runs(shift, start_day):
                        start, end = shift.span(start_day, self.tz)
                        found.append((start, end, shift.name))
            found.sort(key=lambda item: item[0], reverse=True)
            self._by_day[day] = found
        return found

    def shift_of(self, at: datetime) -> str:
        local = at.astimezone(self.tz)
        for start, end, name in self._instances(local.date()):
            if start <= local < end:
                return name
        return NONE


# ---- tallies ----------------------------------------------------------------------------
@dataclass
class Tally:
    """What one bucket counts."""

    orders: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    with_deadline: int = 0
    on_time: int = 0
    late: int = 0
    overdue_open: int = 0
    not_yet_due: int = 0
    out_of_scope: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    matters: Counter[str] = field(default_factory=Counter)
    called_back: int = 0
    solved: int = 0
    unsolved: int = 0
    satisfaction: Counter[str] = field(default_factory=Counter)

    def add(self, o: OrderFacts, now: datetime) -> None:
        self.orders += 1
        self.statuses[o.status] += 1
        if o.due_at is not None:
            self.with_deadline += 1
            if o.answered_at is not None:
                if o.answered_at <= o.due_at:
                    self.on_time += 1
                else:
                    self.late += 1
            elif o.due_at < now:
                self.late += 1
                self.overdue_open += 1
            else:
                self.not_yet_due += 1
        if not o.in_scope:
            self.out_of_scope += 1
            reason = o.out_of_scope_reason
            self.reasons[reason if reason in OUT_OF_SCOPE_REASONS else "unspecified"] += 1
        self.matters[o.matter or o.department or "unclassified"] += 1
        result = o.callback_result
        if isinstance(result, dict):
            self.called_back += 1
            if result.get("solved") is True:
                self.solved += 1
            elif result.get("solved") is False:
                self.unsolved += 1
            if result.get("satisfaction") in SATISFACTION:
                self.satisfaction[str(result["satisfaction"])] += 1


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _satisfaction_rate(t: Tally) -> float | None:
    rated = sum(t.satisfaction[s] for s in SATISFACTION)
    return _rate(t.satisfaction["satisfied"] + t.satisfaction["basic"], rated)


Row = dict[str, Any]


def _summary(t: Tally, top: int) -> list[Row]:
    top_matter = t.matters.most_common(1)
    return [
        {
            "orders": t.orders,
            "open": t.orders - sum(t.statuses[s] for s in FINISHED),
            "finished": sum(t.statuses[s] for s in FINISHED),
            "on_time_rate": _rate(t.on_time, t.on_time + t.late),
            "out_of_scope_share": _rate(t.out_of_scope, t.orders),
            "satisfaction_rate": _satisfaction_rate(t),
            "top_matter": top_matter[0][0] if top_matter else "",
        }
    ]


def _status(t: Tally, top: int) -> list[Row]:
    return [{"orders": t.orders, **{s: t.statuses[s] for s in STATUSES}}]


def _on_time(t: Tally, top: int) -> list[Row]:
    return [
        {
            "with_deadline": t.with_deadline,
            "on_time": t.on_time,
            "late": t.late,
            "overdue_open": t.overdue_open,
            "not_yet_due": t.not_yet_due,
            "on_time_rate": _rate(t.on_time, t.on_time + t.late),
        }
    ]


def _scope(t: Tally, top: int) -> list[Row]:
    return [
        {
            "orders": t.orders,
            "out_of_scope": t.out_of_scope,
            "out_of_scope_share": _rate(t.out_of_scope, t.orders),
            **{r: t.reasons[r] for r in (*OUT_OF_SCOPE_REASONS, "unspecified")},
        }
    ]


def _matters(t: Tally, top: int) -> list[Row]:
    ranked = sorted(t.matters.items(), key=lambda item: (-item[1], item[0]))[:top]
    return [
        {"rank": n, "matter": matter, "orders": count, "share": _rate(count, t.orders)}
        for n, (matter, count) in enumerate(ranked, 1)
    ]


def _satisfaction(t: Tally, top: int) -> list[Row]:
    return [
        {
            "called_back": t.called_back,
            "solved": t.solved,
            "unsolved": t.unsolved,
            **{s: t.satisfaction[s] for s in SATISFACTION},
            "solved_rate": _rate(t.solved, t.solved + t.unsolved),
            "satisfaction_rate": _satisfaction_rate(t),
        }
    ]


#: report -> (its columns after the bucket's, the rows of one bucket)
TABLES: Final[dict[str, tuple[tuple[str, ...], Callable[[Tally, int], list[Row]]]]] = {
    "summary": (
        (
            "orders",
            "open",
            "finished",
            "on_time_rate",
            "out_of_scope_share",
            "satisfaction_rate",
            "top_matter",
        ),
        _summary,
    ),
    "status": (("orders", *STATUSES), _status),
    "on-time": (
        ("with_deadline", "on_time", "late", "overdue_open", "not_yet_due", "on_time_rate"),
        _on_time,
    ),
    "scope": (
        ("orders", "out_of_scope", "out_of_scope_share", *OUT_OF_SCOPE_REASONS, "unspecified"),
        _scope,
    ),
    "matters": (("rank", "matter", "orders", "share"), _matters),
    "satisfaction": (
        (
            "called_back",
            "solved",
            "unsolved",
            *SATISFACTION,
            "solved_rate",
            "satisfaction_rate",
        ),
        _satisfaction,
    ),
}


@dataclass(frozen=True)
class Report:
    request: ReportRequest
    timezone: str
    generated_at: datetime
    columns: tuple[str, ...]
    #: one or more rows per bucket, buckets in order (days, shifts by start, names)
    rows: list[Row]
    #: the same over the whole range (its bucket column says "total")
    total: list[Row]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": self.request.name,
            "from": self.request.start.isoformat(),
            "to": self.request.end.isoformat(),
            "by": self.request.by,
            "timezone": self.timezone,
            "generated_at": self.generated_at.isoformat(),
            "columns": list(self.columns),
            "rows": self.rows,
            "total": self.total,
        }

    def to_csv(self) -> str:
        """Header, one line per row, then the total line(s)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in (*self.rows, *self.total):
            writer.writerow([_cell(row[c]) for c in self.columns])
        return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # A cell a spreadsheet would run as a formula is kept as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _days(request: ReportRequest) -> list[str]:
    return [
        (request.start + timedelta(days=n)).isoformat()
        for n in range((request.end - request.start).days + 1)
    ]


def _key_of(by: str, tz: ZoneInfo, shifts: ShiftClock) -> Callable[[OrderFacts], str]:
    if by == "day":
        return lambda o: o.created_at.astimezone(tz).date().isoformat()
    if by == "shift":
        return lambda o: shifts.shift_of(o.created_at)
    if by == "group":
        return lambda o: o.queue or NONE
    return lambda o: o.department or NONE


def build(
    request: ReportRequest,
    facts: Iterable[OrderFacts],
    *,
    tz: ZoneInfo,
    shifts: ShiftClock,
    now: datetime,
) -> Report:
    """The report of `facts` (the orders created in the request's range)."""
    key = _key_of(request.by, tz, shifts)
    buckets: dict[str, Tally] = {}
    total = Tally()
    for order in facts:
        bucket = key(order)
        buckets.setdefault(bucket, Tally()).add(order, now)
        total.add(order, now)
    if request.by == "day":
        order_of = _days(request)
    elif request.by == "shift":
        order_of = shifts.names()
    else:
        order_of = []
    # Every day of the range and every shift are listed, even without orders; then what
    # else was seen, by name, with "none" last.
    names = order_of + sorted(
        (b for b in buckets if b not in order_of), key=lambda b: (b == NONE, b)
    )
    columns, rows_of = TABLES[request.name]
    rows = [
        {request.by: name, **row}
        for name in names
        for row in rows_of(buckets.get(name, Tally()), request.top)
    ]
    totals = [{request.by: TOTAL, **row} for row in rows_of(total, request.top)]
    return Report(
        request,
        str(tz),
        now,
        (request.by, *columns),
        rows,
        totals,
    )


# ---- the database side ------------------------------------------------------------------
def load_facts(session: Session, start: datetime, end: datetime) -> Iterator[OrderFacts]:
    """The facts of orders created in [start, end), streamed."""
    answered = (
        select(func.min(WorkOrderEvent.at))
        .where(WorkOrderEvent.order_id == WorkOrder.id, WorkOrderEvent.to_status.in_(ANSWERING))
        .correlate(WorkOrder)
        .scalar_subquery()
    )
    statement = (
        select(
            WorkOrder.created_at,
            WorkOrder.status,
            WorkOrder.queue,
            WorkOrder.department,
            WorkOrder.matter,
            WorkOrder.in_scope,
            WorkOrder.out_of_scope_reason,
            WorkOrder.due_at,
            answered,
            WorkOrder.closed_at,
            WorkOrder.callback_result,
        )
        .where(WorkOrder.created_at >= start, WorkOrder.created_at < end)
        .execution_options(yield_per=5000)
    )
    for row in session.execute(statement):
        created_at = _aware(row[0])
        assert created_at is not None
        yield OrderFacts(
            created_at=created_at,
            status=row[1],
            queue=row[2] or "",
            department=row[3],
            matter=row[4],
            in_scope=bool(row[5]),
            out_of_scope_reason=row[6],
            due_at=_aware(row[7]),
            # an order closed without an answering move in its history: its closing time
            answered_at=_aware(row[8]) or _aware(row[9]),
            callback_result=row[10] if isinstance(row[10], dict) else None,
        )


def load_shifts(session: Session, tz: ZoneInfo) -> ShiftClock:
    shifts = [
        Shift(r.name, r.start, r.end, r.days)  # type: ignore[arg-type]
        for r in session.scalars(select(ShiftRow))
    ]
    calendar = HolidayCalendar(
        {r.day: r.kind for r in session.scalars(select(CalendarDayRow))}  # type: ignore[misc]
    )
    return ShiftClock(shifts, calendar, tz)


def run_report(
    sessions: sessionmaker[Session],
    request: ReportRequest,
    timezone: str,
    now: datetime | None = None,
) -> Report:
    """Make the report from the database (one read-only transaction)."""
    tz = ZoneInfo(timezone)
    start, end = request.bounds(tz)
    with sessions() as session:
        shifts = load_shifts(session, tz)
        return build(
            request,
            load_facts(session, start, end),
            tz=tz,
            shifts=shifts,
            now=now or datetime.now(UTC),
        )


def parse_day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportError("bad_date", f"{what} {value!r}: expected YYYY-MM-DD") from None

"""`hotline bench orders`: the work orders' database at a year of a 2,000-calls-a-day centre.

Seeds an empty database with about 700,000 orders (one year ending now; `orders` makes it
smaller) in bulk (executemany on SQLite, COPY on PostgreSQL), with a realistic mix: texts,
kinds and departments from the routing corpus, one in five out of scope, consultations
mostly answered on the spot, the rest dispatched with a due time of 24 hours (water, power,
gas, heating), five or fifteen working days, replied mostly in time, then called back and
closed; the last days' orders still open, some of them overdue. History keeps, per order,
its creation and its first answer (what reports read), not every step.

Then it measures what the product runs: orders created through `OrderStore.create` and
changed through the store's patch (one transaction each, with history and index), and the
queries of the console and of routing, each many times with varying values: p50, p99, max,
and the plan the database chose (EXPLAIN), so a missing index shows.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from hotline.orders.search import FIELD_BREAK, document_terms, search_orders
from hotline.orders.tables import WorkOrder
from routing.taxonomy import DEPARTMENT_ZH

#: a year of a centre answering about 2,000 requests a day
FULL_SIZE = 700_000
DAYS = 365
TARGET_P99_MS = 50.0
OPEN = ("draft", "dispatched", "replied", "callback", "returned", "reopened")
#: statuses whose due time is running (a department has the order, or it came back)
CLOCK = ("dispatched", "returned", "reopened")
UTILITIES = ("heating", "water_supply", "power_supply", "gas_supply")
#: share of requests per hour of the day (local): quiet at night, busiest mid-morning
HOURLY = (1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 10, 8, 6, 8, 9, 9, 8, 7, 6, 6, 5, 4, 3, 2)
#: what a console user types: frequent and rare words, one or two of them
TEXT_QUERIES = (
    "暖气",
    "暖气不热",
    "停水",
    "公积金",
    "占道经营",
    "拖欠工资",
    "噪音",
    "路灯",
    "身份证",
    "物业 暖气",
    "食品安全",
    "社保卡",
    "垃圾",
    "医保 报销",
    "出租车",
    "违章建筑",
    "燃气",
    "退费",
    "供热公司",
    "小区 停电",
)
COLUMNS = (
    "id",
    "number",
    "version",
    "status",
    "channel",
    "created_at",
    "updated_at",
    "created_by",
    "queue",
    "operator",
    "caller_number",
    "caller_name",
    "call_unique_id",
    "transcript",
    "classification",
    "kind",
    "department",
    "matter",
    "in_scope",
    "out_of_scope_reason",
    "summary",
    "place",
    "deadline_class",
    "due_at",
    "extended",
    "reply",
    "return_reason",
    "kb_entry_id",
    "needs_callback",
    "callback_result",
    "parent_id",
    "follow_ups",
    "dispatched_at",
    "closed_at",
)
HISTORY_COLUMNS = (
    "order_id",
    "at",
    "actor",
    "action",
    "from_status",
    "to_status",
    "changes",
    "note",
)


# ---- the data --------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    text: str
    kind: str
    department: str | None
    in_scope: bool
    reason: str | None


def requests_from_corpus() -> tuple[list[Request], list[Request]]:
    """In-scope and out-of-scope requests of the routing corpus (no emergencies: those are
    handed over, not made orders; no follow-ups: those find their order)."""
    from routing.corpus import load

    inside: list[Request] = []
    outside: list[Request] = []
    for e in load():
        if e.intent != "new_request":
            continue
        r = Request(e.text, e.kind or "help", e.department, bool(e.in_scope), e.out_of_scope_reason)
        (inside if r.in_scope else outside).append(r)
    return inside, outside


@dataclass
class Seeded:
    orders: int = 0
    history: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    #: numbers, days and departments the queries pick from
    numbers: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    callers: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _matter(r: Request) -> str | None:
    if r.department is None:
        return None
    label = {"consult": "咨询", "complaint": "投诉", "report": "举报", "suggestion": "建议"}
    return f"{DEPARTMENT_ZH[r.department]}-{label.get(r.kind, '求助')}"


def _order_row(
    rng: random.Random, n: int, number: str, created: datetime, now: datetime, r: Request,
    caller: str,
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:  # fmt: skip
    """One order and its history rows, as it would be at `now`."""
    channel = rng.choices(("phone", "wechat", "web", "app", "letter"), (85, 6, 4, 4, 1))[0]
    if channel == "phone":
        queue = rng.choices(
            ("intake", "enterprise", "intake-mongolian", "dispatch"), (80, 8, 4, 8)
        )[0]
    else:
        queue = "multimedia"
    history: list[tuple[Any, ...]] = [(n, created, "controller", "create", None, "draft", "{}", "")]
    status, due, dispatched, closed, result, deadline_class = (
        "draft",
        None,
        None,
        None,
        None,
        "general",
    )
    age = now - created
    answered_spot = not r.in_scope or (r.kind == "consult" and rng.random() < 0.7)
    if age < timedelta(minutes=10):
        pass  # the operator is still writing it
    elif answered_spot:
        status = "answered"
        history.append(
            (n, created + timedelta(minutes=4), "op", "answer", "draft", "answered", "{}", "")
        )
    else:
        dispatched = created + timedelta(minutes=rng.randint(5, 60))
        if r.department in UTILITIES:
            deadline_class, limit = "utilities", timedelta(hours=24)
        elif rng.random() < 0.15:
            deadline_class, limit = "complex", timedelta(days=21)
        else:
            limit = timedelta(days=7)
        due = dispatched + limit
        replied = dispatched + limit * min(rng.lognormvariate(-0.9, 0.6), 4.0)
        if replied > now:
            status = "returned" if rng.random() < 0.03 else "dispatched"
        else:
            history.append((n, replied, "dept", "reply", "dispatched", "replied", "{}", ""))
            if now < replied + timedelta(days=1):
                status = "replied"
            elif now < replied + timedelta(days=2):
                status = "callback"
            else:
                solved = rng.random() < 0.9
                result = {
                    "solved": solved,
                    "satisfaction": rng.choices(("satisfied", "basic", "unsatisfied"), (80, 12, 8))[
                        0
                    ],
                }
                # an unsolved case is reopened, and handled again within days
                reopened = not solved and now < replied + timedelta(days=5)
                status = "reopened" if reopened else "closed"
                closed = replied + timedelta(days=2)
    c = {"kind": r.kind, "department": r.department, "in_scope": r.in_scope,
         "out_of_scope_reason": r.reason}  # fmt: skip
    row = (
        n, number, 1 + len(history), status, channel, created, closed or created, "",
        queue, f"{7000 + n % 106}", caller, "", f"bench-{n}" if channel == "phone" else None,
        r.text, json.dumps(c, ensure_ascii=False), r.kind, r.department, _matter(r),
        r.in_scope, r.reason, "", "", deadline_class, due, False, "", "", None, True,
        json.dumps(result) if result else None, None, 0, dispatched, closed,
    )  # fmt: skip
    return row, history


def generate(
    total: int, now: datetime, tz: ZoneInfo, seed: int = 12345
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """`total` orders over the `DAYS` days ending at `now`, oldest first (ids follow time)."""
    rng = random.Random(seed)
    inside, outside = requests_from_corpus()
    callers = [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(total // 2 + 1)]
    first_day = (now.astimezone(tz) - timedelta(days=DAYS - 1)).date()
    per_day = [total // DAYS + (1 if d < total % DAYS else 0) for d in range(DAYS)]
    n = 0
    for d, count in enumerate(per_day):
        day = first_day + timedelta(days=d)
        hours = sorted(rng.choices(range(24), HOURLY, k=count))
        moments = sorted(
            datetime(day.year, day.month, day.day, h, tzinfo=tz)
            + timedelta(seconds=rng.randrange(3600))
            for h in hours
        )
        if d == DAYS - 1:
            # today: the orders so far, spread over the hours gone by
            start = datetime(day.year, day.month, day.day, tzinfo=tz)
            span = max(1, int((now - start).total_seconds()))
            moments = sorted(start + timedelta(seconds=rng.randrange(span)) for _ in hours)
        seq = 0
        for moment in moments:
            created = moment.astimezone(UTC)
            n += 1
            seq += 1
            r = rng.choice(outside) if rng.random() < 0.2 else rng.choice(inside)
            yield _order_row(rng, n, f"{day:%Y%m%d}{seq:05d}", created, now, r, rng.choice(callers))


# ---- bulk loading ----------------------------------------------------------------------
def _sqlite_time(value: Any) -> Any:
    # As SQLAlchemy stores DateTime on SQLite: UTC, without an offset.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def seed(
    engine: Engine, total: int, now: datetime, tz: ZoneInfo, progress: Callable[[int], None]
) -> Seeded:
    """Fill the empty schema at `engine` with `total` orders. Raises RuntimeError when the
    database already holds orders (the bench never mixes its data with real ones)."""
    with engine.connect() as connection:
        existing = connection.execute(select(func.count()).select_from(WorkOrder)).scalar_one()
    if existing:
        raise RuntimeError(
            f"the database holds {existing} work orders: the bench seeds an empty database"
        )
    started = time.perf_counter()
    stats = Seeded()
    day_counts: Counter[str] = Counter()
    rows_iter = generate(total, now, tz)
    load = _load_sqlite if engine.dialect.name == "sqlite" else _load_postgresql

    def batches() -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        orders: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        for row, events in rows_iter:
            orders.append(row)
            history.extend(events)
            stats.statuses[row[3]] += 1
            day_counts[row[1][:8]] += 1
            if row[0] % 997 == 0:
                stats.numbers.append(row[1])
                stats.callers.append(row[10])
            if len(orders) == 20_000:
                yield orders, history
                stats.orders += len(orders)
                stats.history += len(history)
                progress(stats.orders)
                orders, history = [], []
        if orders:
            yield orders, history
            stats.orders += len(orders)
            stats.history += len(history)
            progress(stats.orders)

    load(engine, batches(), day_counts)
    stats.days = sorted(day_counts)
    stats.seconds = time.perf_counter() - started
    return stats


def _documents(orders: Sequence[tuple[Any, ...]]) -> list[tuple[int, str]]:
    # The text search.document builds: transcript, summary, place.
    return [
        (row[0], document_terms(FIELD_BREAK.join((row[13], row[20], row[21])))) for row in orders
    ]


def _load_sqlite(engine: Engine, batches: Any, day_counts: Counter[str]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA synchronous = OFF")
        insert = f"INSERT INTO work_orders ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        insert_history = (
            f"INSERT INTO work_order_history ({', '.join(HISTORY_COLUMNS)}) VALUES "
            f"({', '.join('?' * len(HISTORY_COLUMNS))})"
        )
        for orders, history in batches:
            cur.executemany(insert, [tuple(_sqlite_time(v) for v in row) for row in orders])
            cur.executemany(
                insert_history, [tuple(_sqlite_time(v) for v in row) for row in history]
            )
            cur.executemany(
                "INSERT INTO work_orders_fts (rowid, search_text) VALUES (?, ?)", _documents(orders)
            )
            raw.commit()
        cur.executemany(
            "INSERT INTO work_order_counters (day, last) VALUES (?, ?)",
            [(f"{d[:4]}-{d[4:6]}-{d[6:]}", n) for d, n in day_counts.items()],
        )
        cur.execute("INSERT INTO work_orders_fts (work_orders_fts) VALUES ('optimize')")
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _load_postgresql(engine: Engine, batches: Any, day_counts: Counter[str]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SET maintenance_work_mem = '256MB'")
        # The GIN index is built once at the end, faster than row by row.
        cur.execute("DROP INDEX ix_work_orders_fts_document")
        cur.execute("CREATE TEMPORARY TABLE bench_documents (id integer, t text)")
        for orders, history in batches:
            _copy(cur, "work_orders", COLUMNS, orders)
            _copy(cur, "work_order_history", HISTORY_COLUMNS, history)
            _copy(cur, "bench_documents", ("id", "t"), _documents(orders))
            raw.commit()
        cur.execute(
            "INSERT INTO work_orders_fts (order_id, document) "
            "SELECT id, to_tsvector('simple', t) FROM bench_documents"
        )
        cur.execute(
            "CREATE INDEX ix_work_orders_fts_document ON work_orders_fts USING gin (document)"
        )
        _copy(
            cur,
            "work_order_counters",
            ("day", "last"),
            [(date(int(d[:4]), int(d[4:6]), int(d[6:])), n) for d, n in day_counts.items()],
        )
        for table in ("work_orders", "work_order_history"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


# ---- measuring -------------------------------------------------------------------------
@dataclass
class Timing:
    name: str
    description: str
    samples_ms: list[float]
    rows: int
    plan: str

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        s = sorted(self.samples_ms)
        return s[min(len(s) - 1, int(len(s) * 0.99))]

    @property
    def max(self) -> float:
        return max(self.samples_ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "runs": len(self.samples_ms),
            "rows_last_run": self.rows,
            "p50_ms": round(self.p50, 3),
            "p99_ms": round(self.p99, 3),
            "max_ms": round(self.max, 3),
            "met": self.p99 < TARGET_P99_MS,
            "plan": self.plan,
        }


class Statements:
    """The SELECTs an engine ran since `clear`, with their parameters, for EXPLAIN: the plans
    of the very statements the product's code built."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def clear(self) -> None:
        self.seen = []

    def _seen(self, _conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            self.seen.append((sql, parameters))

    def explain(self, session: Session) -> str:
        sqlite = session.get_bind().dialect.name == "sqlite"
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        plans = []
        for sql, parameters in list(self.seen):
            rows = session.connection().exec_driver_sql(prefix + sql, parameters).all()
            plans.append("\n".join(str(r[-1] if sqlite else r[0]) for r in rows))
        return "\n--\n".join(plans)


Query = Callable[[Session, int], int]


def console_queries(store: Any, seeded: Seeded, now: datetime) -> list[tuple[str, str, Query]]:
    """(name, what it is, run(session, i) -> rows) per query: the store's lists and the
    search, with values that change from run to run."""
    from hotline.orders.store import OrderFilter

    departments = sorted(DEPARTMENT_ZH)
    statuses = ("dispatched", "replied", "callback", "returned")

    def listed(wanted: Any, i: int, pages: int = 3) -> int:
        return len(store.list_orders(wanted, limit=50, offset=50 * (i % pages), now=now))

    def by_status(s: Session, i: int) -> int:
        return listed(OrderFilter(status=(statuses[i % len(statuses)],)), i)

    def overdue(s: Session, i: int) -> int:
        return listed(OrderFilter(due="overdue"), i)

    def due_today(s: Session, i: int) -> int:
        return listed(OrderFilter(due="today"), i, 1)

    def department_open(s: Session, i: int) -> int:
        return listed(OrderFilter(status=OPEN, department=departments[i % len(departments)]), i, 1)

    def department_overdue(s: Session, i: int) -> int:
        return listed(OrderFilter(due="overdue", scope=departments[i % len(departments)]), i, 1)

    def department_all(s: Session, i: int) -> int:
        return listed(OrderFilter(scope=departments[i % len(departments)]), i)

    def caller_open(s: Session, i: int) -> int:
        return len(store.open_for_caller(seeded.callers[i % len(seeded.callers)]))

    def newest(s: Session, i: int) -> int:
        return listed(OrderFilter(), i)

    def by_number(s: Session, i: int) -> int:
        return len(search_orders(s, seeded.numbers[(i * 7919) % len(seeded.numbers)]))

    def by_day(s: Session, i: int) -> int:
        return len(search_orders(s, seeded.days[(i * 31) % len(seeded.days)], limit=50))

    def by_words(s: Session, i: int) -> int:
        return len(search_orders(s, TEXT_QUERIES[i % len(TEXT_QUERIES)], limit=20))

    return [
        ("status", "one status, newest first (50, pages 1-3)", by_status),
        ("overdue", "overdue orders, most overdue first (50, pages 1-3)", overdue),
        ("due_today", "orders due by the end of today", due_today),
        ("department_open", "a department's open orders, newest first", department_open),
        ("department_overdue", "a department's overdue orders (its own view)", department_overdue),
        ("department_all", "a department's orders, newest first (50, pages 1-3)", department_all),
        ("caller_open", "a caller's open orders (routing, every call)", caller_open),
        ("newest", "newest orders (50, pages 1-3)", newest),
        ("search_number", "search: an order number", by_number),
        ("search_day", "search: a day's numbers (50)", by_day),
        ("search_words", "search: Chinese words, newest 20", by_words),
    ]


def time_queries(
    engine: Engine, sessions: sessionmaker[Session], seeded: Seeded, runs: int, now: datetime,
    timezone: str,
) -> list[Timing]:  # fmt: skip
    from hotline.orders.store import OrderStore

    store = OrderStore(sessions, timezone)
    statements = Statements(engine)
    timings = []
    for name, description, query in console_queries(store, seeded, now):
        samples: list[float] = []
        rows = 0
        with sessions() as s:
            for i in range(-5, runs):  # five warm-up runs
                statements.clear()
                t0 = time.perf_counter()
                rows = query(s, i % 10_000)
                elapsed = (time.perf_counter() - t0) * 1000
                s.rollback()
                if i >= 0:
                    samples.append(elapsed)
            plan = statements.explain(s)
        timings.append(Timing(name, description, samples, rows, plan))
    return timings


@dataclass(frozen=True)
class Throughput:
    name: str
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "count": self.count,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
        }


def time_creates(sessions: sessionmaker[Session], timezone: str, count: int) -> Throughput:
    from hotline.orders.store import NewOrder, OrderStore

    store = OrderStore(sessions, timezone)
    rng = random.Random(7)
    inside, _ = requests_from_corpus()
    t0 = time.perf_counter()
    for i in range(count):
        r = rng.choice(inside)
        store.create(
            NewOrder(
                channel="phone",
                caller_number=f"139{rng.randrange(10**8):08d}",
                call_unique_id=f"bench-create-{i}",
                transcript=r.text,
                classification={"kind": r.kind, "department": r.department, "in_scope": True},
                queue="intake",
            )
        )
    return Throughput("create (OrderStore.create)", count, time.perf_counter() - t0)


def time_updates(sessions: sessionmaker[Session], timezone: str, count: int) -> Throughput | None:
    """Edits of drafts through the store's patch (the operator's autosave): version check,
    history row, index. None when the store has no patch."""
    from hotline.orders.store import OrderStore

    store = OrderStore(sessions, timezone)
    patch = getattr(store, "patch", None)
    if patch is None:
        return None
    with sessions() as s:
        drafts = list(
            s.execute(
                select(WorkOrder.number, WorkOrder.version)
                .where(WorkOrder.call_unique_id.like("bench-create-%"))
                .order_by(WorkOrder.id)
                .limit(count)
            ).all()
        )
    t0 = time.perf_counter()
    for i, (number, version) in enumerate(drafts):
        patch(number, version, {"summary": f"市民反映暖气不热，第{i}次编辑"}, "bench")
    return Throughput("update (OrderStore.patch of a draft)", len(drafts), time.perf_counter() - t0)


def time_report(sessions: sessionmaker[Session], timezone: str, now: datetime) -> dict[str, Any]:
    """One report of the last 30 days by department (not a console query: reported once)."""
    from hotline.reports.queries import ReportRequest, run_report

    tz = ZoneInfo(timezone)
    end = now.astimezone(tz).date()
    request = ReportRequest("summary", end - timedelta(days=29), end, "department")
    t0 = time.perf_counter()
    report = run_report(sessions, request, timezone, now)
    return {
        "report": "summary by department, 30 days",
        "orders": report.total[0]["orders"],
        "seconds": round(time.perf_counter() - t0, 3),
    }


def table_text(results: dict[str, Any]) -> str:
    """The results as a Markdown table (also what the README quotes)."""
    out = io.StringIO()
    out.write("| query | p50 ms | p99 ms | max ms | rows | p99 < 50 ms |\n")
    out.write("| --- | ---: | ---: | ---: | ---: | --- |\n")
    for q in results["queries"]:
        out.write(
            f"| {q['name']} | {q['p50_ms']:.2f} | {q['p99_ms']:.2f} | {q['max_ms']:.2f} | "
            f"{q['rows_last_run']} | {'yes' if q['met'] else 'NO'} |\n"
        )
    return out.getvalue()

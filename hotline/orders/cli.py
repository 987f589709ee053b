"""`hotline orders`: work orders from the command line, for supervisors on the server.

hotline orders list [--status dispatched] [--due overdue|today] [--department heating]
hotline orders show 2026120100123
hotline orders overdue            # the overdue ones, longest overdue first, and today's count
hotline orders deadlines          # the deadline table in force (HOTLINE_ORDER_DEADLINES)

Whoever runs these reads the database directly, so they show callers' numbers masked and no
words: the full order is the API's, where each read is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hotline.orders.store import OrderStore
    from hotline.orders.tables import WorkOrder

app = typer.Typer(help="Work orders (工单): list, show, overdue, deadlines.", no_args_is_help=True)


def _store() -> OrderStore:
    from hotline.core import db
    from hotline.core.cli import settings_or_exit
    from hotline.orders.deadlines import DeadlineConfigError, parse_table
    from hotline.orders.store import OrderStore
    from hotline.roster.store import RosterStore

    settings = settings_or_exit()
    try:
        table = parse_table(settings.order_deadlines)
    except DeadlineConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    db.upgrade(settings.database_url)
    sessions = db.session_factory(db.make_engine(settings.database_url))
    roster = RosterStore(sessions, settings.timezone)
    return OrderStore(
        sessions, settings.timezone, deadlines=table, calendar=lambda: roster.roster().calendar
    )


def _local(store: OrderStore, value: datetime | None) -> str:
    from hotline.orders.store import as_utc

    if value is None:
        return "-"
    return as_utc(value).astimezone(store.tz).strftime("%Y-%m-%d %H:%M")


def _line(store: OrderStore, order: WorkOrder) -> str:
    from hotline.core.auth import mask_number

    return "\t".join(
        (
            order.number,
            order.status,
            order.department or "-",
            f"due {_local(store, order.due_at)}",
            mask_number(order.caller_number) or "-",
            (order.summary or "").replace("\n", " ")[:40],
        )
    )


@app.command("list")
def list_cmd(
    status: Annotated[
        list[str] | None, typer.Option(help="draft, dispatched, ... (repeat)")
    ] = None,
    due: Annotated[str | None, typer.Option(help="overdue or today")] = None,
    department: Annotated[str | None, typer.Option(help="a department code")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """Orders, newest first (soonest due first with --due)."""
    from hotline.orders.lifecycle import STATUSES, OrderError
    from hotline.orders.store import OrderFilter

    bad = [s for s in status or () if s not in STATUSES]
    if bad:
        typer.echo(f"error: unknown status {bad[0]!r} (one of {', '.join(STATUSES)})", err=True)
        raise typer.Exit(2)
    if due not in (None, "overdue", "today"):
        typer.echo("error: --due is overdue or today", err=True)
        raise typer.Exit(2)
    store = _store()
    wanted = OrderFilter(
        status=tuple(status or ()),
        due=due,  # type: ignore[arg-type]
        department=department,
    )
    try:
        orders = store.list_orders(wanted, limit=limit)
    except OrderError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for order in orders:
        typer.echo(_line(store, order))


@app.command("show")
def show_cmd(number: str) -> None:
    """One order and its history (the caller's number masked, no words)."""
    from hotline.core.auth import mask_number
    from hotline.orders.lifecycle import OrderError, allowed_actions

    store = _store()
    try:
        order = store.get(number)
    except OrderError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    rows = [
        ("number", order.number),
        ("status", f"{order.status} (next: {', '.join(allowed_actions(order.status)) or '-'})"),
        ("version", str(order.version)),
        ("channel", order.channel),
        ("created", _local(store, order.created_at)),
        ("caller", mask_number(order.caller_number) or "-"),
        ("kind", order.kind or "-"),
        ("department", order.department or "-"),
        ("matter", order.matter or "-"),
        ("in scope", "yes" if order.in_scope else f"no ({order.out_of_scope_reason})"),
        ("deadline", f"{order.deadline_class}, due {_local(store, order.due_at)}"),
        ("extended", "yes" if order.extended else "no"),
        ("summary", order.summary or "-"),
        ("reply", order.reply or "-"),
    ]
    for key, value in rows:
        typer.echo(f"{key:<12}{value}")
    typer.echo("history:")
    for event in store.history(order.id):
        note = f"  {event.note[:60]}" if event.note else ""
        typer.echo(
            f"  {_local(store, event.at)}  {event.actor:<16} {event.action:<14}"
            f"{event.from_status or '-'} -> {event.to_status or '-'}{note}"
        )


@app.command("overdue")
def overdue_cmd(limit: Annotated[int, typer.Option(min=1, max=200)] = 100) -> None:
    """Dispatched orders past their due time, longest overdue first, then the counts."""
    from hotline.orders.store import OrderFilter

    store = _store()
    now = datetime.now(UTC)
    for order in store.list_orders(OrderFilter(due="overdue"), limit=limit, now=now):
        typer.echo(_line(store, order))
    counts = store.due_counts(now)
    typer.echo(f"{counts['overdue']} overdue, {counts['today']} more due by the end of today")


@app.command("deadlines")
def deadlines_cmd() -> None:
    """The deadline table in force (defaults merged with HOTLINE_ORDER_DEADLINES)."""
    table = _store().deadlines
    for cls in table.classes.values():
        default = " (default)" if cls.name == table.default else ""
        typer.echo(f"{cls.name}{default}: {cls.limit}, extension {cls.extension}")
    for department, name in sorted(table.departments.items()):
        typer.echo(f"department {department}: {name}")
    for matter, name in sorted(table.matters.items()):
        typer.echo(f"matter {matter}: {name}")


@app.command("purge")
def purge_cmd() -> None:
    """Take the personal data out of orders finished more than HOTLINE_ORDER_RETENTION_DAYS
    ago (the controller does it every hour; this runs it now)."""
    from hotline.core.cli import settings_or_exit
    from hotline.core.db import utcnow
    from hotline.orders import retention

    settings = settings_or_exit()
    store = _store()
    before = retention.expired(utcnow(), settings.order_retention_days)
    purged = retention.purge_expired(store.sessions, before)
    typer.echo(
        f"{len(purged)} finished work orders past {settings.order_retention_days} days "
        "had their personal data taken out"
    )

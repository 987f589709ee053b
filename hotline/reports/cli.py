"""`hotline report NAME`: reports from work orders, as a table, JSON or CSV.

One command per report (`hotline report on-time --from 2026-12-01 --to 2026-12-31 --by
department --format csv > on-time.csv`), so each shows its own help.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hotline.core.cli import err, settings_or_exit
from hotline.reports.queries import MAX_DAYS, MAX_TOP, REPORTS, Report, ReportError, ReportRequest

app = typer.Typer(help="Reports from work orders, as tables, JSON or CSV.", no_args_is_help=True)

HELP = {
    "summary": "Orders, open and finished, on-time rate, out-of-scope share, satisfaction.",
    "status": "Orders by status.",
    "on-time": "Orders answered by their due time, late, overdue and not yet due.",
    "scope": "Out-of-scope share and the reasons.",
    "matters": "The most frequent matters (or departments when the matter is missing).",
    "satisfaction": "Callbacks: solved, satisfied, basically satisfied, unsatisfied.",
}


class By(StrEnum):
    day = "day"
    shift = "shift"
    group = "group"
    department = "department"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _print_table(made: Report) -> None:
    asked = made.request
    table = Table(
        title=f"{asked.name} by {asked.by}, {asked.start} to {asked.end} ({made.timezone})"
    )
    for column in made.columns:
        first = column == made.columns[0]
        table.add_column(column, justify="left" if first else "right", no_wrap=first)
    for n, row in enumerate((*made.rows, *made.total)):
        cells = ["-" if row[c] is None else str(row[c]) for c in made.columns]
        table.add_row(*cells, end_section=n == len(made.rows) - 1)
    Console().print(table)


def _command(name: str) -> None:
    def command(
        start: Annotated[
            str, typer.Option("--from", help="first local day, YYYY-MM-DD", show_default=False)
        ],
        end: Annotated[
            str | None,
            typer.Option("--to", help=f"last local day (default: --from); {MAX_DAYS} days at most"),
        ] = None,
        by: Annotated[By, typer.Option(help="one row per day, shift, group or department")] = (
            By.day
        ),
        fmt: Annotated[Format, typer.Option("--format")] = Format.table,
        top: Annotated[int, typer.Option(help=f"matters per bucket (1-{MAX_TOP})")] = 10,
    ) -> None:
        from hotline.core import db
        from hotline.reports.queries import parse_day, run_report

        try:
            first = parse_day(start, "--from")
            asked = ReportRequest(
                name, first, parse_day(end, "--to") if end else first, by.value, top
            )
        except ReportError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        settings = settings_or_exit()
        db.upgrade(settings.database_url)
        engine = db.make_engine(settings.database_url)
        try:
            made = run_report(db.session_factory(engine), asked, settings.timezone)
        finally:
            engine.dispose()
        if fmt is Format.json:
            typer.echo(json.dumps(made.to_dict(), ensure_ascii=False, indent=2))
        elif fmt is Format.csv:
            typer.echo(made.to_csv(), nl=False)
        else:
            _print_table(made)

    command.__doc__ = HELP[name]
    app.command(name)(command)


for _name in REPORTS:
    _command(_name)

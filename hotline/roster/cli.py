"""`hotline roster`: import a month, who is on duty.

hotline roster import december.csv --month 2026-12
hotline roster on-duty [--at 2026-12-01T10:00+08:00]

(`hotline bench route`, the decision time, is in hotline.bench.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hotline.roster.store import RosterStore

app = typer.Typer(help="Shift rosters: import a month, who is on duty.")


def _store() -> RosterStore:
    from hotline.core import db
    from hotline.core.cli import settings_or_exit
    from hotline.roster.store import RosterStore

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    return RosterStore(db.session_factory(db.make_engine(settings.database_url)), settings.timezone)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    month: Annotated[str, typer.Option(help="YYYY-MM: its assignments are replaced")],
) -> None:
    """Replace a month's assignments with a CSV (date,shift,extension); all rows or none."""
    from hotline.roster.store import RosterImportError
    from routing.roster import RosterError

    store = _store()
    try:
        count = store.import_csv(file.read_text(encoding="utf-8"), month)
    except RosterImportError as exc:
        for error in exc.errors:
            typer.echo(error.message, err=True)
        typer.echo(f"{len(exc.errors)} bad row(s): nothing imported", err=True)
        raise typer.Exit(1) from None
    except RosterError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{count} assignments imported for {month}")


@app.command("on-duty")
def on_duty_cmd(
    at: Annotated[str | None, typer.Option(help="ISO time with offset; default now")] = None,
) -> None:
    """Who is working at a moment."""
    store = _store()
    moment = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if moment.tzinfo is None:
        typer.echo("--at needs a time zone offset, e.g. 2026-12-01T10:00+08:00", err=True)
        raise typer.Exit(2)
    for d in store.roster().on_duty(moment):
        skills = ",".join(sorted(d.operator.skills))
        typer.echo(
            f"{d.operator.extension}\t{d.operator.name}\t{d.operator.group}\t{skills}\t{d.shift}"
        )

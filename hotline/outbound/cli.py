"""`hotline outbound`: the outbound schedule from the command line, on the server.

hotline outbound list [--state gave_up] [--kind survey]   # jobs, numbers masked
hotline outbound pause --reason "holiday campaign stop"     # no new call starts
hotline outbound resume
hotline outbound retry 42                                  # call job 42's citizen again now
hotline outbound dnc list | add 13800138000 --reason ... | remove 13800138000

These read and write the database directly: the running controller follows a pause within
one dialer pass. Numbers are masked here; the full ones are the API's, where reads are
audited.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hotline.outbound.store import OutboundStore

app = typer.Typer(
    help="Outbound calls (回访, call-backs): list, pause, resume, retry, do-not-call list.",
    no_args_is_help=True,
)
dnc = typer.Typer(help="The do-not-call list.", no_args_is_help=True)
app.add_typer(dnc, name="dnc")


def _store() -> OutboundStore:
    from hotline.core import db
    from hotline.core.cli import settings_or_exit
    from hotline.outbound.store import OutboundStore

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    return OutboundStore(db.session_factory(db.make_engine(settings.database_url)))


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _who() -> str:
    return f"cli:{getpass.getuser()}"


@app.command("list")
def list_jobs(
    state: Annotated[list[str] | None, typer.Option(help="pending, calling, done, ...")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="survey, missed, queue_callback")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """Jobs, newest first: id, kind, state, tries, due, last outcome, number (masked)."""
    from hotline.core.auth import mask_number
    from hotline.outbound.store import OutboundError

    store = _store()
    try:
        total, rows = store.jobs(state=state or (), kind=kind or (), limit=limit)
    except OutboundError as exc:
        raise _fail(exc) from None
    for job in rows:
        typer.echo(
            "\t".join(
                (
                    str(job.id),
                    job.kind,
                    job.state,
                    f"{job.tries}/{job.max_tries}",
                    f"due {job.due_at:%Y-%m-%d %H:%M}",
                    job.outcome or "-",
                    mask_number(job.number),
                    f"order {job.order_id}" if job.order_id else "-",
                )
            )
        )
    typer.echo(f"{len(rows)} of {total}")


@app.command()
def pause(reason: Annotated[str, typer.Option(help="why, for the others")] = "") -> None:
    """No new outbound call starts until `resume` (calls in progress go on)."""
    from hotline.outbound.store import OutboundError

    try:
        _store().set_paused(True, _who(), reason)
    except OutboundError as exc:
        raise _fail(exc) from None
    typer.echo("outbound calls paused")


@app.command()
def resume() -> None:
    _store().set_paused(False, _who())
    typer.echo("outbound calls resumed")


@app.command()
def retry(job: int) -> None:
    """Call a job's citizen again as soon as the rules allow."""
    from hotline.outbound.store import OutboundError

    try:
        row = _store().retry_now(job, datetime.now(UTC), _who())
    except OutboundError as exc:
        raise _fail(exc) from None
    typer.echo(f"job {row.id} is due now (try {row.tries + 1} of {row.max_tries})")


@dnc.command("list")
def dnc_list() -> None:
    from hotline.core.auth import mask_number

    rows = _store().do_not_call()
    for row in rows:
        typer.echo(f"{mask_number(row.number)}\t{row.added_by}\t{row.reason}")
    typer.echo(f"{len(rows)} numbers")


@dnc.command("add")
def dnc_add(number: str, reason: Annotated[str, typer.Option()] = "") -> None:
    from hotline.outbound.store import OutboundError

    try:
        _store().add_do_not_call(number, _who(), reason)
    except OutboundError as exc:
        raise _fail(exc) from None
    typer.echo("added to the do-not-call list")


@dnc.command("remove")
def dnc_remove(number: str) -> None:
    from hotline.outbound.store import OutboundError

    try:
        removed = _store().remove_do_not_call(number)
    except OutboundError as exc:
        raise _fail(exc) from None
    if not removed:
        raise _fail(ValueError("that number is not on the do-not-call list"))
    typer.echo("removed from the do-not-call list")

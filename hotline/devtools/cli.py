"""`hotline sandbox`: the local Asterisk sandbox (hotline + carrier) for development."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from hotline.core.cli import err, report_sandbox_step, settings_or_exit

if TYPE_CHECKING:
    from hotline.devtools.sandbox import Sandbox

app = typer.Typer(help="The local Asterisk sandbox (hotline + carrier).", no_args_is_help=True)


@app.command("up")
def sandbox_up() -> None:
    """Set up (first time: about a minute) and start both Asterisks."""
    from hotline.devtools.sandbox import Sandbox, SandboxError

    box = Sandbox(settings_or_exit(), report_sandbox_step)
    try:
        with box.lock():  # waits while a test run uses the sandbox
            box.up()
    except SandboxError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    _print_status(box)


@app.command("down")
def sandbox_down(
    purge: Annotated[bool, typer.Option(help="Also delete the sandbox tree.")] = False,
) -> None:
    """Stop both Asterisks (and with --purge delete the tree)."""
    from hotline.devtools.sandbox import Sandbox, SandboxError

    try:
        Sandbox(settings_or_exit(), report_sandbox_step).down(purge=purge)
    except SandboxError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@app.command("status")
def sandbox_status() -> None:
    """Show whether the tree exists and both Asterisks answer."""
    from hotline.devtools.sandbox import Sandbox

    box = Sandbox(settings_or_exit(), report_sandbox_step)
    _print_status(box)
    if not all(s.ami_answers for s in box.status()):
        raise typer.Exit(1)


@app.command("call")
def sandbox_call(
    digits: Annotated[str, typer.Option(help="DTMF digits the caller sends")] = "1",
    number: Annotated[str, typer.Option(help="caller's number")] = "13800138000",
    name: Annotated[str, typer.Option(help="caller's name")] = "张三",
    delay: Annotated[float, typer.Option(help="seconds before the digits")] = 2.0,
    hold: Annotated[float, typer.Option(help="seconds on the line afterwards")] = 5.0,
) -> None:
    """Have the carrier place a real SIP call to 12345, as a citizen would."""
    from hotline.devtools.carrier import Carrier

    settings = settings_or_exit()

    async def place() -> None:
        async with Carrier.from_settings(settings) as carrier:
            await carrier.call(number=number, name=name, digits=digits, delay=delay, hold=hold)

    asyncio.run(place())
    err.print(f"carrier: calling 12345 from {name} <{number}>, sending {digits!r}")


def _print_status(box: Sandbox) -> None:
    table = Table(title=f"sandbox {box.dir}")
    for col in ("asterisk", "running", "pid", "AMI port", "AMI answers"):
        table.add_column(col)
    for s in box.status():
        table.add_row(
            s.name, str(s.running), str(s.pid or "-"), str(s.ami_port), str(s.ami_answers)
        )
    Console(file=sys.stderr).print(table)

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
    keys: Annotated[
        str,
        typer.Option(
            help="Keys the caller presses, one in each menu as it starts listening "
            "(default 2: a personal request in the key menu, which goes to intake; the caller "
            "says nothing, so with speech on the menu falls back to keys first)."
        ),
    ] = "2",
    number: Annotated[str, typer.Option(help="caller's number")] = "13800138000",
    name: Annotated[str, typer.Option(help="caller's name")] = "张三",
    hold: Annotated[
        float, typer.Option(help="seconds the caller waits in the queue, then hangs up")
    ] = 5.0,
    timeout: Annotated[float, typer.Option(help="seconds to wait for a queue")] = 120.0,
) -> None:
    """Have the carrier place a real SIP call to 12345 and walk the menu as a citizen would.

    Each key is sent when a menu starts listening (the hotline Asterisk's AMI tells when),
    so none is lost in the greeting, however long the prompts. Exits 1 when the call
    reaches no queue."""
    from hotline.devtools.carrier import Carrier
    from hotline.devtools.menu_caller import MenuCall, call_through_menu, hang_up
    from telephony.ami_client import AMIClient, AMIError

    settings = settings_or_exit()

    async def place() -> MenuCall:
        hotline = AMIClient(
            settings.ami_host,
            settings.ami_port,
            settings.ami_user,
            settings.ami_secret,
            name="hotline",
            timeout=10,
        )
        await hotline.connect()
        try:
            async with Carrier.from_settings(settings) as carrier:
                call = await call_through_menu(
                    carrier,
                    hotline,
                    number=number,
                    name=name,
                    keys=keys,
                    timeout=timeout,
                    on_progress=lambda message: err.print(f"carrier: {message}"),
                )
                if call.queue is not None:
                    await asyncio.sleep(hold)
                await hang_up(carrier, call)
                return call
        finally:
            await hotline.close()

    try:
        call = asyncio.run(place())
    except AMIError as exc:
        err.print(f"[red]error:[/red] {exc} (is the sandbox up? `hotline sandbox up`)")
        raise typer.Exit(1) from None
    if call.queue is None:
        what = "ended" if call.ended else f"was in no queue after {timeout:g} s"
        err.print(f"[red]the call {what}[/red] (keys pressed: {''.join(call.pressed) or '-'})")
        raise typer.Exit(1)
    err.print(f"carrier: hung up after {hold:g} s in queue {call.queue}")


def _print_status(box: Sandbox) -> None:
    table = Table(title=f"sandbox {box.dir}")
    for col in ("asterisk", "running", "pid", "AMI port", "AMI answers"):
        table.add_column(col)
    for s in box.status():
        table.add_row(
            s.name, str(s.running), str(s.pid or "-"), str(s.ami_port), str(s.ami_answers)
        )
    Console(file=sys.stderr).print(table)

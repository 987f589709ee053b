"""The `hotline` command: each feature's Typer app, assembled in one place.

The order of `add_typer` calls is the order `hotline --help` lists the commands. The apps
added without a name (core, classify) bring top-level commands (`hotline version`,
`hotline classify`). `hotline serve` is here: it runs the whole service, every feature, so it
belongs with the wiring, not in the core. Every command imports its heavy modules when it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Annotated

import typer

from hotline.bench import cli as bench
from hotline.catalogue import cli as catalogue
from hotline.classify import cli as classify
from hotline.core import cli as core
from hotline.devtools import cli as devtools
from hotline.ivr import cli as ivr
from hotline.kb import cli as kb
from hotline.orders import cli as orders
from hotline.outbound import cli as outbound
from hotline.recordings import cli as recordings
from hotline.reports import cli as reports
from hotline.roster import cli as roster
from hotline.speech import cli as speech

app = typer.Typer(
    name="hotline",
    help="12345 hotline controller: IVR, speech, routing and recordings over Asterisk.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(core.app)


def serve(
    sandbox: Annotated[
        bool | None,
        typer.Option(
            help="Start the local Asterisk sandbox (default: unless HOTLINE_AMI_HOST is set)."
        ),
    ] = None,
) -> None:
    """Run the controller and its web API in the foreground until Ctrl-C."""
    from hotline.core import logs
    from hotline.service import ServiceStartError
    from hotline.service import serve as run

    settings = core.settings_or_exit()
    logs.configure(settings.log_level, settings.log_json, settings.log_personal_data)
    use_sandbox = settings.use_sandbox if sandbox is None else sandbox
    started: list[str] = []
    box = None
    with contextlib.ExitStack() as stack:
        if use_sandbox:
            # The sandbox is a development tool: imported only when it is asked for.
            from hotline.devtools.sandbox import Sandbox, SandboxError

            box = Sandbox(settings, core.report_sandbox_step)
            # One controller per sandbox: a second one (or a test run) would take the
            # same calls. The lock is held until this controller stops.
            stack.enter_context(box.lock())
            try:
                was_running = {s.name for s in box.status() if s.running}
                box.up()
                started = [n for n in ("hotline", "carrier") if n not in was_running]
            except SandboxError as exc:
                core.err.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(1) from None
        core.err.print(
            f"controller: AMI {settings.ami_host}:{settings.ami_port}, "
            f"API http://{settings.api_host}:{settings.api_port}  (Ctrl-C stops)"
        )
        try:
            asyncio.run(run(settings))
        except KeyboardInterrupt:
            pass
        except ServiceStartError as exc:
            core.err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        finally:
            for name in started:
                if box is not None:
                    box.stop(name)


app.command()(serve)
app.add_typer(classify.app)
app.add_typer(bench.app, name="bench")
app.add_typer(devtools.app, name="sandbox")
app.add_typer(core.users_app, name="users")
app.add_typer(core.db_app, name="db")
app.add_typer(speech.app, name="asr")
app.add_typer(recordings.app, name="recordings")
app.add_typer(roster.app, name="roster")
app.add_typer(ivr.app, name="ivr")
app.add_typer(orders.app, name="orders")
app.add_typer(outbound.app, name="outbound")
app.add_typer(kb.app, name="kb")
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(reports.app, name="report")


#: files the controller and its commands make (the database, recordings, exports) are its
#: user's alone; what Asterisk must read is given its mode where it is written
PRIVATE_UMASK = 0o077


def main() -> None:
    os.umask(PRIVATE_UMASK)
    app()

"""Core commands: `hotline version`, `hotline serve`, `hotline users ...`, `hotline db ...`.

`app` holds the top-level commands (added to `hotline` without a name of its own);
`users_app` and `db_app` are the groups.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
from rich.console import Console

from hotline.core.settings import Settings, SettingsError, load_settings

err = Console(stderr=True)

app = typer.Typer()
users_app = typer.Typer(help="API users and their tokens.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def settings_or_exit() -> Settings:
    """The settings, or exit 2 with the reason printed (for every command that needs them)."""
    try:
        return load_settings()
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def report_sandbox_step(message: str) -> None:
    """Print a step of the sandbox (`hotline serve --sandbox`, `hotline sandbox ...`)."""
    err.print(f"[cyan]sandbox:[/cyan] {message}")


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as _v

    typer.echo(_v("hotline12345"))


@app.command()
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
    from hotline.devtools.sandbox import Sandbox, SandboxError
    from hotline.service import ServiceStartError
    from hotline.service import serve as run

    settings = settings_or_exit()
    logs.configure(settings.log_level, settings.log_json)
    use_sandbox = settings.use_sandbox if sandbox is None else sandbox
    started: list[str] = []
    box = Sandbox(settings, report_sandbox_step)
    with contextlib.ExitStack() as stack:
        if use_sandbox:
            # One controller per sandbox: a second one (or a test run) would take the
            # same calls. The lock is held until this controller stops.
            stack.enter_context(box.lock())
            try:
                was_running = {s.name for s in box.status() if s.running}
                box.up()
                started = [n for n in ("hotline", "carrier") if n not in was_running]
            except SandboxError as exc:
                err.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(1) from None
        err.print(
            f"controller: AMI {settings.ami_host}:{settings.ami_port}, "
            f"API http://{settings.api_host}:{settings.api_port}  (Ctrl-C stops)"
        )
        try:
            asyncio.run(run(settings))
        except KeyboardInterrupt:
            pass
        except ServiceStartError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        finally:
            for name in started:
                box.stop(name)


@users_app.command("create")
def users_create(
    name: str,
    role: Annotated[str, typer.Option(help="admin, ops, supervisor or operator")],
) -> None:
    """Create a user and print their API token (shown only this once)."""
    from hotline.core import db
    from hotline.core.auth import UserError, create_user

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    try:
        token = create_user(db.session_factory(engine), name, role)
    except UserError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(token)


@users_app.command("list")
def users_list() -> None:
    """List users and roles (never tokens)."""
    from sqlalchemy import select

    from hotline.core import db
    from hotline.core.auth import User

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    with db.session_factory(engine)() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            typer.echo(f"{user.name}\t{user.role}\t{user.created_at:%Y-%m-%d %H:%M}")
    engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from hotline.core import db

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    err.print("database is up to date")

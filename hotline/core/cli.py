"""Core commands: `hotline version`, `hotline users ...`, `hotline db ...`, and the helpers
every command shares (`settings_or_exit`, `report_sandbox_step`).

`app` holds the top-level commands (added to `hotline` without a name of its own);
`users_app` and `db_app` are the groups.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

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


def _user_sessions(settings: Settings) -> tuple[Any, Any]:
    from hotline.core import db

    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    return engine, db.session_factory(engine)


Days = Annotated[
    int | None,
    typer.Option(help="Days the token lasts (default: HOTLINE_TOKEN_DAYS, 90)."),
]


@users_app.command("create")
def users_create(
    name: str,
    role: Annotated[str, typer.Option(help="admin, ops, supervisor, operator or department")],
    days: Days = None,
    department: Annotated[
        str | None,
        typer.Option(help="The department a department user answers for (e.g. heating)."),
    ] = None,
) -> None:
    """Create a user and print their API token (shown only this once)."""
    from hotline.core.auth import create_user

    settings = settings_or_exit()
    token = _change_user(
        settings,
        create_user,
        name,
        role,
        settings.token_days if days is None else days,
        department,
    )
    typer.echo(token)


@users_app.command("token")
def users_token(name: str, days: Days = None) -> None:
    """Give a user a new token (printed once); the old one stops working at once."""
    from hotline.core.auth import new_token

    settings = settings_or_exit()
    typer.echo(
        _change_user(settings, new_token, name, settings.token_days if days is None else days)
    )


@users_app.command("revoke")
def users_revoke(name: str) -> None:
    """Revoke a user's token now (`hotline users token NAME` issues a new one)."""
    from hotline.core.auth import revoke_token

    _change_user(settings_or_exit(), revoke_token, name)
    err.print(f"token of {name} revoked")


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Refuse every request of a user until `enable`."""
    from hotline.core.auth import set_disabled

    _change_user(settings_or_exit(), set_disabled, name, True)
    err.print(f"{name} disabled")


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Let a disabled user in again (with the token they had, if it has not expired)."""
    from hotline.core.auth import set_disabled

    _change_user(settings_or_exit(), set_disabled, name, False)
    err.print(f"{name} enabled")


@users_app.command("set-role")
def users_set_role(
    name: str,
    role: Annotated[str, typer.Argument(help="admin, ops, supervisor, operator or department")],
    department: Annotated[
        str | None,
        typer.Option(help="The department a department user answers for (e.g. heating)."),
    ] = None,
) -> None:
    """Change a user's role; it applies to their next request."""
    from hotline.core.auth import set_role

    _change_user(settings_or_exit(), set_role, name, role, department)
    err.print(f"{name} is now {role}" + (f" of {department}" if department else ""))


def _change_user(settings: Settings, change: Callable[..., Any], *args: Any) -> Any:
    """Run one of `hotline.core.auth`'s user changes; a refused change exits 2 with why."""
    from hotline.core.auth import UserError

    engine, sessions = _user_sessions(settings)
    try:
        return change(sessions, *args)
    except UserError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@users_app.command("list")
def users_list() -> None:
    """List users, roles, token expiry and state (never tokens)."""
    from sqlalchemy import select

    from hotline.core.auth import User

    engine, sessions = _user_sessions(settings_or_exit())
    with sessions() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            state = "disabled" if user.disabled else "revoked" if user.revoked_at else "active"
            role = f"{user.role}:{user.department}" if user.department else user.role
            typer.echo(
                f"{user.name}\t{role}\t{state}\tcreated {user.created_at:%Y-%m-%d %H:%M}"
                f"\texpires {user.expires_at:%Y-%m-%d %H:%M}"
            )
    engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from hotline.core import db

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    err.print("database is up to date")

"""Core commands: serve, sandbox, users, db, bench ami."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hotline.core.settings import Settings, SettingsError, load_settings

err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _progress(message: str) -> None:
    err.print(f"[cyan]sandbox:[/cyan] {message}")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    sandbox_app = typer.Typer(
        help="The local Asterisk sandbox (hotline + carrier).", no_args_is_help=True
    )
    users_app = typer.Typer(help="API users and their tokens.", no_args_is_help=True)
    db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
    app.add_typer(sandbox_app, name="sandbox")
    app.add_typer(users_app, name="users")
    app.add_typer(db_app, name="db")

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

        settings = _settings()
        logs.configure(settings.log_level, settings.log_json)
        use_sandbox = settings.use_sandbox if sandbox is None else sandbox
        started: list[str] = []
        box = Sandbox(settings, _progress)
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

    @sandbox_app.command("up")
    def sandbox_up() -> None:
        """Set up (first time: about a minute) and start both Asterisks."""
        from hotline.devtools.sandbox import Sandbox, SandboxError

        box = Sandbox(_settings(), _progress)
        try:
            with box.lock():  # waits while a test run uses the sandbox
                box.up()
        except SandboxError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        _print_status(box)

    @sandbox_app.command("down")
    def sandbox_down(
        purge: Annotated[bool, typer.Option(help="Also delete the sandbox tree.")] = False,
    ) -> None:
        """Stop both Asterisks (and with --purge delete the tree)."""
        from hotline.devtools.sandbox import Sandbox, SandboxError

        try:
            Sandbox(_settings(), _progress).down(purge=purge)
        except SandboxError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None

    @sandbox_app.command("status")
    def sandbox_status() -> None:
        """Show whether the tree exists and both Asterisks answer."""
        from hotline.devtools.sandbox import Sandbox

        box = Sandbox(_settings(), _progress)
        _print_status(box)
        if not all(s.ami_answers for s in box.status()):
            raise typer.Exit(1)

    @sandbox_app.command("call")
    def sandbox_call(
        digits: Annotated[str, typer.Option(help="DTMF digits the caller sends")] = "1",
        number: Annotated[str, typer.Option(help="caller's number")] = "13800138000",
        name: Annotated[str, typer.Option(help="caller's name")] = "张三",
        delay: Annotated[float, typer.Option(help="seconds before the digits")] = 2.0,
        hold: Annotated[float, typer.Option(help="seconds on the line afterwards")] = 5.0,
    ) -> None:
        """Have the carrier place a real SIP call to 12345, as a citizen would."""
        from hotline.devtools.carrier import Carrier

        settings = _settings()

        async def place() -> None:
            async with Carrier.from_settings(settings) as carrier:
                await carrier.call(number=number, name=name, digits=digits, delay=delay, hold=hold)

        asyncio.run(place())
        err.print(f"carrier: calling 12345 from {name} <{number}>, sending {digits!r}")

    @users_app.command("create")
    def users_create(
        name: str,
        role: Annotated[str, typer.Option(help="admin, ops, supervisor or operator")],
    ) -> None:
        """Create a user and print their API token (shown only this once)."""
        from hotline.core import db
        from hotline.core.auth import UserError, create_user

        settings = _settings()
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

        settings = _settings()
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

        settings = _settings()
        db.upgrade(settings.database_url)
        err.print("database is up to date")

    _bench_calls(bench_app)

    @bench_app.command("ami")
    def bench_ami(
        fixture: Annotated[
            Path, typer.Option(help="recorded AMI stream (server to client bytes)")
        ] = Path(__file__).resolve().parents[2] / "tests/fixtures/ami/calls.bin",
        repeat: Annotated[int, typer.Option(help="times the stream is replayed")] = 20,
        chunk: Annotated[int, typer.Option(help="bytes per read, as from a socket")] = 1400,
        out: Annotated[Path, typer.Option(help="where to write the JSON")] = Path(
            "bench-results/ami.json"
        ),
    ) -> None:
        """Parse a recorded AMI stream with ours, panoramisk 1.4 and asterisk-ami 0.1.7."""
        from hotline.bench.ami import run_bench

        results = run_bench(fixture, repeat=repeat, chunk=chunk)
        table = Table(title=f"AMI parsing: {fixture.name} x{repeat}, {chunk}-byte reads")
        for col in ("parser", "messages", "msg/s", "vs panoramisk", "wrong"):
            table.add_column(col, justify="right" if col != "parser" else "left")
        for row in results["parsers"]:
            table.add_row(
                row["parser"],
                str(row["messages"]),
                f"{row['messages_per_second']:,.0f}",
                f"{row['ratio_vs_panoramisk']:.2f}x" if row.get("ratio_vs_panoramisk") else "-",
                str(row["wrong"]),
            )
        Console().print(table)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        err.print(f"wrote {out}")


def _bench_calls(bench_app: typer.Typer) -> None:
    @bench_app.command("calls")
    def bench_calls(
        calls: Annotated[int, typer.Option(help="concurrent calls")] = 200,
        ramp: Annotated[float, typer.Option(help="seconds over which calls are placed")] = 10.0,
        out: Annotated[Path, typer.Option(help="where to write the JSON")] = Path(
            "bench-results/calls.json"
        ),
    ) -> None:
        """N real calls walk the default menu with DTMF and a speech step (needs the sandbox)."""
        import tempfile

        from hotline.bench.calls import bench
        from hotline.core import logs

        settings = _settings()
        logs.configure("WARNING")
        with tempfile.TemporaryDirectory() as state:
            run = settings.model_copy(
                update={
                    "state_dir": Path(state),
                    "database_url": f"sqlite:///{Path(state) / 'bench.db'}",
                    "recordings_enabled": False,
                }
            )
            report = asyncio.run(bench(run, calls, ramp))
        table = Table(title=f"{calls} concurrent calls through the default menu")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for label, value in (
            ("calls completed (reached a queue)", f"{report.completed}/{report.calls}"),
            ("calls lost", str(report.lost)),
            ("speech steps refused (all decoders busy)", str(report.speech_refused)),
            ("AGI steps measured", str(report.agi_steps)),
            ("controller-added latency per step p50", f"{report.step_latency_p50_ms:.2f} ms"),
            ("controller-added latency per step p99", f"{report.step_latency_p99_ms:.2f} ms"),
            ("controller CPU (share of one core)", f"{report.cpu_share_of_one_core:.0%}"),
            ("controller peak memory", f"{report.peak_rss_mb:.0f} MB"),
            ("queues", ", ".join(f"{q}: {n}" for q, n in sorted(report.queues.items()))),
        ):
            table.add_row(label, value)
        Console().print(table)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        err.print(f"wrote {out}")
        if report.lost:
            raise typer.Exit(1)


def _print_status(box: object) -> None:
    from hotline.devtools.sandbox import Sandbox

    assert isinstance(box, Sandbox)
    table = Table(title=f"sandbox {box.dir}")
    for col in ("asterisk", "running", "pid", "AMI port", "AMI answers"):
        table.add_column(col)
    for s in box.status():
        table.add_row(
            s.name, str(s.running), str(s.pid or "-"), str(s.ami_port), str(s.ami_answers)
        )
    Console(file=sys.stderr).print(table)

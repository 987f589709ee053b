"""Core commands: serve, sandbox, users, bench ami."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command()
    def version() -> None:
        """Print the version."""
        from importlib.metadata import version as _v

        typer.echo(_v("hotline12345"))

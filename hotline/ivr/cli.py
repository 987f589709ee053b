"""`hotline ivr`: check, walk and draw a menu document without a phone or a server.

    hotline ivr default > menu.yaml             the shipped default 12345 menu
    hotline ivr validate menu.yaml              every problem with its node path (exit 1 if any)
    hotline ivr simulate menu.yaml 1 3          path and prompts for keys 1 then 3
    hotline ivr simulate menu.yaml 1 5 "say:我家暖气不热"
    hotline ivr diagram menu.yaml               Mermaid flowchart text

The running controller's versions, publishing and roll-back are in the web API (/api/ivr).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="IVR menus: validate, simulate, draw.", no_args_is_help=True)


def _read(path: Path) -> dict[str, object]:
    from ivr.document import DocumentError, parse_text

    try:
        return parse_text(path.read_text(encoding="utf-8"))
    except (OSError, DocumentError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("default")
def default() -> None:
    """Print the shipped default menu (YAML)."""
    from ivr.document import default_menu_text

    typer.echo(default_menu_text(), nl=False)


@app.command("validate")
def validate_cmd(path: Path) -> None:
    """Print every problem of a menu document; exit 1 when there is any."""
    from ivr.validation import validate

    _, problems = validate(_read(path))
    for problem in problems:
        typer.echo(f"{problem.code:20} {problem}")
    if problems:
        typer.echo(f"{len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo("valid")


@app.command("simulate")
def simulate_cmd(
    path: Path,
    inputs: Annotated[list[str] | None, typer.Argument(help="keys, 'silence', 'say:...'")] = None,
) -> None:
    """Walk a menu with inputs and print the path as JSON lines (the routing rules with
    someone on duty in every queue)."""
    from hotline.ivr.ports import classify_text, requested_service, static_router
    from ivr.simulate import SimulationInputError, simulate
    from ivr.validation import validate

    document, problems = validate(_read(path))
    if document is None or problems:
        for problem in problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1)
    try:
        result = asyncio.run(
            simulate(
                document,
                inputs or [],
                router=static_router(),
                classify=classify_text,
                requested_service=requested_service,
            )
        )
    except SimulationInputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    for step in result.path:
        typer.echo(json.dumps(step, ensure_ascii=False, default=str))


@app.command("diagram")
def diagram_cmd(path: Path) -> None:
    """Print a Mermaid flowchart of a menu document."""
    from ivr.diagram import mermaid
    from ivr.validation import validate

    document, problems = validate(_read(path))
    if document is None:
        for problem in problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1)
    typer.echo(mermaid(document), nl=False)

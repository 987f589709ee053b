"""`hotline ivr`: check, walk and draw a menu document without a phone or a server.

    hotline ivr default > menu.yaml             the shipped default 12345 menu
    hotline ivr validate menu.yaml              every problem with its node path (exit 1 if any)
    hotline ivr simulate menu.yaml 1 3          path and prompts for keys 1 then 3
    hotline ivr simulate menu.yaml 1 5 "say:我家暖气不热"
    hotline ivr diagram menu.yaml               Mermaid flowchart text
    hotline ivr timings [menu.yaml]             seconds from answer to queue on each path

The running controller's versions, publishing and roll-back are in the web API (/api/ivr).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
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


@app.command("timings")
def timings_cmd(
    path: Annotated[
        Path | None, typer.Argument(help="a menu document (default: the shipped one)")
    ] = None,
    estimate: Annotated[
        bool, typer.Option(help="prompt lengths from text length x rate, not espeak-ng")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
) -> None:
    """Seconds from the answer to the queue on each path of the default menu, simulated:
    prompts last as long as their synthesised placeholders (espeak-ng, as the controller
    makes them; recordings of other lengths change the figures) or, with --estimate, their
    text length x 0.22 s a character; the caller presses a key 1 s after a prompt, speaks
    four characters a second, and presses nothing for a menu's whole timeout."""
    import logging

    from hotline.ivr.ports import classify_text, requested_service, static_router
    from ivr.document import default_menu_text, load, parse_text
    from ivr.timings import SECONDS_PER_CHARACTER, estimated_seconds, menu_timings, table
    from ivr.validation import validate

    # The paths that fall back on purpose would each log the interpreter's warning.
    logging.getLogger("ivr.interpreter").setLevel(logging.ERROR)
    data = _read(path) if path is not None else parse_text(default_menu_text())
    document, problems = validate(data)
    if document is None or problems:
        for problem in problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1)
    document = load(data)
    if estimate:
        seconds_of = estimated_seconds(document)
        source = f"text length x {SECONDS_PER_CHARACTER} s a character"
    else:
        seconds_of = _synthesised_seconds(document)
        source = "the espeak-ng placeholders' lengths"
    timings = asyncio.run(
        menu_timings(
            document,
            seconds_of,
            router=static_router(),
            classify=classify_text,
            requested_service=requested_service,
        )
    )
    if as_json:
        for timing in timings:
            typer.echo(json.dumps(timing.to_dict(), ensure_ascii=False))
        return
    typer.echo(f"simulated; prompt lengths from {source}")
    typer.echo(table(timings), nl=False)


def _synthesised_seconds(document: object) -> Callable[[str, str], float]:
    """Prompt name, language -> seconds of its espeak-ng placeholder (made once each)."""
    from hotline.ivr.prompts import BYTES_PER_SECOND, VOICES, synthesize
    from ivr.document import MenuDocument

    assert isinstance(document, MenuDocument)
    cache: dict[tuple[str, str], float] = {}

    def seconds(name: str, language: str) -> float:
        if (name, language) not in cache:
            texts = document.prompts.get(name, {})
            if not (texts.get(language) or "").strip():
                language_used = document.default_language
            else:
                language_used = language
            text = texts.get(language_used) or ""
            if not text.strip():
                cache[(name, language)] = 0.0
            else:
                wav = synthesize(text, VOICES[language_used])
                cache[(name, language)] = round((len(wav) - 44) / BYTES_PER_SECOND, 2)
        return cache[(name, language)]

    return seconds

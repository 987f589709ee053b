"""`hotline catalogue`: the dispatch catalogue (派单目录) from the command line.

hotline catalogue validate catalogue.yaml      every problem, by matter id and field
hotline catalogue import catalogue.yaml        save it as the draft (--publish: make it live)
hotline catalogue export > catalogue.yaml      the live version (or --version N, --draft)
hotline catalogue versions                     who made and published each version, when
hotline catalogue match "小区路灯不亮了"         the matters a request is about

Changes are recorded as the user named by --by (role "ops") in the versions and the audit
log. A running service picks up a version published here within its refresh interval.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from hotline.catalogue.store import Actor, CatalogueStore

app = typer.Typer(help="Dispatch catalogue (派单目录): validate, import, export, versions, match.")

By = Annotated[str, typer.Option("--by", help="who makes the change (versions, audit log)")]


def _store() -> CatalogueStore:
    """The store, with the shipped catalogue installed as version 1 in an empty database."""
    from hotline.catalogue.document import shipped_document
    from hotline.catalogue.store import CatalogueStore
    from hotline.core import db
    from hotline.core.cli import settings_or_exit

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    store = CatalogueStore(db.session_factory(db.make_engine(settings.database_url)))
    store.ensure_shipped(shipped_document())
    return store


def _actor(by: str) -> Actor:
    from hotline.catalogue.store import Actor

    return Actor(by[:64], "ops", "cli")


def _read(file: Path) -> Any:
    from hotline.catalogue.document import read_file
    from routing.catalogue import CatalogueError

    try:
        return read_file(file)
    except CatalogueError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"{file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None


def _fail(exc: Exception) -> typer.Exit:
    from hotline.catalogue.store import CatalogueStoreError

    typer.echo(str(exc), err=True)
    if isinstance(exc, CatalogueStoreError):
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
    return typer.Exit(1)


File = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML or JSON")]


@app.command("validate")
def validate_cmd(file: File) -> None:
    """Check a catalogue file: every problem with where (matter id and field) and what;
    exit 1 when there is any."""
    from hotline.catalogue.document import matters_of
    from routing.catalogue import validate

    document = _read(file)
    problems = validate(document)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"valid: {len(matters_of(document))} matters")


@app.command("import")
def import_cmd(
    file: File,
    publish: Annotated[bool, typer.Option(help="make it live once it is saved")] = False,
    comment: Annotated[str, typer.Option(help="why (kept with the version)")] = "",
    by: By = "cli",
) -> None:
    """Save a catalogue file as the draft (replacing the draft there is), then with --publish
    make it live. A file with problems is saved as a draft but not published."""
    from hotline.catalogue.feature import compile_document
    from hotline.catalogue.store import CatalogueStoreError

    document = _read(file)
    store = _store()
    actor = _actor(by)
    try:
        saved = store.save_draft(document, store.head().revision, actor, comment or None)
    except CatalogueStoreError as exc:
        raise _fail(exc) from None
    row = saved.row
    typer.echo(
        f"saved as draft version {row.id} (revision {row.revision}): {row.matters} matters, "
        f"{row.problems} problem(s)"
    )
    for problem in saved.problems:
        typer.echo(f"  {problem}", err=True)
    if not publish:
        return
    try:
        published, _ = store.publish(row.revision, actor, compile_document)
    except CatalogueStoreError as exc:
        raise _fail(exc) from None
    typer.echo(f"version {published.id} is live")


@app.command("export")
def export_cmd(
    version: Annotated[int | None, typer.Option(min=1, help="a version (default: live)")] = None,
    draft: Annotated[bool, typer.Option(help="the draft instead")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of YAML")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default stdout)")
    ] = None,
) -> None:
    """A version of the catalogue as YAML (or JSON), ready to edit and import back."""
    import yaml  # type: ignore[import-untyped]

    from hotline.catalogue.store import CatalogueStoreError

    store = _store()
    try:
        if draft:
            row = store.head().draft
            if row is None:
                typer.echo("there is no draft", err=True)
                raise typer.Exit(1)
        elif version is not None:
            row = store.get(version)
        else:
            row = store.live()
            if row is None:
                typer.echo("no version is live", err=True)
                raise typer.Exit(1)
    except CatalogueStoreError as exc:
        raise _fail(exc) from None
    if as_json:
        text = json.dumps(row.document, ensure_ascii=False, indent=2) + "\n"
    else:
        text = f"# dispatch catalogue version {row.id} ({row.status})\n" + yaml.safe_dump(
            row.document, allow_unicode=True, sort_keys=False, width=100
        )
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"version {row.id} ({row.matters} matters) written to {output}", err=True)


@app.command("versions")
def versions_cmd(
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """Every version, newest first: status, matters, problems, who and when."""
    store = _store()
    live = store.live()
    total, rows = store.versions(limit)
    for row in rows:
        mark = "*" if live is not None and row.id == live.id else " "
        when = row.published_at or row.updated_at
        who = row.published_by or row.updated_by
        typer.echo(
            f"{mark}{row.id:>5}  {row.status:<9}  {row.matters:>5} matters  "
            f"{row.problems:>3} problem(s)  {who:<16}  {when:%Y-%m-%d %H:%M}  {row.comment}"
        )
    if total > len(rows):
        typer.echo(f"({total - len(rows)} older not shown)", err=True)


@app.command("match")
def match_cmd(
    text: Annotated[str, typer.Argument(help="a request, spoken or written")],
    limit: Annotated[int, typer.Option(min=1, max=20)] = 5,
    shipped: Annotated[
        bool, typer.Option(help="the shipped catalogue, without a database")
    ] = False,
) -> None:
    """The matters of the live catalogue TEXT is about, best first, with the words that named
    them; exit 1 when none."""
    from hotline.catalogue.feature import compile_document
    from routing.catalogue import default_catalogue

    if shipped:
        catalogue = default_catalogue()
    else:
        row = _store().live()
        catalogue = compile_document(row.document) if row is not None else default_catalogue()
    found = catalogue.match(text, limit)
    if not found:
        typer.echo("no matter of the catalogue is named", err=True)
        raise typer.Exit(1)
    for m in found:
        typer.echo(f"{m.matter.id}\t{m.score:.2f}\t{m.department}\t{m.explain()}")

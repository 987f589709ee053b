"""`hotline kb`: the knowledge base from the command line.

hotline kb import entries.csv        add or change entries (all rows or none)
hotline kb export > entries.csv      every entry, the import's columns
hotline kb search "公积金怎么提取"      the best entries for a question or transcript
hotline kb load-starter              add the shipped starter entries not stored yet

Changes made here are recorded as the user named by --by (default: the system user), with
role "ops", in the entries' versions and the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hotline.kb.store import Actor, KbStore

app = typer.Typer(help="Knowledge base (一问一答): import, export, search, starter set.")

#: a CSV file the import reads at most (the API's body limit is smaller)
MAX_FILE_BYTES = 16 * 1024 * 1024

By = Annotated[str, typer.Option("--by", help="who makes the change (versions, audit log)")]


def _store() -> KbStore:
    from hotline.core import db
    from hotline.core.cli import settings_or_exit
    from hotline.kb.store import KbStore

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    return KbStore(db.session_factory(db.make_engine(settings.database_url)), settings.timezone)


def _actor(by: str) -> Actor:
    from hotline.kb.store import Actor

    return Actor(by[:64], "ops", "cli")


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)], by: By = "cli"
) -> None:
    """Add or change entries from a CSV (question,answer[,matters,keywords,department,
    valid_from,valid_until,source,active,id,version]); all rows or none."""
    from hotline.kb.store import KbError, KbImportError

    if file.stat().st_size > MAX_FILE_BYTES:
        typer.echo(f"{file}: over {MAX_FILE_BYTES:,} bytes", err=True)
        raise typer.Exit(1)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        typer.echo(f"{file}: not UTF-8 ({exc.reason} at byte {exc.start})", err=True)
        raise typer.Exit(1) from None
    try:
        counts = _store().import_csv(text, _actor(by))
    except KbImportError as exc:
        for error in exc.errors:
            typer.echo(error.message, err=True)
        typer.echo(f"{len(exc.errors)} bad row(s): nothing imported", err=True)
        raise typer.Exit(1) from None
    except KbError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{counts['created']} created, {counts['updated']} changed, {counts['unchanged']} unchanged"
    )


@app.command("export")
def export_cmd(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default stdout)")
    ] = None,
    active_only: Annotated[bool, typer.Option(help="leave deactivated entries out")] = False,
) -> None:
    """Every entry as CSV (the import's columns)."""
    text = _store().export_csv(include_inactive=not active_only)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{text.count(chr(10)) - 1 if text else 0} row(s) written to {output}")


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help="a question or a transcript")],
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
    answers: Annotated[bool, typer.Option(help="print each answer too")] = False,
) -> None:
    """The entries that best answer QUERY, best first."""
    from hotline.kb.store import KbError

    try:
        hits = _store().search(query, limit=limit)
    except KbError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if not hits:
        typer.echo("no entry matches", err=True)
        raise typer.Exit(1)
    for hit in hits:
        typer.echo(
            f"{hit.entry['id']}\t{hit.score:.2f}\t{hit.entry['question']}\t"
            f"[{' '.join(hit.matched)}]"
        )
        if answers:
            typer.echo(f"\t{hit.entry['answer']}")


@app.command("load-starter")
def load_starter_cmd(by: By = "cli") -> None:
    """Add the shipped starter entries not stored yet; stored ones (edited or deactivated)
    are left as they are."""
    added = _store().load_starter(_actor(by))
    typer.echo(f"{added} starter entries added")

"""`hotline recordings`: reindex, purge, ingest and status of the recording store."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hotline.core.cli import err, settings_or_exit
from hotline.core.settings import Settings

app = typer.Typer(help="Call recordings: index, retention, ingest.", no_args_is_help=True)


def _feature(settings: Settings, models: Any = None) -> Any:
    from hotline.core import db
    from hotline.recordings.feature import RecordingsFeature
    from hotline.service import WORD_COPIES

    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    try:
        return RecordingsFeature(
            settings, db.session_factory(engine), models or (lambda: None), WORD_COPIES
        )
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def reindex() -> None:
    """Rebuild the search index from the recording store (sidecars), with a progress bar."""
    from hotline.recordings.store import reindex as run_reindex

    feature = _feature(settings_or_exit())
    with Progress(
        TextColumn("reindex"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("reindex", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = run_reindex(feature.sessions, feature.catalogue, report)
    typer.echo(
        f"indexed {result['indexed']}, skipped {result['skipped']} not yet archived, "
        f"removed {result['removed']} without a recording"
    )


@app.command()
def purge() -> None:
    """Delete recordings whose retention has ended (never those on legal hold), and every
    copy of what their callers said."""
    feature = _feature(settings_or_exit())
    deleted = feature.purge()
    typer.echo(f"deleted {len(deleted)} expired recordings")
    for unique_id in deleted:
        typer.echo(f"  {unique_id}")


@app.command()
def ingest(
    transcribe: Annotated[bool, typer.Option(help="Load the speech model and transcribe.")] = True,
    recover: Annotated[
        bool,
        typer.Option(help="First resume jobs left running by a stopped controller."),
    ] = False,
) -> None:
    """Run the due ingest jobs now (e.g. while the controller is stopped)."""
    settings = settings_or_exit()
    loaded: list[Any] = []

    def models() -> Any:
        if not loaded:
            from asr import default_model_path, load_model

            loaded.append(load_model(settings.vosk_model or default_model_path({})))
        return loaded[0]

    feature = _feature(settings, models if transcribe else None)
    if recover:
        feature.jobs.recover()
    count = feature.ingestor.drain("cli")
    typer.echo(f"ran {count} ingest jobs; queue: {feature.jobs.counts()}")


@app.command()
def status() -> None:
    """Ingest jobs by state."""
    feature = _feature(settings_or_exit())
    for state, count in sorted(feature.jobs.counts().items()):
        typer.echo(f"{state:10} {count}")

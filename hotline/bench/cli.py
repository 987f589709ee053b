"""`hotline bench`: every benchmark prints a table and writes JSON.

The measuring code (and what it needs: the sandbox, the speech model, the classifier) is
imported by each command when it runs, so `hotline --help` stays quick.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hotline.core.cli import err, settings_or_exit
from hotline.speech.cli import ModelOption, load_model_or_exit

app = typer.Typer(help="Benchmarks: print a table and write JSON.", no_args_is_help=True)


@app.command("calls")
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

    settings = settings_or_exit()
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


@app.command("ami")
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


@app.command("classify")
def bench_classify(
    out: Annotated[Path, typer.Option(help="Where to write the JSON results.")] = Path(
        "bench-results/classify.json"
    ),
    lines: Annotated[int, typer.Option(help="How many JSON lines to stream.")] = 1000,
) -> None:
    """Model load time, per-call latency (p50/p99) and --jsonl throughput."""
    from hotline.bench.classify import run_bench

    results = run_bench(lines)
    typer.echo("| measure | value |\n| --- | --- |")
    for key, value in results.items():
        typer.echo(f"| {key} | {value} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"written {out}")


@app.command("asr")
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
    from hotline.bench.asr import SENTENCE, run_bench
    from hotline.devtools.simcall import synthesize_speech, trim_silence

    console = Console()
    loaded = load_model_or_exit(model, console)
    try:
        counts = [int(s) for s in streams.split(",") if s.strip()]
    except ValueError:
        console.print(f"[red]error:[/red] --streams must be numbers like 1,2,4, got {streams!r}")
        raise typer.Exit(2) from None
    pcm = load_pcm(utterance, 8000) if utterance else synthesize_speech(SENTENCE)
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


@app.command("route")
def bench_route(
    calls: Annotated[int, typer.Option(min=100)] = 5000,
    output: Annotated[Path, typer.Option()] = Path("bench-results/route.json"),
) -> None:
    """Routing decision time, classification of a typical transcript included."""
    from hotline.bench.route import run_bench

    report = run_bench(calls)
    typer.echo("| measure | value |\n| --- | ---: |")
    typer.echo(f"| decisions | {calls:,} |")
    typer.echo(f"| p50 (classification + decision) | {report.p50_ms:.3f} ms |")
    typer.echo(
        f"| p99 | {report.p99_ms:.3f} ms (target <= 2 ms: {'met' if report.met else 'NOT met'}) |"
    )
    typer.echo(f"| max | {report.max_ms:.3f} ms |")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    typer.echo(f"written to {output}")


@app.command("orders")
def bench_orders(
    orders: Annotated[
        int, typer.Option(min=100, max=2_000_000, help="orders to seed (a year: 700,000)")
    ] = 700_000,
    database_url: Annotated[
        str | None,
        typer.Option(help="an EMPTY database to seed (default: a new SQLite file, deleted after)"),
    ] = None,
    runs: Annotated[int, typer.Option(min=10, max=10_000, help="runs of each query")] = 200,
    creates: Annotated[int, typer.Option(min=1, max=100_000, help="orders created")] = 500,
    out: Annotated[Path | None, typer.Option(help="where to write the JSON")] = None,
) -> None:
    """Seed a year of orders, then time creates, updates and the console's queries."""
    import tempfile
    import time as clock
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from hotline.bench.orders import (
        TARGET_P99_MS,
        seed,
        table_text,
        time_creates,
        time_queries,
        time_report,
        time_updates,
    )
    from hotline.core import db

    settings = settings_or_exit()
    tz = ZoneInfo(settings.timezone)
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'orders.db'}"
        db.upgrade(url)
        engine = db.make_engine(url)
        sessions = db.session_factory(engine)
        now = datetime.now(UTC)
        last = [clock.perf_counter()]

        def progress(done: int) -> None:
            if clock.perf_counter() - last[0] > 10 or done == orders:
                err.print(f"seeded {done:,}/{orders:,} orders")
                last[0] = clock.perf_counter()

        try:
            seeded = seed(engine, orders, now, tz, progress)
        except RuntimeError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        err.print(f"seeded in {seeded.seconds:.0f} s; timing queries")
        timings = time_queries(engine, sessions, seeded, runs, now, settings.timezone)
        created = time_creates(sessions, settings.timezone, creates)
        updated = time_updates(sessions, settings.timezone, creates)
        report = time_report(sessions, settings.timezone, now)
        engine.dispose()
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    throughput = [t.to_dict() for t in (created, updated) if t is not None]
    results: dict[str, Any] = {
        "backend": backend,
        "orders": seeded.orders,
        "history_rows": seeded.history,
        "statuses": dict(seeded.statuses.most_common()),
        "seed_seconds": round(seeded.seconds, 1),
        "target_p99_ms": TARGET_P99_MS,
        "met": all(t.p99 < TARGET_P99_MS for t in timings),
        "throughput": throughput,
        "queries": [t.to_dict() for t in timings],
        "report": report,
    }
    Console().print(
        f"{seeded.orders:,} orders ({seeded.history:,} history rows) on {backend}, "
        f"seeded in {seeded.seconds:.0f} s"
    )
    typer.echo(table_text(results))
    typer.echo("| throughput | count | orders/s |\n| --- | ---: | ---: |")
    for t in throughput:
        typer.echo(f"| {t['name']} | {t['count']} | {t['per_second']:.0f} |")
    typer.echo(f"\n{report['report']}: {report['orders']:,} orders in {report['seconds']:.2f} s")
    target = out or Path(f"bench-results/orders-{backend}.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    err.print(f"wrote {target}")
    if not results["met"]:
        raise typer.Exit(1)


@app.command("outbound")
def bench_outbound(
    callbacks: Annotated[int, typer.Option(min=1, max=5000, help="call-backs placed")] = 500,
    inbound: Annotated[int, typer.Option(min=1, max=200, help="inbound calls, each run")] = 20,
    operators: Annotated[int, typer.Option(min=1, max=50, help="stand-in operators")] = 5,
    at_once: Annotated[int, typer.Option(min=1, max=200, help="outbound calls at once")] = 10,
    per_minute: Annotated[int, typer.Option(min=1, max=2000, help="outbound calls a minute")] = 300,
    ramp: Annotated[float, typer.Option(help="seconds over which inbound calls are placed")] = 20.0,
    out: Annotated[Path, typer.Option(help="where to write the JSON")] = Path(
        "bench-results/outbound.json"
    ),
) -> None:
    """A call-back campaign against the carrier while inbound calls run (needs the sandbox):
    inbound queue waits with and without it, attempts per minute, controller CPU."""
    import tempfile

    from hotline.bench.outbound import bench
    from hotline.core import logs

    settings = settings_or_exit()
    logs.configure("WARNING")
    with tempfile.TemporaryDirectory() as state:
        run = settings.model_copy(
            update={
                "state_dir": Path(state),
                "database_url": f"sqlite:///{Path(state) / 'bench.db'}",
                "recordings_enabled": False,
                "speech_enabled": False,
                "outbound_hours": "00:00-24:00",
                "outbound_on_holidays": True,
                "outbound_at_once": at_once,
                "outbound_per_minute": per_minute,
                "outbound_ring_seconds": 5.0,
                "outbound_poll_interval": 1.0,
            }
        )
        report = asyncio.run(bench(run, callbacks, inbound, operators, ramp))
    table = Table(title=f"{callbacks} call-backs while {inbound} inbound calls run")
    table.add_column("measure")
    table.add_column("without campaign", justify="right")
    table.add_column("with campaign", justify="right")
    base, camp = report.baseline, report.with_campaign
    for label, a, b in (
        (
            "inbound calls connected",
            f"{base.connected}/{base.placed}",
            f"{camp.connected}/{camp.placed}",
        ),
        ("inbound queue wait p50", f"{base.p50_ms:.0f} ms", f"{camp.p50_ms:.0f} ms"),
        ("inbound queue wait p95", f"{base.p95_ms:.0f} ms", f"{camp.p95_ms:.0f} ms"),
        ("inbound queue wait max", f"{base.max_ms:.0f} ms", f"{camp.max_ms:.0f} ms"),
    ):
        table.add_row(label, a, b)
    attempts = ", ".join(f"{k}: {v}" for k, v in sorted(report.attempts.items()))
    for label, value in (
        ("call-back first attempts", attempts or "none"),
        ("attempts per minute", f"{report.attempts_per_minute:.0f}"),
        ("campaign seconds", f"{report.campaign_seconds:.0f}"),
        ("controller CPU (share of one core)", f"{report.cpu_share_of_one_core:.0%}"),
        ("controller peak memory", f"{report.peak_rss_mb:.0f} MB"),
        (
            "inbound not slower (p95 within tolerance)",
            f"{'yes' if report.inbound_not_slower else 'NO'} ({report.tolerance_ms:.0f} ms)",
        ),
    ):
        table.add_row(label, "", value)
    Console().print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    err.print(f"wrote {out}")
    if not report.inbound_not_slower:
        raise typer.Exit(1)

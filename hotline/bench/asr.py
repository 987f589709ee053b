"""`hotline bench asr`: how fast decoding is, and how many live calls one machine holds.

Both measure the service as it runs for a while, with recognisers that have decoded a call
before (a new Vosk recogniser decodes its first utterance several times slower, while it
builds its part of the decoding graph; the engine keeps used recognisers for the next
calls). That first, cold pass is measured and reported too.

1. Decode limit: several recognisers sharing one model decode a recorded utterance as
   fast as they can, with 1..N threads; reported as aggregate x real time.
2. Live service: N simulated calls stream the utterance over real AudioSocket
   connections at real-time pace (20 ms frames), followed by silence. For each call the
   latency is measured from the last frame of speech sent to the moment the IVR has the
   final transcript. A load is "held in real time" when every call ends on silence and
   the 95th percentile latency stays within the configured trailing silence plus
   `latency_budget` seconds.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from asr.endpoint import EndReason
from asr.engine import SpeechEngine
from asr.model import LoadedModel
from asr.server import AudioSocketServer
from hotline.devtools.simcall import CallTrace, play_call

#: what the simulated caller says when no recorded utterance is given (espeak-ng Korean)
SENTENCE = "안녕하세요, 저는 서울에 살고 있습니다. 도로에 물이 새고 있어요. 빨리 고쳐 주세요."


@dataclass
class DecodeRow:
    threads: int
    audio_seconds: float
    wall_seconds: float

    @property
    def x_realtime(self) -> float:
        return self.audio_seconds / self.wall_seconds if self.wall_seconds else 0.0


@dataclass
class LiveRow:
    streams: int
    ended_on_silence: int
    latency_p50: float | None
    latency_p95: float | None
    latency_max: float | None
    late_client_frames: int
    refused: int
    held: bool
    sample_text: str = ""


@dataclass
class BenchReport:
    model_path: str
    model_load_seconds: float
    utterance_seconds: float
    silence_ms: int
    latency_budget: float
    cores: int
    cold: DecodeRow | None = None  # new recognisers' first utterance, all threads
    # As many used recognisers as the most live streams tried, decoding flat out together.
    crowded: DecodeRow | None = None
    decode: list[DecodeRow] = field(default_factory=list)
    live: list[LiveRow] = field(default_factory=list)

    @property
    def max_streams_held(self) -> int:
        return max((row.streams for row in self.live if row.held), default=0)

    @property
    def crowded_recognisers(self) -> int:
        if self.crowded is None or not self.utterance_seconds:
            return 0
        return round(self.crowded.audio_seconds / self.utterance_seconds)

    @property
    def decode_limit(self) -> float:
        """The best aggregate x real time of the decode test: the most streams the decoders
        could keep up with if nothing else cost anything."""
        return max((row.x_realtime for row in self.decode), default=0.0)

    @property
    def share_of_decode_limit(self) -> float:
        """Streams held live as a share of the decode limit (the issue's target: >= 70%)."""
        return self.max_streams_held / self.decode_limit if self.decode_limit else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for row, raw in zip(self.decode, data["decode"], strict=True):
            raw["x_realtime"] = round(row.x_realtime, 2)
        for name in ("cold", "crowded"):
            row = getattr(self, name)
            if row is not None:
                data[name]["x_realtime"] = round(row.x_realtime, 2)
        data["crowded_recognisers"] = self.crowded_recognisers
        data["max_streams_held"] = self.max_streams_held
        data["decode_limit"] = round(self.decode_limit, 2)
        data["share_of_decode_limit"] = round(self.share_of_decode_limit, 3)
        return data


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


#: 200 ms of 8 kHz audio, what a live stream hands the decoder at a time
CHUNK_BYTES = 3200


async def _decode_all(engine: SpeechEngine, pcm: bytes, streams: int, repeats: int) -> float:
    """`streams` recognisers of `engine` each decode `pcm` `repeats` times, one utterance
    per call as the service does; returns the wall time."""

    async def run() -> None:
        for _ in range(repeats):
            stream = await engine.open_stream(8000)
            for i in range(0, len(pcm), CHUNK_BYTES):
                await stream.accept(pcm[i : i + CHUNK_BYTES])
            await stream.finish()

    started = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(streams)))
    return time.perf_counter() - started


async def warm_up(engine: SpeechEngine, pcm: bytes, recognisers: int) -> DecodeRow:
    """Give `engine` `recognisers` used recognisers; returns how fast the cold pass was."""
    wall = await _decode_all(engine, pcm, recognisers, 1)
    return DecodeRow(engine.threads, recognisers * len(pcm) / 16000, wall)


async def decode_limit(
    model: LoadedModel, pcm: bytes, threads: int, *, min_audio_seconds: float = 20.0
) -> DecodeRow:
    """`threads` recognisers decode `pcm` (8 kHz) concurrently on `threads` workers.

    The recognisers are warmed by one pass first, as in a service that has taken calls.
    """
    engine = SpeechEngine(model, max_streams=threads, threads=threads)
    repeats = max(1, int(min_audio_seconds / (len(pcm) / 16000) + 0.999))
    try:
        await warm_up(engine, pcm, threads)
        wall = await _decode_all(engine, pcm, threads, repeats)
    finally:
        await asyncio.to_thread(engine.shutdown)
    return DecodeRow(threads, threads * repeats * len(pcm) / 16000, wall)


async def live_load(
    engine: SpeechEngine,
    utterance: bytes,
    streams: int,
    *,
    silence_ms: int,
    latency_budget: float,
    stagger_seconds: float = 1.0,
) -> LiveRow:
    """`streams` simultaneous paced calls through a real AudioSocket server on `engine`."""
    server = AudioSocketServer(engine, connect_timeout=30.0)
    await server.start()
    rng = random.Random(streams)
    refused_before = engine.stats.refused
    refused = 0
    try:

        async def one_call() -> tuple[CallTrace, Any] | None:
            nonlocal refused
            await asyncio.sleep(rng.uniform(0, stagger_seconds))
            call = uuid.uuid4()
            step = server.expect(call, silence_ms=silence_ms, max_seconds=60)
            trace = await play_call(
                "127.0.0.1", server.port, call, utterance, tail_seconds=silence_ms / 1000 + 5
            )
            return trace, await step

        outcomes = await asyncio.gather(*(one_call() for _ in range(streams)))
        refused = engine.stats.refused - refused_before
    finally:
        await server.stop()
    latencies: list[float] = []
    on_silence = 0
    late = 0
    text = ""
    for outcome in outcomes:
        if outcome is None:
            continue
        trace, result = outcome
        late += trace.late_frames
        if result.reason is EndReason.SILENCE and trace.speech_sent_at is not None:
            on_silence += 1
            latencies.append(result.finished_at - trace.speech_sent_at)
            text = text or result.transcript.display
    p95 = percentile(latencies, 95) if latencies else None
    held = (
        on_silence == streams
        and refused == 0
        and p95 is not None
        and p95 <= silence_ms / 1000 + latency_budget
    )
    return LiveRow(
        streams=streams,
        ended_on_silence=on_silence,
        latency_p50=statistics.median(latencies) if latencies else None,
        latency_p95=p95,
        latency_max=max(latencies) if latencies else None,
        late_client_frames=late,
        refused=refused,
        held=held,
        sample_text=text,
    )


async def run_bench(
    model: LoadedModel,
    utterance: bytes,
    *,
    max_threads: int,
    stream_counts: list[int],
    silence_ms: int = 500,
    latency_budget: float = 0.5,
    cores: int = 1,
    on_step: Callable[[str], None] | None = None,
    stop_after_failures: int = 2,
) -> BenchReport:
    """Run both measurements; `utterance` is trimmed 8 kHz 16-bit mono speech."""
    report = BenchReport(
        model_path=str(model.path),
        model_load_seconds=model.load_seconds,
        utterance_seconds=len(utterance) / 16000,
        silence_ms=silence_ms,
        latency_budget=latency_budget,
        cores=cores,
    )
    for threads in range(1, max_threads + 1):
        if on_step:
            on_step(f"decode limit with {threads} thread(s)")
        report.decode.append(await decode_limit(model, utterance, threads))
    most = max(stream_counts, default=1)
    engine = SpeechEngine(model, max_streams=most, threads=max_threads)
    try:
        if on_step:
            on_step(f"warming {most} recogniser(s) (cold decoding speed)")
        report.cold = await warm_up(engine, utterance, most)
        if on_step:
            on_step(f"decoding with {most} recogniser(s) side by side")
        wall = await _decode_all(engine, utterance, most, 1)
        report.crowded = DecodeRow(max_threads, most * len(utterance) / 16000, wall)
        failures = 0
        for count in stream_counts:
            if on_step:
                on_step(f"live: {count} concurrent stream(s)")
            row = await live_load(
                engine,
                utterance,
                count,
                silence_ms=silence_ms,
                latency_budget=latency_budget,
            )
            report.live.append(row)
            failures = 0 if row.held else failures + 1
            if failures >= stop_after_failures:
                break
    finally:
        await asyncio.to_thread(engine.shutdown)
    return report

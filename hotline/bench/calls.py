"""`hotline bench calls`: N concurrent real calls walk the default menu.

The carrier Asterisk places N calls (spread over a ramp) that press 1 (Mandarin) and 5 (speak
your request) as each menu starts listening, say a short sentence once the speech step listens
(`hotline.devtools.menu_caller`: inputs follow the hotline's AMI events, never guessed times,
so a slow machine is measured, not mistaken for lost calls) and wait in the queue the
controller sends them to. A call is completed when the hotline Asterisk reports it joining a
queue; every other call is lost. Reported: completed/lost, the controller-added
latency per AGI step (from one command's result to the next command leaving, p50/p99), speech
steps refused for want of a decoder, and the controller's CPU and memory. The controller runs
in this process, with the default menu, the real Vosk model and a static router.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hotline.core.settings import Settings
from hotline.devtools.carrier import Carrier
from hotline.devtools.menu_caller import MenuCall, call_through_menu, hang_up
from hotline.devtools.sandbox import Sandbox
from hotline.service import Service

SPOKEN = "네 엄마 엄마 네"


@dataclass
class CallsReport:
    calls: int
    completed: int
    lost: int
    speech_refused: int
    agi_steps: int
    step_latency_p50_ms: float
    step_latency_p99_ms: float
    step_latency_max_ms: float
    wall_seconds: float
    cpu_seconds: float
    cpu_share_of_one_core: float
    peak_rss_mb: float
    queues: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _speech_sound(box: Sandbox) -> str:
    from asr.batch import write_wav
    from hotline.devtools.simcall import synthesize_speech, trim_silence

    pcm = trim_silence(synthesize_speech(SPOKEN))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-speech.wav"
        return box.carrier_sound(write_wav(path, pcm), "bench-speech")


async def run_calls(
    service: Service,
    carrier: Carrier,
    box: Sandbox,
    calls: int,
    *,
    ramp: float = 10.0,
    deadline: float = 180.0,
) -> CallsReport:
    """Place `calls` calls through `carrier` into `service` and measure them."""
    latencies: list[float] = []
    observe = service.agi.on_step_latency

    def record(seconds: float) -> None:
        latencies.append(seconds)
        if observe is not None:
            observe(seconds)

    service.agi.on_step_latency = record
    joined: dict[str, str] = {}
    audio = await asyncio.to_thread(_speech_sound, box)
    numbers = [f"1590000{n:04d}" for n in range(calls)]
    refused_before = service.speech.counters["refused_busy"] if service.speech else 0
    cpu0, wall0 = time.process_time(), time.monotonic()
    placed: list[MenuCall] = []

    async def place(n: int, number: str) -> None:
        await asyncio.sleep(ramp * n / max(calls, 1))
        call = await call_through_menu(
            carrier,
            service.ami,
            number=number,
            keys="",  # the default menu speaks first: the caller only speaks
            speech=audio,
            think=0.5,
            timeout=deadline,
        )
        placed.append(call)
        if call.queue:
            joined[number] = call.queue

    try:
        await asyncio.gather(*(place(n, number) for n, number in enumerate(numbers)))
        for call in placed:
            await hang_up(carrier, call)
        end = time.monotonic() + deadline
        while service.agi.active_calls and time.monotonic() < end:
            await asyncio.sleep(0.2)
    finally:
        service.agi.on_step_latency = observe
    wall = time.monotonic() - wall0
    cpu = time.process_time() - cpu0
    completed = sum(1 for n in numbers if n in joined)
    queues: dict[str, int] = {}
    for number in numbers:
        if number in joined:
            queues[joined[number]] = queues.get(joined[number], 0) + 1
    refused = (service.speech.counters["refused_busy"] if service.speech else 0) - refused_before
    return CallsReport(
        calls=calls,
        completed=completed,
        lost=calls - completed,
        speech_refused=refused,
        agi_steps=len(latencies),
        step_latency_p50_ms=_percentile(latencies, 50) * 1000,
        step_latency_p99_ms=_percentile(latencies, 99) * 1000,
        step_latency_max_ms=max(latencies, default=0.0) * 1000,
        wall_seconds=wall,
        cpu_seconds=cpu,
        cpu_share_of_one_core=cpu / wall if wall else 0.0,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        queues=queues,
    )


async def bench(settings: Settings, calls: int, ramp: float) -> CallsReport:
    box = Sandbox(settings)
    with box.lock():
        await asyncio.to_thread(box.up)
        service = Service(settings)
        service.ivr.configured_router = lambda: None  # the menu's own rules, not the roster
        await service.start()
        try:
            await service.ami.wait_connected(15)
            async with Carrier.from_settings(settings) as carrier:
                try:
                    return await run_calls(service, carrier, box, calls, ramp=ramp)
                finally:
                    for name in ("carrier", "hotline"):
                        await asyncio.to_thread(box.cli, name, "channel request hangup all")
        finally:
            await service.stop()

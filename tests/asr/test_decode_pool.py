"""The decode pool: the end of a caller's turn overtakes other calls' queued audio."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError

import pytest

from asr.engine import NORMAL, URGENT, DecodePool, SpeechEngine


def test_urgent_jobs_overtake_queued_normal_jobs_and_order_is_kept_within_a_priority() -> None:
    pool = DecodePool(1)
    gate = threading.Event()
    done: list[str] = []
    try:
        blocker = pool.submit(NORMAL, gate.wait)  # occupies the only thread
        jobs = [pool.submit(NORMAL, done.append, f"audio-{i}") for i in range(3)]
        jobs.append(pool.submit(URGENT, done.append, "final-a"))
        jobs.append(pool.submit(URGENT, done.append, "final-b"))
        gate.set()
        for job in [blocker, *jobs]:
            job.result(timeout=5)
    finally:
        pool.shutdown()
    assert done == ["final-a", "final-b", "audio-0", "audio-1", "audio-2"]


def test_errors_reach_the_caller_and_the_thread_keeps_working() -> None:
    pool = DecodePool(1)
    try:
        failing = pool.submit(NORMAL, int, "not a number")
        with pytest.raises(ValueError, match="not a number"):
            failing.result(timeout=5)
        assert pool.submit(NORMAL, int, "42").result(timeout=5) == 42
    finally:
        pool.shutdown()


def test_shutdown_cancels_queued_work_lets_running_work_finish_and_refuses_more() -> None:
    pool = DecodePool(1)
    started, gate = threading.Event(), threading.Event()

    def running() -> str:
        started.set()
        gate.wait(5)
        return "finished"

    first = pool.submit(NORMAL, running)
    queued = pool.submit(NORMAL, str, "never")
    assert started.wait(5)
    stopper = threading.Thread(target=pool.shutdown)
    stopper.start()
    deadline = time.monotonic() + 5
    while not queued.cancelled() and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    stopper.join(5)
    assert not stopper.is_alive()
    assert first.result(timeout=1) == "finished"
    with pytest.raises(CancelledError):
        queued.result(timeout=1)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(NORMAL, str, "late")


async def test_a_recogniser_is_used_again_for_the_next_call_with_times_from_its_start(
    engine: SpeechEngine, speech: bytes
) -> None:
    silence = b"\x00\x00" * 4000  # 0.5 s before the speech
    results = []
    for _ in range(3):
        stream = await engine.open_stream(8000)
        for i in range(0, len(silence + speech), 3200):
            await stream.accept((silence + speech)[i : i + 3200])
        results.append(await stream.finish())
    assert engine.stats.opened == 3
    assert engine.stats.reused == 2
    assert engine.idle_recognisers == 1
    for transcript in results:
        assert "엄마" in transcript.text.split()
        assert transcript.audio_seconds == pytest.approx((len(silence) + len(speech)) / 16000)
        # Word times count from the start of each call, not of the recogniser's life.
        assert 0.3 <= transcript.words[0].start <= 1.0, transcript.words
        assert transcript.words[-1].end <= transcript.audio_seconds + 0.05


async def test_an_abandoned_stream_does_not_give_its_recogniser_to_the_next_call(
    engine: SpeechEngine, speech: bytes
) -> None:
    stream = await engine.open_stream(8000)
    await stream.accept(speech[:3200])
    stream.abandon()
    assert engine.idle_recognisers == 0
    assert engine.stats.active == 0

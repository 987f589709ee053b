"""One shared Vosk model, a recogniser per call, decoding in a bounded thread pool.

Vosk releases the GIL while decoding, so a thread pool the size of the machine's cores
gives real parallelism. The event loop only schedules: every call into Vosk (creating a
recogniser, accepting audio, final results) runs on the pool.

Recognisers outlive calls: when a call's turn is over, its recogniser (reset by Vosk's final
result) waits for the next call. A new recogniser expands its part of the decoding graph as it
goes and decodes its first utterance several times slower than a used one.

Admission is decided up front: the engine serves at most `max_streams` recognisers at a
time. `reserve()` either takes a slot immediately or raises `DecodersBusy` immediately,
so the IVR never puts a caller into a speech step that nobody can decode; it falls back
to keys or a human instead. Refusals are counted in `stats`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from asr.model import LoadedModel
from asr.results import Transcript, display_text

log = logging.getLogger(__name__)

T = TypeVar("T")


class DecodersBusy(Exception):
    """Every decoder is in use: fall back to keys (DTMF) or a human for this call."""

    error_id = "asr-decoders-busy"


@dataclass
class EngineStats:
    active: int = 0
    peak: int = 0
    opened: int = 0
    refused: int = 0
    reused: int = 0  # streams given a recogniser of an earlier call


class DecoderSlot:
    """A reserved place for one recogniser; release it exactly once (idempotent)."""

    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._engine._release()


#: job priorities on the decode pool: the end of a caller's turn goes first
URGENT = 0
NORMAL = 1

_Job = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...]]


class DecodePool:
    """Worker threads that take jobs by priority, then in order of submission.

    A thread pool whose queue is first come, first served would make the caller who has
    just stopped speaking wait behind every other call's running audio; here the last
    decode of a turn (`URGENT`) overtakes the queued `NORMAL` batches.
    """

    def __init__(self, threads: int, name: str = "vosk") -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, priority: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        if self._closed:
            raise RuntimeError("the decode pool is shut down")
        future: Future[T] = Future()
        self._queue.put((priority, next(self._order), (future, fn, args)))
        return future

    @property
    def closed(self) -> bool:
        return self._closed

    def _work(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            future, fn, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self) -> None:
        """Cancel queued jobs, let running ones finish, stop the threads (blocks)."""
        self._closed = True
        while True:
            try:
                _, _, job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        for _ in self._threads:
            self._queue.put((NORMAL + 1, next(self._order), None))
        for thread in self._threads:
            thread.join()


class SpeechEngine:
    """Owns the decode pool and admission; create streams with `open_stream`."""

    def __init__(
        self, model: LoadedModel, *, max_streams: int = 8, threads: int | None = None
    ) -> None:
        threads = threads or os.cpu_count() or 1
        if max_streams < 1 or threads < 1:
            raise ValueError(
                f"max_streams and threads must be at least 1, got {max_streams} and {threads}"
            )
        self.model = model
        self.max_streams = max_streams
        self.threads = threads
        self.stats = EngineStats()
        self._pool = DecodePool(threads)
        # Recognisers of finished calls, by sample rate, with the audio they have decoded.
        self._idle: dict[int, list[tuple[Any, int]]] = {}

    def reserve(self) -> DecoderSlot:
        """Take a decoder slot now, or raise DecodersBusy now (never waits)."""
        if self.stats.active >= self.max_streams:
            self.stats.refused += 1
            log.warning(
                "speech decoders busy (%d of %d in use): stream refused, %d refused so far",
                self.stats.active,
                self.max_streams,
                self.stats.refused,
            )
            raise DecodersBusy(
                f"all {self.max_streams} speech decoders are busy; use the DTMF path or "
                "transfer to an operator"
            )
        self.stats.active += 1
        self.stats.opened += 1
        self.stats.peak = max(self.stats.peak, self.stats.active)
        return DecoderSlot(self)

    def _release(self) -> None:
        self.stats.active -= 1

    def submit(self, fn: Callable[..., T], *args: Any, priority: int = NORMAL) -> asyncio.Future[T]:
        """Start blocking work on the decode pool; await the returned future for its result."""
        return asyncio.wrap_future(self._pool.submit(priority, fn, *args))

    async def run(self, fn: Callable[..., T], *args: Any, priority: int = NORMAL) -> T:
        """Run blocking work on the decode pool."""
        return await self.submit(fn, *args, priority=priority)

    async def open_stream(
        self, sample_rate: int = 8000, slot: DecoderSlot | None = None
    ) -> RecognitionStream:
        """A recogniser for one call. Without `slot`, reserves one (may raise).

        A recogniser that finished an earlier call is used again when there is one: a new
        Vosk recogniser builds its share of the decoding graph while it decodes, so its
        first seconds of speech decode several times slower than a used one's.
        """
        slot = slot or self.reserve()
        idle = self._idle.get(sample_rate)
        if idle:
            recogniser, decoded_bytes = idle.pop()
            self.stats.reused += 1
            return RecognitionStream(self, recogniser, sample_rate, slot, decoded_bytes)
        try:
            recogniser = await self.run(_new_recogniser, self.model.model, sample_rate)
        except BaseException:
            slot.release()
            raise
        return RecognitionStream(self, recogniser, sample_rate, slot)

    def _recycle(self, recogniser: Any, sample_rate: int, decoded_bytes: int) -> None:
        idle = self._idle.setdefault(sample_rate, [])
        if len(idle) < self.max_streams:
            idle.append((recogniser, decoded_bytes))

    @property
    def idle_recognisers(self) -> int:
        return sum(len(v) for v in self._idle.values())

    def shutdown(self) -> None:
        """Stop the pool: queued work is cancelled, running work finishes (blocks).

        Idle recognisers are freed here, in the caller's thread: freeing one takes tens of
        milliseconds, so call this off the event loop (`asyncio.to_thread`).
        """
        self._pool.shutdown()
        self._idle.clear()

    def _discard(self, recogniser: Any) -> None:
        """Free a recogniser on the pool, not on the event loop."""
        if not self._pool.closed:
            self._pool.submit(NORMAL, _drop, recogniser)


def _drop(recogniser: Any) -> None:
    """The job's reference is the last one: the recogniser is freed on this thread."""


def _new_recogniser(model: Any, sample_rate: int) -> Any:
    import vosk  # type: ignore[import-untyped,unused-ignore]

    recogniser = vosk.KaldiRecognizer(model, float(sample_rate))
    recogniser.SetWords(True)
    return recogniser


@dataclass(frozen=True, slots=True)
class Partial:
    text: str
    display: str


#: seconds of audio between two partial results
PARTIAL_INTERVAL = 0.5


class RecognitionStream:
    """Streaming recognition for one call. Not shared between tasks: await each call."""

    def __init__(
        self,
        engine: SpeechEngine,
        recogniser: Any,
        sample_rate: int,
        slot: DecoderSlot,
        decoded_before: int = 0,
    ) -> None:
        self._engine = engine
        self._recogniser = recogniser
        self._sample_rate = sample_rate
        # A used recogniser counts time from its first call: word times are shifted back.
        self._decoded_before = decoded_before
        self._bytes_per_second = sample_rate * 2
        self._segments: list[dict[str, Any]] = []
        self._slot = slot
        self._partial = ""
        self._partial_at = 0
        self.audio_bytes = 0
        self.closed = False

    @property
    def audio_seconds(self) -> float:
        return self.audio_bytes / self._bytes_per_second

    def _accept(self, pcm: bytes) -> str | None:
        # Runs on the pool. A completed Vosk segment is kept; the text returned is
        # everything recognised so far, finished segments plus the current partial.
        # PartialResult() searches the lattice: asking for it on every 20 ms frame costs more
        # than decoding, so it is asked at most every PARTIAL_INTERVAL seconds of audio.
        recogniser = self._recogniser
        if recogniser is None:  # abandoned meanwhile
            return None
        if recogniser.AcceptWaveform(pcm):
            segment = json.loads(recogniser.Result())
            self._segments.append(segment)
            current = ""
        elif self.audio_bytes - self._partial_at >= PARTIAL_INTERVAL * self._bytes_per_second:
            current = json.loads(recogniser.PartialResult()).get("partial", "")
        else:
            return None
        self._partial_at = self.audio_bytes
        texts = [s.get("text", "") for s in self._segments] + [current]
        return " ".join(t for t in texts if t)

    def submit(self, pcm: bytes) -> asyncio.Future[str | None]:
        """Start decoding audio on the pool without waiting; pass the result to `partial()`.

        At most one submission per stream may be in flight (await it before the next one):
        a recogniser decodes its audio in order, on one thread at a time.
        """
        if self.closed:
            raise RuntimeError("submit() after finish(): this recognition stream is closed")
        self.audio_bytes += len(pcm)
        return self._engine.submit(self._accept, pcm)

    def partial(self, text: str | None) -> Partial | None:
        """The partial result for a finished submission, or None when nothing changed."""
        if text is None or text == self._partial:
            return None
        self._partial = text
        return Partial(text, display_text(text))

    async def accept(self, pcm: bytes) -> Partial | None:
        """Decode audio (16-bit mono at the stream's rate); return a changed partial."""
        if not pcm:
            if self.closed:
                raise RuntimeError("accept() after finish(): this recognition stream is closed")
            return None
        return self.partial(await self.submit(pcm))

    def _final(self, tail: bytes) -> list[dict[str, Any]]:
        if tail:
            self._accept(tail)
        self._segments.append(json.loads(self._recogniser.FinalResult()))
        offset = self._decoded_before / self._bytes_per_second
        if offset:
            for segment in self._segments:
                for word in segment.get("result", ()):
                    word["start"] = round(max(0.0, word["start"] - offset), 3)
                    word["end"] = round(max(0.0, word["end"] - offset), 3)
        return self._segments

    async def finish(self, tail: bytes = b"", audio_seconds: float | None = None) -> Transcript:
        """Decode `tail` (the last audio), flush the recogniser, release the decoder slot.

        The tail and the flush are one job on the pool, so the end of a caller's turn waits
        for the pool once, not twice. `audio_seconds` is the duration to report when it is
        not just the audio decoded (audio heard but left undecoded, such as final silence).
        """
        if self.closed:
            raise RuntimeError("finish() called twice on a recognition stream")
        self.closed = True
        self.audio_bytes += len(tail)
        try:
            segments = await self._engine.run(self._final, tail, priority=URGENT)
        finally:
            self._slot.release()
        # FinalResult() has reset the recogniser: the next call may use it.
        self._engine._recycle(
            self._recogniser, self._sample_rate, self._decoded_before + self.audio_bytes
        )
        self._recogniser = None
        duration = self.audio_seconds if audio_seconds is None else audio_seconds
        return Transcript.from_vosk(segments, duration)

    def abandon(self) -> None:
        """Release the slot without a result (the step was cancelled).

        The recogniser is not used again (it may be mid-utterance); it is freed on the pool.
        """
        self.closed = True
        self._slot.release()
        recogniser, self._recogniser = self._recogniser, None
        if recogniser is not None:
            self._engine._discard(recogniser)

"""One shared Vosk model, a recogniser per call, decoding in a bounded thread pool.

Vosk releases the GIL while decoding, so a thread pool the size of the machine's cores
gives real parallelism. The event loop only schedules: every call into Vosk (creating a
recogniser, accepting audio, final results) runs on the pool.

Admission is decided up front: the engine serves at most `max_streams` recognisers at a
time. `reserve()` either takes a slot immediately or raises `DecodersBusy` immediately,
so the IVR never puts a caller into a speech step that nobody can decode; it falls back
to keys or a human instead. Refusals are counted in `stats`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


class DecoderSlot:
    """A reserved place for one recogniser; release it exactly once (idempotent)."""

    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._engine._release()


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
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="vosk")

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

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work on the decode pool."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def open_stream(
        self, sample_rate: int = 8000, slot: DecoderSlot | None = None
    ) -> RecognitionStream:
        """A new recogniser for one call. Without `slot`, reserves one (may raise)."""
        slot = slot or self.reserve()
        try:
            recogniser = await self.run(_new_recogniser, self.model.model, sample_rate)
        except BaseException:
            slot.release()
            raise
        return RecognitionStream(self, recogniser, sample_rate, slot)

    def shutdown(self) -> None:
        """Stop the pool after queued work finishes (blocks; call at process exit)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


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
        self, engine: SpeechEngine, recogniser: Any, sample_rate: int, slot: DecoderSlot
    ) -> None:
        self._engine = engine
        self._recogniser = recogniser
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
        if self._recogniser.AcceptWaveform(pcm):
            segment = json.loads(self._recogniser.Result())
            self._segments.append(segment)
            current = ""
        elif self.audio_bytes - self._partial_at >= PARTIAL_INTERVAL * self._bytes_per_second:
            current = json.loads(self._recogniser.PartialResult()).get("partial", "")
        else:
            return None
        self._partial_at = self.audio_bytes
        texts = [s.get("text", "") for s in self._segments] + [current]
        return " ".join(t for t in texts if t)

    async def accept(self, pcm: bytes) -> Partial | None:
        """Decode audio (16-bit mono at the stream's rate); return a changed partial."""
        if self.closed:
            raise RuntimeError("accept() after finish(): this recognition stream is closed")
        if not pcm:
            return None
        self.audio_bytes += len(pcm)
        text = await self._engine.run(self._accept, pcm)
        if text is None or text == self._partial:
            return None
        self._partial = text
        return Partial(text, display_text(text))

    def _final(self) -> list[dict[str, Any]]:
        self._segments.append(json.loads(self._recogniser.FinalResult()))
        self._recogniser = None  # freed on the pool thread, not on the loop
        return self._segments

    async def finish(self) -> Transcript:
        """Flush the recogniser, release the decoder slot, return the transcript."""
        if self.closed:
            raise RuntimeError("finish() called twice on a recognition stream")
        self.closed = True
        try:
            segments = await self._engine.run(self._final)
        finally:
            self._slot.release()
        return Transcript.from_vosk(segments, self.audio_seconds)

    def abandon(self) -> None:
        """Release the slot without a result (the step was cancelled)."""
        self.closed = True
        self._slot.release()

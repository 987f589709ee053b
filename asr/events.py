"""Publishing partial and final transcripts to whoever watches (console, wallboard).

Publishing never waits: each subscriber has its own bounded queue, and when a slow
subscriber's queue is full its oldest event is dropped (a newer partial supersedes it).
A call's decoding is therefore never held up by a screen.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType

from asr.results import SpeechResult


@dataclass(frozen=True, slots=True)
class PartialTranscript:
    """The recogniser's current hypothesis for a call; replaced by the next one."""

    call_id: uuid.UUID
    text: str
    display: str
    audio_seconds: float


@dataclass(frozen=True, slots=True)
class FinalTranscript:
    """A speech step ended; `result` is what the IVR received."""

    call_id: uuid.UUID
    result: SpeechResult


TranscriptEvent = PartialTranscript | FinalTranscript


class Subscription:
    """An async iterator of events; use as `async with events.subscribe() as sub:`."""

    def __init__(self, hub: TranscriptEvents, maxsize: int) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[TranscriptEvent] = asyncio.Queue(maxsize)
        self.dropped = 0

    def _offer(self, event: TranscriptEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> TranscriptEvent:
        return await self._queue.get()

    def get_nowait(self) -> TranscriptEvent | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        self._hub._subscriptions.discard(self)

    def __aiter__(self) -> AsyncIterator[TranscriptEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[TranscriptEvent]:
        while True:
            yield await self._queue.get()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class TranscriptEvents:
    """Fan-out of transcript events to subscribers; call from the event loop only."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, maxsize: int = 100) -> Subscription:
        if maxsize <= 0:
            raise ValueError(f"maxsize must be positive, got {maxsize}")
        subscription = Subscription(self, maxsize)
        self._subscriptions.add(subscription)
        return subscription

    def publish(self, event: TranscriptEvent) -> None:
        for subscription in tuple(self._subscriptions):
            subscription._offer(event)

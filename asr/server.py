"""The AudioSocket server that turns a live call's audio into a transcript.

How the IVR uses it (one speech step)::

    try:
        step = server.expect(call_uuid, max_seconds=15, silence_ms=500)
    except DecodersBusy:
        ...  # fall back to the DTMF menu or an operator
    await session.exec("AudioSocket", f"{call_uuid},{host}:{server.port}")
    result = await step          # SpeechResult: transcript, reason, digits

`expect` reserves a decoder at once (or refuses at once), so a caller is never put into
a step nobody can decode. Asterisk connects and sends the UUID frame; the connection is
matched to its step, audio is decoded on the engine's pool, and the step ends on trailing
silence, the maximum duration, an end key, or hang-up. The server then sends a hang-up
frame and closes the socket, which lets the dialplan continue.

Each connection runs in its own task; `stop()` cancels them and waits. Frames are parsed
by the sans-IO `telephony.audiosocket.FrameParser`; this module owns only the socket.

Connections that are not Asterisk's cannot hold the server: a peer outside `allow` is closed
at once; a connection has `first_frame_timeout` seconds to send its UUID frame; at most
`max_connections` are open at once, and when that many are, the oldest one still waiting for
its UUID frame makes way for the new one (a stream already identified is never dropped; with
none to drop, the new connection is refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import replace
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from asr.endpoint import EndpointConfig, Endpointer, EndReason
from asr.engine import DecodersBusy, DecoderSlot, RecognitionStream, SpeechEngine
from asr.events import FinalTranscript, PartialTranscript, TranscriptEvents
from asr.results import SpeechResult
from telephony.audiosocket import (
    AUDIO_SAMPLE_RATE,
    Audio,
    Dtmf,
    Error,
    FrameParser,
    Hangup,
    ProtocolError,
    UnknownFrame,
    Uuid,
)

log = logging.getLogger(__name__)

__all__ = [
    "AudioSocketServer",
    "DecodersBusy",
    "SpeechResult",
    "SpeechStep",
    "SpeechStepError",
]


class SpeechStepError(Exception):
    """The speech step could not run (no connection arrived, step replaced, server stopped)."""

    error_id = "asr-step-failed"


class SpeechStep:
    """A registered expectation of one AudioSocket stream; await it for the result."""

    def __init__(
        self, call_id: uuid.UUID, config: EndpointConfig, slot: DecoderSlot, deadline: float
    ) -> None:
        self.call_id = call_id
        self.config = config
        self.connected = asyncio.Event()
        self._slot = slot
        self._future: asyncio.Future[SpeechResult] = asyncio.get_running_loop().create_future()
        self._connect_deadline = deadline

    @property
    def done(self) -> bool:
        return self._future.done()

    async def result(self) -> SpeechResult:
        """Wait for the step to end. Raises SpeechStepError if it could not run."""
        return await asyncio.shield(self._future)

    def __await__(self) -> Generator[Any, None, SpeechResult]:
        return self.result().__await__()

    def cancel(self) -> None:
        """Give up on the step (e.g. the AudioSocket EXEC failed); frees its decoder."""
        self._fail(SpeechStepError(f"speech step for call {self.call_id} was cancelled"))

    def _resolve(self, result: SpeechResult) -> None:
        self._slot.release()
        if not self._future.done():
            self._future.set_result(result)

    def _fail(self, error: BaseException) -> None:
        self._slot.release()
        if not self._future.done():
            self._future.set_exception(error)
            self._future.exception()  # mark retrieved: a step nobody awaits is not an error


def parse_call_id(call_id: uuid.UUID | str) -> uuid.UUID:
    if isinstance(call_id, uuid.UUID):
        return call_id
    try:
        return uuid.UUID(call_id)
    except ValueError:
        raise ValueError(
            f"AudioSocket call id must be a UUID (e.g. from ${{UUID()}} or uuid4()), "
            f"got {call_id!r}"
        ) from None


class AudioSocketServer:
    """Accepts AudioSocket connections from Asterisk and runs speech steps."""

    def __init__(
        self,
        engine: SpeechEngine,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        events: TranscriptEvents | None = None,
        defaults: EndpointConfig | None = None,
        connect_timeout: float = 10.0,
        first_frame_timeout: float = 2.0,
        accept_unexpected: bool = False,
        max_connections: int = 64,
        allow: Sequence[IPv4Network | IPv6Network] | None = None,
    ) -> None:
        self.engine = engine
        self.host = host
        self._requested_port = port
        self.events = events or TranscriptEvents()
        self.defaults = defaults or EndpointConfig()
        self.connect_timeout = connect_timeout
        self.first_frame_timeout = first_frame_timeout
        self.accept_unexpected = accept_unexpected
        self.max_connections = max_connections
        #: the networks a peer must be in (None: any peer)
        self.allow = tuple(allow) if allow is not None else None
        self.counters: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._steps: dict[uuid.UUID, SpeechStep] = {}
        self._connections: set[asyncio.Task[None]] = set()
        # Connections still waiting for their UUID frame, oldest first.
        self._unidentified: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._timers: dict[uuid.UUID, asyncio.TimerHandle] = {}

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("AudioSocketServer.port read before start()")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self._requested_port
        )
        log.info("AudioSocket server listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, end every connection task and fail pending steps; waits."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        for call_id in list(self._steps):
            self._drop_step(call_id, SpeechStepError("AudioSocket server stopped"))

    def expect(
        self,
        call_id: uuid.UUID | str,
        *,
        max_seconds: float | None = None,
        silence_ms: int | None = None,
        end_digits: str | None = None,
        no_input_seconds: float | None = None,
    ) -> SpeechStep:
        """Register the stream Asterisk is about to open for `call_id`; await the step.

        Raises DecodersBusy at once when no decoder is free (the IVR falls back), and
        ValueError for a call id that is not a UUID or invalid limits.
        """
        call = parse_call_id(call_id)
        changes: dict[str, Any] = {}
        if max_seconds is not None:
            changes["max_seconds"] = max_seconds
        if silence_ms is not None:
            changes["silence_ms"] = silence_ms
        if end_digits is not None:
            changes["end_digits"] = end_digits
        if no_input_seconds is not None:
            changes["no_input_seconds"] = no_input_seconds
        config = replace(self.defaults, **changes)
        if call in self._steps:
            self._drop_step(call, SpeechStepError(f"speech step for {call} replaced by a new one"))
        try:
            slot = self.engine.reserve()
        except DecodersBusy:
            self.counters["refused_busy"] += 1
            raise
        loop = asyncio.get_running_loop()
        step = SpeechStep(call, config, slot, loop.time() + self.connect_timeout)
        self._steps[call] = step
        self._timers[call] = loop.call_later(self.connect_timeout, self._connect_timed_out, call)
        return step

    def _connect_timed_out(self, call: uuid.UUID) -> None:
        step = self._steps.get(call)
        if step is not None and not step.connected.is_set():
            self.counters["connect_timeout"] += 1
            log.warning("no AudioSocket connection for call %s", call)
            self._drop_step(
                call,
                SpeechStepError(
                    f"Asterisk did not open the AudioSocket stream for call {call} within "
                    f"{self.connect_timeout:g} s: check that the dialplan ran AudioSocket with "
                    f"this UUID and {self.host}:{self.port}"
                ),
            )

    def _drop_step(self, call: uuid.UUID, error: BaseException) -> None:
        timer = self._timers.pop(call, None)
        if timer is not None:
            timer.cancel()
        step = self._steps.pop(call, None)
        if step is not None:
            step._fail(error)

    def _claim_step(self, call: uuid.UUID) -> SpeechStep | None:
        step = self._steps.get(call)
        if step is None or step.done or step.connected.is_set():
            return None
        timer = self._timers.pop(call, None)
        if timer is not None:
            timer.cancel()
        step.connected.set()
        return step

    # -- one task per connection --------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = writer.get_extra_info("peername")
        if not self._admit(task, peer, writer):
            writer.close()
            return
        self.counters["connections"] += 1
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.counters["errors"] += 1
            log.exception("AudioSocket connection failed")
        finally:
            self._connections.discard(task)
            self._unidentified.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _admit(self, task: asyncio.Task[None], peer: Any, writer: asyncio.StreamWriter) -> bool:
        """Whether to serve a new connection (its peer is allowed, and there is room, if need
        be by dropping the oldest connection still waiting for its UUID frame)."""
        if not self._allowed(peer):
            self._count_and_warn(
                "refused_address",
                "AudioSocket connection from %s refused: not an allowed peer",
                peer,
            )
            return False
        if len(self._connections) >= self.max_connections:
            if not self._unidentified:
                self._count_and_warn(
                    "refused_over_limit",
                    "AudioSocket connection from %s refused: %d streams already open",
                    peer,
                    len(self._connections),
                )
                return False
            # Closing its transport ends its read with end-of-stream: the task returns by
            # itself (a cancelled connection task is reported by asyncio as an error).
            oldest = next(iter(self._unidentified))
            self._unidentified.pop(oldest).close()
            self._connections.discard(oldest)
            self._count_and_warn(
                "dropped_over_limit",
                "AudioSocket: %d connections open; dropped the oldest that sent no UUID (%s)",
                len(self._connections) + 1,
                peer,
            )
        self._connections.add(task)
        self._unidentified[task] = writer
        return True

    def _allowed(self, peer: Any) -> bool:
        if self.allow is None:
            return True
        try:
            address = ip_address(peer[0])
        except (TypeError, ValueError, IndexError):
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.allow)

    def _count_and_warn(self, counter: str, message: str, *args: Any) -> None:
        # A flood must not flood the log too: the first, then every hundredth.
        self.counters[counter] += 1
        count = self.counters[counter]
        if count == 1 or count % 100 == 0:
            log.warning(message + " (%d so far)", *args, count)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = FrameParser()
        peer = writer.get_extra_info("peername")
        try:
            first = await asyncio.wait_for(
                self._first_frame(reader, parser), self.first_frame_timeout
            )
        except (TimeoutError, ProtocolError) as exc:
            self._count_and_warn(
                "bad_start",
                "AudioSocket peer %s did not start with a UUID frame within %g s: %s",
                peer,
                self.first_frame_timeout,
                exc or "nothing sent",
            )
            return
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._unidentified.pop(task, None)
        if first is None:
            return
        call = first.uuid
        step = self._claim_step(call)
        if step is None:
            step = self._unexpected(call)
            if step is None:
                _send_hangup(writer)
                return
        try:
            stream = await self.engine.open_stream(AUDIO_SAMPLE_RATE, slot=step._slot)
        except Exception as exc:
            self._steps.pop(call, None)
            step._fail(SpeechStepError(f"could not start a recogniser for call {call}: {exc}"))
            _send_hangup(writer)
            raise
        try:
            result = await self._listen(call, step, stream, parser, reader, writer)
        except BaseException as exc:
            stream.abandon()
            if self._steps.get(call) is step:
                del self._steps[call]
            step._fail(
                exc if isinstance(exc, Exception) else SpeechStepError("speech step cancelled")
            )
            raise
        if self._steps.get(call) is step:
            del self._steps[call]
        self.counters[f"ended_{result.reason}"] += 1
        step._resolve(result)
        self.events.publish(FinalTranscript(call, result))

    async def _first_frame(self, reader: asyncio.StreamReader, parser: FrameParser) -> Uuid | None:
        while True:
            frame = parser.next_frame()
            if frame is not None:
                if isinstance(frame, Uuid):
                    return frame
                if isinstance(frame, Hangup):
                    return None
                raise ProtocolError(f"expected a UUID frame first, got {type(frame).__name__}")
            if parser.finished:
                return None
            parser.receive_data(await reader.read(4096))

    def _unexpected(self, call: uuid.UUID) -> SpeechStep | None:
        self.counters["unexpected"] += 1
        if not self.accept_unexpected:
            log.warning("AudioSocket stream for call %s that no speech step expects", call)
            return None
        try:
            slot = self.engine.reserve()
        except DecodersBusy:
            self.counters["refused_busy"] += 1
            return None
        loop = asyncio.get_running_loop()
        step = SpeechStep(call, self.defaults, slot, loop.time())
        step.connected.set()
        self._steps[call] = step
        return step

    def _take_frames(
        self, call: uuid.UUID, parser: FrameParser, endpointer: Endpointer, pcm: bytearray
    ) -> None:
        """Hand the parsed frames to the end-pointer; the step's audio is added to `pcm`."""
        try:
            for frame in parser:
                if isinstance(frame, Audio):
                    used = endpointer.audio(frame.pcm)
                    pcm += frame.pcm[:used]
                elif isinstance(frame, Dtmf):
                    endpointer.key(frame.digit)
                elif isinstance(frame, Hangup):
                    endpointer.end(EndReason.HANGUP)
                elif isinstance(frame, Error):
                    log.warning("AudioSocket error frame on call %s: %r", call, frame.payload)
                    endpointer.end(EndReason.ERROR)
                elif isinstance(frame, UnknownFrame):
                    self.counters["unknown_frames"] += 1
                if endpointer.ended:
                    return
        except ProtocolError as exc:
            log.warning("AudioSocket protocol error on call %s: %s", call, exc)
            endpointer.end(EndReason.ERROR)

    async def _listen(
        self,
        call: uuid.UUID,
        step: SpeechStep,
        stream: RecognitionStream,
        parser: FrameParser,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> SpeechResult:
        endpointer = Endpointer(step.config, AUDIO_SAMPLE_RATE)
        loop = asyncio.get_running_loop()
        # Audio time drives the end point; this wall-clock bound covers a peer that stops
        # sending audio without hanging up.
        wall_deadline = loop.time() + step.config.max_seconds + 2.0
        # The socket is read and the end point decided as audio arrives; decoding runs
        # beside it on the pool, one batch in flight per call. A batch is whatever audio
        # arrived while the previous one decoded (at least DECODE_BATCH seconds), so a
        # busy pool gets fewer, larger jobs instead of a queue, and a slow decoder never
        # delays hearing the end of the turn.
        pcm = bytearray()  # the step's audio
        handed = 0  # bytes of `pcm` given to the decoder
        decoding: asyncio.Future[str | None] | None = None
        batch_bytes = int(DECODE_BATCH * AUDIO_SAMPLE_RATE) * 2

        def decodable() -> int:
            bound = int(endpointer.decodable_seconds(DECODE_TAIL) * AUDIO_SAMPLE_RATE) * 2
            return min(len(pcm), max(handed, bound))

        def collect(done: asyncio.Future[str | None]) -> None:
            partial = stream.partial(done.result())
            if partial is not None:
                if partial.text:
                    endpointer.words_heard()
                self.events.publish(
                    PartialTranscript(call, partial.text, partial.display, stream.audio_seconds)
                )

        try:
            while not endpointer.ended:
                self._take_frames(call, parser, endpointer, pcm)
                if decoding is not None and decoding.done():
                    collect(decoding)
                    decoding = None
                if endpointer.ended:
                    break
                if decoding is None and decodable() - handed >= batch_bytes:
                    upto = decodable()
                    decoding = stream.submit(bytes(pcm[handed:upto]))
                    handed = upto
                try:
                    async with asyncio.timeout_at(wall_deadline):  # no task per read
                        data = await reader.read(65536)
                except TimeoutError:
                    endpointer.end(EndReason.MAX_DURATION)
                    break
                except ConnectionError:
                    data = b""
                if not data:
                    endpointer.end(EndReason.HANGUP)
                    break
                try:
                    parser.receive_data(data)
                except ProtocolError as exc:
                    log.warning("AudioSocket protocol error on call %s: %s", call, exc)
                    endpointer.end(EndReason.ERROR)
            reason = endpointer.reason or EndReason.ERROR
            # Let the dialplan continue while the last words are decoded.
            if reason is not EndReason.HANGUP:
                _send_hangup(writer)
            writer.close()
            if decoding is not None:
                await decoding
                collect(decoding)
                decoding = None
            # Silence held back at the end of the turn is not decoded, beyond a short tail.
            upto = decodable() if reason is EndReason.SILENCE else len(pcm)
            transcript = await stream.finish(
                bytes(pcm[handed:upto]), audio_seconds=len(pcm) / (AUDIO_SAMPLE_RATE * 2)
            )
        finally:
            if decoding is not None:
                # Cancelled mid-batch: the job finishes on the pool; nothing waits for it.
                decoding.add_done_callback(_discard_result)
        speech_end = endpointer.speech_ended_at if endpointer.speech_started else None
        return SpeechResult(
            call_id=call,
            transcript=transcript,
            reason=reason,
            digits=endpointer.digits,
            speech_ended_at=speech_end,
            finished_at=time.monotonic(),
        )


def _discard_result(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


#: the least audio (seconds) handed to the decoder at a time: a pool hop per 20 ms frame
#: costs more than the decoding itself
DECODE_BATCH = 0.2
#: seconds of the silence after the last speech still decoded at the end of a turn (the
#: recogniser finishes a word better with a little silence after it)
DECODE_TAIL = 0.3


def _send_hangup(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        if not writer.is_closing():
            writer.write(bytes(Hangup()))

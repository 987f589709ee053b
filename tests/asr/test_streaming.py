"""Live streaming through the real asyncio AudioSocket server over real TCP sockets."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from asr import (
    AudioSocketServer,
    DecodersBusy,
    EndReason,
    FinalTranscript,
    PartialTranscript,
    SpeechEngine,
    SpeechStepError,
)
from hotline.devtools.simcall import play_call
from telephony.audiosocket import Audio, Hangup, Uuid
from tests.support.speech import SPOKEN, word_overlap

# Seconds to wait for what must happen; far more than it takes on a loaded machine, so only a
# step or server that never answers runs out of it. Speed is `hotline bench asr`'s business.
PATIENCE = 30


async def test_speech_then_silence_ends_on_silence_with_the_transcript(
    server: AudioSocketServer, speech: bytes
) -> None:
    call = uuid.uuid4()
    async with server.events.subscribe() as events:
        step = server.expect(call, silence_ms=500, max_seconds=20)
        tail_seconds = 10  # far more silence than the end point needs
        trace = await play_call("127.0.0.1", server.port, call, speech, tail_seconds=tail_seconds)
        result = await asyncio.wait_for(step.result(), PATIENCE)

        assert result.reason is EndReason.SILENCE
        assert "엄마" in result.transcript.text.split()
        assert word_overlap(SPOKEN, result.transcript.text) >= 0.5
        assert result.transcript.words
        # The turn ended at the end point, in audio time (how long that takes on the clock is
        # `hotline bench asr`'s business): after the last speech and 500 ms of silence...
        speech_seconds = len(speech) / 16000
        assert result.speech_ended_at == pytest.approx(speech_seconds, abs=0.1)
        assert result.transcript.audio_seconds == pytest.approx(
            result.speech_ended_at + 0.5, abs=0.03
        )
        # ...and the server hung up on the caller there, before the caller's audio ran out.
        assert trace.server_hangup
        assert trace.audio_seconds_sent < speech_seconds + tail_seconds

        seen = []
        while (event := events.get_nowait()) is not None:
            seen.append(event)
    # How many partials a short turn gets depends on how fast the decoder keeps up; the
    # final is published once, last.
    assert all(e.call_id == call for e in seen)
    assert isinstance(seen[-1], FinalTranscript) and seen[-1].result == result
    assert all(isinstance(e, PartialTranscript) for e in seen[:-1])
    assert server.engine.stats.active == 0


async def test_partial_transcripts_are_published_while_the_caller_speaks(
    server: AudioSocketServer, speech: bytes
) -> None:
    call = uuid.uuid4()
    pause = b"\x00\x00" * 4800  # 0.6 s between two sentences: not the end of the turn
    async with server.events.subscribe() as events:
        step = server.expect(call, silence_ms=1500, max_seconds=20)
        await play_call("127.0.0.1", server.port, call, speech + pause + speech, tail_seconds=5)
        result = await asyncio.wait_for(step.result(), PATIENCE)
        seen = []
        while (event := events.get_nowait()) is not None:
            seen.append(event)
    assert result.reason is EndReason.SILENCE
    partials = [e for e in seen if isinstance(e, PartialTranscript)]
    assert partials and all(e.call_id == call for e in partials)
    # The words were on the operator's screen before the caller's turn ended.
    assert any("엄마" in e.text.split() for e in partials)
    assert [e.audio_seconds for e in partials] == sorted(e.audio_seconds for e in partials)
    assert all(e.audio_seconds < result.transcript.audio_seconds for e in partials)
    assert isinstance(seen[-1], FinalTranscript)


async def test_hash_key_ends_the_step_and_other_keys_are_kept(
    server: AudioSocketServer, speech: bytes
) -> None:
    call = uuid.uuid4()
    step = server.expect(call, silence_ms=2000)
    trace = await play_call(
        "127.0.0.1", server.port, call, speech, keys=((0.3, "1"), (0.5, "2"), (0.8, "#"))
    )
    result = await step
    assert result.reason is EndReason.DTMF
    assert result.digits == "12"
    assert trace.server_hangup
    assert result.transcript.audio_seconds == pytest.approx(0.8, abs=0.1)


async def test_hangup_ends_the_step(server: AudioSocketServer, speech: bytes) -> None:
    call = uuid.uuid4()
    step = server.expect(call, silence_ms=2000)
    await play_call("127.0.0.1", server.port, call, speech, hangup_at=1.0)
    result = await step
    assert result.reason is EndReason.HANGUP
    assert result.transcript.audio_seconds == pytest.approx(1.0, abs=0.1)


async def test_closing_the_socket_counts_as_hangup(server: AudioSocketServer) -> None:
    call = uuid.uuid4()
    step = server.expect(call)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(bytes(Uuid(call)) + bytes(Audio(b"\x00" * 320)))
    await writer.drain()
    writer.close()
    result = await asyncio.wait_for(step.result(), PATIENCE)
    assert result.reason is EndReason.HANGUP


async def test_max_duration_ends_continuous_speech(
    server: AudioSocketServer, speech: bytes
) -> None:
    call = uuid.uuid4()
    step = server.expect(call, max_seconds=1.5, silence_ms=500)
    trace = await play_call("127.0.0.1", server.port, call, speech * 3)
    result = await step
    # Cut off at 1.5 s of audio, while the caller was still speaking: the server hung up.
    assert result.reason is EndReason.MAX_DURATION
    assert result.transcript.audio_seconds == pytest.approx(1.5, abs=0.05)
    assert len(speech * 3) / 16000 > 1.5
    assert trace.server_hangup
    assert trace.audio_seconds_sent < len(speech * 3) / 16000
    assert result.transcript.text  # what was said up to the limit is kept


async def test_all_decoders_busy_is_refused_at_once_and_counted(
    model: object, speech: bytes
) -> None:
    engine = SpeechEngine(model, max_streams=1, threads=1)  # type: ignore[arg-type]
    server = AudioSocketServer(engine)
    await server.start()
    try:
        first = uuid.uuid4()
        step = server.expect(first, silence_ms=300)
        # `expect` is not a coroutine: it refuses there and then, never waiting for the
        # decoder (which only this test's first call could free).
        with pytest.raises(DecodersBusy, match="use the DTMF path or transfer"):
            server.expect(uuid.uuid4())
        assert engine.stats.refused == 1 and server.counters["refused_busy"] == 1
        # The step that got the decoder still works, and frees it when it ends.
        await play_call("127.0.0.1", server.port, first, speech)
        assert (await step).reason is EndReason.SILENCE
        assert engine.stats.active == 0
        server.expect(uuid.uuid4()).cancel()
        assert engine.stats.active == 0
    finally:
        await server.stop()
        engine.shutdown()


async def test_a_stream_that_never_connects_fails_the_step_and_frees_the_decoder(
    engine: SpeechEngine,
) -> None:
    server = AudioSocketServer(engine, connect_timeout=0.2)
    await server.start()
    try:
        step = server.expect(uuid.uuid4())
        with pytest.raises(SpeechStepError, match="did not open the AudioSocket stream"):
            await step
        assert engine.stats.active == 0
    finally:
        await server.stop()


async def test_unexpected_uuid_is_hung_up(server: AudioSocketServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(bytes(Uuid(uuid.uuid4())))
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(), PATIENCE)
    assert reply == bytes(Hangup())
    writer.close()
    assert server.counters["unexpected"] == 1


async def test_garbage_instead_of_a_uuid_frame_is_dropped(server: AudioSocketServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.1\r\n\r\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), PATIENCE) == b""
    writer.close()
    assert server.counters["bad_start"] == 1


async def test_stop_cancels_live_connections_and_fails_their_steps(
    engine: SpeechEngine, speech: bytes
) -> None:
    server = AudioSocketServer(engine)
    await server.start()
    call = uuid.uuid4()
    step = server.expect(call, silence_ms=5000)
    caller = asyncio.create_task(play_call("127.0.0.1", server.port, call, speech, tail_seconds=30))
    await asyncio.sleep(0.5)
    waiting = server.expect(uuid.uuid4())
    await asyncio.wait_for(server.stop(), PATIENCE)
    with pytest.raises(SpeechStepError):
        await step
    with pytest.raises(SpeechStepError, match="server stopped"):
        await waiting
    assert engine.stats.active == 0
    await asyncio.wait_for(caller, PATIENCE)


async def test_concurrent_calls_get_their_own_transcripts(
    server: AudioSocketServer, speech: bytes
) -> None:
    calls = [uuid.uuid4() for _ in range(3)]
    steps = [server.expect(c, silence_ms=500) for c in calls]
    clips = [speech, b"\x00\x00" * 8000 + speech, speech]
    await asyncio.gather(
        *(
            play_call("127.0.0.1", server.port, c, clip)
            for c, clip in zip(calls, clips, strict=True)
        )
    )
    results = [await s for s in steps]
    assert [r.call_id for r in results] == calls
    assert all(r.reason is EndReason.SILENCE and "엄마" in r.transcript.text for r in results)

"""Speech steps on real calls: the carrier plays espeak-ng speech into the call, the hotline
Asterisk streams it to the controller's AudioSocket server (EXEC AudioSocket over AsyncAGI),
and the real Vosk model transcribes it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from asr import SpeechResult, SpeechStep
from asr.batch import write_wav
from hotline.calls.store import CallRecord
from hotline.devtools.carrier import Carrier
from hotline.devtools.sandbox import Sandbox
from hotline.devtools.simcall import synthesize_speech, trim_silence
from hotline.service import Service
from telephony.agi import AGISession, ChannelHungUp
from tests.conftest import wait_for
from tests.support.speech import SPOKEN, word_overlap

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def spoken_audio(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> str:
    """SPOKEN as a WAV the carrier plays (8 kHz mono 16-bit), twice with a pause between."""
    pcm = trim_silence(synthesize_speech(SPOKEN))
    path = Path(tmp_path_factory.mktemp("speech")) / "spoken.wav"
    return sandbox.carrier_sound(write_wav(path, pcm), "spoken")


def speech_flow(  # type: ignore[no-untyped-def]
    holder: dict[str, Service],
    results: list[SpeechResult],
    steps: list[SpeechStep],
    **limits: float | int,
):
    async def flow(session: AGISession, record: CallRecord) -> None:
        service = holder["service"]
        assert service.speech is not None
        await session.answer()
        call_id = uuid.uuid4()
        step = service.speech.expect(call_id, **limits)  # type: ignore[arg-type]
        steps.append(step)
        try:
            await session.audiosocket(str(call_id), "127.0.0.1", service.speech.port)
        except ChannelHungUp:
            results.append(await step)
            raise
        results.append(await step)
        record.step("speech", reason=results[-1].reason.value, text=results[-1].text)
        await session.hangup()

    return flow


async def start(
    start_service,
    results: list[SpeechResult],
    steps: list[SpeechStep] | None = None,
    **limits: float | int,
) -> Service:
    holder: dict[str, Service] = {}
    flow = speech_flow(holder, results, [] if steps is None else steps, **limits)
    service = await start_service(flow, speech=True)
    holder["service"] = service
    return service


async def test_spoken_request_is_transcribed_and_ends_on_silence(
    start_service, carrier: Carrier, spoken_audio: str
) -> None:
    results: list[SpeechResult] = []
    await start(start_service, results, silence_ms=600, max_seconds=20)
    # The caller starts speaking 1.5 s after the answer: time enough, even on a loaded
    # machine, for the controller to open the audio stream before the first word.
    await carrier.call(number="13700000001", audio=spoken_audio, delay=1.5, hold=8)
    await wait_for(lambda: bool(results), 30, "the speech step to end")
    result = results[0]
    assert result.reason.value == "silence"
    assert result.transcript.text, "nothing was recognised"
    assert word_overlap(SPOKEN, result.transcript.text) >= 0.5, result.transcript.text
    assert result.transcript.audio_seconds > 1.0
    assert all(w.end >= w.start for w in result.transcript.words)


async def test_hash_ends_the_step_before_the_silence_would(
    start_service, carrier: Carrier, spoken_audio: str
) -> None:
    results: list[SpeechResult] = []
    await start(start_service, results, silence_ms=5000, max_seconds=20)
    await carrier.call(number="13700000002", audio=spoken_audio, digits="#", delay=1.5, hold=10)
    await wait_for(lambda: bool(results), 30, "the speech step to end")
    assert results[0].reason.value == "dtmf"
    assert word_overlap(SPOKEN, results[0].transcript.text) >= 0.5


async def test_caller_hanging_up_mid_utterance_ends_the_step_cleanly(
    start_service, carrier: Carrier, spoken_audio: str
) -> None:
    results: list[SpeechResult] = []
    steps: list[SpeechStep] = []
    service = await start(start_service, results, steps, silence_ms=5000, max_seconds=30)
    await carrier.call(number="13700000003", audio=spoken_audio, delay=0.5, hold=20)
    # Once Asterisk streams the call's audio, hang up into the utterance. However late that
    # lands, the step cannot have ended otherwise: only 5 s of silence after speech ends it.
    await wait_for(
        lambda: bool(steps) and steps[0].connected.is_set(), 30, "the audio stream to open"
    )
    await asyncio.sleep(1.0)
    await carrier.ami.action("Hangup", {"Channel": "/^PJSIP/hotline-/"})
    await wait_for(lambda: bool(results), 15, "the speech step to end")
    assert results[0].reason.value == "hangup"
    await wait_for(lambda: service.agi.active_calls == 0, 10, "the call task to end")
    assert service.agi.handler_failures == 0

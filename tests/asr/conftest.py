"""Shared fixtures: the real Vosk Korean model (loaded once) and speech from espeak-ng."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from asr import AudioSocketServer, LoadedModel, SpeechEngine
from hotline.devtools.simcall import synthesize_speech, trim_silence
from tests.support.speech import SPOKEN


@pytest.fixture(scope="session")
def model(vosk_model: LoadedModel) -> LoadedModel:
    return vosk_model


@pytest.fixture(scope="session")
def speech() -> bytes:
    """SPOKEN as 8 kHz 16-bit mono PCM, leading and trailing silence cut."""
    return trim_silence(synthesize_speech(SPOKEN))


@pytest.fixture
async def engine(model: LoadedModel) -> AsyncIterator[SpeechEngine]:
    engine = SpeechEngine(model, max_streams=4, threads=2)
    yield engine
    engine.shutdown()


@pytest.fixture
async def server(engine: SpeechEngine) -> AsyncIterator[AudioSocketServer]:
    server = AudioSocketServer(engine, connect_timeout=5.0)
    await server.start()
    yield server
    await server.stop()

"""Shared fixtures: the real Vosk Korean model (loaded once) and speech from espeak-ng."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asr_speech_helpers import SPOKEN

from asr import AudioSocketServer, LoadedModel, SpeechEngine, default_model_path, load_model
from asr.simcall import synthesize_speech, trim_silence


@pytest.fixture(scope="session")
def model() -> LoadedModel:
    return load_model(default_model_path({}))


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

"""Fixtures for the recordings tests: a controller (not started) on a fresh database, with a
monitor directory of its own, and a way to ingest a call's recording the real way."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asr import LoadedModel
from hotline.calls.tables import Call
from hotline.core import db
from hotline.core.settings import Settings
from hotline.recordings.feature import RecordingsFeature, transcriber_for
from hotline.recordings.tables import Recording
from hotline.service import Service
from tests.recordings.helpers import speech_wav


@pytest.fixture
def rec_settings(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "monitor").mkdir()
    return settings.model_copy(update={"recordings_monitor_dir": tmp_path / "monitor"})


@pytest.fixture
def service(rec_settings: Settings) -> Service:
    db.upgrade(rec_settings.database_url)
    return Service(rec_settings)


@pytest.fixture(scope="session")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speech_wav(tmp_path_factory.mktemp("speech") / "spoken.wav")


def feature_of(service: Service) -> RecordingsFeature:
    assert service.recordings is not None
    return service.recordings


def ingest_call(
    service: Service,
    unique_id: str,
    number: str,
    wav: Path,
    started_at: datetime,
    *,
    model: LoadedModel | None = None,
    path: Sequence[dict[str, Any]] = (),
) -> Recording:
    """A finished call's capture goes through the real ingest (store, Opus, Vosk, index)."""
    feature = feature_of(service)
    with service.sessions() as session:
        session.add(
            Call(
                unique_id=unique_id,
                channel="PJSIP/carrier-00000001",
                caller_number=number,
                caller_name="张三",
                called_number="12345",
                started_at=started_at,
                answered_at=started_at,
                ended_at=started_at + timedelta(seconds=5),
                path=list(path),
                outcome="completed",
                detail="",
            )
        )
        session.commit()
    shutil.copyfile(wav, feature.monitor_dir / f"{unique_id}.wav")
    feature.jobs.create(unique_id, f"{unique_id}.wav", started_at)
    feature.jobs.call_ended(unique_id, min(started_at + timedelta(seconds=5), datetime.now(UTC)))
    if model is not None:
        feature.ingestor.transcriber = transcriber_for(lambda: model)
    assert feature.ingestor.drain() == 1, feature.jobs.counts()
    with service.sessions() as session:
        recording = session.get(Recording, unique_id)
    assert recording is not None, feature.jobs.counts()
    return recording

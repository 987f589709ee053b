"""Once a recording's retention has ended, what the caller said is gone: from the recording
store and its index, from the call's path, from the routing decision, and it never was in the
logs. A call goes through the real code (the AsyncAGI handler, the default menu with a speech
step, classification, the roster router, the call log, the ingest), then the real purge."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from hotline.calls.store import CallRecord
from hotline.cli import app as cli_app
from hotline.core import db
from hotline.core.settings import Settings
from hotline.orders.retention import purge_expired
from hotline.recordings.tables import Recording
from hotline.service import Service
from ivr.simulate import SimulatedChannel
from tests.support.database import places_of

UID = "hotline-1795982249.215"
NUMBER, NAME = "13912345678", "欧阳娜娜"
SAID = "我家暖气不热屋里才十二度"
#: pieces of what the caller said, as the recogniser and the index write them too
PIECES = ("暖气不热", "十二度")
#: a word of the transcript that no other text of the hotline holds: the full-text index
#: keeps it whole (Han characters are its terms one by one, prefix-compressed)
ESTATE = "jinxiuhuayuan"


@dataclass
class Caller(SimulatedChannel):
    """A caller on a channel as the AsyncAGI server hands it to the service."""

    channel: str = "PJSIP/carrier-00000001"
    called_number: str = "12345"
    #: the AGI environment of an inbound call (an outbound survey's names its own context)
    env: dict[str, str] = field(default_factory=lambda: {"context": "hotline-ivr"})

    async def start_mixmonitor(self, name: str, options: str = "") -> None:
        return None


@pytest.fixture
async def service(rec_settings: Settings, tmp_path: Path) -> Service:
    settings = rec_settings.model_copy(
        update={"prompts_dir": tmp_path / "prompts", "speech_enabled": False}
    )
    db.upgrade(settings.database_url)
    service = Service(settings)
    await service.ivr.start()

    async def flow(session: Any, record: CallRecord) -> None:
        # The live menu as a real call runs it, with the caller's words for its speech step.
        await session.answer()
        record.step("answer")
        assert service.ivr.live is not None
        interpreter = service.ivr.interpreter(service.ivr.live, record.step)
        interpreter.listen = session.listen
        record.outcome = (await interpreter.run(session)).kind

    service.flow = flow
    return service


def transcript(_audio: Path) -> dict[str, Any]:
    return {
        "text": f"我家 暖气 不 热 屋里 才 十二度 {ESTATE} 小区",
        "display": f"{SAID}，{ESTATE}小区",
        "audio_seconds": 3.0,
        "words": [{"word": "十二度", "start": 2.0, "end": 2.6, "confidence": 0.9}],
    }


async def test_after_the_purge_the_callers_words_are_nowhere(
    service: Service,
    rec_settings: Settings,
    spoken_wav: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    feature = service.recordings
    assert feature is not None
    # The menu speaks first: the request in words.
    await service.handle_call(
        Caller([f"say:{SAID}"], unique_id=UID, caller_number=NUMBER, caller_name=NAME)
    )
    shutil.copyfile(spoken_wav, feature.monitor_dir / f"{UID}.wav")
    feature.ingestor.transcriber = transcript
    assert feature.ingestor.drain() == 1
    with service.sessions() as session:
        recording = session.get(Recording, UID)
        assert recording is not None and recording.category == "complaint"
    for piece in PIECES:
        assert {"call_routes", "calls", "recordings"} <= set(places_of(service.engine, piece))

    # Its retention ends; the purge runs as `hotline recordings purge`.
    with service.sessions() as session:
        session.execute(
            update(Recording)
            .where(Recording.unique_id == UID)
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
        session.commit()
    for name, value in (
        ("HOTLINE_STATE_DIR", str(rec_settings.state_dir)),
        ("HOTLINE_DATABASE_URL", rec_settings.database_url),
        ("HOTLINE_RECORDINGS_MONITOR_DIR", str(rec_settings.recordings_monitor_dir)),
    ):
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli_app, ["recordings", "purge"])
    assert result.exit_code == 0, result.output
    assert UID in result.output

    # The work order the call made is the hotline's case file: it keeps the request's words
    # for its own retention (HOTLINE_ORDER_RETENTION_DAYS), then they go too.
    for piece in PIECES:
        assert set(places_of(service.engine, piece)) <= {"work_orders"}, piece
    assert purge_expired(service.sessions, datetime.now(UTC) + timedelta(days=1))
    for piece in PIECES:
        assert places_of(service.engine, piece) == [], piece
    leftovers = [
        path
        for path in feature.store.root.rglob("*")
        if path.is_file() and any(p.encode() in path.read_bytes() for p in PIECES)
    ]
    assert leftovers == []
    # Nor in the bytes of the database's file and its WAL: not as the full-text index's
    # deleted terms, not as the pages of earlier transactions.
    database = Path(rec_settings.database_url.removeprefix("sqlite:///"))
    if rec_settings.database_url.startswith("sqlite:///"):
        for path in (database, database.with_name(database.name + "-wal")):
            raw = path.read_bytes() if path.exists() else b""
            for word in (ESTATE, SAID, *PIECES):
                assert word.encode() not in raw, (path.name, word)
    # What stays of the call: who called and when, the path without words, the decision.
    with service.sessions() as session:
        from hotline.calls.tables import Call
        from hotline.core.audit import AuditEntry
        from hotline.roster.tables import CallRouteRow

        call = session.get(Call, UID)
        assert call is not None and call.caller_number == NUMBER
        assert [s["step"] for s in call.path if s["step"] == "speech"] == ["speech"]
        route = session.get(CallRouteRow, UID)
        assert route is not None and route.transcript is None and route.queue
        [purge] = session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).all()
        assert purge.detail["transcript_deleted"] is True
        assert purge.detail["words_removed_from"] == ["calls.path", "call_routes"]
    for text in (*PIECES, NUMBER, NAME):
        assert text not in caplog.text, text

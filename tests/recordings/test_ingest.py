"""Ingest, search, retention, reindex and restart on a real database with real ffmpeg and
the real Vosk model (no Asterisk needed: the capture is a WAV put where MixMonitor writes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, text
from typer.testing import CliRunner

from asr import LoadedModel
from hotline.calls.tables import Call
from hotline.cli import app as cli_app
from hotline.core import db
from hotline.core.audit import AuditEntry
from hotline.core.settings import Settings
from hotline.recordings.store import SearchFilters, search
from hotline.recordings.tables import Recording, RecordingJob
from hotline.service import Service
from recordings import media
from tests.recordings.conftest import feature_of, ingest_call
from tests.recordings.helpers import client, token


def files_of(service: Service) -> list[str]:
    root = feature_of(service).store.root
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def ids_found(service: Service, **filters: object) -> list[str]:
    with service.sessions() as session:
        _, rows = search(session, SearchFilters(**filters))  # type: ignore[arg-type]
        return [r.unique_id for r in rows]


def test_ingest_stores_transcodes_transcribes_and_indexes(
    service: Service, spoken_wav: Path, vosk_model: LoadedModel
) -> None:
    started = datetime.now(UTC).replace(microsecond=0)
    recording = ingest_call(
        service,
        "hotline-100.1",
        "13800138000",
        spoken_wav,
        started,
        model=vosk_model,
        path=[{"step": "classify", "kind": "help", "department": "heating"}],
    )
    shard = started.strftime("%Y/%m/%d")
    assert files_of(service) == [f"{shard}/hotline-100.1.json", f"{shard}/hotline-100.1.opus"]
    assert not list(feature_of(service).monitor_dir.iterdir())
    expected = media.probe(spoken_wav).seconds
    assert abs(recording.duration - expected) < 0.05
    assert recording.kind == "help" and recording.department == "heating"
    assert recording.category == "default"
    assert "엄마" in recording.transcript.split()
    assert ids_found(service, q="엄마") == ["hotline-100.1"]
    assert ids_found(service, q="엄마", kind="help", department="heating") == ["hotline-100.1"]
    assert ids_found(service, q="엄마", kind="complaint") == []
    assert ids_found(service, q="아버지") == []
    assert ids_found(service, caller_number="8000") == ["hotline-100.1"]
    assert ids_found(service, date_from=started + timedelta(seconds=1)) == []
    with service.sessions() as session:
        job = session.get(RecordingJob, "hotline-100.1")
        assert job is not None and (job.state, job.step, job.attempts) == ("done", "indexed", 0)


def test_mp3_archive_and_keeping_the_original(rec_settings: Settings, spoken_wav: Path) -> None:
    settings = rec_settings.model_copy(
        update={"recordings_archive_format": "mp3", "recordings_keep_original": True}
    )
    db.upgrade(settings.database_url)
    service = Service(settings)
    started = datetime(2026, 3, 1, tzinfo=UTC)
    recording = ingest_call(service, "hotline-7.1", "13800000007", spoken_wav, started)
    assert files_of(service) == [
        "2026/03/01/hotline-7.1.json",
        "2026/03/01/hotline-7.1.mp3",
        "2026/03/01/hotline-7.1.wav",
    ]
    assert recording.audio_format == "mp3" and not recording.transcribed
    mp3 = feature_of(service).store.resolve(recording.audio_path)
    assert abs(media.probe(mp3).seconds - recording.duration) < 0.15


async def test_retention_purges_expired_recordings_but_never_those_on_hold(
    service: Service, spoken_wav: Path
) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=200)
    ingest_call(service, "hotline-1.1", "13800000001", spoken_wav, old)
    ingest_call(service, "hotline-1.2", "13800000002", spoken_wav, old)
    ingest_call(
        service,
        "hotline-1.3",
        "13800000003",
        spoken_wav,
        old,
        path=[{"step": "classify", "kind": "complaint"}],
    )
    ingest_call(service, "hotline-1.4", "13800000004", spoken_wav, now - timedelta(days=10))
    async with client(service) as http:
        held = await http.put(
            "/api/recordings/hotline-1.2/hold",
            json={"reason": "行政复议 2026-17"},
            headers=token(service, "supervisor"),
        )
        assert held.status_code == 200, held.text

    deleted = feature_of(service).purge()

    assert deleted == ["hotline-1.1"]
    remaining = files_of(service)
    assert not [f for f in remaining if "hotline-1.1." in f]
    assert len([f for f in remaining if f.endswith(".opus")]) == 3
    with service.sessions() as session:
        rows = {r.unique_id: r for r in session.scalars(select(Recording))}
        assert sorted(rows) == ["hotline-1.2", "hotline-1.3", "hotline-1.4"]
        assert rows["hotline-1.2"].on_hold and rows["hotline-1.2"].hold_reason == "行政复议 2026-17"
        assert rows["hotline-1.3"].category == "complaint"
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        purge = [e for e in entries if e.action == "purge"]
        assert [(e.unique_id, e.user_name) for e in purge] == [("hotline-1.1", "system")]
        assert purge[0].detail["category"] == "default"
        assert sorted(purge[0].detail["files"]) == ["hotline-1.1.json", "hotline-1.1.opus"]
        hold = [e for e in entries if e.action == "hold"]
        assert hold[0].unique_id == "hotline-1.2" and hold[0].user_name == "u-supervisor"
        if session.get_bind().dialect.name == "sqlite":
            left = session.scalars(text("SELECT unique_id FROM recordings_fts")).all()
            assert "hotline-1.1" not in left

    # Only the one who set the hold, or an admin, lifts it; then the expired recording goes
    # at the next purge.
    async with client(service) as http:
        refused = await http.delete(
            "/api/recordings/hotline-1.2/hold", headers=token(service, "supervisor", "sup-2")
        )
        assert refused.status_code == 403
        released = await http.delete(
            "/api/recordings/hotline-1.2/hold", headers=token(service, "admin", "admin-2")
        )
        assert released.status_code == 200
    assert feature_of(service).purge() == ["hotline-1.2"]


def test_reindex_rebuilds_the_index_from_the_store(
    service: Service, rec_settings: Settings, spoken_wav: Path, vosk_model: LoadedModel, monkeypatch
) -> None:
    ingest_call(
        service, "hotline-5.1", "13800000051", spoken_wav, datetime.now(UTC), model=vosk_model
    )
    with service.sessions() as session:
        recording = session.get(Recording, "hotline-5.1")
        assert recording is not None
        recording.on_hold = True  # a hold must survive a rebuild through the sidecar
        session.commit()
    feature = feature_of(service)
    sidecar = feature.store.read_sidecar("hotline-5.1", datetime.now(UTC))
    assert sidecar is not None
    sidecar["legal_hold"] = {"by": "sup", "reason": "case 9"}
    feature.store.write_sidecar("hotline-5.1", datetime.now(UTC), sidecar)
    with service.sessions() as session:
        session.execute(text("DELETE FROM recordings"))
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("DELETE FROM recordings_fts"))
        session.commit()
    assert ids_found(service, q="엄마") == []

    for name, value in (
        ("HOTLINE_STATE_DIR", str(rec_settings.state_dir)),
        ("HOTLINE_DATABASE_URL", rec_settings.database_url),
        ("HOTLINE_RECORDINGS_MONITOR_DIR", str(rec_settings.recordings_monitor_dir)),
    ):
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli_app, ["recordings", "reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed 1, skipped 0 not yet archived, removed 0" in result.output
    assert ids_found(service, q="엄마") == ["hotline-5.1"]
    with service.sessions() as session:
        restored = session.get(Recording, "hotline-5.1")
        assert restored is not None and restored.on_hold and restored.hold_reason == "case 9"


def test_a_restart_during_ingest_ingests_the_file_exactly_once(
    service: Service, rec_settings: Settings, spoken_wav: Path, vosk_model: LoadedModel
) -> None:
    """The ingest process is killed (SIGKILL) while it transcribes; the next start resumes
    the job from its last finished step and the recording is stored and indexed once."""
    feature = feature_of(service)
    started = datetime.now(UTC)
    with service.sessions() as session:
        session.add(
            Call(
                unique_id="hotline-9.1",
                channel="PJSIP/carrier-1",
                caller_number="13800000091",
                started_at=started,
                path=[],
            )
        )
        session.commit()
    (feature.monitor_dir / "hotline-9.1.wav").write_bytes(spoken_wav.read_bytes())
    feature.jobs.create("hotline-9.1", "hotline-9.1.wav", started)
    feature.jobs.call_ended("hotline-9.1", started)

    env = {
        **os.environ,
        "HOTLINE_STATE_DIR": str(rec_settings.state_dir),
        "HOTLINE_DATABASE_URL": rec_settings.database_url,
        "HOTLINE_RECORDINGS_MONITOR_DIR": str(rec_settings.recordings_monitor_dir),
    }
    hotline = Path(sys.executable).with_name("hotline")
    proc = subprocess.Popen(
        [str(hotline), "recordings", "ingest"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def job() -> RecordingJob:
        with service.sessions() as session:
            found = session.get(RecordingJob, "hotline-9.1")
            assert found is not None
            return found

    deadline = time.monotonic() + 60
    while not (job().state == "running" and job().step == "archived"):
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "the job never reached transcription"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # the process dies in the middle of the job
    proc.wait()
    assert (job().state, job().step) == ("running", "archived")
    with service.sessions() as session:
        assert session.get(Recording, "hotline-9.1") is None

    # The next start: the job is resumed from transcription, not redone from the start.
    assert feature.jobs.recover() == 1
    feature.ingestor.transcriber = lambda path: __import__(
        "hotline.recordings.feature", fromlist=["x"]
    ).transcriber_for(lambda: vosk_model)(path)
    assert feature.ingestor.drain() == 1
    assert feature.ingestor.drain() == 0

    shard = started.strftime("%Y/%m/%d")
    assert files_of(service) == [f"{shard}/hotline-9.1.json", f"{shard}/hotline-9.1.opus"]
    with service.sessions() as session:
        rows = session.scalars(select(Recording)).all()
        assert [r.unique_id for r in rows] == ["hotline-9.1"]
        assert "엄마" in rows[0].transcript.split()
        final = session.get(RecordingJob, "hotline-9.1")
        assert final is not None and (final.state, final.step, final.attempts) == (
            "done",
            "indexed",
            0,
        )
    assert ids_found(service, q="엄마") == ["hotline-9.1"]


async def test_roles_anonymous_operator_and_ops_are_refused_without_a_hint(
    service: Service, spoken_wav: Path
) -> None:
    ingest_call(service, "hotline-3.1", "13800000031", spoken_wav, datetime.now(UTC))
    paths = [
        ("GET", "/api/recordings"),
        ("GET", "/api/recordings/{id}"),
        ("GET", "/api/recordings/{id}/audio"),
        ("POST", "/api/recordings/{id}/ticket"),
        ("PUT", "/api/recordings/{id}/hold"),
        ("DELETE", "/api/recordings/{id}/hold"),
    ]
    operator = token(service, "operator")
    ops = token(service, "ops")
    async with client(service) as http:
        for method, template in paths:
            replies = {}
            for uid in ("hotline-3.1", "hotline-404.1"):
                url = template.format(id=uid)
                body = {"reason": "x"} if method == "PUT" else None
                anonymous = await http.request(method, url, json=body)
                assert anonymous.status_code == 401, (method, url)
                for headers in (operator, ops):
                    refused = await http.request(method, url, json=body, headers=headers)
                    assert refused.status_code == 403, (method, url, refused.text)
                    replies.setdefault(uid, set()).add(refused.text)
            assert replies["hotline-3.1"] == replies["hotline-404.1"]
        supervisor = token(service, "supervisor")
        assert (await http.get("/api/recordings-audit", headers=supervisor)).status_code == 403
        assert (await http.get("/api/recordings-audit")).status_code == 401
        missing = await http.get("/api/recordings/hotline-404.1", headers=supervisor)
        assert missing.status_code == 404
        with service.sessions() as session:
            entries = session.scalars(select(AuditEntry)).all()
            assert all(e.user_name != "u-operator" and e.user_name != "u-ops" for e in entries)


async def test_path_traversal_in_ids_and_file_names_is_refused(
    service: Service, spoken_wav: Path, tmp_path: Path
) -> None:
    ingest_call(service, "hotline-4.1", "13800000041", spoken_wav, datetime.now(UTC))
    secret = tmp_path / "secret.opus"
    secret.write_bytes(b"not for you")
    escape = "../" * len(feature_of(service).store.root.parts) + str(secret).lstrip("/")
    supervisor = token(service, "supervisor")
    async with client(service) as http:
        for bad in ("..", ".hidden", "a..b", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "x" * 70):
            response = await http.get(f"/api/recordings/{bad}/audio", headers=supervisor)
            assert response.status_code in (400, 404), (bad, response.status_code)
            assert b"root:" not in response.content
        response = await http.get("/api/recordings/..%2F..%2Fetc%2Fpasswd", headers=supervisor)
        assert response.status_code in (400, 404)
        # A tampered index row cannot lead the server out of the store.
        with service.sessions() as session:
            row = session.get(Recording, "hotline-4.1")
            assert row is not None
            row.audio_path = escape
            session.commit()
        response = await http.get("/api/recordings/hotline-4.1/audio", headers=supervisor)
        assert response.status_code == 404 and b"not for you" not in response.content
    # MixMonitor file names are checked before they reach the AMI wire or the disk.
    feature = feature_of(service)
    feature.jobs.create("evil", "../../etc/passwd.wav", datetime.now(UTC))
    feature.jobs.call_ended("evil", datetime.now(UTC))
    feature.ingestor.config = type(feature.ingestor.config)(
        **{**vars(feature.ingestor.config), "max_attempts": 1}
    )
    feature.ingestor.drain()
    with service.sessions() as session:
        job = session.get(RecordingJob, "evil")
        assert job is not None and job.state == "failed" and "not a capture file name" in job.error


async def test_tickets_downloads_and_audit_listing(service: Service, spoken_wav: Path) -> None:
    ingest_call(service, "hotline-6.1", "13800000061", spoken_wav, datetime.now(UTC))
    ingest_call(service, "hotline-6.2", "13800000062", spoken_wav, datetime.now(UTC))
    supervisor = token(service, "supervisor", "sup-zhao")
    async with client(service) as http:
        issued = await http.post("/api/recordings/hotline-6.1/ticket", headers=supervisor)
        assert issued.status_code == 200
        url = issued.json()["url"]
        by_ticket = await http.get(url, headers={"Range": "bytes=0-9"})
        assert by_ticket.status_code == 206 and len(by_ticket.content) == 10
        other = await http.get(url.replace("hotline-6.1", "hotline-6.2"))
        assert other.status_code == 403
        download = await http.get(
            "/api/recordings/hotline-6.2/audio", params={"download": "true"}, headers=supervisor
        )
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.content[:4] == b"OggS"
        admin = token(service, "admin")
        listing = await http.get("/api/recordings-audit", headers=admin)
        assert listing.status_code == 200
        actions = [(e["action"], e["unique_id"], e["user"]) for e in listing.json()["items"]]
        assert ("stream", "hotline-6.1", "sup-zhao") in actions
        assert ("download", "hotline-6.2", "sup-zhao") in actions
        only = await http.get("/api/recordings-audit", params={"action": "download"}, headers=admin)
        assert [e["unique_id"] for e in only.json()["items"]] == ["hotline-6.2"]
        # Admins see full numbers; the search result is sorted and paginated.
        page = await http.get(
            "/api/recordings", params={"sort": "caller_number", "limit": 1}, headers=admin
        )
        body = page.json()
        assert body["total"] == 2 and body["items"][0]["caller_number"] == "13800000061"
        bad = await http.get("/api/recordings", params={"sort": "password"}, headers=admin)
        assert bad.status_code == 422
    assert isinstance(by_ticket, httpx.Response)

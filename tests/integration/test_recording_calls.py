"""Recordings of real calls: the carrier calls 12345 through the sandbox and speaks (espeak-ng
Korean) and presses a key; MixMonitor records the call; the controller stores, transcodes,
transcribes (real Vosk) and indexes it; a supervisor finds it by metadata and by a word,
streams it with a Range request, and the stream is audited. Then a real Chromium plays it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from hotline.calls.store import CallRecord
from hotline.calls.tables import Call
from hotline.devtools.carrier import Carrier
from hotline.devtools.sandbox import Sandbox
from hotline.recordings.tables import Recording
from hotline.service import Service
from hotline.web.app import create_app
from recordings import media
from recordings.store import sha256_of
from telephony.agi import AGISession
from tests.conftest import wait_for
from tests.recordings.helpers import client, speech_wav, token

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def spoken(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = speech_wav(Path(tmp_path_factory.mktemp("rec")) / "spoken.wav", pause_seconds=0.5)
    return sandbox.carrier_sound(path, "recording-spoken")


async def listening_flow(session: AGISession, record: CallRecord) -> None:
    """Answer, listen in silence until the caller presses a key, say goodbye, hang up."""
    from hotline.core.db import utcnow

    await session.answer()
    record.answered_at = utcnow()
    record.step("answer")
    digits, _ = await session.collect_digits("silence/1", timeout=12)
    record.step("digits", value=digits)
    await session.play("auth-thankyou")
    record.outcome = "completed"
    await session.hangup()
    record.step("hangup")


def recording_of(service: Service, number: str) -> Recording | None:
    with service.sessions() as session:
        return session.scalar(select(Recording).where(Recording.caller_number == number))


def call_of(service: Service, number: str) -> Call | None:
    with service.sessions() as session:
        return session.scalar(select(Call).where(Call.caller_number == number))


@pytest.fixture
async def recorded(start_service, carrier: Carrier, spoken: str) -> AsyncIterator[Service]:
    service = await start_service(listening_flow, speech=True)
    await carrier.call(
        number="13912345678", name="李四", digits="5", audio=spoken, delay=0.5, hold=8
    )
    await wait_for(
        lambda: recording_of(service, "13912345678") is not None, 90, "the recording's index row"
    )
    yield service


async def test_call_recording_has_the_calls_length_decodes_and_is_searchable(
    recorded: Service,
) -> None:
    service = recorded
    call = call_of(service, "13912345678")
    recording = recording_of(service, "13912345678")
    assert call is not None and recording is not None
    assert [s.get("value") for s in call.path if s["step"] == "digits"] == ["5"]
    assert call.answered_at is not None and call.ended_at is not None
    talk = (call.ended_at - call.answered_at).total_seconds()
    assert abs(recording.duration - talk) < 1.0, (recording.duration, talk)
    assert recording.duration > 3.0

    feature = service.recordings
    assert feature is not None
    audio = feature.store.resolve(recording.audio_path)
    assert audio.suffix == ".opus" and audio.parent.parent.parent.parent == feature.store.root
    assert sha256_of(audio) == recording.audio_sha256
    decoded = media.probe(audio)
    assert abs(decoded.seconds - recording.duration) < 0.2
    # The original capture left the monitor directory and was dropped once the copy verified.
    assert not (feature.monitor_dir / f"{recording.unique_id}.wav").exists()
    assert not audio.with_suffix(".wav").exists()

    # What the caller said was transcribed, with word times inside the recording.
    assert "엄마" in recording.transcript.split(), recording.transcript
    mum = [w for w in recording.words if w["word"] == "엄마"]
    assert mum and all(0.0 < w["start"] < recording.duration for w in mum)

    supervisor = token(service, "supervisor", "sup-li")
    async with client(service) as http:
        by_number = await http.get(
            "/api/recordings", params={"caller_number": "13912345678"}, headers=supervisor
        )
        assert by_number.status_code == 200, by_number.text
        assert [r["unique_id"] for r in by_number.json()["items"]] == [recording.unique_id]
        assert by_number.json()["items"][0]["caller_number"] == "13912345678"

        day = call.started_at.date().isoformat()
        by_date = await http.get(
            "/api/recordings",
            params={"date_from": f"{day}T00:00:00Z", "caller_number": "5678"},
            headers=supervisor,
        )
        assert by_date.json()["total"] == 1
        before = await http.get(
            "/api/recordings", params={"date_to": f"{day}T00:00:00Z"}, headers=supervisor
        )
        assert before.json()["total"] == 0

        by_word = await http.get("/api/recordings", params={"q": "엄마"}, headers=supervisor)
        items = by_word.json()["items"]
        assert [r["unique_id"] for r in items] == [recording.unique_id]
        assert items[0]["hits"] and items[0]["hits"][0]["word"] == "엄마"
        absent = await http.get("/api/recordings", params={"q": "아버지"}, headers=supervisor)
        assert absent.json()["total"] == 0

        whole = audio.read_bytes()
        ranged = await http.get(
            f"/api/recordings/{recording.unique_id}/audio",
            headers={**supervisor, "Range": "bytes=100-1099"},
        )
        assert ranged.status_code == 206, ranged.text
        assert ranged.headers["content-range"] == f"bytes 100-1099/{len(whole)}"
        assert ranged.headers["content-type"] == "audio/ogg"
        assert ranged.content == whole[100:1100]

        admin = token(service, "admin")
        log = await http.get(
            "/api/recordings-audit", params={"unique_id": recording.unique_id}, headers=admin
        )
        assert log.status_code == 200
        entries = log.json()["items"]
        stream = [e for e in entries if e["action"] == "stream"]
        assert len(stream) == 1
        assert stream[0]["user"] == "sup-li" and stream[0]["role"] == "supervisor"
        assert stream[0]["client"] == "127.0.0.1"
        assert stream[0]["detail"] == {"range": "bytes=100-1099"}

        # Operators and ops are refused, whether or not the recording exists.
        for role in ("operator", "ops"):
            headers = token(service, role)
            for uid in (recording.unique_id, "hotline-0000000000.0"):
                refused = await http.get(f"/api/recordings/{uid}/audio", headers=headers)
                assert refused.status_code == 403
                assert refused.json() == {"detail": "your role may not do this"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _http_server(service: Service) -> AsyncIterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started, 10, "the web server")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_supervisor_finds_plays_and_jumps_to_a_word_in_chromium(recorded: Service) -> None:
    from playwright.async_api import async_playwright

    service = recorded
    recording = recording_of(service, "13912345678")
    assert recording is not None
    mum = next(w for w in recording.words if w["word"] == "엄마")
    supervisor = token(service, "supervisor", "sup-wang")["Authorization"].split()[1]
    async with _http_server(service) as base, async_playwright() as pw:
        with tempfile.TemporaryDirectory() as profile:
            browser = await pw.chromium.launch_persistent_context(
                profile,
                executable_path="/usr/bin/chromium",
                headless=True,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            try:
                page = await browser.new_page()
                await page.goto(f"{base}/recordings")
                await page.fill("#token", supervisor)
                await page.fill("#q", "엄마")
                await page.click("#go")
                row = page.locator("tr.result")
                await row.first.wait_for(timeout=10000)
                assert await row.count() == 1
                assert await row.first.get_attribute("data-id") == recording.unique_id
                await row.first.click()
                await page.locator("#player").wait_for(state="visible", timeout=10000)
                # The browser loaded the audio through the ticket URL and knows its length.
                await page.wait_for_function(
                    "document.getElementById('audio').readyState >= 1", timeout=15000
                )
                duration = await page.evaluate("document.getElementById('audio').duration")
                assert abs(duration - recording.duration) < 0.5, duration
                hit = page.locator("#words button.hit").first
                assert float(await hit.get_attribute("data-start") or -1) == mum["start"]
                await hit.click()
                await page.wait_for_function(
                    f"Math.abs(document.getElementById('audio').currentTime - {mum['start']}) < 0.5",
                    timeout=10000,
                )
            finally:
                await browser.close()

    admin = token(service, "admin")
    async with client(service) as http:
        log = await http.get("/api/recordings-audit", params={"user": "sup-wang"}, headers=admin)
    actions = {e["action"] for e in log.json()["items"]}
    assert {"search", "open", "stream"} <= actions, actions

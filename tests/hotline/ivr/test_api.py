"""The IVR editing API on a real database: roles, drafts, validation, publish, roll-back,
diff, diagram, simulation and prompt uploads (real pydub/ffmpeg and espeak-ng)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
import subprocess
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.ivr import prompts
from hotline.ivr.runtime import IvrRuntime
from hotline.service import Service
from hotline.web.app import create_app
from ivr.document import default_menu_text, parse_text


@pytest.fixture
async def service(settings: Settings, tmp_path: Path) -> AsyncIterator[Service]:
    service = Service(
        settings.model_copy(
            update={
                "prompts_dir": tmp_path / "prompts",
                "prompt_max_bytes": 400_000,
                "speech_enabled": False,
            }
        )
    )
    db.upgrade(service.settings.database_url)
    await service.ivr.start()
    yield service
    service.engine.dispose()


@contextlib.asynccontextmanager
async def client_for(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        c.headers["Authorization"] = f"Bearer {create_user(service.sessions, 'olga', 'ops')}"
        yield c


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(service) as c:
        yield c


def edited(**changes: Any) -> dict[str, Any]:
    data = parse_text(default_menu_text())
    data["prompts"]["greeting"]["mandarin"] = changes.pop(
        "greeting", "您好，这里是一二三四五热线。"
    )
    data.update(changes)
    return data


async def test_only_ops_may_edit_menus(service: Service, client: httpx.AsyncClient) -> None:
    for role in ("admin", "supervisor", "operator"):
        headers = {"Authorization": f"Bearer {create_user(service.sessions, f'u-{role}', role)}"}
        for method, path in (
            ("GET", "/api/ivr/versions"),
            ("POST", "/api/ivr/versions/1/publish"),
            ("POST", "/api/ivr/rollback"),
            ("PUT", "/api/ivr/prompts/greeting/mandarin"),
        ):
            response = await client.request(method, path, headers=headers, json={})
            assert response.status_code == 403, (role, path)
    assert (await client.get("/api/ivr/versions")).status_code == 200


async def test_the_default_menu_is_live_as_version_1(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/ivr/versions")).json()
    assert body["live"] == 1
    assert body["items"][0]["status"] == "published"
    assert body["items"][0]["published_by"] == "system"
    prompts = (await client.get("/api/ivr/prompts")).json()
    greeting = next(
        p for p in prompts["live"] if p["name"] == "greeting" and p["language"] == "mandarin"
    )
    assert greeting["state"] == "synthetic" and greeting["synthetic"] is True
    assert any(f["synthetic"] and f["name"] == "greeting" for f in prompts["files"])


async def test_draft_validate_publish_rollback(service: Service, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/ivr/versions", json={"document": edited(), "comment": "shorter greeting"}
    )
    assert response.status_code == 201, response.text
    draft = response.json()
    assert draft["version"] == 2 and draft["status"] == "draft" and draft["valid"]
    assert draft["created_by"] == "olga"

    published = (await client.post("/api/ivr/versions/2/publish")).json()
    assert published["status"] == "published" and published["live"] is True
    assert published["published_by"] == "olga" and published["published_at"]
    assert service.ivr.live is not None and service.ivr.live.version == 2
    # The new text got its own placeholder before publish returned.
    new_file = service.ivr.prompts.resolve(service.ivr.live.document, "greeting", "mandarin")
    assert await asyncio.to_thread(Path(new_file + ".wav").is_file)

    # Published versions never change.
    response = await client.put("/api/ivr/versions/2", json={"document": edited(name="x")})
    assert response.status_code == 409
    assert response.json()["detail"]["error"] == "ivr-version-published"
    assert (await client.post("/api/ivr/versions/2/publish")).status_code == 409

    rolled = await client.post("/api/ivr/rollback", json={})
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["version"] == 1
    assert service.ivr.live is not None and service.ivr.live.version == 1
    live = (await client.get("/api/ivr/live")).json()
    assert [(h["version"], h["action"], h["by"]) for h in live["history"]] == [
        (1, "rollback", "olga"),
        (2, "publish", "olga"),
        (1, "publish", "system"),
    ]
    # Roll forward again by naming the version.
    assert (await client.post("/api/ivr/rollback", json={"to": 2})).json()["version"] == 2


async def test_an_invalid_draft_is_saved_but_not_published(client: httpx.AsyncClient) -> None:
    data = edited()
    data["nodes"]["main"]["options"]["6"] = "nowhere"
    data["nodes"]["main"]["timeout"] = 120
    response = await client.post("/api/ivr/versions", json={"document": data})
    assert response.status_code == 201
    assert response.json()["valid"] is False
    checked = (await client.post("/api/ivr/versions/2/validate")).json()
    assert {(p["code"], p["path"]) for p in checked["problems"]} == {
        ("unknown_target", "nodes.main.options.6"),
        ("out_of_range", "nodes.main.timeout"),
    }
    response = await client.post("/api/ivr/versions/2/publish")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["error"] == "ivr-menu-invalid"
    assert "2 problem(s)" in detail["message"]
    assert len(detail["problems"]) == 2
    # Fix the draft in place, then it publishes.
    data["nodes"]["main"]["options"]["6"] = "operator"
    data["nodes"]["main"]["timeout"] = 6
    assert (await client.put("/api/ivr/versions/2", json={"document": data})).json()["valid"]
    assert (await client.post("/api/ivr/versions/2/publish")).status_code == 200


async def test_yaml_text_is_accepted_and_garbage_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ivr/versions", json={"document": default_menu_text()})
    assert response.status_code == 201 and response.json()["valid"]
    response = await client.post("/api/ivr/versions", json={"document": "- just\n- a list\n"})
    assert response.status_code == 422
    assert "a menu document is a mapping" in response.json()["detail"]["message"]
    response = await client.post("/api/ivr/versions", json={"document": "a: [unclosed"})
    assert response.status_code == 422
    assert "not valid YAML or JSON" in response.json()["detail"]["message"]


async def test_diff_and_diagram(client: httpx.AsyncClient) -> None:
    data = edited()
    data["nodes"]["main"]["options"]["9"] = "set-personal"
    await client.post("/api/ivr/versions", json={"document": data})
    diff = (await client.get("/api/ivr/diff", params={"a": 1, "b": 2})).json()
    assert diff["nodes"]["changed"]["main"] == {
        "options": {
            "from": parse_text(default_menu_text())["nodes"]["main"]["options"],
            "to": data["nodes"]["main"]["options"],
        }
    }
    assert (
        diff["prompts"]["changed"]["greeting"]["mandarin"]["to"] == "您好，这里是一二三四五热线。"
    )
    assert (
        '+      "9": set-personal' in diff["unified"]
        or "+      '9': set-personal" in diff["unified"]
    )
    diagram = await client.get("/api/ivr/versions/2/diagram")
    assert diagram.status_code == 200
    text = diagram.text
    assert text.startswith("flowchart TD")
    assert 'n_main -->|"9"| n_set_personal' in text
    assert "n_connect([" in text  # route nodes are drawn as terminals


async def test_simulate_over_the_api(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/ivr/versions/1/simulate",
        json={"inputs": ["silence", "3"], "every_queue_staffed": True},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "routed" and body["queue"] == "dispatch"
    # Nothing said at the speech step: the key menu, where 3 asks for the progress of a case.
    assert [p["prompt"] for p in body["prompts"]] == [
        "greeting",
        "speak-request",
        "main-menu",
        "enter-order-number",  # no number keyed: on to dispatch
        "connecting",
    ]
    # The live router decides over the roster (empty here: nobody on duty); the rules, and
    # the path through the menu, are the same.
    live = (
        await client.post("/api/ivr/versions/1/simulate", json={"inputs": ["silence", "3"]})
    ).json()
    assert live["prompts"] == body["prompts"]
    route = next(s for s in live["path"] if s["step"] == "route")
    staffed = next(s for s in body["path"] if s["step"] == "route")
    assert route["queue"] == live["queue"]
    assert route["tags"]["rule"] == staffed["tags"]["rule"] == "follow_up"
    assert "fallback" not in staffed["tags"]
    bad = await client.post("/api/ivr/versions/1/simulate", json={"inputs": ["12"]})
    assert bad.status_code == 422
    assert "use one key" in bad.json()["detail"]["message"]


def wav_bytes(seconds: float, rate: int = 44100, channels: int = 2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x01\x00" * int(seconds * rate) * channels)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    data: bytes,
    name: str = "x.wav",
    prompt: str = "greeting",
    language: str = "mandarin",
) -> httpx.Response:
    return await client.put(
        f"/api/ivr/prompts/{prompt}/{language}", files={"file": (name, data, "audio/wav")}
    )


async def test_uploads_that_are_not_prompts_are_refused(client: httpx.AsyncClient) -> None:
    response = await upload(client, "这不是音频".encode() * 100, "notes.txt")
    assert response.status_code == 422
    assert response.json()["detail"]["message"] == "notes.txt: not a WAV or MP3 file"

    broken = b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk" + b"\x00" * 200
    response = await upload(client, broken, "broken.wav")
    assert response.status_code == 422
    assert response.json()["detail"]["message"].startswith("broken.wav: not readable as WAV audio")

    response = await upload(client, wav_bytes(61, rate=3000, channels=1), "long.wav")
    assert response.status_code == 422
    assert "61.0 s is too long (a prompt is at most 60 s)" in response.json()["detail"]["message"]

    response = await upload(client, wav_bytes(5), "big.wav")  # 882 kB > 400 kB limit
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]["message"]

    response = await upload(client, wav_bytes(1), prompt="Bad Name")
    assert response.status_code == 422
    assert "prompt name 'Bad Name'" in response.json()["detail"]["message"]
    response = await upload(client, wav_bytes(1), language="klingon")
    assert response.status_code == 422


@pytest.fixture
def mp3(tmp_path: Path) -> bytes:
    """A 2 s stereo 44.1 kHz MP3 made by ffmpeg."""
    source = tmp_path / "greeting.mp3"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2"]
        + ["-ac", "2", "-ar", "44100", str(source)],
        check=True,
    )
    return source.read_bytes()


async def test_an_mp3_upload_is_converted_for_asterisk_and_replaces_the_placeholder(
    service: Service, client: httpx.AsyncClient, mp3: bytes
) -> None:
    response = await upload(client, mp3, "greeting.mp3")
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["synthetic"] is False and info["created_by"] == "olga"
    assert 1900 <= info["duration_ms"] <= 2200
    live = service.ivr.live
    assert live is not None
    played = service.ivr.prompts.resolve(live.document, "greeting", "mandarin")
    assert played.endswith("/recorded/mandarin/greeting")
    with wave.open(played + ".wav") as w:  # noqa: ASYNC230 - a local file in a test
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    prompts = (await client.get("/api/ivr/prompts")).json()["live"]
    greeting = next(p for p in prompts if p["name"] == "greeting" and p["language"] == "mandarin")
    assert greeting["state"] == "recorded" and greeting["synthetic"] is False


async def test_a_publish_whose_placeholders_cannot_be_made_changes_nothing(
    service: Service, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, voice: str) -> bytes:
        raise RuntimeError("espeak-ng failed: the voice is missing")

    monkeypatch.setattr(prompts, "synthesize", broken)
    await client.post("/api/ivr/versions", json={"document": edited(greeting="新的问候语。")})
    response = await client.post("/api/ivr/versions/2/publish")
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["error"] == "ivr-placeholder-failed"
    assert detail["message"] == (
        "version 2 is not published: prompt 'greeting' (mandarin): no placeholder could be "
        "made from its text (espeak-ng failed: the voice is missing)"
    )
    assert service.ivr.live is not None and service.ivr.live.version == 1
    history = (await client.get("/api/ivr/live")).json()["history"]
    assert [(h["version"], h["action"]) for h in history] == [(1, "publish")]
    assert (await client.get("/api/ivr/versions/2")).json()["status"] == "draft"
    # A controller started now runs version 1 too.
    restarted = IvrRuntime(service.settings, service.sessions, CollectorRegistry())
    await restarted.start()
    assert restarted.live is not None and restarted.live.version == 1

    monkeypatch.undo()
    assert (await client.post("/api/ivr/versions/2/publish")).status_code == 200


async def test_a_rollback_whose_placeholders_cannot_be_made_changes_nothing(
    service: Service, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.post("/api/ivr/versions", json={"document": edited()})
    assert (await client.post("/api/ivr/versions/2/publish")).status_code == 200
    # Version 1's placeholders are gone and cannot be made again.
    await asyncio.to_thread(shutil.rmtree, service.ivr.prompts.directory / "synthetic")

    def broken(text: str, voice: str) -> bytes:
        raise RuntimeError("espeak-ng failed")

    monkeypatch.setattr(prompts, "synthesize", broken)
    response = await client.post("/api/ivr/rollback", json={})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["message"].startswith(
        "version 1 is not made live: prompt 'greeting' (mandarin): no placeholder could be made"
    )
    assert service.ivr.live is not None and service.ivr.live.version == 2
    history = (await client.get("/api/ivr/live")).json()["history"]
    assert [h["version"] for h in history] == [2, 1]


async def test_texts_that_look_like_espeak_options_are_published_as_speech(
    service: Service, client: httpx.AsyncClient
) -> None:
    """Before, `--help` made espeak-ng print its help: the version went live, then making
    its placeholder failed, and so did every later start."""
    await client.post("/api/ivr/versions", json={"document": edited(greeting="--help")})
    response = await client.post("/api/ivr/versions/2/publish")
    assert response.status_code == 200, response.text
    live = service.ivr.live
    assert live is not None and live.version == 2
    played = service.ivr.prompts.resolve(live.document, "greeting", "mandarin")
    with wave.open(played + ".wav") as w:  # noqa: ASYNC230 - a local file in a test
        assert w.getnframes() / w.getframerate() > 0.1


async def test_prompt_texts_with_control_characters_are_not_published(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/ivr/versions", json={"document": edited(greeting="您好\x07")})
    response = await client.post("/api/ivr/versions/2/publish")
    assert response.status_code == 422
    assert response.json()["detail"]["problems"] == [
        {
            "code": "invalid_value",
            "path": "prompts.greeting.mandarin",
            "message": "the text of prompt 'greeting' holds a control character (U+0007 at character 3); "
            "write plain text",
        }
    ]


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


async def test_hostile_documents_are_refused_with_a_message(client: httpx.AsyncClient) -> None:
    deep = 10_000
    cases = {
        BILLION_LAUGHS: "line 1: YAML anchors and aliases (&a, *a) are not accepted",
        "nodes: " + "[" * deep + "]" * deep: "the document is nested more than 20 levels deep",
        '{"a": ' * deep + "1" + "}" * deep: "the document is nested more than 20 levels deep",
    }
    for text, message in cases.items():
        response = await client.post("/api/ivr/versions", json={"document": text})
        assert response.status_code == 422, response.text
        assert response.json()["detail"]["message"].startswith(message)
    # The same nesting as a JSON object rather than text.
    nested = '{"a": ' * 500 + "1" + "}" * 500
    response = await client.post(
        "/api/ivr/versions",
        content='{"document": ' + nested + "}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "nested more than 20 levels deep" in response.json()["detail"]["message"]
    # Deeper than Python's recursion limit, the request's own JSON parser refuses it.
    nested = '{"a": ' * deep + "1" + "}" * deep
    response = await client.post(
        "/api/ivr/versions",
        content='{"document": ' + nested + "}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert [v["version"] for v in (await client.get("/api/ivr/versions")).json()["items"]] == [1]


@pytest.fixture
def two_hours_mp3(tmp_path: Path) -> bytes:
    """Two hours of silence in 7 MB: ten seconds at 8 kbit/s, the frames repeated."""
    unit = tmp_path / "unit.mp3"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "10"]
        + ["-b:a", "8k", "-write_xing", "0", "-id3v2_version", "0", str(unit)],
        check=True,
    )
    return unit.read_bytes() * 720


async def test_an_upload_that_expands_to_hours_is_refused_before_it_is_decoded(
    settings: Settings, tmp_path: Path, two_hours_mp3: bytes
) -> None:
    # The default upload limit (10 MB): the size check alone lets the file through.
    service = Service(
        settings.model_copy(update={"prompts_dir": tmp_path / "prompts", "speech_enabled": False})
    )
    db.upgrade(service.settings.database_url)
    bomb = two_hours_mp3
    assert len(bomb) < service.settings.prompt_max_bytes
    async with client_for(service) as client:
        response = await upload(client, bomb, "bomb.mp3")
    service.engine.dispose()
    assert response.status_code == 422, response.text
    message = response.json()["detail"]["message"]
    assert message.startswith("bomb.mp3: duration 7")
    assert message.endswith("s is too long (a prompt is at most 60 s)")

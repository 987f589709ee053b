"""Request bodies are bounded per route: a body over its route's limit is refused with 413
before it is read (Content-Length) or as soon as it passes the limit (chunked), so a client
cannot make the process that drives calls buffer or parse hundreds of megabytes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings, load_settings
from hotline.service import Service
from hotline.web.app import create_app
from hotline.web.limits import BodyLimits, body_limit, route_limits
from ivr.document import default_menu_text, parse_text

MB = 1_000_000
CHUNK = 64 * 1024


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


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def auth(service: Service, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_user(service.sessions, f'u-{role}', role)}"}


class Body:
    """A request body of `size` bytes sent in 64 KiB chunks, counting what the server took.
    It refuses to hand out more than `stop_after` bytes: without a limit the app would read
    it all, and the test fails at once instead of filling the memory."""

    def __init__(self, size: int, stop_after: int = 8 * MB, fill: bytes = b" ") -> None:
        self.size = size
        self.stop_after = stop_after
        self.fill = fill
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = self.fill * CHUNK
        while self.sent < self.size:
            if self.sent >= self.stop_after:
                raise AssertionError(f"the app read {self.sent:,} bytes of the body")
            part = chunk[: self.size - self.sent]
            self.sent += len(part)
            yield part


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(
    service: Service, client: httpx.AsyncClient
) -> None:
    body = Body(256 * MB)
    headers = {**auth(service, "ops"), "Content-Type": "application/json"}
    headers["Content-Length"] = str(body.size)
    response = await client.post("/api/ivr/versions", content=body, headers=headers)
    assert response.status_code == 413, response.text
    assert body.sent == 0
    detail = response.json()["detail"]
    assert detail["error"] == "body-too-large"
    assert "1,000,000 bytes" in detail["message"]


async def test_a_chunked_body_over_the_limit_is_refused_once_it_passes_the_limit(
    service: Service, client: httpx.AsyncClient
) -> None:
    body = Body(256 * MB)
    headers = {**auth(service, "ops"), "Content-Type": "application/json"}
    response = await client.post("/api/ivr/versions", content=body, headers=headers)
    assert response.status_code == 413, response.text
    # The server took one chunk past the limit, and the app saw none of it.
    assert body.sent <= 1 * MB + CHUNK


async def test_a_roster_csv_over_its_limit_is_refused(
    service: Service, client: httpx.AsyncClient
) -> None:
    limit = service.settings.roster_csv_max_bytes
    body = Body(limit + 10 * CHUNK, stop_after=limit + 4 * CHUNK, fill=b"a")
    headers = {**auth(service, "supervisor"), "Content-Type": "text/csv"}
    response = await client.post(
        "/api/roster/import", params={"month": "2026-12"}, content=body, headers=headers
    )
    assert response.status_code == 413, response.text
    assert body.sent <= limit + CHUNK


@pytest.fixture
async def small_json_client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose JSON limit (100 kB) is below the prompt and CSV limits."""
    service.settings = service.settings.model_copy(update={"api_max_body_bytes": 100_000})
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_a_prompt_upload_may_be_as_large_as_a_prompt_and_no_larger(
    service: Service, small_json_client: httpx.AsyncClient
) -> None:
    client = small_json_client
    ops = auth(service, "ops")
    limit = service.settings.prompt_max_bytes
    # Within the upload limit (and over the JSON one): the prompt store judges the file.
    files = {"file": ("x.wav", b"\0" * (limit - 1000), "audio/wav")}
    response = await client.put("/api/ivr/prompts/greeting/mandarin", files=files, headers=ops)
    assert response.status_code == 422, response.text
    assert "not a WAV or MP3 file" in response.json()["detail"]["message"]
    files = {"file": ("x.wav", b"\0" * (limit + 100_000), "audio/wav")}
    response = await client.put("/api/ivr/prompts/greeting/mandarin", files=files, headers=ops)
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]["message"]
    # JSON routes keep the small limit.
    response = await client.post("/api/ivr/versions", json={"document": "x" * 150_000}, headers=ops)
    assert response.status_code == 413


async def test_a_roster_csv_may_be_as_large_as_the_csv_limit(
    service: Service, small_json_client: httpx.AsyncClient
) -> None:
    text = "".join(_rows(50_000))  # 1 MB: over the JSON limit, within the CSV one
    headers = {**auth(service, "supervisor"), "Content-Type": "text/csv"}
    response = await small_json_client.post(
        "/api/roster/import", params={"month": "2026-12"}, content=text, headers=headers
    )
    assert response.status_code == 422  # read and checked: no such shift or operator
    assert response.json()["detail"]["rows"][0]["line"] == 2


async def test_bodies_within_the_limit_still_work(
    service: Service, client: httpx.AsyncClient
) -> None:
    ops = auth(service, "ops")
    draft = json.dumps({"document": parse_text(default_menu_text()), "comment": "padded"})
    padded = draft + " " * (900_000 - len(draft))  # JSON allows the blanks after the value
    headers = {**ops, "Content-Type": "application/json"}
    response = await client.post("/api/ivr/versions", content=padded, headers=headers)
    assert response.status_code == 201, response.text[:500]
    body = Body(900_000)
    response = await client.post("/api/ivr/versions", content=body, headers=headers)
    assert response.status_code == 422  # read in full, and not JSON
    assert body.sent == 900_000


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_anonymous_bodies_are_refused_fast_without_being_read(
    client: httpx.AsyncClient, declared: bool
) -> None:
    body = Body(256 * MB)
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(body.size)
    response = await client.post("/api/ivr/versions", content=body, headers=headers)
    assert response.status_code in (401, 413)
    assert body.sent <= 1 * MB + CHUNK
    # Within the limit, the token is what is missing.
    response = await client.post("/api/ivr/versions", json={"document": "x" * 500_000})
    assert response.status_code == 401


def _rows(count: int) -> Iterator[str]:
    yield "date,shift,extension\n"
    for _ in range(count):
        yield "2026-12-01,day,7001\n"


async def test_a_csv_field_over_the_csv_module_limit_is_a_422_naming_its_line(
    service: Service, client: httpx.AsyncClient
) -> None:
    text = "".join(_rows(2)) + "2026-12-02," + "x" * 200_000 + ",7001\n"
    headers = {**auth(service, "supervisor"), "Content-Type": "text/csv"}
    response = await client.post(
        "/api/roster/import", params={"month": "2026-12"}, content=text, headers=headers
    )
    assert response.status_code == 422, response.text[:300]
    rows = response.json()["detail"]["rows"]
    assert rows[-1]["line"] == 4
    assert rows[-1]["message"].startswith("line 4: ")


async def test_the_middleware_hands_an_app_at_most_the_limit() -> None:
    """Without FastAPI around it: an app that reads to the end sees no more than the limit,
    and the client gets 413 even when the app lets the error through."""
    seen = 0

    async def greedy(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal seen
        while True:
            message = await receive()
            seen += len(message.get("body", b""))
            if not message.get("more_body"):
                break

    chunks = [b"x" * 1000] * 20
    received = 0

    async def client() -> Message:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": chunks[received - 1], "more_body": True}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": []}
    await BodyLimits(greedy, default=5000, routes=[])(scope, client, send)
    assert seen == 5000
    assert received == 6
    assert sent[0]["status"] == 413


def test_a_route_naming_a_setting_that_is_no_byte_count_stops_the_app() -> None:
    from fastapi import APIRouter

    router = APIRouter()

    @router.post("/x", openapi_extra=body_limit("no_such_setting"))
    async def x() -> None: ...

    with pytest.raises(ValueError, match="/x: body limit setting 'no_such_setting'"):
        route_limits(router.routes, load_settings())

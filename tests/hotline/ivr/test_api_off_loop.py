"""The IVR API's heavy work (validating menus, diffing and drawing them) runs in worker
threads, not on the event loop that drives the calls: a menu document may be 200,000
characters, and the version list validates every version."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.ivr import api
from hotline.service import Service
from hotline.web.app import create_app
from ivr.document import default_menu_text, parse_text


@pytest.fixture
async def service(settings: Settings, tmp_path: Path) -> AsyncIterator[Service]:
    service = Service(
        settings.model_copy(update={"prompts_dir": tmp_path / "prompts", "speech_enabled": False})
    )
    db.upgrade(service.settings.database_url)
    await service.ivr.start()
    yield service
    service.engine.dispose()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        c.headers["Authorization"] = f"Bearer {create_user(service.sessions, 'olga', 'ops')}"
        yield c


async def test_menus_are_validated_diffed_and_drawn_off_the_event_loop(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.current_thread()
    ran: list[tuple[str, threading.Thread]] = []

    def watched(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            ran.append((name, threading.current_thread()))
            return fn(*args, **kwargs)

        return run

    for name in ("validate", "diff_documents", "mermaid"):
        monkeypatch.setattr(api, name, watched(name, getattr(api, name)))

    data = parse_text(default_menu_text())
    data["prompts"]["greeting"]["mandarin"] = "您好，这里是一二三四五热线。"
    requests: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
        ("POST", "/api/ivr/versions", {"document": data}, {"validate"}),
        ("GET", "/api/ivr/versions", None, {"validate"}),
        ("GET", "/api/ivr/versions/2", None, {"validate"}),
        ("PUT", "/api/ivr/versions/2", {"document": data, "comment": "x"}, {"validate"}),
        ("POST", "/api/ivr/versions/2/validate", None, {"validate"}),
        ("GET", "/api/ivr/versions/2/diagram", None, {"validate", "mermaid"}),
        ("POST", "/api/ivr/versions/2/simulate", {"inputs": ["1", "3"]}, {"validate"}),
        ("GET", "/api/ivr/diff?a=1&b=2", None, {"diff_documents"}),
        ("POST", "/api/ivr/versions/2/publish", None, {"validate"}),
        ("POST", "/api/ivr/rollback", {}, {"validate"}),
    ]
    on_loop: list[str] = []
    for method, path, body, expected in requests:
        ran.clear()
        response = await client.request(method, path, json=body)
        assert response.status_code < 300, (path, response.text)
        assert {name for name, _ in ran} >= expected, path
        on_loop += [f"{method} {path}: {name}" for name, thread in ran if thread is loop_thread]
    assert on_loop == [], "\n".join(on_loop)

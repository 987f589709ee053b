"""The controller's IVR at start-up: a live version that cannot run never stops the controller;
the previous good version runs instead, with an error in the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from hotline.core import db
from hotline.core.settings import Settings
from hotline.ivr import prompts
from hotline.ivr.runtime import IvrRuntime
from hotline.ivr.tables import MenuVersion
from hotline.service import Service
from ivr.document import default_menu_text, parse_text


@pytest.fixture
async def service(settings: Settings, tmp_path: Path) -> AsyncIterator[Service]:
    """A database whose live menu is version 2 (version 1 is the shipped default)."""
    service = Service(
        settings.model_copy(update={"prompts_dir": tmp_path / "prompts", "speech_enabled": False})
    )
    db.upgrade(service.settings.database_url)
    await service.ivr.start()
    data = parse_text(default_menu_text())
    data["prompts"]["greeting"]["mandarin"] = "版本二的问候语。"
    row = service.ivr.store.create(data, "olga")
    await asyncio.to_thread(service.ivr.publish, row.id, "olga")
    await service.ivr.reload()
    assert service.ivr.live is not None and service.ivr.live.version == 2
    yield service
    service.engine.dispose()


async def restart(service: Service) -> IvrRuntime:
    runtime = IvrRuntime(service.settings, service.sessions, CollectorRegistry())
    await runtime.start()
    return runtime


def set_greeting(service: Service, version: int, text: str) -> None:
    """Change a published version behind the store's back (as a version published before a
    validation rule existed would be)."""
    with service.sessions() as session:
        row = session.get(MenuVersion, version)
        assert row is not None
        document: dict[str, Any] = dict(row.document)
        document["prompts"] = {**document["prompts"], "greeting": {"mandarin": text}}
        row.document = document
        session.commit()


async def test_a_live_version_that_no_longer_validates_falls_back(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    set_greeting(service, 2, "您好\x00")
    with caplog.at_level(logging.ERROR, logger="hotline.ivr"):
        runtime = await restart(service)
    assert runtime.live is not None and runtime.live.version == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(
        "menu version 2 cannot run" in e
        and "prompts.greeting.mandarin" in e
        and "running version 1 instead" in e
        for e in errors
    ), errors


async def test_a_live_version_whose_placeholders_cannot_be_made_falls_back(
    service: Service, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_greeting(service, 2, "一段还没有占位录音的问候语。")
    real = prompts.synthesize

    def fails_on_the_new_text(text: str, voice: str) -> bytes:
        if "问候语" in text:
            raise RuntimeError("espeak-ng failed: out of memory")
        return real(text, voice)

    monkeypatch.setattr(prompts, "synthesize", fails_on_the_new_text)
    with caplog.at_level(logging.ERROR, logger="hotline.ivr"):
        runtime = await restart(service)
    assert runtime.live is not None and runtime.live.version == 1
    assert any(
        "menu version 2 cannot run" in r.getMessage() and "out of memory" in r.getMessage()
        for r in caplog.records
    )


async def test_no_version_that_can_run_leaves_the_basic_flow(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    set_greeting(service, 2, "\x1b")
    set_greeting(service, 1, "\x1b")
    with caplog.at_level(logging.ERROR, logger="hotline.ivr"):
        runtime = await restart(service)
    assert runtime.live is None
    assert any("no menu version can run" in r.getMessage() for r in caplog.records)

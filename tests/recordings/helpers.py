"""Helpers shared by the recordings tests."""

from __future__ import annotations

from pathlib import Path

import httpx

from asr.batch import write_wav
from hotline.core.auth import create_user
from hotline.devtools.simcall import synthesize_speech, trim_silence
from hotline.service import Service
from hotline.web.app import create_app
from tests.support.speech import SPOKEN


def speech_wav(path: Path, pause_seconds: float = 1.0) -> Path:
    """SPOKEN (espeak-ng Korean) with a pause either side, 8 kHz mono 16-bit."""
    pause = b"\x00\x00" * int(8000 * pause_seconds)
    return write_wav(path, pause + trim_silence(synthesize_speech(SPOKEN)) + pause)


def token(service: Service, role: str, name: str | None = None) -> dict[str, str]:
    user = name or f"u-{role}"
    return {"Authorization": f"Bearer {create_user(service.sessions, user, role)}"}


def client(service: Service) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(service))
    return httpx.AsyncClient(transport=transport, base_url="http://test")

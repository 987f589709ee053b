"""The README's first call: the carrier calls 12345 and presses keys as each menu of the
default menu listens (told by the hotline Asterisk's AMI, not guessed from prompt lengths),
and the call reaches a queue."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.calls.tables import Call
from hotline.devtools.carrier import Carrier
from hotline.devtools.menu_caller import call_through_menu, hang_up, menu_prompt
from hotline.service import Service
from tests.conftest import wait_for

pytestmark = pytest.mark.sandbox


def call_of(service: Service, number: str) -> Call | None:
    with service.sessions() as session:
        return session.scalar(select(Call).where(Call.caller_number == number))


def ended(service: Service, number: str) -> bool:
    call = call_of(service, number)
    return call is not None and call.ended_at is not None


async def test_keys_pressed_as_each_menu_listens_reach_a_queue(
    start_service, carrier: Carrier
) -> None:
    service = await start_service()
    progress: list[str] = []
    call = await call_through_menu(
        carrier,
        service.ami,
        number="13800138010",
        name="张三",
        keys="2",
        timeout=90,
        on_progress=progress.append,
    )
    await hang_up(carrier, call)
    assert call.queue == "intake", (call, progress)
    assert call.pressed == ["2"] and not call.degraded
    # Without speech, the key menu follows the greeting at once.
    assert [m.rsplit("-", 1)[0] for m in call.menus] == ["main-menu"]
    await wait_for(lambda: ended(service, "13800138010"), 30, "the call's record to be closed")
    record = call_of(service, "13800138010")
    assert record is not None
    # The controller heard the key in the menu it was meant for: a personal request.
    assert [s["digits"] for s in record.path if s["step"] == "input"] == ["2"]
    assert "set-personal" in [s["node"] for s in record.path if s["step"] == "node"]
    assert record.outcome == "routed" and record.caller_name == "张三"


async def test_the_sandbox_call_command_of_the_quick_start(start_service) -> None:
    """`hotline sandbox call` as the README shows it (bar the number), run as a command
    against a running controller: it reports the queue and exits 0."""
    service = await start_service()
    command = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "hotline"),
        *("sandbox", "call", "--name", "张三", "--number", "13800138011", "--hold", "0"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(command.communicate(), 180)
    output = out.decode(errors="replace")
    assert command.returncode == 0, output
    assert "main-menu" in output and "pressing 2" in output
    assert "joined queue intake" in output
    await wait_for(lambda: ended(service, "13800138011"), 30, "the call's record to be closed")
    record = call_of(service, "13800138011")
    assert record is not None
    assert [s["digits"] for s in record.path if s["step"] == "input"] == ["2"]


def test_menu_prompt_names_the_sound_of_get_data() -> None:
    assert menu_prompt('GET DATA "/x/synthetic/mandarin/main-menu-1a2b" 5000 1') == (
        "main-menu-1a2b"
    )
    assert menu_prompt("GET DATA beep 5000 1") == "beep"

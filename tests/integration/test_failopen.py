"""Fail-open: a call whose controller is missing, killed or restarted reaches a human.

The controller here is a real `hotline serve` process, killed with SIGKILL while calls are in
the default menu; operators are pyVoIP phones (in child processes) that answer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from hotline.core.settings import Settings
from hotline.devtools.carrier import Carrier
from telephony.ami_client import AMIClient
from telephony.ami_protocol import Event
from tests.conftest import wait_for
from tests.support.operator_phone import OperatorPhone

pytestmark = pytest.mark.sandbox
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Events:
    """What the hotline Asterisk reports, by event name, with arrival times."""

    def __init__(self, ami: AMIClient) -> None:
        self.seen: list[tuple[float, Event]] = []
        ami.on_event("*", lambda e: self.seen.append((time.monotonic(), e)))

    def callers(self, name: str, since: float = 0.0, **match: str) -> set[str]:
        return {
            e.get("CallerIDNum") or ""
            for t, e in self.seen
            if t >= since and e.name == name and all(e.get(k) == v for k, v in match.items())
        }


@pytest.fixture
async def monitor(sandbox, settings: Settings) -> AsyncIterator[tuple[AMIClient, Events]]:
    ami = AMIClient("127.0.0.1", settings.ami_port, settings.ami_user, settings.ami_secret)
    await ami.connect()
    events = Events(ami)
    yield ami, events
    await ami.close()


@contextlib.asynccontextmanager
async def controller_process(
    settings: Settings, tmp_path: Path, **env_overrides: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`hotline serve --no-sandbox`: the sandbox's settings, without taking its lock (this
    test holds it)."""
    api_port = free_port()
    env = {
        **os.environ,
        "HOTLINE_STATE_DIR": str(tmp_path / "controller"),
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_API_PORT": str(api_port),
        "HOTLINE_AUDIOSOCKET_PORT": str(free_port()),
        "HOTLINE_SPEECH_ENABLED": "false",
        "HOTLINE_RECORDINGS_ENABLED": "false",
        **env_overrides,
    }
    log = (tmp_path / "controller.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        str(BIN / "hotline"), "serve", "--no-sandbox", env=env, stdout=log, stderr=log
    )
    try:
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (
                        await client.get(f"http://127.0.0.1:{api_port}/healthz")
                    ).status_code == 200:
                        break
                if time.monotonic() > deadline or process.returncode is not None:
                    raise AssertionError(
                        "controller did not become healthy: "
                        + (tmp_path / "controller.log").read_text(errors="replace")[-2000:]
                    )
                await asyncio.sleep(0.2)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        log.close()


@contextlib.asynccontextmanager
async def intake_operators(
    settings: Settings, ami: AMIClient, count: int
) -> AsyncIterator[list[OperatorPhone]]:
    phones = [
        OperatorPhone(settings, f"70{n:02d}", 15080 + n, 23000 + 50 * n, hangup_after=1.0)
        for n in range(1, count + 1)
    ]
    try:
        await asyncio.gather(*(p.start() for p in phones))
        for phone in phones:
            await ami.action(
                "QueueAdd",
                {"Queue": "intake", "Interface": f"PJSIP/{phone.extension}", "Penalty": 0},
                check=False,
            )
        yield phones
    finally:
        for phone in phones:
            await ami.action(
                "QueueRemove",
                {"Queue": "intake", "Interface": f"PJSIP/{phone.extension}"},
                check=False,
            )
        await asyncio.gather(*(p.stop() for p in phones))


async def test_without_a_controller_calls_go_straight_to_intake(monitor, carrier: Carrier) -> None:
    ami, events = monitor
    await ami.action("Setvar", {"Variable": "HOTLINE_HEARTBEAT", "Value": "0"})
    start = time.monotonic()
    await carrier.call(number="13100000001", delay=1, hold=15)
    await wait_for(
        lambda: "13100000001" in events.callers("QueueCallerJoin", Queue="intake"),
        15,
        "the call to join the intake queue",
    )
    assert "13100000001" in events.callers("UserEvent", UserEvent="HotlineDegraded")
    assert not events.callers("AsyncAGIStart", since=start)  # never waited for a controller


async def test_killing_the_controller_with_twenty_calls_in_the_menu(
    monitor, carrier: Carrier, settings: Settings, tmp_path: Path
) -> None:
    ami, events = monitor
    numbers = {f"1320000{n:04d}" for n in range(20)}
    async with controller_process(settings, tmp_path) as process:
        await asyncio.gather(*(carrier.call(number=n, delay=60, hold=120) for n in numbers))
        try:
            await wait_for(
                lambda: numbers <= events.callers("AsyncAGIStart"), 30, "20 calls in the menu"
            )
        except AssertionError:
            log = (tmp_path / "controller.log").read_text(errors="replace")
            raise AssertionError(
                f"in the menu: {len(events.callers('AsyncAGIStart') & numbers)}; "
                f"degraded: {len(events.callers('UserEvent') & numbers)}; log: {log[-3000:]}"
            ) from None
        await asyncio.sleep(2)
        process.send_signal(signal.SIGKILL)
        await process.wait()
    killed_at = time.monotonic()
    async with intake_operators(settings, ami, 10) as phones:
        try:
            await wait_for(
                lambda: numbers <= events.callers("AgentConnect", Queue="intake"),
                120,
                "every caller to reach an intake operator",
            )
        except AssertionError:
            raise AssertionError(
                f"degraded {len(events.callers('UserEvent', since=killed_at) & numbers)}, "
                f"joined {len(events.callers('QueueCallerJoin', Queue='intake') & numbers)}, "
                f"connected {len(events.callers('AgentConnect', Queue='intake') & numbers)}, "
                f"abandoned {len(events.callers('QueueCallerAbandon') & numbers)}, "
                f"answered {[p.answered for p in phones]}, invites {[len(p.invites) for p in phones]}, "
                f"ringnoanswer {len(events.callers('AgentRingNoAnswer'))}, contexts "
                f"{sorted({(round(t - killed_at), e.get('Context')) for t, e in events.seen if e.name == 'Newexten' and e.get('CallerIDNum') == min(numbers)})}"
            ) from None
    assert numbers <= events.callers("UserEvent", since=killed_at, UserEvent="HotlineDegraded")
    assert sum(p.answered for p in phones) >= 20


async def test_a_restarted_controller_sends_calls_left_in_agi_to_a_human_at_once(
    monitor, carrier: Carrier, settings: Settings, tmp_path: Path, start_service
) -> None:
    ami, events = monitor
    numbers = {f"1330000{n:04d}" for n in range(5)}
    # The killed controller's watchdogs would fire only after the test (and the callers)
    # gave up: whatever the machine's speed, a call can reach intake only through the
    # restarted controller.
    async with controller_process(settings, tmp_path, HOTLINE_WATCHDOG_LEASE="300") as process:
        await asyncio.gather(*(carrier.call(number=n, delay=60, hold=120) for n in numbers))
        await wait_for(
            lambda: numbers <= events.callers("AsyncAGIStart"), 30, "5 calls in the menu"
        )
        await asyncio.sleep(3)
        process.send_signal(signal.SIGKILL)
        await process.wait()
    service = await start_service()
    await wait_for(
        lambda: numbers <= events.callers("QueueCallerJoin", Queue="intake"),
        60,
        "the orphaned calls to join the intake queue",
    )
    assert service.agi.orphans_recovered == len(numbers)
    # Sent by the restarted controller, not by the watchdog (the dialplan's `T` extension).
    assert not events.callers("Newexten", Context="hotline", Exten="T") & numbers

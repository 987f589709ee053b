"""Real calls: the carrier Asterisk dials 12345 on the hotline Asterisk over SIP; the
controller drives each call over AMI/AsyncAGI."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from hotline.calls.flow import basic_flow
from hotline.calls.store import CallRecord
from hotline.calls.tables import Call
from hotline.devtools.carrier import Carrier
from hotline.service import Service
from telephony.agi import AGISession
from telephony.ami_client import AMIConnectionLost
from telephony.ami_protocol import Event
from tests.conftest import wait_for
from tests.support.tcp_proxy import TCPProxy

pytestmark = pytest.mark.sandbox


def calls_in_db(service: Service) -> dict[str, Call]:
    with service.sessions() as session:
        return {c.caller_number: c for c in session.scalars(select(Call))}


async def test_call_with_chinese_name_plays_collects_a_digit_and_is_recorded(
    start_service, carrier: Carrier
) -> None:
    service = await start_service(basic_flow)
    await carrier.call(number="13800138000", name="张三", digits="7", delay=2.5, hold=8)

    await wait_for(
        lambda: calls_in_db(service).get("13800138000", Call(outcome="")).outcome == "completed",
        20,
        "the call to be completed in the calls table",
    )
    call = calls_in_db(service)["13800138000"]
    assert call.caller_name == "张三"
    assert call.called_number == "12345"
    steps = [(s["step"], s.get("value") or s.get("prompt")) for s in call.path]
    assert steps == [
        ("answer", None),
        ("play", "hello-world"),
        ("digits", "7"),
        ("play", "auth-thankyou"),
        ("hangup", None),
    ]
    assert call.answered_at is not None and call.ended_at is not None
    # The greeting really played: the digit came after it, not before.
    assert call.path[2]["t"] - call.path[1]["t"] >= 0 and call.path[1]["t"] > 1.0


async def test_twenty_calls_at_once_all_complete(start_service, carrier: Carrier) -> None:
    service = await start_service(basic_flow)
    numbers = {f"1390000{n:04d}": str(n % 10) for n in range(20)}
    await asyncio.gather(
        *(
            carrier.call(number=number, name="测试", digits=digit, delay=2.5, hold=10)
            for number, digit in numbers.items()
        )
    )
    await wait_for(
        lambda: sum(c.outcome == "completed" for c in calls_in_db(service).values()) == 20,
        60,
        "20 completed calls",
    )
    calls = calls_in_db(service)
    assert set(calls) == set(numbers)
    for number, digit in numbers.items():
        digits = [s["value"] for s in calls[number].path if s["step"] == "digits"]
        assert digits == [digit], number


async def test_killed_ami_connection_reconnects_and_the_call_in_progress_fails_open(
    start_service, carrier: Carrier, settings
) -> None:
    proxy = TCPProxy("127.0.0.1", settings.ami_port)
    await proxy.start()
    started = asyncio.Event()
    errors: list[BaseException] = []

    async def slow_flow(session: AGISession, record: CallRecord) -> None:
        if session.caller_number != "13600000001":
            return await basic_flow(session, record)
        await session.answer()
        started.set()
        try:
            await session.collect_digits("beep", timeout=10)
        except AMIConnectionLost as exc:
            errors.append(exc)
            raise

    service = await start_service(slow_flow, ami_port=proxy.port)
    channels_in_fallback: list[str] = []
    service.ami.on_event(
        "Newexten",
        lambda e: (
            channels_in_fallback.append(e["Channel"])
            if e.get("Context") == "hotline-fallback"
            else None
        ),
    )
    try:
        await carrier.call(number="13600000001", digits="", delay=1, hold=15)
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(0.5)
        proxy.kill_connections()  # the TCP connection dies under a command in flight

        await wait_for(lambda: bool(errors), 5, "the pending AGI command to fail")
        assert "not re-sent" in str(errors[0])
        await wait_for(lambda: service.ami.connects >= 2, 10, "the AMI client to reconnect")
        # The interrupted call is handed back to the dialplan: it goes to the intake queue.
        await wait_for(lambda: bool(channels_in_fallback), 10, "the call to reach the fallback")
        assert proxy.connections == 2

        # A later call works end to end on the new connection.
        await carrier.call(number="13600000002", name="王五", digits="3", delay=2.5, hold=8)
        await wait_for(
            lambda: (
                calls_in_db(service).get("13600000002", Call(outcome="")).outcome == "completed"
            ),
            20,
            "a later call to complete",
        )
        assert calls_in_db(service)["13600000001"].outcome == "failed"
    finally:
        await proxy.stop()


async def test_agi_commands_fail_cleanly_after_the_caller_hangs_up(
    start_service, carrier: Carrier
) -> None:
    outcome: list[str] = []

    async def flow(session: AGISession, record: CallRecord) -> None:
        await session.answer()
        await session.wait_hangup()
        try:
            await session.play("hello-world")
        except Exception as exc:  # noqa: BLE001 - the type is what is checked
            outcome.append(type(exc).__name__)
            raise

    service = await start_service(flow)
    await carrier.call(number="13600000009", delay=0.5, hold=0.5)
    await wait_for(lambda: bool(outcome), 15, "the flow to notice the hang-up")
    assert outcome == ["ChannelHungUp"]
    await wait_for(
        lambda: (
            calls_in_db(service).get("13600000009", Call(outcome="")).outcome == "caller_hung_up"
        ),
        10,
        "the call to be recorded as hung up by the caller",
    )


def test_event_name_dispatch_is_case_insensitive() -> None:
    # Subscribers name events as the AMI documentation spells them.
    assert Event("Event: AsyncAGIStart\r\nChannel: x").name == "AsyncAGIStart"

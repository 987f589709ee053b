"""A pyVoIP softphone registers to the hotline Asterisk and calls 12345."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from hotline.calls.flow import basic_flow
from hotline.calls.tables import Call
from tests.conftest import wait_for
from tests.support.operator_phone import OperatorPhone

pytestmark = pytest.mark.sandbox


def free_udp_port() -> int:
    # A port no earlier phone used: Asterisk may still hold a stale contact for an old one.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_pyvoip_phone_registers_and_its_call_reaches_the_controller(
    start_service, settings, sandbox
) -> None:
    service = await start_service(basic_flow)
    phone = OperatorPhone(settings, "6001", sip_port=free_udp_port(), rtp_low=22000)
    await phone.start()
    try:
        contacts = sandbox.cli("hotline", "pjsip show contacts")
        assert "6001/sip:" in contacts

        await phone.call("12345")

        def outcome() -> str:
            with service.sessions() as session:
                call = session.scalar(select(Call).where(Call.caller_number == "6001"))
                return call.outcome if call else ""

        # The phone sends no digit: the controller times out on the key press and says goodbye.
        await wait_for(lambda: outcome() == "completed", 25, "the softphone's call to complete")
        with service.sessions() as session:
            call = session.scalar(select(Call).where(Call.caller_number == "6001"))
            assert call is not None
            assert [s["step"] for s in call.path][:2] == ["answer", "play"]
            assert {"step": "digits", "value": None} in [
                {"step": s["step"], "value": s.get("value")} for s in call.path
            ]
    finally:
        await phone.stop()

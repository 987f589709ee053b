"""The AMI client against the real hotline Asterisk."""

from __future__ import annotations

import pytest

from hotline.core.settings import Settings
from telephony.ami_client import AMIActionError, AMIClient, AMIConnectionError
from telephony.ami_protocol import AMIInjectionError

pytestmark = pytest.mark.sandbox


def client(settings: Settings, **kw: object) -> AMIClient:
    args = {
        "host": "127.0.0.1",
        "port": settings.ami_port,
        "username": settings.ami_user,
        "secret": settings.ami_secret,
    } | kw
    return AMIClient(**args)  # type: ignore[arg-type]


async def test_login_ping_and_event_list(sandbox, settings: Settings) -> None:
    ami = client(settings)
    await ami.connect()
    try:
        assert ami.banner is not None and ami.banner.text.startswith("Asterisk Call Manager/")
        pong = await ami.action("Ping")
        assert pong.get("Ping") == "Pong"
        response, queues = await ami.action_list("QueueStatus")
        assert response.starts_event_list
        names = {e["Queue"] for e in queues if e.name == "QueueParams"}
        assert {"intake", "dispatch", "callback"} <= names
    finally:
        await ami.close()


async def test_the_controllers_login_cannot_run_cli_commands_or_shell_out(
    sandbox, settings: Settings
) -> None:
    """Least privilege (asterisk-conf/hotline/manager.conf): what the controller never sends
    is refused, and the connection stays usable. It may originate (call-backs and surveys),
    but not a call that runs a shell or an arbitrary application (the `system` class)."""
    ami = client(settings)
    await ami.connect()
    try:
        for action, headers in (
            ("Command", {"Command": "core show version"}),
            (
                "Originate",
                {"Channel": "Local/s@hotline-test", "Application": "System", "Data": "id"},
            ),
            ("Originate", {"Channel": "Local/s@hotline-test", "Application": "Exec", "Data": "x"}),
            ("PJSIPShowEndpoints", {}),
            ("GetConfig", {"Filename": "manager.conf"}),
        ):
            with pytest.raises(AMIActionError, match="(?i)permission denied|access forbidden"):
                await ami.action(action, headers)
        assert (await ami.action("Ping")).get("Ping") == "Pong"
    finally:
        await ami.close()


async def test_wrong_secret_is_a_clear_error(sandbox, settings: Settings) -> None:
    with pytest.raises(AMIConnectionError, match="refused.*HOTLINE_AMI_SECRET"):
        await client(settings, secret="not-the-secret").connect()


async def test_nothing_listening_is_a_clear_error(sandbox, settings: Settings) -> None:
    with pytest.raises(AMIConnectionError, match="cannot reach AMI at 127.0.0.1:1"):
        await client(settings, port=1, timeout=2).connect()


async def test_error_response_and_refused_injection_leave_the_connection_usable(
    sandbox, settings: Settings
) -> None:
    ami = client(settings)
    await ami.connect()
    try:
        with pytest.raises(AMIActionError, match="No such channel"):
            await ami.action("Hangup", {"Channel": "PJSIP/nobody-00000000"})
        with pytest.raises(AMIInjectionError):
            await ami.action("Getvar", {"Variable": "X\r\nAction: Originate"})
        assert (await ami.action("Ping")).get("Ping") == "Pong"
    finally:
        await ami.close()

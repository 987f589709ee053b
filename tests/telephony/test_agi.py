"""AsyncAGI pieces that need no Asterisk: reply parsing, Env decoding, argument quoting, and
a session's commands when the call or the AMI link goes away under them."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from telephony.agi import AGIResult, AGISession, ChannelHungUp, parse_env, quote_arg
from telephony.ami_client import AMIActionError, AMIConnectionLost
from telephony.ami_protocol import AMIInjectionError, Event, Response


@pytest.mark.parametrize(
    ("line", "code", "value", "data", "extra"),
    [
        ("200 result=0", 200, "0", None, {}),
        ("200 result=49 endpos=9120", 200, "49", None, {"endpos": "9120"}),
        ("200 result=1 (timeout)", 200, "1", "timeout", {}),
        ("200 result= (timeout)", 200, "", "timeout", {}),
        ("200 result=*12#", 200, "*12#", None, {}),
        ("200 result=1 (PJSIP/carrier-0000 (x))", 200, "1", "PJSIP/carrier-0000 (x)", {}),
        ("200 result=-1 endpos=0", 200, "-1", None, {"endpos": "0"}),
        ("510 Invalid or unknown command", 510, "", "Invalid or unknown command", {}),
        ("511 Command Not Permitted on a dead channel or intercept routine", 511, "", None, None),
    ],
)
def test_reply_lines(
    line: str, code: int, value: str, data: str | None, extra: dict[str, str] | None
) -> None:
    result = AGIResult.parse(line + "\n")
    assert result.code == code
    assert result.value == value
    if data is not None:
        assert result.data == data
    if extra is not None:
        assert result.extra == extra


def test_reply_that_is_not_agi() -> None:
    with pytest.raises(ValueError, match="not an AGI reply"):
        AGIResult.parse("hello")


def test_integer_result() -> None:
    assert AGIResult.parse("200 result=49").result == 49
    assert AGIResult.parse("200 result=*1").result is None


def test_env_is_url_decoded_with_chinese() -> None:
    env = parse_env(
        "agi_request%3A%20async%0Aagi_channel%3A%20PJSIP%2Fcarrier-00000000%0A"
        "agi_callerid%3A%2013800138000%0Aagi_calleridname%3A%20%E5%BC%A0%E4%B8%89%0A"
        "agi_dnid%3A%2012345%0A%0A"
    )
    assert env["channel"] == "PJSIP/carrier-00000000"
    assert env["calleridname"] == "张三"
    assert env["callerid"] == "13800138000"
    assert env["dnid"] == "12345"


def test_quoting_escapes_quotes_and_refuses_line_breaks() -> None:
    assert quote_arg('say "hi"\\') == '"say \\"hi\\"\\\\"'
    with pytest.raises(AMIInjectionError):
        quote_arg("hello-world\nHANGUP")


class GoneWhileSending:
    """An AMI client under which the call goes away while an ``AGI`` action is on its way:
    the session hears of it (a ``Hangup`` event, or the link dropping) before the action's
    own answer, which then fails."""

    def __init__(self, gone: str) -> None:
        self.gone = gone
        self.session: AGISession | None = None

    async def action(self, name: str, headers: dict[str, Any], **_: Any) -> Response:
        assert self.session is not None
        if self.gone == "hangup":
            self.session._mark_hung_up()
            await asyncio.sleep(0)
            raise AMIActionError(
                name, Response("", (("Response", "Error"), ("Message", "Channel does not exist")))
            )
        self.session._on_connection_lost()
        await asyncio.sleep(0)
        raise AMIConnectionLost("connection lost")


@pytest.mark.parametrize(
    ("gone", "error"), [("hangup", ChannelHungUp), ("link", AMIConnectionLost)]
)
async def test_a_command_cut_off_while_being_sent_leaves_no_unretrieved_error(
    gone: str, error: type[Exception]
) -> None:
    """The command fails with the reason, and nothing is left behind to be reported as
    "Future exception was never retrieved" (once per caller who hung up in a menu)."""
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    try:
        ami = GoneWhileSending(gone)
        start = Event("", (("Event", "AsyncAGIStart"), ("Channel", "PJSIP/carrier-00000001")))
        ami.session = AGISession(ami, start)  # type: ignore[arg-type]
        with pytest.raises(error):
            await ami.session.command('GET DATA "choose-language" 5000 1')
        del ami
        gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert [c.get("message") for c in reports] == []


class AnswersGetData:
    """An AMI client whose Asterisk answers every AGI command with `result`."""

    def __init__(self, result: str) -> None:
        self.result = result
        self.session: AGISession | None = None

    async def action(self, name: str, headers: dict[str, Any], **_: Any) -> Response:
        assert self.session is not None
        exec_event = Event(
            "",
            (
                ("Event", "AsyncAGIExec"),
                ("CommandID", headers["CommandID"]),
                ("Result", f"200 result={self.result}"),
            ),
        )
        asyncio.get_running_loop().call_soon(self.session._on_exec, exec_event)
        return Response("", (("Response", "Success"),))


async def test_collected_digits_are_bounded_to_what_was_asked_and_to_keys() -> None:
    """However long the reply, a caller's digits are at most `max_digits` keys."""
    ami = AnswersGetData("1" * 100_000 + "x")
    start = Event("", (("Event", "AsyncAGIStart"), ("Channel", "PJSIP/carrier-00000001")))
    ami.session = AGISession(ami, start)  # type: ignore[arg-type]
    digits, timed_out = await ami.session.collect_digits("p", timeout=1, max_digits=4)
    assert (digits, timed_out) == ("1111", False)
    ami.result = "1a\x002#"
    digits, _ = await ami.session.collect_digits("p", timeout=1, max_digits=4)
    assert digits == "12#"

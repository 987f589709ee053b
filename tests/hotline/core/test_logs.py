"""Personal data in the logs: a call's log lines (the AsyncAGI server's, the call log's steps,
the routing decision's) show a masked number and no name, words or keys, unless
HOTLINE_LOG_PERSONAL_DATA asks for them; the rule is `hotline.core.privacy`'s."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from hotline.calls.store import CallRecord
from hotline.core import logs
from hotline.core.settings import load_settings
from telephony.agi import AsyncAGIServer
from telephony.ami_protocol import Event, Response

NUMBER, MASKED, NAME = "13800138000", "138****8000", "张三"
WORDS, CASE, KEY = "屋里才十二度", "GD-2026-0042", "7"
PERSONAL = (NUMBER, NAME, WORDS, CASE, "digits")


class QuietAMI:
    """Just enough AMI for the AsyncAGI server to start a call."""

    connected = True

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}

    def on_event(self, name: str, callback: Any) -> Any:
        self.handlers[name] = callback
        return lambda: None

    def on_connection(self, callback: Any) -> None:
        pass

    async def wait_connected(self, timeout: float | None = None) -> None:
        pass

    async def action(self, name: str, headers: Any = None, **_: Any) -> Response:
        return Response("", (("Response", "Success"),))


async def a_call_is_logged() -> None:
    """The lines one call writes: the AsyncAGI server's arrival line, the call log's steps,
    and the routing feature's decision line."""
    env = (
        f"agi_channel: PJSIP/carrier-00000001\nagi_uniqueid: hotline-1.1\n"
        f"agi_callerid: {NUMBER}\nagi_calleridname: {NAME}\nagi_dnid: 12345\n"
    )
    ami = QuietAMI()
    done = asyncio.Event()

    async def handler(session: Any) -> None:
        record = CallRecord.for_session(session)
        record.step("input", node="main", digits=KEY, waited=0.8)
        record.step("speech", node="speak", text=WORDS, seconds=2.1)
        record.step(
            "route",
            node="connect",
            queue="dispatch",
            reason=f"caller has open case {CASE} about this: dispatch group",
            tags={"rule": "open_case"},
        )
        session._mark_hung_up()
        done.set()

    server = AsyncAGIServer(ami, handler)  # type: ignore[arg-type]
    server.start()
    ami.handlers["AsyncAGIStart"](
        Event(
            "",
            (
                ("Event", "AsyncAGIStart"),
                ("Channel", "PJSIP/carrier-00000001"),
                ("Env", quote(env)),
            ),
        )
    )
    await asyncio.wait_for(done.wait(), 5)
    await server.stop()

    from hotline.roster.feature import RoutingFeature
    from routing.decision import Decision

    class Call:
        unique_id, caller_number, transcript = "hotline-1.1", NUMBER, WORDS

    decision = Decision(
        queue="dispatch",
        priority=0,
        tags={"rule": "open_case"},
        rule="open_case",
        explanation=f"caller has open case {CASE} about this: dispatch group",
        wanted="dispatch",
    )
    feature = RoutingFeature.__new__(RoutingFeature)
    feature.store = type("NoStore", (), {"save_decision": lambda *a: None})()  # type: ignore[assignment]
    feature.on_routed = None
    feature.executor = None
    await feature._save(Call(), decision, None, 0.1)  # type: ignore[arg-type]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("as_json", [False, True])
async def test_the_log_shows_a_masked_number_and_no_name_words_or_keys(
    restore_logging: None, as_json: bool
) -> None:
    out = io.StringIO()
    logs.configure("DEBUG", as_json=as_json, stream=out)
    await a_call_is_logged()
    written = out.getvalue()
    if as_json:
        written = json.dumps(
            [json.loads(line) for line in written.splitlines()], ensure_ascii=False
        )
    assert "hotline.calls" in written and "step speech" in written
    for personal in PERSONAL:
        assert personal not in written, (personal, written)
    assert MASKED in written


async def test_personal_data_can_be_switched_on_for_debugging(restore_logging: None) -> None:
    assert load_settings().log_personal_data is False
    assert load_settings(log_personal_data=True).log_personal_data is True
    out = io.StringIO()
    logs.configure("DEBUG", personal_data=True, stream=out)
    await a_call_is_logged()
    written = out.getvalue()
    for personal in (NUMBER, NAME, WORDS, CASE, f"digits={KEY}"):
        assert personal in written, (personal, written)


async def test_logging_not_set_up_by_the_controller_shows_nothing_personal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await a_call_is_logged()
    assert "step speech" in caplog.text
    for personal in (*PERSONAL, MASKED):
        assert personal not in caplog.text, (personal, caplog.text)
    for record in caplog.records:
        assert not any(p in record.getMessage() for p in PERSONAL), record.getMessage()


def test_the_dialplan_logs_no_caller_name_and_no_full_number() -> None:
    """Asterisk's own log: NoOp/Verbose/Log lines of the hotline's dialplan show no caller
    name and, for calls from the public network, only a masked number."""
    conf = Path(__file__).resolve().parents[3] / "asterisk-conf/hotline/extensions.conf"
    context = ""
    logged = []
    for line in conf.read_text("utf-8").splitlines():
        line = line.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            context = line[1:-1]
        elif re.search(r"\b(NoOp|Verbose|Log)\(", line):
            logged.append((context, line))
    assert logged
    for context, line in logged:
        assert "CALLERID(all)" not in line and "CALLERID(name)" not in line, line
        if context != "from-phones":  # operators' extensions are not callers' numbers
            bare = re.sub(r"\$\{CALLERID\(num\):(0:3|-4)\}", "", line)
            bare = bare.replace("${LEN(${CALLERID(num)})}", "")
            assert "CALLERID(num)" not in bare, line

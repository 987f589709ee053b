"""The AMI protocol against bytes recorded from the real sandbox (tests/fixtures/ami)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.ami_protocol import (
    AMIInjectionError,
    AMIParser,
    AMIProtocolError,
    Banner,
    Event,
    Response,
    build_action,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ami"
STREAM = (FIXTURES / "calls.bin").read_bytes()
PLAN = json.loads((FIXTURES / "calls.json").read_text(encoding="utf-8"))


def parse_all(data: bytes, chunk: int | None = None) -> list[object]:
    parser = AMIParser()
    out: list[object] = []
    step = chunk or len(data) or 1
    for start in range(0, len(data), step):
        parser.receive_data(data[start : start + step])
        out.extend(parser.messages())
    return out


def test_recorded_stream_has_every_call_with_its_name() -> None:
    messages = parse_all(STREAM)
    assert isinstance(messages[0], Banner)
    assert messages[0].version
    starts = [m for m in messages if isinstance(m, Event) and m.name == "AsyncAGIStart"]
    assert [m["CallerIDName"] for m in starts] == [c["name"] for c in PLAN["calls"]]
    assert [m["CallerIDNum"] for m in starts] == [c["number"] for c in PLAN["calls"]]
    ends = [m for m in messages if isinstance(m, Event) and m.name == "AsyncAGIEnd"]
    assert len(ends) == len(PLAN["calls"])


def test_every_read_size_gives_the_same_messages() -> None:
    whole = parse_all(STREAM)
    for chunk in (1, 2, 3, 7, 64, 1399, 1400, 4096):
        assert parse_all(STREAM, chunk) == whole, f"reads of {chunk} bytes"


def test_chinese_name_survives_a_split_at_every_byte() -> None:
    start = STREAM.index(b"Event: AsyncAGIStart")
    end = STREAM.index(b"\r\n\r\n", start) + 4
    message = b"Asterisk Call Manager/11.0.0\r\n" + STREAM[start:end]
    name = PLAN["calls"][0]["name"]
    assert name.encode() in message
    for cut in range(1, len(message)):
        parser = AMIParser()
        parser.receive_data(message[:cut])
        got = list(parser.messages())
        parser.receive_data(message[cut:])
        got += list(parser.messages())
        event = got[-1]
        assert isinstance(event, Event), cut
        assert event["CallerIDName"] == name, f"split at byte {cut}"


def test_repeated_headers_are_kept_in_order() -> None:
    events = [m for m in parse_all(STREAM) if isinstance(m, Event) and m.name == "Newexten"]
    variables = events[0].get_all("ChanVariable")
    assert len(variables) == 2
    assert variables[0].startswith("HOTLINE_ENTRY=")
    assert variables[1].startswith("CHANNEL(language)=")


def test_event_lists_arrive_with_their_completion() -> None:
    messages = parse_all(STREAM)
    starts = [m for m in messages if isinstance(m, Response) and m.starts_event_list]
    assert len(starts) >= len(PLAN["event_lists"])
    complete = {m.name for m in messages if isinstance(m, Event) and m.completes_event_list}
    assert {"EndpointListComplete", "QueueStatusComplete", "CoreShowChannelsComplete"} <= complete
    endpoints = [m for m in messages if isinstance(m, Event) and m.name == "EndpointList"]
    assert len(endpoints) == PLAN["event_lists"]["PJSIPShowEndpoints"]


def test_command_output_headers() -> None:
    responses = [m for m in parse_all(STREAM) if isinstance(m, Response) and m.output]
    assert any(line.startswith("Asterisk 22") for r in responses for line in r.output)


def test_legacy_follows_response_keeps_free_text_with_blank_lines() -> None:
    data = (
        b"Asterisk Call Manager/1.1\r\n"
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\n"
        b"Name/username             Host\r\n\r\n6001/6001   127.0.0.1: 5060\r\n"
        b"--END COMMAND--\r\n\r\n"
        b"Event: Ping\r\n\r\n"
    )
    for chunk in (1, 5, len(data)):
        messages = parse_all(data, chunk)
        response = messages[1]
        assert isinstance(response, Response)
        assert response.action_id == "7"
        assert response.output == (
            "Name/username             Host",
            "",
            "6001/6001   127.0.0.1: 5060",
        )
        assert isinstance(messages[2], Event) and messages[2].name == "Ping"


def test_empty_values_and_colons_in_values() -> None:
    data = b"Asterisk Call Manager/6\r\nEvent: X\r\nAccountCode: \r\nUri: sip:6001@127.0.0.1:5060\r\n\r\n"
    event = parse_all(data)[1]
    assert isinstance(event, Event)
    assert event["AccountCode"] == ""
    assert event["Uri"] == "sip:6001@127.0.0.1:5060"


def test_not_ami_is_refused() -> None:
    parser = AMIParser()
    parser.receive_data(b"HTTP/1.1 400 Bad Request\r\n")
    with pytest.raises(AMIProtocolError, match="banner"):
        parser.next_message()


def test_endless_message_hits_the_cap() -> None:
    parser = AMIParser(max_message=4096)
    parser.receive_data(b"Asterisk Call Manager/6\r\n")
    parser.next_message()
    parser.receive_data(b"Event: X\r\n" + b"A: " + b"x" * 5000)
    with pytest.raises(AMIProtocolError, match="cap"):
        parser.next_message()


@pytest.mark.parametrize(
    "headers",
    [
        {"Channel": "PJSIP/x\r\nAction: Hangup"},
        {"Channel": "PJSIP/x\nAction: Hangup"},
        {"Channel": "PJSIP/x\rAction: Hangup"},
        {"Data": "a\x00b"},
        {"Bad Name": "x"},
        {"X\r\nAction": "Hangup"},
    ],
)
def test_injection_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        build_action("Originate", "1", headers)


def test_injection_through_a_variable_is_refused() -> None:
    with pytest.raises(AMIInjectionError, match="Variable"):
        build_action("Originate", "1", {}, variables={"TAG": "x\r\n\r\nAction: Hangup"})
    with pytest.raises(AMIInjectionError):
        build_action("Originate", "1", {}, variables={"A=B": "x"})


def test_action_round_trips_with_chinese_text() -> None:
    data = build_action(
        "Originate",
        "42",
        {"CallerID": '"张三" <13800138000>', "Skip": None},
        variables={"TAG": "投诉"},
    )
    assert (
        data
        == (
            'Action: Originate\r\nActionID: 42\r\nCallerID: "张三" <13800138000>\r\n'
            "Variable: TAG=投诉\r\n\r\n"
        ).encode()
    )


# ---- property-based --------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=300))
def test_arbitrary_bytes_never_crash_and_stay_bounded(data: bytes, chunk: int) -> None:
    parser = AMIParser(max_message=1024, expect_banner=False)
    for start in range(0, len(data), chunk):
        parser.receive_data(data[start : start + chunk])
        try:
            list(parser.messages())
        except AMIProtocolError:
            return  # the client drops such a connection
        assert parser.buffered <= 1024 + chunk


header_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
    max_size=30,
)
names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,12}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(names, header_text), min_size=1, max_size=6), min_size=1, max_size=6
    ),
    st.data(),
)
def test_valid_messages_split_anywhere_parse_the_same(
    messages: list[list[tuple[str, str]]], data: st.DataObject
) -> None:
    wire = b"Asterisk Call Manager/6\r\n"
    for headers in messages:
        wire += build_action(headers[0][0], "1", headers[1:])
    whole = parse_all(wire)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    parser = AMIParser()
    pieces = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    got: list[object] = []
    for piece in pieces:
        parser.receive_data(piece)
        got.extend(parser.messages())
    assert got == whole
    assert len(whole) == len(messages) + 1

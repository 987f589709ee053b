"""AudioSocket frame protocol: recorded-shape frames, round trips, and fuzzing."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.audiosocket import (
    Audio,
    Dtmf,
    Error,
    FrameParser,
    Hangup,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    UnknownFrame,
    Uuid,
    audio_frames,
)

CALL = uuid.UUID("0f0e0d0c-0b0a-4908-8706-050403020100")

# A stream shaped like the one Asterisk sends: UUID, two 20 ms audio frames, '#', hang-up.
ASTERISK_STREAM = (
    b"\x01\x00\x10"
    + CALL.bytes
    + b"\x10\x01\x40"
    + b"\x01\x00" * 160
    + b"\x10\x01\x40"
    + b"\xff\xff" * 160
    + b"\x03\x00\x01#"
    + b"\x00\x00\x00"
)


def parse_all(data: bytes, chunks: list[int] | None = None) -> list[object]:
    parser = FrameParser()
    frames: list[object] = []
    pos = 0
    for size in chunks or []:
        if not data[pos : pos + size]:
            continue  # an empty read means end of stream
        parser.receive_data(data[pos : pos + size])
        pos += size
        frames.extend(parser)
    if pos < len(data):
        parser.receive_data(data[pos:])
        frames.extend(parser)
    parser.receive_data(b"")
    frames.extend(parser)
    assert parser.finished
    return frames


def test_parses_an_asterisk_shaped_stream() -> None:
    frames = parse_all(ASTERISK_STREAM)
    assert frames == [
        Uuid(CALL),
        Audio(b"\x01\x00" * 160),
        Audio(b"\xff\xff" * 160),
        Dtmf("#"),
        Hangup(),
    ]
    assert frames[1].duration == pytest.approx(0.02)  # type: ignore[attr-defined]


def test_frames_serialise_back_to_the_same_bytes() -> None:
    frames = parse_all(ASTERISK_STREAM)
    assert b"".join(bytes(f) for f in frames) == ASTERISK_STREAM  # type: ignore[call-overload]


def test_builder_outputs() -> None:
    assert bytes(Hangup()) == b"\x00\x00\x00"
    assert bytes(Audio(b"\x00\x01")) == b"\x10\x00\x02\x00\x01"
    assert bytes(Error(b"\x02")) == b"\xff\x00\x01\x02"
    assert list(audio_frames(b"\x00" * 700)) == [
        b"\x10\x01\x40" + b"\x00" * 320,
        b"\x10\x01\x40" + b"\x00" * 320,
        b"\x10\x00\x3c" + b"\x00" * 60,
    ]


def test_unknown_types_are_kept_not_rejected() -> None:
    # Asterisk 22 sends e.g. 0x12 for 16 kHz audio when asked; we must not drop the call.
    assert parse_all(b"\x12\x00\x02ab") == [UnknownFrame(0x12, b"ab")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x00\x03abc", "exactly 16 bytes"),
        (b"\x03\x00\x01x", "not a DTMF digit"),
        (b"\x03\x00\x02" + b"12", "exactly one byte"),
        (b"\x10\x00\x03abc", "whole number of 16-bit samples"),
        (b"\x00\x00\x01x", "empty payload"),
        (b"\x10\xff\xff", "more than the 8192-byte limit"),
    ],
)
def test_invalid_frames_name_the_problem(data: bytes, message: str) -> None:
    parser = FrameParser()
    parser.receive_data(data)
    with pytest.raises(RemoteProtocolError, match=message):
        parser.next_frame()
    # A failed parser stays failed rather than resynchronising on garbage.
    with pytest.raises(RemoteProtocolError):
        parser.next_frame()


def test_oversize_length_is_rejected_before_its_payload_arrives() -> None:
    parser = FrameParser(max_payload=320)
    parser.receive_data(b"\x10\x01\x41")
    with pytest.raises(RemoteProtocolError, match="321 payload bytes"):
        parser.next_frame()


def test_buffer_cap() -> None:
    parser = FrameParser(max_payload=320, max_buffer=400)
    parser.receive_data(b"\x10\x01\x40" + b"\x00" * 320)
    with pytest.raises(RemoteProtocolError, match="more than 400 bytes buffered"):
        parser.receive_data(b"\x10\x01\x40" + b"\x00" * 320)


def test_truncated_stream_at_eof() -> None:
    parser = FrameParser()
    parser.receive_data(b"\x10\x01\x40\x00")
    assert parser.next_frame() is None
    parser.receive_data(b"")
    with pytest.raises(RemoteProtocolError, match="stream ended inside a frame"):
        parser.next_frame()


def test_local_errors_for_frames_that_cannot_be_sent() -> None:
    with pytest.raises(LocalProtocolError, match="DTMF digit"):
        Dtmf("x")
    with pytest.raises(LocalProtocolError, match="16-bit samples"):
        bytes(Audio(b"\x00"))
    with pytest.raises(LocalProtocolError, match="2-byte length field"):
        bytes(Audio(b"\x00" * 70000))


frames_strategy = st.lists(
    st.one_of(
        st.just(Hangup()),
        st.uuids().map(Uuid),
        st.sampled_from(sorted("0123456789*#ABCD")).map(Dtmf),
        st.binary(max_size=400).filter(lambda b: len(b) % 2 == 0).map(Audio),
        st.binary(max_size=4).map(Error),
        st.tuples(st.integers(0x11, 0xFE), st.binary(max_size=20)).map(lambda t: UnknownFrame(*t)),
    ),
    max_size=30,
)


@settings(max_examples=300)
@given(frames=frames_strategy, cuts=st.lists(st.integers(0, 200), max_size=40))
def test_valid_streams_split_anywhere_parse_the_same(frames: list[object], cuts: list[int]) -> None:
    data = b"".join(bytes(f) for f in frames)  # type: ignore[call-overload]
    assert parse_all(data) == frames
    assert parse_all(data, cuts) == frames


@settings(max_examples=500)
@given(data=st.binary(max_size=600), cuts=st.lists(st.integers(0, 64), max_size=20))
def test_arbitrary_bytes_only_raise_protocol_errors(data: bytes, cuts: list[int]) -> None:
    parser = FrameParser(max_payload=256, max_buffer=512)
    pos = 0
    try:
        for size in [*cuts, len(data)]:
            parser.receive_data(data[pos : pos + size])
            pos += size
            for frame in parser:
                assert isinstance(frame, Hangup | Uuid | Dtmf | Audio | Error | UnknownFrame)
        parser.receive_data(b"")
        list(parser)
    except ProtocolError:
        pass

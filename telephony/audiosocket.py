"""AudioSocket frame protocol, without I/O.

Theory of operation
-------------------
Asterisk's AudioSocket application opens a TCP connection and exchanges frames::

    +------+----------------+-----------------+
    | type | length (2, BE) | payload (length) |
    +------+----------------+-----------------+

Types: 0x00 hang-up, 0x01 the call's UUID (16 bytes, always the first frame),
0x03 a DTMF digit (one ASCII character), 0x10 audio (8 kHz signed 16-bit little-endian
mono), 0xff an error. Newer Asterisk versions add further audio types for other sample
rates; those, and any other type we do not know, come out as `UnknownFrame` so a newer
peer does not break the call.

`FrameParser` takes bytes as they arrive (`receive_data`) and hands out typed frames
(`next_frame()` or iteration). It never blocks and never touches a socket; the asyncio
server owns the socket. Each frame type is a small dataclass with `parse(payload)` and
`__bytes__`, so building an outgoing frame is `bytes(Hangup())` or `bytes(Audio(pcm))`.

Errors are layered: `RemoteProtocolError` means the peer sent something invalid (the
connection should be closed); `LocalProtocolError` means we tried to build a frame that
cannot go on the wire. Both derive from `ProtocolError`, the only exception the parser
raises.
"""

from __future__ import annotations

import enum
import struct
import uuid as uuid_module
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "AUDIO_FRAME_BYTES",
    "AUDIO_SAMPLE_RATE",
    "DTMF_DIGITS",
    "HEADER_SIZE",
    "MAX_PAYLOAD",
    "Audio",
    "Dtmf",
    "Error",
    "Frame",
    "FrameParser",
    "FrameType",
    "Hangup",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "UnknownFrame",
    "Uuid",
    "audio_frames",
    "parse_frame",
]

HEADER_SIZE = 3
MAX_PAYLOAD = 0xFFFF  # the length field is two bytes
AUDIO_SAMPLE_RATE = 8000
AUDIO_FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit mono, what Asterisk sends
DTMF_DIGITS = frozenset("0123456789*#ABCD")

_HEADER = struct.Struct("!BH")


class ProtocolError(Exception):
    """Base class of every error this module raises."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that are not a valid AudioSocket stream; close the connection."""


class LocalProtocolError(ProtocolError):
    """We tried to build a frame that cannot be sent (fix the calling code)."""


class FrameType(enum.IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


def _frame(kind: int, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise LocalProtocolError(
            f"frame payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD}-byte limit "
            "of the 2-byte length field; split it (see audio_frames())"
        )
    return _HEADER.pack(kind, len(payload)) + payload


@dataclass(frozen=True, slots=True)
class Hangup:
    """The call hung up (from Asterisk) or the server ends the stream (to Asterisk)."""

    type: ClassVar[FrameType] = FrameType.HANGUP

    @classmethod
    def parse(cls, payload: bytes) -> Hangup:
        if payload:
            raise RemoteProtocolError(
                f"hang-up frame must have an empty payload, got {len(payload)} bytes"
            )
        return cls()

    def __bytes__(self) -> bytes:
        return _frame(self.type, b"")


@dataclass(frozen=True, slots=True)
class Uuid:
    """The call's identifier, the first frame Asterisk sends."""

    uuid: uuid_module.UUID
    type: ClassVar[FrameType] = FrameType.UUID

    @classmethod
    def parse(cls, payload: bytes) -> Uuid:
        if len(payload) != 16:
            raise RemoteProtocolError(f"UUID frame must carry exactly 16 bytes, got {len(payload)}")
        return cls(uuid_module.UUID(bytes=payload))

    def __bytes__(self) -> bytes:
        return _frame(self.type, self.uuid.bytes)


@dataclass(frozen=True, slots=True)
class Dtmf:
    """A key the caller pressed: one of 0-9, *, #, A-D."""

    digit: str
    type: ClassVar[FrameType] = FrameType.DTMF

    def __post_init__(self) -> None:
        if self.digit not in DTMF_DIGITS or len(self.digit) != 1:
            raise LocalProtocolError(
                f"DTMF digit must be one of {''.join(sorted(DTMF_DIGITS))}, got {self.digit!r}"
            )

    @classmethod
    def parse(cls, payload: bytes) -> Dtmf:
        if len(payload) != 1:
            raise RemoteProtocolError(f"DTMF frame must carry exactly one byte, got {len(payload)}")
        digit = chr(payload[0])
        if digit not in DTMF_DIGITS:
            raise RemoteProtocolError(f"DTMF frame carries {payload!r}, not a DTMF digit")
        return cls(digit)

    def __bytes__(self) -> bytes:
        return _frame(self.type, self.digit.encode("ascii"))


@dataclass(frozen=True, slots=True)
class Audio:
    """Signed 16-bit little-endian mono PCM at 8 kHz."""

    pcm: bytes
    type: ClassVar[FrameType] = FrameType.AUDIO

    @classmethod
    def parse(cls, payload: bytes) -> Audio:
        if len(payload) % 2:
            raise RemoteProtocolError(
                f"audio frame of {len(payload)} bytes is not a whole number of 16-bit samples"
            )
        return cls(payload)

    def __bytes__(self) -> bytes:
        if len(self.pcm) % 2:
            raise LocalProtocolError(
                f"audio of {len(self.pcm)} bytes is not a whole number of 16-bit samples"
            )
        return _frame(self.type, self.pcm)

    @property
    def duration(self) -> float:
        """Seconds of audio in this frame."""
        return len(self.pcm) / (2 * AUDIO_SAMPLE_RATE)


@dataclass(frozen=True, slots=True)
class Error:
    """Asterisk reports an error; the payload is an optional application error code."""

    payload: bytes = b""
    type: ClassVar[FrameType] = FrameType.ERROR

    @classmethod
    def parse(cls, payload: bytes) -> Error:
        return cls(payload)

    def __bytes__(self) -> bytes:
        return _frame(self.type, self.payload)


@dataclass(frozen=True, slots=True)
class UnknownFrame:
    """A frame type this module does not interpret (kept so newer peers still work)."""

    kind: int
    payload: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.kind <= 0xFF:
            raise LocalProtocolError(f"frame type must fit in one byte, got {self.kind}")

    def __bytes__(self) -> bytes:
        return _frame(self.kind, self.payload)


Frame = Hangup | Uuid | Dtmf | Audio | Error | UnknownFrame

_PARSERS: dict[int, type[Hangup | Uuid | Dtmf | Audio | Error]] = {
    FrameType.HANGUP: Hangup,
    FrameType.UUID: Uuid,
    FrameType.DTMF: Dtmf,
    FrameType.AUDIO: Audio,
    FrameType.ERROR: Error,
}


def parse_frame(kind: int, payload: bytes) -> Frame:
    """Build the typed frame for a type byte and its payload; raises RemoteProtocolError."""
    parser = _PARSERS.get(kind)
    if parser is None:
        return UnknownFrame(kind, payload)
    return parser.parse(payload)


def audio_frames(pcm: bytes, frame_bytes: int = AUDIO_FRAME_BYTES) -> Iterator[bytes]:
    """Encode PCM as consecutive audio frames of `frame_bytes` (the last may be shorter)."""
    if frame_bytes <= 0 or frame_bytes % 2 or frame_bytes > MAX_PAYLOAD:
        raise LocalProtocolError(
            f"frame_bytes must be an even number between 2 and {MAX_PAYLOAD - 1}, got {frame_bytes}"
        )
    for start in range(0, len(pcm), frame_bytes):
        yield bytes(Audio(pcm[start : start + frame_bytes]))


class FrameParser:
    """Incremental parser: `receive_data(bytes)`, then `next_frame()` until it returns None.

    `max_payload` rejects frames longer than any sane AudioSocket frame before their
    payload is buffered (Asterisk sends 320-byte audio frames; the default leaves room
    for high-rate audio types). `max_buffer` caps the bytes held while the caller has
    not drained complete frames.
    """

    def __init__(self, *, max_payload: int = 8192, max_buffer: int = 1 << 20) -> None:
        if not 0 < max_payload <= MAX_PAYLOAD:
            raise ValueError(f"max_payload must be between 1 and {MAX_PAYLOAD}, got {max_payload}")
        if max_buffer < HEADER_SIZE + max_payload:
            raise ValueError(
                f"max_buffer ({max_buffer}) must hold at least one full frame "
                f"({HEADER_SIZE + max_payload} bytes)"
            )
        self.max_payload = max_payload
        self.max_buffer = max_buffer
        self._buffer = bytearray()
        self._eof = False
        self._failed: ProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as frames."""
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the connection; `b""` marks the end of the stream.

        Raises RemoteProtocolError when the unread data would exceed `max_buffer`.
        """
        if self._failed is not None:
            raise self._failed
        if not data:
            self._eof = True
            return
        if self._eof:
            raise LocalProtocolError("receive_data() called with data after end of stream")
        if len(self._buffer) + len(data) > self.max_buffer:
            self._failed = RemoteProtocolError(
                f"more than {self.max_buffer} bytes buffered without a complete frame "
                "being read; drain next_frame() between receive_data() calls"
            )
            raise self._failed
        self._buffer += data

    def next_frame(self) -> Frame | None:
        """Return the next complete frame, or None until more data arrives.

        At end of stream with a partial frame left over, raises RemoteProtocolError.
        """
        if self._failed is not None:
            raise self._failed
        try:
            return self._next_frame()
        except ProtocolError as exc:
            self._failed = exc
            raise

    def _next_frame(self) -> Frame | None:
        if len(self._buffer) < HEADER_SIZE:
            if self._eof and self._buffer:
                raise RemoteProtocolError(
                    f"stream ended inside a frame header ({len(self._buffer)} of 3 bytes)"
                )
            return None
        kind, length = _HEADER.unpack_from(self._buffer)
        if length > self.max_payload:
            raise RemoteProtocolError(
                f"frame of type 0x{kind:02x} announces {length} payload bytes, "
                f"more than the {self.max_payload}-byte limit"
            )
        end = HEADER_SIZE + length
        if len(self._buffer) < end:
            if self._eof:
                raise RemoteProtocolError(
                    f"stream ended inside a frame of type 0x{kind:02x} "
                    f"({len(self._buffer) - HEADER_SIZE} of {length} payload bytes)"
                )
            return None
        payload = bytes(self._buffer[HEADER_SIZE:end])
        del self._buffer[:end]
        return parse_frame(kind, payload)

    @property
    def finished(self) -> bool:
        """True once end of stream was received and every frame has been read."""
        return self._eof and not self._buffer

    def __iter__(self) -> Iterator[Frame]:
        """Yield every complete frame currently buffered."""
        while (frame := self.next_frame()) is not None:
            yield frame

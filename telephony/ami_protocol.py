"""Asterisk Manager Interface (AMI) wire protocol, without I/O.

Theory of operation: the peer sends a one-line banner (``Asterisk Call Manager/x.y``), then
messages made of ``Name: value`` lines ending in an empty line (``\\r\\n\\r\\n``). A message with
a ``Response`` header answers an action (matched by ``ActionID``); one with ``Event`` is an event.
The legacy ``Response: Follows`` form carries free text ended by ``--END COMMAND--``.

`AMIParser.receive_data` takes bytes as they come off the socket and `next_message` returns
whole messages. Messages are split on bytes and only then decoded as UTF-8, so a multi-byte
character (a caller's name in Chinese) survives any split between reads. Header order and
repeated headers (``Output``, ``ChanVariable``, ``Variable``) are kept. The buffer is capped: a
peer that sends an endless message gets an `AMIProtocolError`, not unbounded memory.

`build_action` turns an action into bytes and refuses a CR or LF inside a name or value: that
would let the value inject extra headers or a whole extra action (AMI injection).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "AMIInjectionError",
    "AMIParser",
    "AMIProtocolError",
    "Banner",
    "Event",
    "Message",
    "Response",
    "build_action",
    "check_value",
]

TERMINATOR = b"\r\n\r\n"
FOLLOWS_END = b"--END COMMAND--"
DEFAULT_MAX_MESSAGE = 1 << 20  # 1 MiB: far above any real AMI message
_HEADER_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
_FORBIDDEN = re.compile(r"[\r\n\x00]")


class AMIProtocolError(Exception):
    """The peer sent bytes that are not AMI (or a message larger than the cap)."""


class AMIInjectionError(ValueError):
    """A value we were asked to send contains CR, LF or NUL: refused, never sent."""


@dataclass(frozen=True)
class Banner:
    """The greeting line, e.g. ``Asterisk Call Manager/11.0.0``."""

    text: str

    @property
    def version(self) -> str:
        return self.text.partition("/")[2]


class Message:
    """A message as received: its headers in order, repeated ones kept.

    Headers are parsed from the message's text on first access: most events that reach a
    controller (VarSet, Newexten...) are dispatched by name and never read further."""

    __slots__ = ("_raw", "_headers")

    def __init__(self, raw: str = "", headers: tuple[tuple[str, str], ...] | None = None) -> None:
        self._raw = raw
        self._headers = headers

    @classmethod
    def from_headers(cls, *pairs: tuple[str, str]) -> Message:
        return cls("", tuple(pairs))

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        if self._headers is None:
            self._headers = tuple(_parse_lines(self._raw))
        return self._headers

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.headers!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Message)
            and type(other) is type(self)
            and other.headers == self.headers
        )

    def __hash__(self) -> int:
        return hash((type(self), self.headers))

    def _first(self) -> tuple[str, str]:
        # The first header, without parsing the rest.
        raw = self._raw
        if self._headers is None and raw:
            end = raw.find("\r\n")
            key, _, value = (raw if end < 0 else raw[:end]).partition(": ")
            return key, value
        return self.headers[0] if self.headers else ("", "")

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header `name` (case-insensitive), or `default`."""
        headers = self.headers
        for key, value in headers:
            if key == name:
                return value
        wanted = name.lower()
        for key, value in headers:
            if key.lower() == wanted:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of header `name`, in the order received."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")


class Response(Message):
    """The answer to an action. `output` holds command output (``Output`` headers or the
    free text of a legacy ``Response: Follows``)."""

    __slots__ = ("_follows",)

    def __init__(
        self,
        raw: str = "",
        headers: tuple[tuple[str, str], ...] | None = None,
        follows: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(raw, headers)
        self._follows = follows

    @property
    def output(self) -> tuple[str, ...]:
        if self._follows is not None:
            return self._follows
        return tuple(self.get_all("Output"))

    @property
    def status(self) -> str:
        key, value = self._first()
        if key == "Response":
            return value
        return self.get("Response", "") or ""

    @property
    def ok(self) -> bool:
        return self.status.lower() in ("success", "follows", "goodbye")

    @property
    def message(self) -> str:
        return self.get("Message", "") or ""

    @property
    def starts_event_list(self) -> bool:
        return (self.get("EventList") or "").lower() == "start"


class Event(Message):
    """An event; `name` is its ``Event`` header."""

    __slots__ = ()

    @property
    def name(self) -> str:
        key, value = self._first()
        if key == "Event":
            return value
        return self.get("Event", "") or ""

    @property
    def completes_event_list(self) -> bool:
        return (self.get("EventList") or "").lower() == "complete"


AMIMessage = Banner | Response | Event | Message


def _parse_lines(text: str) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    append = headers.append
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            append((key, value))
            continue
        if not line:
            continue
        key, sep, value = line.partition(":")
        if sep and _HEADER_NAME.match(key):
            append((key, value[1:] if value.startswith(" ") else value))
        else:
            # A line without a "Name:" shape; kept (under an empty name) rather than dropped.
            append(("", line))
    return headers


class AMIParser:
    """Sans-IO AMI parser. Feed bytes with `receive_data`, take messages with `next_message`
    (or iterate over `messages()`)."""

    def __init__(self, *, max_message: int = DEFAULT_MAX_MESSAGE, expect_banner: bool = True):
        self._buffer = bytearray()
        self._ready: deque[AMIMessage] = deque()
        self._max = max_message
        self._expect_banner = expect_banner
        self._scan_from = 0  # where to resume searching for a terminator

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        self._buffer += data

    def messages(self) -> Iterator[AMIMessage]:
        while (message := self.next_message()) is not None:
            yield message

    def next_message(self) -> AMIMessage | None:
        """Return the next whole message, or None when more bytes are needed.

        Raises AMIProtocolError when the pending message exceeds the size cap or the
        peer's first line is not the AMI banner."""
        if self._ready:
            return self._ready.popleft()
        buf = self._buffer
        if self._expect_banner:
            end = buf.find(b"\r\n")
            if end < 0:
                self._check_size(len(buf))
                return None
            line = bytes(buf[:end]).decode("utf-8", errors="replace")
            del buf[: end + 2]
            self._expect_banner = False
            if line.startswith("Asterisk Call Manager"):
                return Banner(line)
            raise AMIProtocolError(f"expected the AMI banner, got {line[:80]!r}")

        # Asterisk never sends a leading empty line, but tolerate stray CRLFs between messages.
        while buf[:2] == b"\r\n":
            del buf[:2]
            self._scan_from = 0
        if not buf:
            return None
        if buf.startswith(b"Response: Follows\r\n"):
            return self._next_follows()

        # Take every whole message in the buffer in one pass: one split, one deletion.
        last = buf.rfind(TERMINATOR, self._scan_from)
        if last < 0:
            self._scan_from = max(0, len(buf) - 3)
            self._check_size(len(buf))
            return None
        block = bytes(buf[:last])
        if b"\r\nResponse: Follows\r\n" in block:
            # A legacy free-text response may hold blank lines: take messages one by one.
            end = buf.find(TERMINATOR)
            block = bytes(buf[:end])
            del buf[: end + 4]
            self._scan_from = 0
            parts = [block]
        else:
            del buf[: last + 4]
            self._scan_from = 0
            parts = block.split(TERMINATOR)
        ready = self._ready
        for raw in parts:
            if len(raw) > self._max:
                raise AMIProtocolError(
                    f"AMI message of {len(raw)} bytes exceeds the {self._max}-byte cap"
                )
            if raw:
                ready.append(self._classify(raw.decode("utf-8", errors="replace")))
        return ready.popleft() if ready else self.next_message()

    def _next_follows(self) -> AMIMessage | None:
        buf = self._buffer
        end = buf.find(FOLLOWS_END, self._scan_from)
        if end < 0:
            self._scan_from = max(0, len(buf) - len(FOLLOWS_END))
            self._check_size(len(buf))
            return None
        stop = buf.find(TERMINATOR, end)
        if stop < 0:
            self._check_size(len(buf))
            return None
        raw = bytes(buf[:end])
        del buf[: stop + len(TERMINATOR)]
        self._scan_from = 0
        return self._follows(raw.decode("utf-8", errors="replace"))

    def _check_size(self, size: int) -> None:
        if size > self._max:
            raise AMIProtocolError(
                f"AMI message exceeds the {self._max}-byte cap without ending; "
                "the peer is not speaking AMI"
            )

    @staticmethod
    def _classify(text: str) -> Response | Event | Message:
        if text.startswith("Event: "):
            return Event(text)
        if text.startswith("Response: "):
            return Response(text)
        names = {k.lower() for k, _ in _parse_lines(text)}
        if "response" in names:
            return Response(text)
        if "event" in names:
            return Event(text)
        return Message(text)

    @staticmethod
    def _follows(text: str) -> Response:
        # Legacy form: "Response: Follows", a few headers, then free text.
        headers: list[tuple[str, str]] = []
        output: list[str] = []
        in_headers = True
        for line in text.replace("\r\n", "\n").split("\n"):
            if in_headers:
                key, sep, value = line.partition(": ")
                if sep and key.lower() in ("response", "privilege", "actionid", "message"):
                    headers.append((key, value))
                    continue
                in_headers = False
            output.append(line)
        while output and not output[-1]:
            output.pop()
        return Response("", tuple(headers), tuple(output))


def check_value(name: str, value: str) -> str:
    """Return `value` if it can go on the wire as a header value, else raise AMIInjectionError."""
    if _FORBIDDEN.search(value):
        raise AMIInjectionError(
            f"AMI header {name!r}: value {value[:60]!r} contains a line break or NUL; "
            "refused, as it would inject AMI headers"
        )
    return value


def build_action(
    action: str,
    action_id: str,
    headers: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    variables: Mapping[str, object] | None = None,
) -> bytes:
    """Serialise an action. Header values are converted with `str`; None values are left out.

    `variables` become repeated ``Variable: name=value`` headers (Originate, QueueAdd...).
    Raises AMIInjectionError for a CR/LF/NUL in any name or value, ValueError for a bad name.
    """
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
    lines = [("Action", action), ("ActionID", action_id)]
    for key, value in pairs:
        if value is None:
            continue
        lines.append((key, str(value)))
    for key, value in (variables or {}).items():
        check_value("Variable", key)
        if "=" in key:
            raise AMIInjectionError(f"AMI variable name {key!r} contains '='")
        lines.append(("Variable", f"{key}={value}"))
    out = []
    for key, value in lines:
        if not _HEADER_NAME.match(key):
            raise ValueError(f"AMI header name {key!r} is not a plain name")
        check_value(key, value)
        out.append(f"{key}: {value}\r\n")
    out.append("\r\n")
    return "".join(out).encode("utf-8")

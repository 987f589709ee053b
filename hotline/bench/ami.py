"""`hotline bench ami`: our AMI parser against panoramisk 1.4 and asterisk-ami 0.1.7.

All three parse the same recorded stream (bytes the sandbox's Asterisk sent during real
calls), fed in socket-sized reads. Each parser's messages are compared with a reference
parse of the whole stream at once (split on the blank line, decode whole messages), each
put into the shape its library documents; a message that differs or is missing is wrong.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from telephony.ami_protocol import AMIParser, Banner, Message

Canon = dict[str, list[str]]


def reference(stream: bytes) -> list[Canon]:
    """The stream parsed whole: no read boundaries, each message decoded in one piece."""
    _, _, body = stream.partition(b"\r\n")  # the banner line
    out: list[Canon] = []
    for raw in body.split(b"\r\n\r\n"):
        if not raw.strip():
            continue
        canon: Canon = {}
        for line in raw.decode("utf-8").split("\r\n"):
            key, _, value = line.partition(": ")
            canon.setdefault(key, []).append(value)
        out.append(canon)
    return out


def chunks(stream: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(stream), size):
        yield stream[start : start + size]


# ---- the three parsers ----------------------------------------------------------------
# Each `parse_*` turns the stream into the library's own message objects (this is what is
# timed); each `canon_*` then puts those objects into a common shape for the comparison.
def parse_ours(stream: bytes, size: int) -> list[Any]:
    parser = AMIParser()
    out: list[Any] = []
    for chunk in chunks(stream, size):
        parser.receive_data(chunk)
        out.extend(m for m in parser.messages() if not isinstance(m, Banner))
    return out


def canon_ours(message: Message) -> Canon:
    canon: Canon = {}
    for key, value in message.headers:
        canon.setdefault(key, []).append(value)
    return canon


def parse_panoramisk(stream: bytes, size: int) -> list[Any]:
    from panoramisk.ami_protocol import AMIProtocol

    out: list[Any] = []

    class Collecting(AMIProtocol):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            out.append(message)

    protocol = Collecting()
    protocol.connection_made(transport=None)
    protocol.encoding = "utf8"  # what its Manager sets by default
    for chunk in chunks(stream, size):
        protocol.data_received(chunk)
    return out


def canon_panoramisk(message: Any) -> Canon:
    canon: Canon = {}
    for key, value in message.items():
        if key == "content" and not value:
            continue  # panoramisk's own field for a response body
        canon[key] = list(value) if isinstance(value, list) else [value]
    return canon


def parse_asterisk_ami(stream: bytes, size: int) -> list[Any]:
    import threading

    from asterisk.ami import AMIClient
    from asterisk.ami.event import Event
    from asterisk.ami.response import Response

    class Socket:
        def __init__(self) -> None:
            self._chunks = chunks(stream, size)

        def recv(self, _n: int) -> bytes:
            return next(self._chunks, b"")

        def close(self) -> None:
            pass

    # Its reader thread's own steps: split packs off the socket, then Response/Event.read.
    client = AMIClient()
    client._socket = Socket()
    client.finished = threading.Event()
    out: list[Any] = []
    packs = client._next_pack()
    next(packs)  # the banner
    for pack in packs:
        if Response.match(pack):
            out.append(Response.read(pack))
        elif Event.match(pack):
            out.append(Event.read(pack))
    return out


def canon_asterisk_ami(message: Any) -> Canon:
    from asterisk.ami.response import Response

    canon: Canon = {}
    if isinstance(message, Response):
        canon["Response"] = [message.status]
        for key, value in message.keys.items():
            canon[key] = value.split("\n")
        return canon
    canon["Event"] = [message.name]
    for key, value in message.keys.items():
        canon[key] = [f"{k}={v}" for k, v in value.items()] if isinstance(value, dict) else [value]
    return canon


def parse_ours_eager(stream: bytes, size: int) -> list[Any]:
    """Ours with every header of every message read (parsing is lazy otherwise)."""
    out = parse_ours(stream, size)
    for message in out:
        message.headers  # noqa: B018 - forces the parse
    return out


PARSERS: dict[str, tuple[Callable[[bytes, int], list[Any]], Callable[[Any], Canon]]] = {
    "hotline12345": (parse_ours, canon_ours),
    "hotline12345, all headers read": (parse_ours_eager, canon_ours),
    "panoramisk 1.4": (parse_panoramisk, canon_panoramisk),
    "asterisk-ami 0.1.7": (parse_asterisk_ami, canon_asterisk_ami),
}


def _panoramisk_view(canon: Canon) -> Canon:
    # panoramisk documents that it URL-decodes a "Result" header; that is not an error.
    return {
        k: ([unquote(v).strip() for v in vs] if k.lower() == "result" else vs)
        for k, vs in canon.items()
    }


def _asterisk_ami_view(canon: Canon) -> Canon:
    # asterisk-ami strips values; that is not counted as an error either.
    return {k: [v.strip() for v in vs] for k, vs in canon.items()}


def count_wrong(expected: list[Canon], got: list[Canon], view: Callable[[Canon], Canon]) -> int:
    def key(canon: Canon) -> str:
        return json.dumps(canon, sort_keys=True, ensure_ascii=False)

    want = Counter(key(view(c)) for c in expected)
    have = Counter(key(c) for c in got)
    matched = sum(min(n, have[k]) for k, n in want.items())
    return len(expected) - matched


def run_bench(fixture: Path, *, repeat: int = 20, chunk: int = 1400) -> dict[str, Any]:
    one = fixture.read_bytes()
    banner, _, body = one.partition(b"\r\n")
    stream = banner + b"\r\n" + body * repeat
    expected = reference(stream)
    views = {
        "hotline12345": lambda c: c,
        "hotline12345, all headers read": lambda c: c,
        "panoramisk 1.4": _panoramisk_view,
        "asterisk-ami 0.1.7": _asterisk_ami_view,
    }
    rows: list[dict[str, Any]] = []
    for name, (parse, canon) in PARSERS.items():
        parse(stream[:20000], chunk)  # warm-up
        elapsed = float("inf")
        for _ in range(3):  # best of three: the least disturbed by the machine's other work
            start = time.perf_counter()
            native = parse(stream, chunk)
            elapsed = min(elapsed, time.perf_counter() - start)
        got = [canon(m) for m in native]
        rows.append(
            {
                "parser": name,
                "messages": len(got),
                "expected_messages": len(expected),
                "seconds": elapsed,
                "messages_per_second": len(got) / elapsed if elapsed else 0.0,
                "wrong": count_wrong(expected, got, views[name]),
            }
        )
    base = next(r for r in rows if r["parser"] == "panoramisk 1.4")["messages_per_second"]
    for row in rows:
        row["ratio_vs_panoramisk"] = row["messages_per_second"] / base if base else None
    return {
        "fixture": str(fixture),
        "bytes": len(stream),
        "repeat": repeat,
        "chunk": chunk,
        "parsers": rows,
    }

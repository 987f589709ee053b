"""The AudioSocket server against connections that are not Asterisk's: too many at once, silent
ones, and peers outside the allowed networks (real TCP sockets; no decoding needed)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from ipaddress import ip_network
from typing import Any, cast

import pytest

from asr import AudioSocketServer, SpeechEngine
from telephony.audiosocket import Hangup, Uuid

PATIENCE = 10


@contextlib.asynccontextmanager
async def running(**options: Any) -> AsyncIterator[AudioSocketServer]:
    # No stream is expected in these tests, so no decoder is ever asked for.
    server = AudioSocketServer(cast(SpeechEngine, object()), **options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), within) in (b"", bytes(Hangup()))
    except TimeoutError:
        return False
    except ConnectionError:
        return True


async def test_silent_connections_beyond_the_cap_do_not_pile_up() -> None:
    async with running(max_connections=4, first_frame_timeout=30) as server:
        peers = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(40)]
        await asyncio.sleep(0.2)
        assert server.open_connections <= 4
        # The oldest silent ones made way; the newest are still waiting for their UUID.
        assert all([await closed_by_server(r, PATIENCE) for r, _ in peers[:36]])
        assert not await closed_by_server(peers[-1][0], 0.2)
        assert server.counters["dropped_over_limit"] == 36
        for _, writer in peers:
            writer.close()


async def test_a_stream_still_gets_in_when_silent_connections_fill_the_server() -> None:
    async with running(max_connections=2, first_frame_timeout=30) as server:
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(bytes(Uuid(uuid.uuid4())))  # Asterisk's first frame, without delay
        await writer.drain()
        # Served: no step expects it, so the server answers with a hang-up frame.
        assert await asyncio.wait_for(reader.read(), PATIENCE) == bytes(Hangup())
        assert server.counters["unexpected"] == 1
        for _, w in [*idle, (reader, writer)]:
            w.close()


async def test_a_connection_without_a_uuid_frame_is_closed_by_the_server() -> None:
    # Without the deadline the server would wait for the frame as long as the peer kept the
    # socket open; how fast it closes is the machine's business, that it does is the server's.
    async with running() as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await closed_by_server(reader, PATIENCE)
        assert server.counters["bad_start"] == 1
        writer.close()


async def test_peers_outside_the_allowed_networks_are_closed_at_once() -> None:
    async with running(allow=[ip_network("10.0.0.0/8")], first_frame_timeout=30) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(bytes(Uuid(uuid.uuid4())))
        await writer.drain()
        assert await closed_by_server(reader, PATIENCE)  # closed, or reset: nothing served
        assert server.counters["refused_address"] == 1
        assert server.counters["unexpected"] == 0
        writer.close()
    async with running(allow=[ip_network("127.0.0.0/8")], first_frame_timeout=30) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert not await closed_by_server(reader, 0.3)
        assert server.counters["refused_address"] == 0
        writer.close()


@pytest.mark.parametrize(
    ("host", "allow", "error"),
    [
        ("127.0.0.1", "", None),
        ("0.0.0.0", "", "audiosocket_allow"),
        ("10.1.2.3", "10.1.2.0/24", None),
        ("0.0.0.0", "10.0.0.300", "not an IP network"),
    ],
)
def test_binding_beyond_loopback_needs_the_asterisk_addresses(
    host: str, allow: str, error: str | None, tmp_path: Any
) -> None:
    from hotline.core.settings import SettingsError, load_settings

    def load() -> Any:
        return load_settings(state_dir=tmp_path, audiosocket_host=host, audiosocket_allow=allow)

    if error is None:
        settings = load()
        assert all(n.overlaps(ip_network("127.0.0.0/8")) for n in settings.audiosocket_networks[:1])
    else:
        with pytest.raises(SettingsError, match=error):
            load()

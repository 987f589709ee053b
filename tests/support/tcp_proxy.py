"""A TCP relay between a client and a real server, for tests: it records what the server
sends and can cut every connection at once, as a failing network would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class TCPProxy:
    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        on_server_bytes: Callable[[bytes], None] | None = None,
    ) -> None:
        self.target = (target_host, target_port)
        self.on_server_bytes = on_server_bytes
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        s_reader, s_writer = await asyncio.open_connection(*self.target)
        self._writers.update((c_writer, s_writer))

        async def pump(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: bool
        ) -> None:
            try:
                while data := await reader.read(65536):
                    if record and self.on_server_bytes:
                        self.on_server_bytes(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        for task in (
            asyncio.create_task(pump(c_reader, s_writer, False)),
            asyncio.create_task(pump(s_reader, c_writer, True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def kill_connections(self) -> None:
        """Reset every relayed connection (both sides see the TCP connection die)."""
        for writer in list(self._writers):
            transport = writer.transport
            with contextlib.suppress(Exception):
                transport.abort()
        self._writers.clear()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.kill_connections()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

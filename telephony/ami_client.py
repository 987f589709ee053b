"""An asyncio AMI client on top of the sans-IO `ami_protocol`.

It owns the TCP connection: login, ActionID-correlated futures with timeouts, event
subscription by name, keep-alive pings and reconnection with back-off. When the connection
drops, every pending action fails with `AMIConnectionLost`; nothing is re-sent behind the
caller's back (re-sending an AGI command or an Originate could run it twice). Subscribers of
`on_connection` hear about every (re)connection and loss, so they can resynchronise.

Event callbacks are plain functions called from the reader task: they must be quick and must
not block; anything longer is for the subscriber to schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from telephony.ami_protocol import (
    AMIParser,
    AMIProtocolError,
    Banner,
    Event,
    Response,
    build_action,
)

log = logging.getLogger("telephony.ami")

EventCallback = Callable[[Event], None]
ConnectionCallback = Callable[[bool], None]


class AMIError(Exception):
    """Base of the client's errors."""


class AMIConnectionError(AMIError):
    """Could not connect or log in; the message says which and why."""


class AMIConnectionLost(AMIError):
    """The connection dropped before the action was answered. It was not re-sent."""


class AMIActionError(AMIError):
    """Asterisk answered the action with ``Response: Error``."""

    def __init__(self, action: str, response: Response):
        self.action = action
        self.response = response
        super().__init__(f"AMI {action} failed: {response.message or response.status}")


class AMITimeout(AMIError, TimeoutError):
    """No answer within the timeout."""


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[tuple[Response, list[Event]]]
    collect: bool
    response: Response | None = None
    events: list[Event] | None = None


class AMIClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        timeout: float = 5.0,
        ping_interval: float = 10.0,
        reconnect_min: float = 0.2,
        reconnect_max: float = 5.0,
        name: str = "ami",
    ) -> None:
        self.host = host
        self.port = port
        self._username = username
        self._secret = secret
        self.timeout = timeout
        self.ping_interval = ping_interval
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.name = name
        self.banner: Banner | None = None
        self.connects = 0  # successful logins so far (1 = first connection)
        self._ids = itertools.count(1)
        self._prefix = f"{name}-{random.randrange(16**6):06x}-"
        self._pending: dict[str, _Pending] = {}
        self._subscribers: dict[str, list[EventCallback]] = defaultdict(list)
        self._connection_callbacks: list[ConnectionCallback] = []
        self._writer: asyncio.StreamWriter | None = None
        self._connected = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._parser = AMIParser()

    # ---- public API --------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def connect(self) -> None:
        """Connect and log in; then keep the connection alive in the background.

        Raises AMIConnectionError if the first connection or login fails."""
        self._closing = False
        reader, writer = await self._open()
        self._supervisor = asyncio.create_task(
            self._supervise(reader, writer), name=f"{self.name}-supervisor"
        )

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def close(self) -> None:
        """Log off, stop reconnecting and fail what is still pending."""
        self._closing = True
        if self._writer is not None and self.connected:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.action("Logoff", check=False), 1.0)
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        self._drop_connection("client closed")

    def on_event(self, name: str, callback: EventCallback) -> Callable[[], None]:
        """Call `callback(event)` for events called `name` (``*`` for all). Returns an
        unsubscribe function."""
        key = name.lower()
        self._subscribers[key].append(callback)
        return lambda: self._subscribers[key].remove(callback)

    def on_connection(self, callback: ConnectionCallback) -> None:
        """Call `callback(True)` after each login, `callback(False)` when the link drops."""
        self._connection_callbacks.append(callback)

    async def action(
        self,
        action: str,
        headers: Mapping[str, object] | Iterable[tuple[str, object]] = (),
        *,
        variables: Mapping[str, object] | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Response:
        """Send an action and return its response.

        Raises AMIActionError (``Response: Error``, when `check`), AMITimeout,
        AMIConnectionLost, AMIInjectionError (CR/LF in a value: nothing is sent)."""
        response, _ = await self._send(action, headers, variables, timeout, collect=False)
        if check and not response.ok:
            raise AMIActionError(action, response)
        return response

    async def action_list(
        self,
        action: str,
        headers: Mapping[str, object] | Iterable[tuple[str, object]] = (),
        *,
        timeout: float | None = None,
    ) -> tuple[Response, list[Event]]:
        """Send an action answered by an EventList; return the response and its events
        (without the closing ``...Complete`` event)."""
        response, events = await self._send(action, headers, None, timeout, collect=True)
        if not response.ok:
            raise AMIActionError(action, response)
        return response, events

    # ---- internals ---------------------------------------------------------------------
    async def _send(
        self,
        action: str,
        headers: Mapping[str, object] | Iterable[tuple[str, object]],
        variables: Mapping[str, object] | None,
        timeout: float | None,
        collect: bool,
    ) -> tuple[Response, list[Event]]:
        action_id = f"{self._prefix}{next(self._ids)}"
        data = build_action(action, action_id, headers, variables)  # raises before sending
        if not self.connected or self._writer is None:
            raise AMIConnectionLost(f"AMI {action}: not connected to {self.host}:{self.port}")
        future: asyncio.Future[tuple[Response, list[Event]]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[action_id] = _Pending(action, future, collect)
        try:
            self._writer.write(data)
            return await asyncio.wait_for(future, timeout or self.timeout)
        except TimeoutError:
            raise AMITimeout(
                f"AMI {action}: no answer from {self.host}:{self.port} within "
                f"{timeout or self.timeout:g} s"
            ) from None
        finally:
            self._pending.pop(action_id, None)

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=1 << 20), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise AMIConnectionError(
                f"cannot reach AMI at {self.host}:{self.port}: {exc or 'timed out'} "
                "(is Asterisk running, and manager.conf enabled on that port?)"
            ) from None
        parser = AMIParser()
        try:
            banner = await asyncio.wait_for(self._read_banner(reader, parser), self.timeout)
            writer.write(
                build_action(
                    "Login",
                    f"{self._prefix}login",
                    {"Username": self._username, "Secret": self._secret, "Events": "on"},
                )
            )
            response = await asyncio.wait_for(self._read_login(reader, parser), self.timeout)
        except (OSError, TimeoutError, AMIProtocolError) as exc:
            writer.close()
            raise AMIConnectionError(
                f"AMI at {self.host}:{self.port} did not complete the login: {exc or 'timed out'}"
            ) from None
        if not response.ok:
            writer.close()
            raise AMIConnectionError(
                f"AMI login as {self._username!r} at {self.host}:{self.port} refused: "
                f"{response.message} (check HOTLINE_AMI_USER / HOTLINE_AMI_SECRET "
                "against manager.conf)"
            )
        self.banner = banner
        self._parser = parser
        self._writer = writer
        self.connects += 1
        self._connected.set()
        log.info("AMI connected to %s:%s (%s)", self.host, self.port, banner.text)
        for callback in list(self._connection_callbacks):
            self._safe_call(callback, True)
        return reader, writer

    async def _read_banner(self, reader: asyncio.StreamReader, parser: AMIParser) -> Banner:
        while True:
            message = parser.next_message()
            if isinstance(message, Banner):
                return message
            data = await reader.read(65536)
            if not data:
                raise AMIProtocolError("connection closed before the banner")
            parser.receive_data(data)

    async def _read_login(self, reader: asyncio.StreamReader, parser: AMIParser) -> Response:
        while True:
            for message in parser.messages():
                if isinstance(message, Response) and message.action_id == f"{self._prefix}login":
                    return message
            data = await reader.read(65536)
            if not data:
                raise AMIProtocolError("connection closed during login")
            parser.receive_data(data)

    async def _supervise(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        delay = self.reconnect_min
        while True:
            pinger = asyncio.create_task(self._ping_loop(), name=f"{self.name}-ping")
            try:
                await self._read_loop(reader)
                reason = "closed by Asterisk"
            except (OSError, AMIProtocolError) as exc:
                reason = str(exc) or type(exc).__name__
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
            if self._closing:
                return
            log.warning("AMI connection to %s:%s lost: %s", self.host, self.port, reason)
            self._drop_connection(reason)
            while not self._closing:
                await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
                try:
                    reader, writer = await self._open()
                    delay = self.reconnect_min
                    break
                except AMIConnectionError as exc:
                    log.warning("AMI reconnect failed: %s", exc)
                    delay = min(delay * 2, self.reconnect_max)

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        parser = self._parser
        # Messages already buffered behind the login response.
        for message in parser.messages():
            self._dispatch(message)
        while True:
            data = await reader.read(65536)
            if not data:
                return
            parser.receive_data(data)
            for message in parser.messages():
                self._dispatch(message)

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self.action("Ping", timeout=self.timeout)
            except AMIConnectionLost:
                return
            except AMIError as exc:
                log.warning("AMI keep-alive failed (%s); reconnecting", exc)
                if self._writer is not None:
                    self._writer.close()
                return

    def _dispatch(self, message: object) -> None:
        if isinstance(message, Response):
            pending = self._pending.get(message.action_id or "")
            if pending is None:
                return
            if pending.collect and message.ok and message.starts_event_list:
                pending.response = message
                pending.events = []
            elif not pending.future.done():
                pending.future.set_result((message, []))
            return
        if not isinstance(message, Event):
            return
        if message.action_id:
            pending = self._pending.get(message.action_id)
            if pending is not None and pending.events is not None:
                if message.completes_event_list:
                    assert pending.response is not None
                    if not pending.future.done():
                        pending.future.set_result((pending.response, pending.events))
                else:
                    pending.events.append(message)
                return
        for key in (message.name.lower(), "*"):
            for callback in list(self._subscribers.get(key, ())):
                self._safe_call(callback, message)

    @staticmethod
    def _safe_call(callback: Callable[..., None], arg: object) -> None:
        try:
            callback(arg)
        except Exception:  # a subscriber's bug must not kill the reader
            log.exception("AMI subscriber %r failed", callback)

    def _drop_connection(self, reason: str) -> None:
        was_connected = self.connected
        self._connected.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(
                    AMIConnectionLost(
                        f"AMI {pending.action}: connection lost ({reason}); not re-sent"
                    )
                )
        if was_connected:
            for callback in list(self._connection_callbacks):
                self._safe_call(callback, False)

"""AsyncAGI call sessions over AMI.

Theory of operation: the dialplan runs ``AGI(agi:async)``; Asterisk then announces the channel
with an ``AsyncAGIStart`` event whose ``Env`` (URL-encoded) holds the caller's number and name,
the called number and the unique id. `AsyncAGIServer` makes one `AGISession` per channel and runs
the call handler for it in its own task. A command is sent with the AMI action ``AGI``
(``Command`` + our ``CommandID``); its outcome arrives later as an ``AsyncAGIExec`` event with
the same ``CommandID`` and a URL-encoded ``Result`` such as ``200 result=49 endpos=9120``.
``AsyncAGIEnd`` (or ``Hangup``) ends the session: commands still waiting fail with
`ChannelHungUp`, and so does every later one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from telephony.ami_client import AMIActionError, AMIClient, AMIConnectionLost, AMIError
from telephony.ami_protocol import AMIInjectionError, Event

log = logging.getLogger("telephony.agi")

#: The unique id of the call the current task serves; logging adds it to every line.
current_call_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_call_id", default=None
)

_RESULT = re.compile(r"^(?P<code>\d{3})[ -](?P<rest>.*)$", re.DOTALL)
_KV = re.compile(r"(\w+)=(\S*)")
DIGITS = "0123456789*#"


class AGIError(Exception):
    """Base of AsyncAGI errors."""


class ChannelHungUp(AGIError):
    """The caller hung up (or the channel is gone): no more commands can run."""


class AGICommandError(AGIError):
    """Asterisk refused the command (5xx): a bug in the command, not the caller's doing."""

    def __init__(self, command: str, result: AGIResult):
        self.command = command
        self.result = result
        super().__init__(f"AGI {command!r} failed: {result.raw.strip()}")


@dataclass(frozen=True)
class AGIResult:
    """A parsed reply line: ``200 result=1 (timeout) endpos=8000``.

    `value` is the text after ``result=`` (GET DATA puts the digits there, ``*`` and ``#``
    included, and leaves it empty when only ``#`` was pressed); `result` is that text as an
    integer, or None when it is not one."""

    code: int
    value: str
    data: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @property
    def result(self) -> int | None:
        try:
            return int(self.value)
        except ValueError:
            return None

    @classmethod
    def parse(cls, text: str) -> AGIResult:
        text = text.strip()
        match = _RESULT.match(text)
        if not match:
            raise ValueError(f"not an AGI reply: {text[:80]!r}")
        code = int(match.group("code"))
        rest = match.group("rest")
        if code != 200:
            return cls(code, "", rest, {}, text)
        value = ""
        data = None
        extra: dict[str, str] = {}
        if rest.startswith("result="):
            value, _, tail = rest[len("result=") :].partition(" ")
            tail = tail.strip()
            if tail.startswith("("):
                # The data may contain spaces and parentheses: it ends at the last ')'.
                close = tail.rfind(")")
                data = tail[1:close]
                tail = tail[close + 1 :]
            extra = dict(_KV.findall(tail))
        return cls(code, value, data, extra, text)


def quote_arg(value: str) -> str:
    """Quote one AGI command argument; refuse line breaks (they would end the command)."""
    if any(ch in value for ch in "\r\n\x00"):
        raise AMIInjectionError(f"AGI argument {value[:60]!r} contains a line break or NUL")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_env(encoded: str) -> dict[str, str]:
    """Decode AsyncAGIStart's Env: URL-encoded ``agi_name: value`` lines."""
    env: dict[str, str] = {}
    for line in unquote(encoded, encoding="utf-8", errors="replace").split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.startswith("agi_"):
            env[key[4:]] = value.strip()
    return env


class AGISession:
    """One channel in AsyncAGI. Methods raise ChannelHungUp once the caller is gone."""

    def __init__(
        self,
        ami: AMIClient,
        start: Event,
        *,
        command_timeout: float = 120.0,
        lease: float | None = None,
        on_step_latency: Callable[[float], None] | None = None,
    ):
        self.ami = ami
        # The watchdog: Asterisk's TIMEOUT(absolute) on the channel, pushed ahead before
        # each command. If the controller dies, it runs out and the dialplan's `T` extension
        # hands the call to a human. None: no watchdog.
        self.lease = lease
        self._lease_until = 0.0
        # Controller-added latency: from a command's result arriving to the next command
        # leaving (the time this process spent deciding), reported to `on_step_latency`.
        self._on_step_latency = on_step_latency
        self._last_result_at: float | None = None
        self.channel = start.get("Channel", "") or ""
        self.env = parse_env(start.get("Env", "") or "")
        self.unique_id = start.get("Uniqueid") or self.env.get("uniqueid", "")
        self.linked_id = start.get("Linkedid") or self.unique_id
        self.command_timeout = command_timeout
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[AGIResult]] = {}
        self._hung_up = asyncio.Event()
        self._ended = asyncio.Event()
        self.commands_sent = 0

    # ---- facts about the call --------------------------------------------------------
    @property
    def caller_number(self) -> str:
        return _known(self.env.get("callerid", ""))

    @property
    def caller_name(self) -> str:
        return _known(self.env.get("calleridname", ""))

    @property
    def called_number(self) -> str:
        dnid = _known(self.env.get("dnid", ""))
        return dnid or self.env.get("extension", "")

    @property
    def hung_up(self) -> bool:
        return self._hung_up.is_set()

    @property
    def ended(self) -> bool:
        """The channel left AsyncAGI (hung up, or continued in the dialplan)."""
        return self._ended.is_set()

    async def wait_hangup(self) -> None:
        await self._hung_up.wait()

    # ---- raw commands ----------------------------------------------------------------
    async def command(
        self, command: str, *, timeout: float | None = None, expected: float = 5.0
    ) -> AGIResult:
        """Run one AGI command and return its parsed reply. `expected` is how long the
        command may legitimately take (a prompt's length, a digit timeout): the watchdog
        lease is pushed past it first.

        Raises ChannelHungUp, AGICommandError (5xx), AMIConnectionLost, TimeoutError."""
        if self._ended.is_set():
            raise ChannelHungUp(f"{self.channel}: channel has left AGI; cannot run {command!r}")
        if self._last_result_at is not None and self._on_step_latency is not None:
            self._on_step_latency(asyncio.get_running_loop().time() - self._last_result_at)
            self._last_result_at = None
        if self.lease is not None:
            await self._renew_lease(expected)
        return await self._send(command, timeout)

    async def _renew_lease(self, expected: float) -> None:
        assert self.lease is not None
        now = asyncio.get_running_loop().time()
        if self._lease_until - now >= expected + 2.0:
            return
        length = int(expected + self.lease) + 1
        await self._send(f"SET VARIABLE TIMEOUT(absolute) {length}", None)
        self._lease_until = now + length

    async def release_watchdog(self) -> None:
        """Stop the watchdog before the call leaves AGI for good (a queue, a transfer)."""
        if self.lease is not None and self._lease_until:
            await self._send("SET VARIABLE TIMEOUT(absolute) 0", None)
            self._lease_until = 0.0

    async def _send(
        self, command: str, timeout: float | None, *, minus_one_is_error: bool = True
    ) -> AGIResult:
        command_id = f"{self.unique_id}-{next(self._ids)}"
        future: asyncio.Future[AGIResult] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        self.commands_sent += 1
        try:
            try:
                await self.ami.action(
                    "AGI",
                    {"Channel": self.channel, "Command": command, "CommandID": command_id},
                )
            except AMIActionError as exc:
                # "Channel does not exist": the caller is gone.
                self._mark_hung_up()
                raise ChannelHungUp(f"{self.channel}: {exc.response.message}") from None
            result = await asyncio.wait_for(future, timeout or self.command_timeout)
        finally:
            self._waiting.pop(command_id, None)
            _abandon(future)
        self._last_result_at = asyncio.get_running_loop().time()
        if result.code == 511:
            self._mark_hung_up()
            raise ChannelHungUp(f"{self.channel}: hung up during {command!r}")
        if result.code != 200:
            raise AGICommandError(command, result)
        if result.result == -1 and minus_one_is_error:
            # -1 is also how STREAM FILE and friends report a sound file they cannot play:
            # only a channel that is really gone counts as a hang-up.
            if self.hung_up or not await self._alive():
                self._mark_hung_up()
                raise ChannelHungUp(f"{self.channel}: hung up during {command!r}")
            raise AGICommandError(command, result)
        return result

    async def _alive(self) -> bool:
        try:
            status = await self._send("CHANNEL STATUS", None, minus_one_is_error=False)
        except ChannelHungUp:
            return False
        return status.result is not None and status.result >= 0

    # ---- what an IVR needs -----------------------------------------------------------
    async def answer(self) -> None:
        await self.command("ANSWER")

    async def play(
        self, prompt: str, escape_digits: str = "", *, expected: float = 30.0
    ) -> str | None:
        """Play a prompt (a sound file name; `expected`: its length at most, in seconds).
        With `escape_digits`, a caller's key press in that set stops it and is returned;
        otherwise None."""
        _check_digits(escape_digits)
        result = await self.command(
            f"STREAM FILE {quote_arg(prompt)} {quote_arg(escape_digits)}", expected=expected
        )
        code = result.result or 0
        key = chr(code) if 0 < code < 128 else ""
        return key if key and key in DIGITS else None

    async def collect_digits(
        self, prompt: str, *, timeout: float = 5.0, max_digits: int = 1
    ) -> tuple[str, bool]:
        """Play `prompt` (interruptible by any key) and collect up to `max_digits` digits,
        waiting `timeout` seconds after it. Returns (digits, timed_out): at most
        `max_digits` of the keys 0-9, * and #, whatever the reply held."""
        if not 1 <= max_digits <= 64:
            raise ValueError("max_digits must be between 1 and 64")
        result = await self.command(
            f"GET DATA {quote_arg(prompt)} {int(timeout * 1000)} {max_digits}",
            timeout=self.command_timeout + timeout,
            expected=30.0 + timeout,
        )
        return only_keys(result.value, max_digits), result.data == "timeout"

    async def get_variable(self, name: str) -> str | None:
        result = await self.command(f"GET VARIABLE {quote_arg(name)}")
        return result.data if result.result == 1 else None

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {quote_arg(name)} {quote_arg(value)}")

    async def exec(self, application: str, args: str = "", *, timeout: float | None = None) -> int:
        """Run a dialplan application on the channel; return its result code (-2 when the
        application does not exist)."""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", application):
            raise ValueError(f"not a dialplan application name: {application!r}")
        command = f"EXEC {application}" + (f" {quote_arg(args)}" if args else "")
        result = await self.command(command, timeout=timeout, expected=timeout or 5.0)
        return result.result if result.result is not None else 0

    async def start_mixmonitor(self, filename: str, options: str = "b") -> None:
        """Record both directions of the call into `filename` (in Asterisk's monitor dir
        when relative)."""
        await self.exec("MixMonitor", f"{filename},{options}")

    async def audiosocket(
        self, stream_id: str, host: str, port: int, *, timeout: float = 600
    ) -> None:
        """Stream the caller's audio to an AudioSocket server until it closes the socket."""
        await self.exec("AudioSocket", f"{stream_id},{host}:{port}", timeout=timeout)

    async def continue_in_dialplan(self, context: str, exten: str, priority: int = 1) -> None:
        """Leave AGI and carry on in the dialplan at context/exten/priority (e.g. a queue)."""
        for name, value in (("context", context), ("exten", exten)):
            if not re.fullmatch(r"[A-Za-z0-9_\-+*#]+", value):
                raise ValueError(f"not a dialplan {name}: {value!r}")
        await self.release_watchdog()
        await self._send(f"SET CONTEXT {context}", None)
        await self._send(f"SET EXTENSION {exten}", None)
        await self._send(f"SET PRIORITY {int(priority)}", None)
        await self._send("ASYNCAGI BREAK", None)
        self._ended.set()

    async def hangup(self) -> None:
        with contextlib.suppress(ChannelHungUp):
            await self.command("HANGUP")
        self._mark_hung_up()

    # ---- events from the server ------------------------------------------------------
    def _on_exec(self, event: Event) -> None:
        future = self._waiting.get(event.get("CommandID", "") or "")
        if future is None or future.done():
            return
        try:
            future.set_result(AGIResult.parse(unquote(event.get("Result", "") or "")))
        except ValueError as exc:
            future.set_exception(AGIError(str(exc)))

    def _mark_hung_up(self) -> None:
        self._hung_up.set()
        self._end(ChannelHungUp(f"{self.channel}: caller hung up"))

    def _end(self, error: Exception) -> None:
        self._ended.set()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)

    def _on_connection_lost(self) -> None:
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(
                    AMIConnectionLost(
                        f"{self.channel}: AMI connection lost while a command was running; "
                        "not re-sent"
                    )
                )


CallHandler = Callable[[AGISession], Awaitable[None]]


class AsyncAGIServer:
    """Turns AsyncAGI events into sessions and runs `handler(session)` once per call, in its
    own task. A handler that fails leaves the call to the dialplan (ASYNCAGI BREAK), so the
    dialplan's own fallback reaches a human rather than silence."""

    def __init__(
        self,
        ami: AMIClient,
        handler: CallHandler,
        *,
        command_timeout: float = 120.0,
        reconnect_grace: float = 15.0,
        lease: float | None = None,
        on_step_latency: Callable[[float], None] | None = None,
        orphan_destination: tuple[str, str] | None = None,
    ):
        self.ami = ami
        self.handler = handler
        self.command_timeout = command_timeout
        self.reconnect_grace = reconnect_grace
        self.lease = lease
        self.on_step_latency = on_step_latency
        #: (context, exten) where calls left in AGI by an earlier controller are sent
        self.orphan_destination = orphan_destination
        self.orphans_recovered = 0
        self._sweeper: asyncio.Task[int] | None = None
        self.sessions: dict[str, AGISession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self.calls_started = 0
        self.handler_failures = 0

    def start(self) -> None:
        for name, callback in (
            ("AsyncAGIStart", self._on_start),
            ("AsyncAGIExec", self._on_exec),
            ("AsyncAGIEnd", self._on_end),
            ("Hangup", self._on_hangup),
        ):
            self._unsubscribe.append(self.ami.on_event(name, callback))
        self.ami.on_connection(self._on_connection)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def active_calls(self) -> int:
        return len(self._tasks)

    def _on_start(self, event: Event) -> None:
        session = AGISession(
            self.ami,
            event,
            command_timeout=self.command_timeout,
            lease=self.lease,
            on_step_latency=self.on_step_latency,
        )
        self.sessions[session.channel] = session
        self.calls_started += 1
        context = contextvars.copy_context()
        context.run(current_call_id.set, session.unique_id)
        task = asyncio.get_running_loop().create_task(
            self._run(session), name=f"call-{session.unique_id}", context=context
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, session: AGISession) -> None:
        # The caller's number and name go to the log set-up, which masks or leaves them
        # out (hotline.core.logs), never into the message itself.
        log.info(
            "call to %s on %s",
            session.called_number,
            session.channel,
            extra={
                "personal": {
                    "caller_number": session.caller_number,
                    "caller_name": session.caller_name,
                }
            },
        )
        try:
            await self.handler(session)
        except ChannelHungUp:
            log.info("caller hung up")
        except asyncio.CancelledError:
            raise
        except Exception:
            self.handler_failures += 1
            log.exception("call handler failed; handing the call back to the dialplan")
        finally:
            if not session.ended:
                # The handler returned without ending the call (or lost AMI under it): let
                # the dialplan go on, once AMI is back, rather than leave the caller in silence.
                with contextlib.suppress(AGIError, AMIError, TimeoutError):
                    await self.ami.wait_connected(self.reconnect_grace)
                    await session.command("ASYNCAGI BREAK", timeout=5)
            if self.sessions.get(session.channel) is session:
                del self.sessions[session.channel]

    def _on_exec(self, event: Event) -> None:
        session = self.sessions.get(event.get("Channel", "") or "")
        if session is not None:
            session._on_exec(event)

    def _on_end(self, event: Event) -> None:
        session = self.sessions.get(event.get("Channel", "") or "")
        if session is not None:
            session._end(ChannelHungUp(f"{session.channel}: left AGI"))

    def _on_hangup(self, event: Event) -> None:
        session = self.sessions.get(event.get("Channel", "") or "")
        if session is not None:
            session._mark_hung_up()

    def _on_connection(self, connected: bool) -> None:
        if not connected:
            for session in self.sessions.values():
                session._on_connection_lost()
        elif self.orphan_destination is not None:
            self._sweeper = asyncio.get_running_loop().create_task(
                self.recover_orphans(), name="agi-orphan-sweep"
            )

    async def recover_orphans(self) -> int:
        """Send every channel waiting in AsyncAGI that no session of ours serves (left by a
        controller that crashed or lost AMI) to `orphan_destination`. Returns how many."""
        if self.orphan_destination is None:
            return 0
        context, exten = self.orphan_destination
        try:
            _, channels = await self.ami.action_list("CoreShowChannels")
        except AMIError as exc:
            log.warning("could not list channels to recover: %s", exc)
            return 0
        moved = 0
        for channel in channels:
            name = channel.get("Channel", "") or ""
            if channel.get("Application") != "AGI" or name in self.sessions:
                continue
            if _seconds(channel.get("Duration", "")) < 3:
                # Its AsyncAGIStart may still be on its way to us.
                continue
            try:
                await self.ami.action(
                    "Redirect",
                    {"Channel": name, "Context": context, "Exten": exten, "Priority": 1},
                )
                moved += 1
                log.warning("call %s was left in AGI; sent to %s", name, context)
            except AMIError as exc:
                log.warning("could not recover %s: %s", name, exc)
        self.orphans_recovered += moved
        return moved


def _abandon(future: asyncio.Future[AGIResult]) -> None:
    """Nothing awaits `future` any more. A hang-up or a lost link can fail it while its AGI
    action is still on its way, and the action then fails on its own: cancel it, or mark
    its error seen, so asyncio does not report an error nobody retrieved."""
    if not future.done():
        future.cancel()
    elif not future.cancelled():
        future.exception()


def _seconds(duration: str | None) -> int:
    """'01:02:03' -> 3723; anything else -> a large number (treated as old)."""
    try:
        hours, minutes, seconds = (int(part) for part in (duration or "").split(":"))
    except ValueError:
        return 1 << 30
    return hours * 3600 + minutes * 60 + seconds


def _known(value: str) -> str:
    return "" if value in ("", "unknown") else value


def only_keys(text: str, limit: int) -> str:
    """The first `limit` keys (0-9, * and #) of `text`; anything else is dropped."""
    keys: list[str] = []
    for ch in text:
        if len(keys) == limit:
            break
        if ch in DIGITS:
            keys.append(ch)
    return "".join(keys)


def _check_digits(digits: str) -> None:
    if any(ch not in DIGITS for ch in digits):
        raise ValueError(f"escape digits must be among {DIGITS!r}, got {digits!r}")

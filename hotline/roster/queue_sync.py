"""Keeps Asterisk's queue membership equal to the roster.

Theory of operation: one background task. It syncs after every AMI login (start-up and
reconnects), at every shift boundary of the roster, whenever the roster changes, and every few
seconds while a removal is waiting for an operator to finish a call. A sync reads QueueStatus,
adds the on-duty operators who are missing (`PJSIP/<ext>`, with the same state interface so
Asterisk knows when they are busy) and removes dynamic members who are off duty, except those
on a call: they stay until the call ends, so no call is cut. Operators paused from the API are
added paused and stay paused across shift changes until unpaused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from routing.roster import QUEUES, Roster, queue_members
from telephony.ami_client import AMIClient, AMIError
from telephony.queues import add_member, pause_member, queue_status, remove_member

log = logging.getLogger("hotline.roster.queue_sync")

Clock = Callable[[], datetime]


def interface_of(extension: str) -> str:
    return f"PJSIP/{extension}"


@dataclass
class SyncReport:
    at: datetime
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    #: off duty but on a call: removed after it
    deferred: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "added": [list(x) for x in self.added],
            "removed": [list(x) for x in self.removed],
            "deferred": [list(x) for x in self.deferred],
        }


class QueueSync:
    def __init__(
        self,
        ami: AMIClient,
        roster: Callable[[], Roster],
        clock: Clock,
        *,
        retry_busy: float = 2.0,
        idle_check: float = 60.0,
    ) -> None:
        self.ami = ami
        self._roster = roster
        self.clock = clock
        self.retry_busy = retry_busy
        self.idle_check = idle_check
        #: extension -> reason, for operators paused from the API
        self.paused: dict[str, str] = {}
        self.last_report: SyncReport | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        ami.on_connection(self._on_connection)

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="queue-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def request_sync(self) -> None:
        """Sync soon (safe to call from any thread)."""
        try:
            loop = self._task.get_loop() if self._task else asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_soon_threadsafe(self._wake.set)

    def _on_connection(self, connected: bool) -> None:
        if connected:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            delay = self.idle_check
            if self.ami.connected:
                try:
                    report = await self.sync()
                    if report.deferred:
                        delay = self.retry_busy
                    nxt = self._roster().next_boundary(report.at)
                    if nxt is not None:
                        delay = min(delay, max((nxt - self.clock()).total_seconds(), 0.0) + 0.05)
                except AMIError as exc:
                    log.warning("queue sync failed: %s; retrying", exc)
                    delay = self.retry_busy
                except Exception as exc:  # noqa: BLE001 - the synchroniser must outlive it
                    # The roster could not be read (the database is down): membership stays
                    # as it is and the sync is retried, rather than never run again.
                    log.warning(
                        "queue sync could not read the roster: %s: %s; retrying",
                        type(exc).__name__,
                        exc,
                    )
                    delay = self.retry_busy
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.set()

    # ---- the sync ----------------------------------------------------------------------
    def desired(self, at: datetime | None = None) -> dict[str, set[str]]:
        """Queue -> extensions that should be members at `at` (now by default)."""
        return queue_members(self._roster().on_duty(at or self.clock()))

    async def sync(self) -> SyncReport:
        """Make Asterisk's membership match the roster now. Raises AMIError."""
        async with self._lock:
            at = self.clock()
            # After a roster change the snapshot is read from the database: off the loop.
            roster = await asyncio.to_thread(self._roster)
            on_duty = roster.on_duty(at)
            names = {d.operator.extension: d.operator.name for d in on_duty}
            wanted = queue_members(on_duty)
            actual = await queue_status(self.ami)
            report = SyncReport(at)
            for queue in QUEUES:
                members = {m.interface: m for m in actual.get(queue, [])}
                for ext in sorted(wanted[queue]):
                    iface = interface_of(ext)
                    if iface in members:
                        continue
                    await add_member(
                        self.ami,
                        queue,
                        iface,
                        name=names.get(ext, ext),
                        state_interface=iface,
                        paused=ext in self.paused,
                        reason=self.paused.get(ext, ""),
                    )
                    report.added.append((queue, ext))
                wanted_ifaces = {interface_of(e) for e in wanted[queue]}
                for iface, member in sorted(members.items()):
                    if iface in wanted_ifaces or not member.dynamic:
                        continue
                    ext = iface.removeprefix("PJSIP/")
                    if member.busy:
                        report.deferred.append((queue, ext))
                        continue
                    await remove_member(self.ami, queue, iface)
                    report.removed.append((queue, ext))
            if report.added or report.removed or report.deferred:
                log.info(
                    "queues synced: added %s, removed %s, waiting for calls to end %s",
                    report.added,
                    report.removed,
                    report.deferred,
                )
            if report.deferred:
                # Whoever asked for this sync, removals waiting on a call are retried soon.
                asyncio.get_running_loop().call_later(self.retry_busy, self._wake.set)
            self.last_report = report
            return report

    async def set_paused(self, extension: str, paused: bool, reason: str = "") -> None:
        """Pause or unpause an operator in every queue they are in. Raises AMIError."""
        if paused:
            self.paused[extension] = reason
        else:
            self.paused.pop(extension, None)
        actual = await queue_status(self.ami)
        if any(m.interface == interface_of(extension) for ms in actual.values() for m in ms):
            await pause_member(self.ami, interface_of(extension), paused, reason=reason)

    async def membership(self) -> dict[str, list[dict[str, object]]]:
        """What Asterisk has now, queue -> members, for our queues."""
        actual = await queue_status(self.ami)
        return {
            queue: [
                {
                    "extension": m.interface.removeprefix("PJSIP/"),
                    "name": m.name,
                    "paused": m.paused,
                    "in_call": m.busy,
                }
                for m in actual.get(queue, [])
            ]
            for queue in QUEUES
        }

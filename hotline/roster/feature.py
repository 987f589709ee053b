"""Wiring of rosters and routing: the store, the router the IVR calls, the queue synchroniser.

`RoutingFeature.clock` is the one clock of the feature (the router's "now" and the
synchroniser's); tests replace it to stand at any moment of the roster.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.roster.queue_sync import QueueSync
from hotline.roster.store import RosterStore
from ivr.routing_port import CallFacts, RouteTarget
from routing.decision import CallerHistory, Decision
from routing.router import RosterRouter, channel_variables, utc_clock
from telephony.agi import AGISession
from telephony.ami_client import AMIClient

log = logging.getLogger("hotline.routing")


class RoutingFeature:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        ami: AMIClient,
        *,
        timezone: str,
        emergency_numbers: dict[str, str],
    ) -> None:
        self.clock = utc_clock
        self.store = RosterStore(sessions, timezone)
        self.queue_sync = QueueSync(ami, self.store.roster, self.now)
        self.router = RosterRouter(
            self.store.roster,
            history=self._history,
            clock=self.now,
            paused=lambda: self.queue_sync.paused,
            handoff_numbers=emergency_numbers,
            on_decision=self._save,
        )
        self.store.listeners.append(self.queue_sync.request_sync)

    def now(self) -> datetime:
        return self.clock()

    def start(self) -> None:
        self.queue_sync.start()

    async def stop(self) -> None:
        await self.queue_sync.stop()

    async def _history(self, facts: CallFacts, at: datetime) -> CallerHistory:
        return await asyncio.to_thread(self.store.caller_history, facts, at)

    async def _save(self, facts: CallFacts, decision: Decision, elapsed_ms: float) -> None:
        log.info(
            "call %s -> %s (priority %d): %s",
            facts.unique_id,
            decision.queue,
            decision.priority,
            decision.explanation,
        )
        try:
            await asyncio.to_thread(self.store.save_decision, facts, decision, elapsed_ms)
        except Exception:  # a failed write never blocks the call
            log.exception("could not store the routing decision of %s", facts.unique_id)


async def send_to_queue(session: AGISession, target: RouteTarget) -> None:
    """Tag the channel and leave AGI into the target's queue (what the IVR's `route` step
    does; used by flows that route without a menu)."""
    for name, value in channel_variables(target).items():
        await session.set_variable("__HOTLINE_TAG" if name == "HOTLINE_TAG" else name, value)
    await session.continue_in_dialplan("hotline-queues", target.queue)

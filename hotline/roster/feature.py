"""Wiring of rosters and routing: the store, the roster router, the queue synchroniser.

`RoutingFeature.router` is routing's `RosterRouter` (the roster, the caller's history and the
paused operators in; every decision stored); the service hands it to the IVR through
`hotline.ivr.ports.IvrRouter`. `simulation_router(at)` is the menu simulator's: the same roster,
no caller's history, nothing stored.

The caller's history includes their work orders from `caller_orders` (the open ones and the
one a call names by number), and `on_routed` runs once a call's queue is decided, before the
decision is stored, and returns it with more tags: the service passes both in from the work
orders feature, which makes the call's order there.

`RoutingFeature.clock` is the one clock of the feature (the router's "now" and the
synchroniser's); tests replace it to stand at any moment of the roster.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.workers import in_worker
from hotline.roster.queue_sync import QueueSync
from hotline.roster.store import CallerOrders, RosterStore
from routing.decision import CallerHistory, Decision
from routing.router import CallToRoute, RosterRouter, utc_clock
from telephony.ami_client import AMIClient

log = logging.getLogger("hotline.routing")

#: on_routed(call, decision, classification) -> the decision, with more tags
OnRouted = Callable[[CallToRoute, Decision, Mapping[str, Any] | None], Awaitable[Decision]]


class RoutingFeature:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        ami: AMIClient,
        *,
        timezone: str,
        emergency_numbers: dict[str, str],
        executor: Executor | None = None,
        caller_orders: CallerOrders | None = None,
        on_routed: OnRouted | None = None,
    ) -> None:
        self.clock = utc_clock
        #: where a call's database work runs (the service's pool for calls; None: the loop's)
        self.executor = executor
        self.handoff_numbers = dict(emergency_numbers)
        self.on_routed = on_routed
        self.store = RosterStore(sessions, timezone, caller_orders=caller_orders)
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

    def simulation_router(self, at: datetime) -> RosterRouter:
        """The router of the menu simulator: the same rules over the roster as it stands at
        `at` (an aware datetime; paused operators left out), for a caller without history.
        It reads no caller's history and stores nothing: a simulation can neither look up a
        real number's open cases nor add a decision to `call_routes`."""
        return RosterRouter(
            self.store.roster,
            paused=lambda: self.queue_sync.paused,
            clock=lambda: at,
            handoff_numbers=self.handoff_numbers,
        )

    def start(self) -> None:
        self.queue_sync.start()

    async def stop(self) -> None:
        await self.queue_sync.stop()

    async def _history(self, call: CallToRoute, at: datetime) -> CallerHistory:
        return await in_worker(self.executor, self.store.caller_history, call, at)

    async def _save(
        self,
        call: CallToRoute,
        decision: Decision,
        classification: Mapping[str, Any] | None,
        elapsed_ms: float,
    ) -> Decision:
        if self.on_routed is not None:
            decision = await self.on_routed(call, decision, classification)
        # The explanation can name the caller's open case: the log set-up leaves it out
        # unless asked for it (hotline.core.logs).
        log.info(
            "call %s -> %s (priority %d, rule %s)",
            call.unique_id,
            decision.queue,
            decision.priority,
            decision.rule,
            extra={"personal": {"explanation": decision.explanation}},
        )
        try:
            await in_worker(
                self.executor, self.store.save_decision, call, decision, classification, elapsed_ms
            )
        except Exception:  # a failed write never blocks the call
            log.exception("could not store the routing decision of %s", call.unique_id)
        return decision

"""Wiring: builds the controller from settings and runs it.

Everything is built here and handed to its collaborators through constructors: the AMI
client, the AsyncAGI server that runs one task per call, the call log, the metrics, and the
call flow. Domain packages never read settings themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from asr import AudioSocketServer, LoadedModel, ModelError, SpeechEngine, load_model
from asr.model import default_model_path
from hotline.calls.store import CallLog, CallRecord
from hotline.calls.store import forget_words as forget_call_words
from hotline.catalogue.feature import CatalogueFeature
from hotline.classify.feature import LiveModel
from hotline.core import db
from hotline.core.auth import FailureLimiter
from hotline.core.metrics import Metrics
from hotline.core.settings import Settings
from hotline.ivr.ports import IvrRouter
from hotline.ivr.runtime import IvrRuntime
from hotline.kb.store import KbStore
from hotline.orders.deadlines import parse_table
from hotline.orders.feature import OrdersFeature
from hotline.orders.metrics import OrderMetrics
from hotline.orders.store import OrderStore
from hotline.outbound.feature import OutboundFeature
from hotline.outbound.missed import MissedCalls
from hotline.outbound.queue_offer import QueueOffer
from hotline.recordings.feature import RecordingsFeature
from hotline.roster.feature import RoutingFeature
from hotline.roster.store import forget_words as forget_route_words
from hotline.web.app import create_app
from telephony.agi import AGISession, AsyncAGIServer, ChannelHungUp
from telephony.ami_client import AMIClient, AMIConnectionError, AMIError

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("hotline.service")

CallFlow = Callable[[AGISession, CallRecord], Awaitable[None]]

#: every table besides the recordings' own that keeps a copy of what callers said: the
#: retention purge takes the words out of each when a recording's time is over
WORD_COPIES = (forget_call_words, forget_route_words)


class ServiceStartError(RuntimeError):
    """The controller cannot start; the message says what to fix."""


class Service:
    def __init__(
        self,
        settings: Settings,
        flow: CallFlow | None = None,
        *,
        speech_model: LoadedModel | None = None,
    ) -> None:
        self.settings = settings
        self._speech_model = speech_model
        #: the AudioSocket server of speech steps (None when speech is disabled)
        self.speech: AudioSocketServer | None = None
        self.speech_engine: SpeechEngine | None = None
        self.engine = db.make_engine(
            settings.database_url,
            connect_timeout=settings.database_connect_timeout,
            statement_timeout=settings.database_statement_timeout or None,
        )
        self.sessions = db.session_factory(self.engine)
        self.metrics = Metrics()
        # Worker threads for the steps of calls (routing, classification): the loop's default
        # pool serves the web API, whose slow uploads must not hold up a live call.
        self.call_pool = ThreadPoolExecutor(settings.call_workers, thread_name_prefix="call-steps")
        #: refused API tokens per client address (the web layer answers 429 past the limit)
        self.auth_failures = FailureLimiter(settings.auth_failures_per_minute, 60.0)
        self.call_log = CallLog(self.sessions)
        self.ami = AMIClient(
            settings.ami_host,
            settings.ami_port,
            settings.ami_user,
            settings.ami_secret,
            timeout=settings.ami_timeout,
            ping_interval=settings.ami_ping_interval,
        )
        self.ami.on_connection(self._on_ami_connection)
        self.agi = AsyncAGIServer(
            self.ami,
            self.handle_call,
            lease=settings.watchdog_lease,
            on_step_latency=self.metrics.agi_step_latency.observe,
            orphan_destination=("hotline-degraded", "s"),
        )
        #: the dispatch catalogue (派单目录): its versions, the live one (`.live()`), which the
        #: default classifier is given whenever a version goes live
        self.catalogue = CatalogueFeature(self.sessions, executor=self.call_pool)
        #: the classifier of the live model version (`hotline classify use N`; 0: shipped)
        self.classifier = LiveModel(self.sessions, registry=self.metrics.registry)
        # Work orders: a call routed to a queue makes one (or follows one up). Due times
        # count the roster's working days; overdue orders are counted on /metrics.
        self.orders = OrdersFeature(
            self.sessions,
            timezone=settings.timezone,
            executor=self.call_pool,
            store=OrderStore(
                self.sessions,
                settings.timezone,
                # the live dispatch catalogue's classes (and matters) as ops publish them
                deadlines=dataclasses.replace(
                    parse_table(settings.order_deadlines),
                    catalogue=self.catalogue.deadline_class_of,
                ),
                calendar=lambda: self.routing.store.roster().calendar,
            ),
            retention_days=settings.order_retention_days,
            purge_interval=settings.order_purge_interval,
        )
        self.metrics.registry.register(OrderMetrics(self.orders.store))
        #: the knowledge base (一问一答) the operators' screen searches
        self.kb = KbStore(self.sessions, settings.timezone)
        # Rosters, the router the IVR asks (`self.router`) and the queue membership sync.
        self.routing = RoutingFeature(
            self.sessions,
            self.ami,
            timezone=settings.timezone,
            emergency_numbers=settings.emergency_numbers,
            executor=self.call_pool,
            caller_orders=self.orders.intake.caller_orders,
            on_routed=self.orders.on_routed,
        )
        self.router = IvrRouter(self.routing.router)
        # The IVR: the live menu version, one interpreter per call; the default flow.
        self.ivr = IvrRuntime(
            settings,
            self.sessions,
            self.metrics.registry,
            speech=lambda: self.speech,
            router=lambda: getattr(self, "router", None),
            executor=self.call_pool,
            classifier=lambda: self.classifier.current,
        )
        self.flow: CallFlow = flow or self.ivr.flow
        # Outbound calls: satisfaction callbacks (their survey calls come back through AGI),
        # call-backs; the schedule is in the database.
        self.outbound = OutboundFeature(
            settings,
            self.sessions,
            self.ami,
            orders=self.orders.store,
            prompts=self.ivr.prompts,
            calendar=lambda: self.routing.store.roster().calendar,
            registry=self.metrics.registry,
        )
        # Missed calls (abandoned in a queue, hung up after the greeting) and queue callers
        # who pressed 1 for "call me back" become call-back jobs of the outbound schedule.
        self.missed_calls = MissedCalls(
            self.ami,
            self.outbound.store,
            self.sessions,
            delay=settings.outbound_missed_delay,
            executor=self.call_pool,
        )
        self.queue_offer = QueueOffer(self.ami, self.outbound.store, executor=self.call_pool)
        # Every call is recorded (MixMonitor) and ingested, transcribed with the speech model.
        self.recordings = (
            RecordingsFeature(
                settings,
                self.sessions,
                lambda: self.speech_engine.model if self.speech_engine else None,
                WORD_COPIES,
            )
            if settings.recordings_enabled
            else None
        )
        self._connector: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._beats: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Migrate the database, load the speech model, listen for AudioSocket streams and
        start taking calls. Raises ServiceStartError (e.g. a missing speech model)."""
        await asyncio.to_thread(db.upgrade, self.settings.database_url)
        try:  # the starter set, on the first start (an empty knowledge base) only
            await asyncio.to_thread(self.kb.ensure_starter)
        except Exception:  # calls go on without it; `hotline kb load-starter` retries
            log.exception("could not load the knowledge base's starter set")
        await self.catalogue.start()
        await self.classifier.start()
        await self.ivr.start()
        if self.settings.speech_enabled:
            await self._start_speech()
        if self.recordings is not None:
            await self.recordings.start()
        self.agi.start()
        self.routing.start()
        self.orders.start()
        await self.outbound.start()
        self.missed_calls.start()
        self.queue_offer.start()
        self._connector = asyncio.create_task(self._connect_ami(), name="ami-connect")
        self._heartbeat = asyncio.create_task(self._beat(), name="heartbeat")

    async def _beat(self) -> None:
        # The dialplan sends calls straight to a human when this global is stale. A beat
        # also goes out at once on every (re)connection (`_on_ami_connection`).
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            await self._send_heartbeat()

    async def _send_heartbeat(self) -> None:
        if not self.ami.connected:
            return
        try:
            await self.ami.action(
                "Setvar", {"Variable": "HOTLINE_HEARTBEAT", "Value": int(time.time())}
            )
        except AMIError as exc:
            log.warning("heartbeat not sent: %s", exc)

    async def _start_speech(self) -> None:
        settings = self.settings
        model = self._speech_model
        if model is None:
            try:
                path = settings.vosk_model or default_model_path({})
                model = await asyncio.to_thread(load_model, path)
            except ModelError as exc:
                raise ServiceStartError(
                    f"speech recognition cannot start: {exc} "
                    "(set HOTLINE_VOSK_MODEL to a Vosk model directory, "
                    "or HOTLINE_SPEECH_ENABLED=false to run without speech)"
                ) from None
        self.speech_engine = SpeechEngine(
            model, max_streams=settings.speech_max_streams, threads=settings.speech_threads
        )
        self.speech = AudioSocketServer(
            self.speech_engine,
            host=settings.audiosocket_host,
            port=settings.audiosocket_port,
            max_connections=settings.audiosocket_max_connections,
            first_frame_timeout=settings.audiosocket_uuid_timeout,
            allow=settings.audiosocket_networks,
        )
        try:
            await self.speech.start()
        except OSError as exc:
            raise ServiceStartError(
                f"cannot listen for AudioSocket on {settings.audiosocket_host}:"
                f"{settings.audiosocket_port}: {exc} (set HOTLINE_AUDIOSOCKET_PORT)"
            ) from None

    async def _connect_ami(self) -> None:
        delay = 0.5
        while True:
            try:
                await self.ami.connect()
                return
            except AMIConnectionError as exc:
                log.error("%s; retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def stop(self) -> None:
        """Stop everything started, in order; a part that does not stop within its time is
        logged by name and left behind rather than holding up the rest."""
        for task in (self._heartbeat, self._connector):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._stop_part("missed calls", self.missed_calls.stop())
        await self._stop_part("call-me-back requests", self.queue_offer.stop())
        await self._stop_part("outbound calls", self.outbound.stop())
        await self._stop_part("routing", self.routing.stop())
        await self._stop_part("classifier", self.classifier.stop())
        await self._stop_part("catalogue", self.catalogue.stop())
        await self._stop_part("work orders", self.orders.stop())
        await self._stop_part("calls", self.agi.stop())
        await self._stop_part("AMI", self.ami.close())
        if self.speech is not None:
            await self._stop_part("speech", self.speech.stop())
        if self.speech_engine is not None:
            await self._stop_part("speech decoders", asyncio.to_thread(self.speech_engine.shutdown))
        if self.recordings is not None:
            await self._stop_part("recordings", self.recordings.stop())
        await self._stop_part("call log", self.call_log.aclose())
        await self._stop_part("call steps", asyncio.to_thread(self.call_pool.shutdown))
        self.engine.dispose()

    async def _stop_part(self, name: str, stopping: Awaitable[None], timeout: float = 20) -> None:
        try:
            await asyncio.wait_for(stopping, timeout)
        except TimeoutError:
            log.error("%s did not stop within %g s; going on without it", name, timeout)

    def _on_ami_connection(self, connected: bool) -> None:
        self.metrics.ami_connected.set(1 if connected else 0)
        if connected:
            self.metrics.ami_connects.inc()
            beat = asyncio.get_running_loop().create_task(self._send_heartbeat())
            self._beats.add(beat)
            beat.add_done_callback(self._beats.discard)

    async def handle_call(self, session: AGISession) -> None:
        if self.outbound.owns(session):  # a survey call the dialer placed, not a caller's
            return await self.outbound.handle_call(session)
        record = CallRecord.for_session(session)
        self.metrics.calls_started.inc()
        self.metrics.active_calls.inc()
        await self.call_log.save(record)
        if self.recordings is not None:
            await self.recordings.call_started(session, record)
        try:
            await self.flow(session, record)
        except ChannelHungUp:
            if record.outcome == "in_progress":
                record.outcome = "caller_hung_up"
            record.step("caller_hung_up")
        except Exception as exc:
            record.outcome = "failed"
            record.detail = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            record.ended_at = db.utcnow()
            self.metrics.active_calls.dec()
            self.metrics.calls_ended.labels(record.outcome).inc()
            self.metrics.call_seconds.observe((record.ended_at - record.started_at).total_seconds())
            await self.call_log.save(record)
            self.missed_calls.call_ended(record.outcome, record.path, record.caller_number)
            if self.recordings is not None:
                await self.recordings.call_ended(record)

    def simulation_router(self, at: datetime) -> IvrRouter:
        """The menu simulator's router: the roster's staffing at `at`, no caller's history,
        nothing stored (`RoutingFeature.simulation_router`)."""
        return IvrRouter(self.routing.simulation_router(at))

    def api_routers(self) -> list[APIRouter]:
        """The web API of every feature, in the order `create_app` includes them."""
        from hotline.calls import api as calls_api
        from hotline.catalogue import api as api_catalogue
        from hotline.ivr import api as api_ivr
        from hotline.kb import api as api_kb
        from hotline.orders import api as api_orders
        from hotline.orders import merge_api as api_merge
        from hotline.outbound import api as api_outbound
        from hotline.recordings import api as api_recordings
        from hotline.reports import api as api_reports
        from hotline.roster import api as api_roster

        return [
            calls_api.router,
            api_recordings.router,
            api_ivr.router,
            api_roster.router,
            api_orders.router,
            api_merge.router,
            api_kb.router,
            api_reports.router,
            api_catalogue.router,
            api_outbound.router,
        ]

    def health(self) -> dict[str, bool]:
        return {"ami": self.ami.connected, "database": db.ping(self.engine)}


def api_server(settings: Settings, app: FastAPI) -> uvicorn.Config:
    """The web API's server for `app`. The client's address (audit log, rate limits) is the
    connection's; X-Forwarded-For replaces it only on connections from the proxies named in
    `HOTLINE_TRUSTED_PROXIES` (anyone on the host could send it otherwise)."""
    import uvicorn

    proxies = [str(network) for network in settings.trusted_proxy_networks]
    return uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        lifespan="off",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
    )


async def serve(settings: Settings, flow: CallFlow | None = None) -> None:
    """Run the controller and its web API until cancelled or interrupted."""
    import uvicorn

    try:
        service = Service(settings, flow)
    except ValueError as exc:  # a part refuses its settings (e.g. no monitor folder)
        raise ServiceStartError(str(exc)) from None
    try:
        await service.start()
    except BaseException:
        await service.stop()
        raise
    server = uvicorn.Server(api_server(settings, create_app(service)))
    try:
        await server.serve()
    finally:
        await service.stop()

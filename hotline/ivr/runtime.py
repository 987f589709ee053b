"""The IVR in the controller: the live menu version and the call flow that runs the
interpreter for each call. Each call reads the live version once, when it starts, and keeps it
to its end. Versions are kept by `hotline.ivr.store.MenuStore`.

A version goes live all or nothing: publishing or rolling back to it first makes every
placeholder prompt it needs, and when one cannot be made the version is not put live. A live
version that cannot run at start-up (it no longer validates, a placeholder cannot be made)
never stops the controller: the newest version before it that can run is used, with an error
in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from sqlalchemy.orm import Session, sessionmaker

from asr import AudioSocketServer
from hotline.calls.store import CallRecord
from hotline.core.db import utcnow
from hotline.core.settings import Settings
from hotline.ivr.ports import (
    AudioSocketListener,
    classify_text,
    requested_service,
    static_router,
)
from hotline.ivr.prompts import PlaceholderFailed, PromptStore
from hotline.ivr.store import MenuInvalid, MenuStore, Prepare
from hotline.ivr.tables import MenuVersion
from ivr.document import MenuDocument, default_menu_text, load, parse_text
from ivr.interpreter import Dialplan, Interpreter
from ivr.routing_port import Router
from ivr.validation import validate
from routing import Classifier
from telephony.agi import AGISession

log = logging.getLogger("hotline.ivr")

SANDBOX_PROMPTS = "usr/share/asterisk/sounds/hotline-prompts"


def prompt_locations(settings: Settings) -> tuple[Path, str]:
    """(host directory, directory as Asterisk sees it) of the prompt files."""
    if settings.prompts_dir is not None:
        directory = settings.prompts_dir
        return directory, settings.prompts_play_dir or str(directory)
    if settings.use_sandbox:
        root = settings.sandbox_dir.resolve() / "root"
        return root / SANDBOX_PROMPTS, "/" + SANDBOX_PROMPTS
    directory = settings.state_dir / "prompts"
    return directory, settings.prompts_play_dir or str(directory.resolve())


@dataclass(frozen=True)
class LiveMenu:
    version: int
    document: MenuDocument


class IvrRuntime:
    """Owns the live menu and runs it for each call (the Service's default flow)."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        registry: CollectorRegistry,
        speech: Callable[[], AudioSocketServer | None] = lambda: None,
        router: Callable[[], Router | None] = lambda: None,
        executor: Executor | None = None,
        classifier: Callable[[], Classifier] | None = None,
    ) -> None:
        self.settings = settings
        #: the live classifier model version's classifier (None: the shipped one)
        self.classifier = classifier
        #: the worker threads of calls' steps (classification); None: the loop's own
        self.executor = executor
        self.store = MenuStore(sessions)
        directory, play_dir = prompt_locations(settings)
        self.prompts = PromptStore(
            sessions,
            directory,
            play_dir,
            max_bytes=settings.prompt_max_bytes,
            max_seconds=settings.prompt_max_seconds,
        )
        #: the roster router when the service has one; otherwise the same rules with every
        #: queue staffed
        self.configured_router = router
        self.static_router: Router = static_router(settings.emergency_numbers)
        self.speech = speech
        self.zone = ZoneInfo(settings.timezone)
        self.counters: Counter[str] = Counter()
        self.live: LiveMenu | None = None
        self._fallbacks = PromCounter(
            "hotline_ivr_speech_fallbacks",
            "Speech steps that fell back to keys or a human",
            registry=registry,
        )
        self._outcomes = PromCounter(
            "hotline_ivr_outcomes", "How calls left the IVR", ["outcome"], registry=registry
        )

    async def start(self) -> None:
        """Publish the shipped default menu on a new database, load the live version and make
        its placeholder prompts (in a worker thread)."""
        await asyncio.to_thread(self._seed)
        await self.reload()

    def _seed(self) -> None:
        if self.store.versions():
            return
        data = parse_text(default_menu_text())
        self.prompts.load()
        try:
            self.prompts.ensure_placeholders(load(data))
        except PlaceholderFailed as exc:
            log.error(
                "the shipped default menu is not published: %s; calls get the basic flow", exc
            )
            return
        row = self.store.create(data, "system", "the shipped default 12345 menu")
        self.store.publish(row.id, "system", set(self.prompts.recorded), self._prepare("published"))
        log.info("published the default menu as version %d", row.id)

    async def reload(self) -> LiveMenu | None:
        """Read the live version from the database (after a publish or roll-back) and make
        sure its placeholders exist before any call can play them. When the live version
        cannot run, the newest version live before it that can run is used instead, with an
        error in the log; with none, calls get the basic flow."""
        self.live = await asyncio.to_thread(self._runnable_live)
        return self.live

    # -- blocking work (call from a worker thread) -------------------------------------
    def publish(self, version: int, by: str) -> MenuVersion:
        """Publish draft `version` once every placeholder it needs is made. Raises
        MenuInvalid, PlaceholderFailed (nothing changed) and the store's errors; `reload`
        afterwards to run it."""
        self.prompts.load()
        return self.store.publish(
            version, by, set(self.prompts.recorded), self._prepare("published")
        )

    def rollback(self, by: str, to: int | None = None) -> MenuVersion:
        """Make `to` (or the version before the live one) live again once it validates and
        every placeholder it needs is made; `reload` afterwards to run it."""
        self.prompts.load()
        return self.store.rollback(by, to, self._prepare("made live"))

    def _prepare(self, done: str) -> Prepare:
        def prepare(row: MenuVersion) -> None:
            try:
                self._runnable(row, f"not {done}")
            except PlaceholderFailed as exc:
                raise PlaceholderFailed(f"version {row.id} is not {done}: {exc}") from exc

        return prepare

    def _runnable(self, row: MenuVersion, not_done: str) -> MenuDocument:
        """The document of `row` once it can run: it validates against the recordings on
        hand and every placeholder it needs exists. Raises MenuInvalid, PlaceholderFailed."""
        document, problems = validate(row.document, set(self.prompts.recorded))
        if document is None or problems:
            raise MenuInvalid(row.id, problems, not_done)
        self.prompts.ensure_placeholders(document)
        return document

    def _runnable_live(self) -> LiveMenu | None:
        self.prompts.load()
        # the live version first, then those live before it, newest first
        versions = list(dict.fromkeys(a.version_id for a in self.store.activations()))
        failed: list[str] = []
        for version in versions:
            try:
                live = LiveMenu(version, self._runnable(self.store.get(version), "not run"))
            except Exception as exc:  # whatever it is, the controller must start
                failed.append(f"menu version {version} cannot run ({_why(exc)})")
                continue
            if failed:
                log.error(
                    "%s; running version %d instead until a version that runs is published "
                    "or rolled back to",
                    "; ".join(failed),
                    version,
                )
            return live
        if failed:
            log.error("%s; no menu version can run: calls get the basic flow", "; ".join(failed))
        return None

    async def classify(self, text: str) -> dict[str, Any] | None:
        """A caller's words classified on the calls' worker threads."""
        live = self.classifier() if self.classifier is not None else None
        return await classify_text(text, self.executor, live)

    @property
    def router(self) -> Router:
        return self.configured_router() or self.static_router

    def interpreter(self, live: LiveMenu, record: Callable[..., None]) -> Interpreter:
        document = live.document
        server = self.speech()
        listen = (
            AudioSocketListener(server, connect_host=self.settings.audiosocket_host)
            if server is not None
            else None
        )
        return Interpreter(
            document,
            router=self.router,
            resolve_prompt=lambda name, language: self.prompts.resolve(document, name, language),
            record=record,
            listen=listen,
            classify=self.classify,
            now=lambda: datetime.now(self.zone),
            dialplan=Dialplan(),
            counters=self.counters,
            version=live.version,
            requested_service=requested_service,
        )

    async def flow(self, session: AGISession, record: CallRecord) -> None:
        live = self.live  # read once: the call keeps this version to its end
        if live is None:
            from hotline.calls.flow import basic_flow

            return await basic_flow(session, record)
        await session.answer()
        record.answered_at = utcnow()
        record.step("answer")
        before = self.counters["speech_fallback"]
        interpreter = self.interpreter(live, record.step)
        try:
            outcome = await interpreter.run(session)
        finally:
            if self.counters["speech_fallback"] > before:
                self._fallbacks.inc(self.counters["speech_fallback"] - before)
        record.outcome = outcome.kind
        if outcome.queue:
            record.detail = f"queue {outcome.queue}"
        elif outcome.number:
            record.detail = f"transferred to {outcome.number}"
        self._outcomes.labels(outcome.kind).inc()


def _why(exc: Exception) -> str:
    if isinstance(exc, MenuInvalid):
        return "; ".join(str(problem) for problem in exc.problems) or str(exc)
    return str(exc)

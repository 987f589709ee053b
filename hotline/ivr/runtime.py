"""The IVR in the controller: menu versions in the database, the live version, and the call
flow that runs the interpreter for each call.

Versions: a draft is saved as given (even with problems), validated on demand, and published
only when valid; a published version never changes. Publishing or rolling back adds a row to
`ivr_activations`; the newest row names the live version. Each call reads the live version
once, when it starts, and keeps it to its end.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from asr import AudioSocketServer
from hotline.calls.store import CallRecord
from hotline.core.db import utcnow
from hotline.core.settings import Settings
from hotline.ivr.prompts import PromptStore
from hotline.ivr.tables import MenuActivation, MenuVersion
from ivr.document import MenuDocument, default_menu_text, load, parse_text
from ivr.interpreter import Dialplan, Interpreter
from ivr.router import StaticRouter
from ivr.routing_port import Router
from ivr.speech import AudioSocketListener, classify_text
from ivr.validation import Problem, validate
from telephony.agi import AGISession

log = logging.getLogger("hotline.ivr")

SANDBOX_PROMPTS = "usr/share/asterisk/sounds/hotline-prompts"


class IvrError(Exception):
    error_id = "ivr-error"
    status = 400


class VersionNotFound(IvrError):
    error_id = "ivr-version-not-found"
    status = 404


class VersionImmutable(IvrError):
    error_id = "ivr-version-published"
    status = 409


class MenuInvalid(IvrError):
    error_id = "ivr-menu-invalid"
    status = 422

    def __init__(self, version: int, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"version {version} has {len(problems)} problem(s); not published")


class NothingToRollBack(IvrError):
    error_id = "ivr-nothing-to-roll-back"
    status = 409


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


class MenuStore:
    """Menu versions in the database. Blocking: call from a worker thread."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def versions(self) -> list[MenuVersion]:
        with self.sessions() as session:
            return list(session.scalars(select(MenuVersion).order_by(MenuVersion.id)).all())

    def get(self, version: int) -> MenuVersion:
        with self.sessions() as session:
            row = session.get(MenuVersion, version)
        if row is None:
            raise VersionNotFound(f"no menu version {version}")
        return row

    def create(
        self, document: dict[str, Any], by: str, comment: str = "", based_on: int | None = None
    ) -> MenuVersion:
        if based_on is not None:
            self.get(based_on)
        with self.sessions() as session:
            now = utcnow()
            row = MenuVersion(
                document=document,
                status="draft",
                comment=comment,
                based_on=based_on,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.commit()
            return row

    def update(
        self, version: int, document: dict[str, Any], by: str, comment: str | None
    ) -> MenuVersion:
        with self.sessions() as session:
            row = session.get(MenuVersion, version)
            if row is None:
                raise VersionNotFound(f"no menu version {version}")
            if row.status != "draft":
                raise VersionImmutable(
                    f"version {version} was published by {row.published_by} and cannot change; "
                    "create a new draft based on it"
                )
            row.document = document
            row.updated_at = utcnow()
            if comment is not None:
                row.comment = comment
            session.commit()
            return row

    def activations(self) -> list[MenuActivation]:
        with self.sessions() as session:
            return list(
                session.scalars(select(MenuActivation).order_by(MenuActivation.id.desc())).all()
            )

    def live(self) -> MenuVersion | None:
        activations = self.activations()
        return self.get(activations[0].version_id) if activations else None

    def publish(self, version: int, by: str, recorded: set[tuple[str, str]]) -> MenuVersion:
        with self.sessions() as session:
            row = session.get(MenuVersion, version)
            if row is None:
                raise VersionNotFound(f"no menu version {version}")
            if row.status != "draft":
                raise VersionImmutable(
                    f"version {version} is already published; roll back to it instead"
                )
            _, problems = validate(row.document, recorded)
            if problems:
                raise MenuInvalid(version, problems)
            now = utcnow()
            row.status = "published"
            row.published_by = by
            row.published_at = now
            session.add(MenuActivation(version_id=version, action="publish", by=by, at=now))
            session.commit()
            return row

    def rollback(self, by: str, to: int | None = None) -> MenuVersion:
        """Make `to` (or the version live before the current one) live again."""
        with self.sessions() as session:
            activations = list(
                session.scalars(select(MenuActivation).order_by(MenuActivation.id.desc())).all()
            )
            if not activations:
                raise NothingToRollBack("no version has been published yet")
            current = activations[0].version_id
            if to is None:
                earlier = [a.version_id for a in activations if a.version_id != current]
                if not earlier:
                    raise NothingToRollBack(f"version {current} is the only version ever published")
                to = earlier[0]
            row = session.get(MenuVersion, to)
            if row is None:
                raise VersionNotFound(f"no menu version {to}")
            if row.status != "published":
                raise IvrError(f"version {to} is a draft: publish it instead of rolling back")
            if to == current:
                raise NothingToRollBack(f"version {to} is already live")
            session.add(MenuActivation(version_id=to, action="rollback", by=by, at=utcnow()))
            session.commit()
            return row


class IvrRuntime:
    """Owns the live menu and runs it for each call (the Service's default flow)."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        registry: CollectorRegistry,
        speech: Callable[[], AudioSocketServer | None] = lambda: None,
        router: Callable[[], Router | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.store = MenuStore(sessions)
        directory, play_dir = prompt_locations(settings)
        self.prompts = PromptStore(
            sessions,
            directory,
            play_dir,
            max_bytes=settings.prompt_max_bytes,
            max_seconds=settings.prompt_max_seconds,
        )
        #: the roster-aware router when the service has one; StaticRouter otherwise
        self.configured_router = router
        self.static_router = StaticRouter()
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
        row = self.store.create(data, "system", "the shipped default 12345 menu")
        self.prompts.load()
        self.store.publish(row.id, "system", set(self.prompts.recorded))
        log.info("published the default menu as version %d", row.id)

    async def reload(self) -> LiveMenu | None:
        """Read the live version from the database (after a publish or roll-back) and make
        sure its placeholders exist before any call can play them."""

        def work() -> LiveMenu | None:
            self.prompts.load()
            row = self.store.live()
            if row is None:
                return None
            live = LiveMenu(row.id, load(row.document))
            self.prompts.ensure_placeholders(live.document)
            return live

        self.live = await asyncio.to_thread(work)
        return self.live

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
            classify=classify_text,
            now=lambda: datetime.now(self.zone),
            dialplan=Dialplan(),
            counters=self.counters,
            version=live.version,
        )

    async def flow(self, session: AGISession, record: CallRecord) -> None:
        live = self.live  # read once: the call keeps this version to its end
        if live is None:
            from hotline.calls.store import basic_flow

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

"""Recordings wired into the controller: capture on every call, the ingest workers, purge.

`Service.handle_call` calls `call_started` before the flow runs (MixMonitor on the channel,
both directions, named by the call's unique id, and a durable ingest job) and `call_ended`
after it (the job becomes due). Nothing here ever fails a call: a recording that cannot
start is logged and written to the call's path.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.store import CallRecord
from hotline.core.settings import Settings
from hotline.recordings.store import Forget, SqlCatalogue, SqlJobStore, purge_expired
from recordings.ids import RecordingIdError, check_recording_id
from recordings.ingest import IngestConfig, Ingestor, capture_name
from recordings.retention import RetentionPolicy
from recordings.store import RecordingStore
from telephony.agi import AGISession

log = logging.getLogger("hotline.recordings")

ModelSource = Callable[[], Any]
"""Returns the loaded speech model (asr.LoadedModel) to transcribe with, or None."""

#: the hotline Asterisk's MixMonitor folder in the sandbox's tree (as hotline/devtools lays
#: it out; the product does not import the development tools)
SANDBOX_MONITOR = "root/var/spool/hotline-asterisk/monitor"


def monitor_dir_of(settings: Settings) -> Path:
    """Where MixMonitor's files appear on this host."""
    if settings.recordings_monitor_dir is not None:
        return settings.recordings_monitor_dir
    if settings.use_sandbox:
        return settings.sandbox_dir.resolve() / SANDBOX_MONITOR
    raise ValueError(
        "recordings_monitor_dir must be set for an existing Asterisk: a directory this host "
        "shares with Asterisk's MixMonitor (or HOTLINE_RECORDINGS_ENABLED=false)"
    )


def store_dir_of(settings: Settings) -> Path:
    return settings.recordings_dir or settings.state_dir / "recordings"


def retention_of(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(dict(settings.recordings_retention_days))


def transcriber_for(models: ModelSource) -> Callable[[Path], dict[str, Any] | None]:
    def transcribe(path: Path) -> dict[str, Any] | None:
        model = models()
        if model is None:
            return None
        from asr import transcribe_file

        return transcribe_file(model, path).transcript.to_dict()

    return transcribe


class Tickets:
    """Short-lived signed permissions to fetch one recording's audio, for the browser's
    <audio> element (which cannot send an Authorization header). Bound to user, role and
    recording; the key lives only in this process."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._key = secrets.token_bytes(32)

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self, user: str, role: str, unique_id: str) -> str:
        expires = int(time.time()) + self.seconds
        payload = f"{user}:{role}:{unique_id}:{expires}"
        body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{body}.{self._sign(payload)}"

    def check(self, ticket: str, unique_id: str) -> tuple[str, str] | None:
        """(user, role) when `ticket` is valid for `unique_id` now, else None."""
        body, _, mac = ticket.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
            user, role, ticket_id, expires = payload.rsplit(":", 3)
            expires_at = int(expires)
        except ValueError:
            return None
        # As bytes: compare_digest raises on str with non-ASCII characters (a forged MAC).
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), self._sign(payload).encode()):
            return None
        if ticket_id != unique_id or expires_at < time.time():
            return None
        return user, role


class RecordingsFeature:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        models: ModelSource,
        forget: Sequence[Forget] = (),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        #: the other tables that keep a copy of what callers said, cleared with a recording
        #: whose retention has ended (`hotline.service.WORD_COPIES`)
        self.forget = tuple(forget)
        self.monitor_dir = monitor_dir_of(settings)
        self.store = RecordingStore(store_dir_of(settings))
        self.retention = retention_of(settings)
        self.jobs = SqlJobStore(sessions)
        self.catalogue = SqlCatalogue(sessions, self.store, self.retention)
        self.tickets = Tickets(settings.recordings_ticket_seconds)
        self.ingestor = Ingestor(
            self.store,
            self.jobs,
            self.catalogue,
            IngestConfig(
                monitor_dir=self.monitor_dir,
                archive_format=settings.recordings_archive_format,
                bitrate=settings.recordings_archive_bitrate,
                keep_original=settings.recordings_keep_original,
            ),
            transcriber_for(models),
            workers=settings.recordings_workers,
        )
        self._purger: asyncio.Task[None] | None = None

    def capture_argument(self, unique_id: str) -> str:
        """MixMonitor's file argument: relative to Asterisk's monitor directory, or under the
        configured shared directory as Asterisk sees it."""
        name = capture_name(unique_id, self.settings.recordings_capture_format)
        folder = self.settings.recordings_asterisk_dir
        return f"{folder}/{name}" if folder else name

    async def start(self) -> None:
        recovered = await asyncio.to_thread(self.jobs.recover)
        if recovered:
            log.info("resuming %d recording jobs left by the previous run", recovered)
        self.ingestor.start()
        self._purger = asyncio.create_task(self._purge_loop(), name="recordings-purge")

    async def stop(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
        await self.ingestor.stop()

    def purge(self, now: datetime | None = None) -> list[str]:
        """Delete what retention says is over, every copy of the callers' words with it
        (blocking); returns the ids deleted."""
        return purge_expired(self.sessions, self.store, now, forget=self.forget)

    async def _purge_loop(self) -> None:
        while True:
            try:
                deleted = await asyncio.to_thread(self.purge)
                if deleted:
                    log.info("retention: deleted %d expired recordings", len(deleted))
            except Exception:
                log.exception("retention purge failed; will try again")
            await asyncio.sleep(self.settings.recordings_purge_interval)

    async def call_started(self, session: AGISession, record: CallRecord) -> None:
        """Start recording the call and register its ingest job. Never raises."""
        try:
            check_recording_id(session.unique_id)
            name = capture_name(session.unique_id, self.settings.recordings_capture_format)
            await asyncio.to_thread(self.jobs.create, session.unique_id, name, record.started_at)
            await session.start_mixmonitor(self.capture_argument(session.unique_id), options="")
        except RecordingIdError as exc:
            record.step("recording_failed", reason=str(exc))
            log.error("not recording: %s", exc)
        except Exception as exc:
            record.step("recording_failed", reason=f"{type(exc).__name__}: {exc}")
            log.warning("could not start recording: %s: %s", type(exc).__name__, exc)

    async def call_ended(self, record: CallRecord) -> None:
        if record.ended_at is None:
            return
        try:
            await asyncio.to_thread(self.jobs.call_ended, record.unique_id, record.ended_at)
        except Exception:
            log.exception("could not queue the recording of %s", record.unique_id)
            return
        self.ingestor.wake()

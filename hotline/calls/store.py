"""The call record and its store.

`CallLog` writes each call into the `calls` table from a small worker pool, so the event loop
never waits on the database; with `forget_words` (the retention purge) it is the only code
that writes that table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.tables import Call
from hotline.core.db import utcnow
from hotline.core.privacy import View, split_personal
from telephony.agi import AGISession

log = logging.getLogger("hotline.calls")


@dataclass
class CallRecord:
    unique_id: str
    channel: str
    caller_number: str
    caller_name: str
    called_number: str
    started_at: datetime = field(default_factory=utcnow)
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    path: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "in_progress"
    detail: str = ""
    _t0: float = field(default_factory=time.monotonic, repr=False)

    @classmethod
    def for_session(cls, session: AGISession) -> CallRecord:
        return cls(
            unique_id=session.unique_id,
            channel=session.channel,
            caller_number=session.caller_number,
            caller_name=session.caller_name,
            called_number=session.called_number,
        )

    def step(self, name: str, **data: Any) -> None:
        self.path.append({"t": round(time.monotonic() - self._t0, 3), "step": name, **data})
        # Keys, words and explanations go to the log set-up, which leaves them out unless
        # asked for them (hotline.core.logs).
        public, personal = split_personal(data, name)
        log.info("step %s %s", name, public or "", extra={"personal": personal})


def forget_words(session: Session, unique_id: str) -> list[str]:
    """Take what the caller said out of a call's path (speech text, routing explanation),
    keeping the rest, in the caller's transaction: the retention of the call's recording has
    ended. Returns ["calls.path"] when something was taken out."""
    call = session.get(Call, unique_id)
    if call is None or not call.path:
        return []
    kept = View.without_words().path(call.path)
    if kept == call.path:
        return []
    call.path = kept
    return ["calls.path"]


class CallLog:
    """Writes call rows from a small worker pool. When the database is unreachable, the
    latest state of each call is kept in memory and written again every `retry_interval`
    seconds until the database is back: calls go on meanwhile, and no record is lost unless
    the controller itself stops first."""

    def __init__(
        self, sessions: sessionmaker[Session], workers: int = 2, retry_interval: float = 2.0
    ) -> None:
        self._sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="calls-db")
        self.retry_interval = retry_interval
        self.write_failures = 0
        #: unique id -> the newest values not yet written
        self.pending: dict[str, dict[str, Any]] = {}
        self._retrier: asyncio.Task[None] | None = None

    async def save(self, record: CallRecord) -> None:
        """Insert or update the call's row (off the event loop). A database failure is
        logged and counted, the row kept for a later retry; it never breaks the call."""
        values = {k: v for k, v in vars(record).items() if not k.startswith("_")}
        values["path"] = list(record.path)
        self.pending[record.unique_id] = values
        await self._flush_one(record.unique_id, values)

    async def _flush_one(self, unique_id: str, values: dict[str, Any]) -> bool:
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._write, values)
        except Exception as exc:
            self.write_failures += 1
            log.warning(
                "could not write call %s to the database (%s); kept for a retry",
                unique_id,
                type(exc).__name__,
            )
            if self._retrier is None or self._retrier.done():
                self._retrier = asyncio.get_running_loop().create_task(self._retry())
            return False
        if self.pending.get(unique_id) is values:
            del self.pending[unique_id]
        return True

    async def _retry(self) -> None:
        while self.pending:
            await asyncio.sleep(self.retry_interval)
            for unique_id, values in list(self.pending.items()):
                if not await self._flush_one(unique_id, values):
                    break
            else:
                if not self.pending:
                    log.info("database back: every pending call record is written")

    def _write(self, values: dict[str, Any]) -> None:
        with self._sessions() as session:
            session.merge(Call(**values))
            session.commit()

    async def aclose(self) -> None:
        if self._retrier is not None:
            self._retrier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrier
        if self.pending:
            log.error("%d call records could not be written before stopping", len(self.pending))
        await asyncio.to_thread(self._pool.shutdown, True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

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
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.tables import Call
from hotline.core.db import utcnow
from hotline.core.privacy import View, split_personal
from telephony.agi import AGISession

log = logging.getLogger("hotline.calls")


def fit(value: str, size: int | None = None) -> str:
    """`value` as a text column can hold it: without control characters (NUL, escape, line
    breaks; PostgreSQL refuses NUL) or lone surrogates, cut to `size` characters."""
    kept = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cs"))
    return kept[:size] if size is not None else kept


def _size(column: str) -> int | None:
    length = Call.__table__.c[column].type.length  # type: ignore[attr-defined]
    return length if isinstance(length, int) else None


def cleaned(values: dict[str, Any]) -> dict[str, Any]:
    """A call's values with every text fitted to its column (`fit`), the path's texts too;
    the unique id is the key other tables know the call by and stays as it is."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return fit(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        return value

    out = dict(values)
    for name, value in values.items():
        if name == "path":
            out[name] = clean(value)
        elif name != "unique_id" and isinstance(value, str):
            out[name] = fit(value, _size(name))
    return out


def refused(exc: BaseException) -> bool:
    """The database (or the driver binding the values) refuses this record's values, as it
    would on every retry: text too long for its column, a NUL character on PostgreSQL, a
    value its type cannot hold. Not a connection problem, which a retry can outlast."""
    if isinstance(exc, DBAPIError):
        return isinstance(exc, DataError) and not exc.connection_invalidated
    return isinstance(exc, StatementError | UnicodeError)


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
        """The record of a new call. What the carrier sent as the caller's number and name
        (a SIP display name can be any length and hold any character) is cut to its column's
        size, without control characters: the database stores whatever a call brings."""
        return cls(
            unique_id=session.unique_id,
            channel=fit(session.channel, _size("channel")),
            caller_number=fit(session.caller_number, _size("caller_number")),
            caller_name=fit(session.caller_name, _size("caller_name")),
            called_number=fit(session.called_number, _size("called_number")),
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
        """Write one record. False when it is kept for a retry (the database is unreachable
        or failing); a record whose values the database refuses is stored with its values
        cleaned, or dropped, and does not wait (it would be refused on every retry)."""
        try:
            await self._write_in_pool(values)
        except Exception as exc:
            self.write_failures += 1
            if refused(exc):
                return await self._store_refused(unique_id, values, exc)
            self._keep(unique_id, type(exc).__name__)
            return False
        self._done(unique_id, values)
        return True

    async def _store_refused(
        self, unique_id: str, values: dict[str, Any], exc: BaseException
    ) -> bool:
        # Only the id and the error's class are logged: the values are the caller's.
        log.warning(
            "the database refuses the values of call %s (%s); storing them cleaned",
            unique_id,
            type(exc).__name__,
        )
        fitted = cleaned(values)
        try:
            await self._write_in_pool(fitted)
        except Exception as again:
            self.write_failures += 1
            if not refused(again):
                if self.pending.get(unique_id) is values:
                    self.pending[unique_id] = fitted
                self._keep(unique_id, type(again).__name__)
                return False
            log.error(
                "call %s is not stored: the database refuses its values, cleaned too (%s)",
                unique_id,
                type(again).__name__,
            )
        self._done(unique_id, values)
        return True

    async def _write_in_pool(self, values: dict[str, Any]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._write, values)

    def _keep(self, unique_id: str, error: str) -> None:
        log.warning(
            "could not write call %s to the database (%s); kept for a retry", unique_id, error
        )
        if self._retrier is None or self._retrier.done():
            self._retrier = asyncio.get_running_loop().create_task(self._retry())

    def _done(self, unique_id: str, values: dict[str, Any]) -> None:
        if self.pending.get(unique_id) is values:
            del self.pending[unique_id]

    async def _retry(self) -> None:
        while self.pending:
            await asyncio.sleep(self.retry_interval)
            for unique_id, values in list(self.pending.items()):
                # A failure other than refused values is the database's, not the record's:
                # the others wait too.
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

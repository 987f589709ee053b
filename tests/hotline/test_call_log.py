"""The call log stores every call, whatever the carrier sends as the caller's name or number,
and one record the database refuses never holds up the others."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, OperationalError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.store import CallLog, CallRecord
from hotline.calls.tables import Call
from hotline.core import db
from hotline.core.settings import Settings
from telephony.agi import AGISession

NAME, NUMBER = "欧阳娜娜", "13912345678"


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    yield engine
    engine.dispose()


def size(column: str) -> int:
    length = Call.__table__.c[column].type.length  # type: ignore[attr-defined]
    assert isinstance(length, int)
    return length


def channel(**facts: str) -> AGISession:
    return cast(AGISession, SimpleNamespace(**facts))


async def test_a_carriers_long_or_odd_caller_fields_fit_their_columns(engine: Engine) -> None:
    record = CallRecord.for_session(
        channel(
            unique_id="hotline-1.1",
            channel="PJSIP/carrier-" + "0" * 200,
            caller_number="+86\x00" + "1" * 100,
            caller_name=NAME + "\x00\x1b[31m\r\n\t" + "娜" * 300,
            called_number="12345\x7f" + "6" * 100,
        )
    )
    assert record.caller_name.startswith(NAME + "[31m")
    assert record.caller_number.startswith("+861")
    assert record.called_number.startswith("123456")
    for column in ("channel", "caller_number", "caller_name", "called_number"):
        value = getattr(record, column)
        assert len(value) == size(column), column
        assert value.isprintable(), column
    # Fields that fit are kept as they are.
    plain = CallRecord.for_session(
        channel(
            unique_id="hotline-1.2",
            channel="PJSIP/carrier-00000001",
            caller_number=NUMBER,
            caller_name="O'Brien, Mary-Ann 张三",
            called_number="12345",
        )
    )
    assert (plain.caller_number, plain.caller_name) == (NUMBER, "O'Brien, Mary-Ann 张三")

    log = CallLog(sessionmaker(engine))
    try:
        await log.save(record)
        assert log.pending == {}
        with Session(engine) as session:
            row = session.get(Call, "hotline-1.1")
            assert row is not None and row.caller_name == record.caller_name
    finally:
        await log.aclose()


class FlakyLog(CallLog):
    """The database is unreachable while `down`; it refuses the values of the calls in
    `refused` (always) and any value with a NUL character, as PostgreSQL does."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__(sessions, retry_interval=0.01)
        self.down = False
        self.refused: set[str] = set()
        self.attempts: dict[str, int] = {}

    def _write(self, values: dict[str, Any]) -> None:
        unique_id = values["unique_id"]
        self.attempts[unique_id] = self.attempts.get(unique_id, 0) + 1
        if self.down:
            raise OperationalError("INSERT INTO calls", {}, ConnectionRefusedError())
        nul = any(isinstance(v, str) and "\x00" in v for v in values.values())
        if unique_id in self.refused or nul:
            raise DataError("INSERT INTO calls", {}, ValueError("value too long"))
        super()._write(values)


def record(unique_id: str, **values: Any) -> CallRecord:
    return CallRecord(
        unique_id=unique_id,
        channel="PJSIP/carrier-00000001",
        caller_number=NUMBER,
        caller_name=NAME,
        called_number="12345",
        **values,
    )


async def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def test_a_refused_record_does_not_hold_up_the_others(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    log = FlakyLog(sessionmaker(engine))
    try:
        # While the database is down, every record waits, in the order the calls came.
        log.down = True
        log.refused = {"hotline-1.1"}
        for n in (1, 2, 3):
            await log.save(record(f"hotline-1.{n}"))
        log.down = False
        await log.save(record("hotline-1.4", detail="TypeError: \x00"))
        await until(lambda: not log.pending)
        assert log.pending == {}
        with Session(engine) as session:
            assert session.get(Call, "hotline-1.1") is None  # refused, dropped
            for n in (2, 3):
                assert session.get(Call, f"hotline-1.{n}") is not None
            # Stored with its values cleaned: a NUL character is refused on PostgreSQL.
            cleaned = session.get(Call, "hotline-1.4")
            assert cleaned is not None and cleaned.detail == "TypeError: "
        refused = [r for r in caplog.records if "hotline-1.1" in r.getMessage()]
        assert any("refuse" in r.getMessage() for r in refused)
        for text in (NAME, NUMBER):
            assert text not in caplog.text
    finally:
        await log.aclose()


async def test_while_the_database_is_down_every_record_is_kept(engine: Engine) -> None:
    log = FlakyLog(sessionmaker(engine))
    try:
        log.down = True
        for n in (1, 2, 3):
            await log.save(record(f"hotline-1.{n}"))
        await until(lambda: log.attempts["hotline-1.1"] > 5)
        assert list(log.pending) == ["hotline-1.1", "hotline-1.2", "hotline-1.3"]
        log.down = False
        await until(lambda: not log.pending)
        assert log.pending == {}
        with Session(engine) as session:
            assert session.query(Call).count() == 3
    finally:
        await log.aclose()


async def test_a_value_refused_before_it_reaches_the_database_is_not_retried(
    engine: Engine,
) -> None:
    """A StatementError that is not the database's (a value its type cannot bind)."""

    class Unbindable(FlakyLog):
        def _write(self, values: dict[str, Any]) -> None:
            if values["unique_id"] == "hotline-1.1":
                raise StatementError("cannot bind", "INSERT INTO calls", {}, TypeError())
            super()._write(values)

    log = Unbindable(sessionmaker(engine))
    try:
        log.down = True
        for n in (1, 2):
            await log.save(record(f"hotline-1.{n}"))
        log.down = False
        await until(lambda: not log.pending)
        assert log.pending == {}
        with Session(engine) as session:
            assert session.get(Call, "hotline-1.2") is not None
    finally:
        await log.aclose()

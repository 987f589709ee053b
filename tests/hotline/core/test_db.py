"""Database engines: PostgreSQL connections and statements cannot hang the controller."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hotline.core import db
from hotline.core.settings import load_settings
from hotline.service import Service
from tests.conftest import DATABASES, postgres_database


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word (a database host that
    hangs, or a firewall that swallows the reply)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def connect_within(engine: db.Engine, seconds: float) -> BaseException | None:
    """Try to connect in a thread; the error it ended with, or fail if it is still trying."""
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            with engine.connect():
                outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still connecting after {seconds:g} s"
    return outcome[0]


def test_a_database_that_never_answers_fails_the_controller_within_its_timeout(
    tmp_path: Path,
) -> None:
    with silent_server() as port:
        settings = load_settings(
            state_dir=tmp_path,
            database_url=f"postgresql+psycopg://hotline@127.0.0.1:{port}/hotline",
            database_connect_timeout=2,
        )
        service = Service(settings)
        error = connect_within(service.engine, 30)
        service.engine.dispose()
    assert isinstance(error, OperationalError)


def test_postgres_connect_arguments() -> None:
    assert db.postgres_connect_args(5, 30) == {
        "connect_timeout": 5,
        "options": "-c statement_timeout=30000",
    }
    assert db.postgres_connect_args(1, 0) == {"connect_timeout": 2}  # libpq's least; no limit


def test_the_controller_limits_statements_and_migrations_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[dict[str, object]] = []
    monkeypatch.setattr(db, "create_engine", lambda url, **kw: made.append(kw))
    url = "postgresql+psycopg://hotline@127.0.0.1:5432/hotline"
    Service(load_settings(state_dir=tmp_path, database_url=url, database_statement_timeout=12))
    db.make_engine(url)
    assert made[0]["connect_args"] == {
        "connect_timeout": 5,
        "options": "-c statement_timeout=12000",
    }
    assert made[1]["connect_args"] == {"connect_timeout": db.CONNECT_TIMEOUT}


@pytest.mark.skipif(
    "postgresql" not in DATABASES, reason="statement_timeout is PostgreSQL's (make test runs it)"
)
def test_a_long_statement_is_cancelled_by_the_server() -> None:
    with postgres_database() as database_url:
        cancelled_by_the_server(database_url)


def cancelled_by_the_server(database_url: str) -> None:
    engine = db.make_engine(database_url, statement_timeout=0.2)
    try:
        with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as c:
            c.execute(text("SELECT pg_sleep(3)"))
    finally:
        engine.dispose()

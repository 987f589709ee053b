"""Shared fixtures: the real Asterisk sandbox, a controller wired to it, a carrier."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from asr import LoadedModel, default_model_path, load_model
from hotline.core.settings import Settings, load_settings
from hotline.devtools.carrier import Carrier
from hotline.devtools.sandbox import Sandbox
from hotline.service import CallFlow, Service


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The real hotline and carrier Asterisks (started if they are not running).

    A test run holds a lock on the sandbox while it uses it: two controllers on one Asterisk
    would both take every call."""
    box = Sandbox(load_settings(), print)
    with box.lock():
        box.up()
        yield box


# Every test that touches the database runs on each backend named here (`make test` names
# both; a plain `pytest` run uses SQLite unless told otherwise).
DATABASES = [name.strip() for name in os.environ.get("HOTLINE_TEST_DATABASES", "sqlite").split(",")]
POSTGRES_ADMIN_URL = os.environ.get(
    "HOTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:15432/postgres"
)


def postgres_admin(statement: str) -> None:
    """Run one statement on the test server's `postgres` database, on a connection of its
    own that is closed afterwards: nothing stays open for a test that stops the server."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    try:
        postgres_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - turned into a clear failure
        pytest.fail(
            f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({exc.__class__.__name__}); "
            "`make test` starts it (scripts/postgres start)"
        )
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database for one test: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'hotline.db'}"
    elif request.param == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        raise ValueError(f"HOTLINE_TEST_DATABASES: unknown backend {request.param!r}")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(state_dir=tmp_path / "state", database_url=database_url)


@pytest.fixture(scope="session")
def vosk_model() -> LoadedModel:
    """The real Vosk model (the Korean test model unless HOTLINE_VOSK_MODEL says otherwise),
    loaded once for the whole run: it takes about 2 s and 600 MB."""
    return load_model(default_model_path())


@pytest.fixture
async def start_service(
    sandbox: Sandbox, settings: Settings, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Awaitable[Service]]]:
    """Start a controller on the sandbox with a flow of the test's choosing. With
    `speech=True` it listens for AudioSocket streams with the real Vosk model."""
    started: list[Service] = []

    async def start(
        flow: CallFlow | None = None, *, speech: bool = False, **overrides: object
    ) -> Service:
        overrides.setdefault("speech_enabled", speech)
        model = request.getfixturevalue("vosk_model") if speech else None
        service = Service(settings.model_copy(update=overrides), flow, speech_model=model)
        await service.start()
        await service.ami.wait_connected(10)
        started.append(service)
        return service

    yield start
    for service in started:
        await service.stop()


@pytest.fixture
async def carrier(sandbox: Sandbox) -> AsyncIterator[Carrier]:
    async with Carrier.from_settings(load_settings()) as c:
        yield c
    # No call outlives its test (a caller still waiting in a queue would ring the next
    # test's operators).
    for name in ("carrier", "hotline"):
        await asyncio.to_thread(sandbox.cli, name, "channel request hangup all")


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `predicate()` holds; fail the test with `what` when it does not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)

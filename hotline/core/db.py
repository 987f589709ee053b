"""Database: the declarative base, engine set-up and Alembic migrations.

Each feature keeps its tables in its own `tables.py` on this `Base` (see docs/architecture.md).

SQLite (a file under the state directory) is the embedded default; a PostgreSQL URL
(``postgresql+psycopg://...``) is accepted as is. The schema is only ever created by Alembic
migrations (`upgrade`), never by ``create_all``.

The SQLite file holds callers' numbers: it is created 0600 in a folder created 0700 (SQLite
gives its WAL and shared-memory files the database file's mode). A PostgreSQL connection
gives up after `connect_timeout` seconds, and with `statement_timeout` the server cancels any
statement running longer, so a stuck database cannot hold a call's step forever.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, sessionmaker

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

#: seconds a PostgreSQL connection attempt may take (libpq's connect_timeout)
CONNECT_TIMEOUT = 10


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


def private_sqlite_file(path: Path) -> None:
    """Make `path`'s folder (0700, when it has to be made) and the file itself (0600, also
    when it already exists) before SQLite opens it."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def postgres_connect_args(connect_timeout: int, statement_timeout: float | None) -> dict[str, Any]:
    """libpq parameters: a connection timeout, and a server-side statement timeout (ms)."""
    args: dict[str, Any] = {"connect_timeout": max(2, int(connect_timeout))}
    if statement_timeout:
        args["options"] = f"-c statement_timeout={max(1, round(statement_timeout * 1000))}"
    return args


def make_engine(
    url: str,
    *,
    connect_timeout: int = CONNECT_TIMEOUT,
    statement_timeout: float | None = None,
    **engine_args: Any,
) -> Engine:
    """An engine for `url`. `statement_timeout` (seconds; PostgreSQL only) cancels longer
    statements: the controller sets it, migrations and batch commands do not."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            private_sqlite_file(Path(path))
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **engine_args
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql"):
        engine_args.setdefault(
            "connect_args", postgres_connect_args(connect_timeout, statement_timeout)
        )
    return create_engine(url, pool_pre_ping=True, **engine_args)


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema at `url` up to `revision` with Alembic.

    Each feature keeps its tables on its own branch from revision 0001 (``branch_labels``), so
    the default target is every head."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)

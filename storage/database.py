"""The database engine, the declarative base every package's tables share, and sessions."""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from storage.guard import ensure_free, holding
from storage.writer import Writer

# Stable constraint names, so migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'lophoc.sqlite3'}"


def normalise_url(url: str) -> str:
    """Accept the plain URLs people write and pick the async driver for them."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif driver == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        raise ValueError(f"unsupported database URL scheme {driver!r}: use sqlite or postgresql")
    return parsed.render_as_string(hide_password=False)


BUSY_TIMEOUT_MS = 30_000
"""How long SQLite waits for another connection's write lock before "database is locked". A commit
holds it through an fsync of the WAL, and on a busy disk (recordings being written; ext4 flushing
other files' data with the journal) one fsync can take seconds: a write waits its turn (in the
driver's thread, not on the event loop) rather than fail."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL + synchronous=FULL: a committed row survives a crash of the process or the machine.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


class _SQLiteConnection(sqlite3.Connection):
    """A SQLite connection that rolls back what it has open when it is closed.

    A unit of work cancelled mid-statement (a task stopped, the server shutting down) has its
    rollback cancelled with it, and SQLAlchemy then closes the connection. SQLite does not end the
    transaction of a connection closed while a cursor still holds one of its statements: the
    connection lives on in its transaction, keeping the write lock, until the garbage collector
    frees that cursor, and every other writer meanwhile fails with "database is locked". The
    driver runs its calls in order, so this rollback comes after the statement that was cut."""

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if self.in_transaction:
                self.rollback()
        super().close()


POOL_SIZE = 10
"""Connections kept open per process: a unit of work holds one for milliseconds, so ten serve a
class arriving at once; the writer needs one, readers the rest."""
MAX_OVERFLOW = 10
"""Extra connections opened in a burst and closed when returned."""
POOL_TIMEOUT = 5.0
"""Seconds a unit of work waits for a connection before the request is refused as overloaded
(503 with Retry-After): a client retrying later beats forty clients waiting half a minute."""


class Database:
    """Owns the engine and the process's writer; `session()` yields a unit of work that commits
    or rolls back whole. `strict` makes the guard raise instead of warn (tests)."""

    def __init__(self, url: str, *, strict: bool = False, pool_size: int = POOL_SIZE,
                 max_overflow: int = MAX_OVERFLOW, pool_timeout: float = POOL_TIMEOUT) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.strict = strict
        self.warned: set[str] = set()
        """What the guard already warned about (once each)."""
        self.engine: AsyncEngine = create_async_engine(
            self.url, pool_pre_ping=not self.is_sqlite, pool_size=pool_size, max_overflow=max_overflow,
            pool_timeout=pool_timeout, connect_args={"factory": _SQLiteConnection} if self.is_sqlite else {})
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.writer = Writer(self)
        """The one writer of this process: queued writes committed in groups."""

    @asynccontextmanager
    async def session(self, *, immediate: bool = False) -> AsyncIterator[AsyncSession]:
        """A unit of work: hold it for database statements only, never across other awaits.

        `immediate` takes SQLite's write lock at once (waiting its turn): for writers that read
        then write, which in WAL mode would otherwise fail with "database is locked" when another
        commit lands between their read and their write."""
        ensure_free("a unit of work opened inside another")  # it waits for a second connection
        with holding(self):
            async with self.sessions() as session:
                async with session.begin():
                    if immediate and self.is_sqlite:
                        connection = await session.connection()
                        await connection.exec_driver_sql("BEGIN IMMEDIATE")
                    yield session

    def pool_status(self) -> dict[str, int]:
        """The pool's size, connections checked out, and connections open beyond the size."""
        pool = self.engine.pool
        size = getattr(pool, "size", None)
        overflow = getattr(pool, "overflow", None)
        return {
            "size": size() if callable(size) else 0,
            "checked_out": pool.checkedout() if hasattr(pool, "checkedout") else 0,
            "overflow": max(0, overflow()) if callable(overflow) else 0,
        }

    async def close(self) -> None:
        """Commit what is queued for the writer, then close every connection."""
        await self.writer.close()
        await self.engine.dispose()

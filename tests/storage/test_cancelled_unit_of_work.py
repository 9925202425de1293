"""A unit of work cancelled mid-statement (a task stopped, the server shutting down) leaves no
SQLite write lock behind: the next write goes through instead of "database is locked"."""
from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from sqlalchemy import text

import storage.database
from storage.database import Database, sqlite_url


async def test_a_cancelled_unit_of_work_leaves_no_write_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A short wait for the lock: a lock left behind fails the write instead of waiting for the
    # garbage collector to free it.
    monkeypatch.setattr(storage.database, "BUSY_TIMEOUT_MS", 2000)
    db = Database(sqlite_url(tmp_path))
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        await connection.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")

    async def busy() -> None:
        while True:
            async with db.session(immediate=True) as session:
                for _ in range(5):
                    await session.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
                    await session.execute(text("SELECT n FROM counter"))
            await asyncio.sleep(0)

    async def reset(session) -> int:  # type: ignore[no-untyped-def]
        await session.execute(text("UPDATE counter SET n = 0 WHERE id = 1"))
        return 1

    random.seed(9)
    written = 0
    try:
        for _ in range(60):
            task = asyncio.create_task(busy())
            await asyncio.sleep(random.random() * 0.01)  # cut it anywhere: between or inside statements
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            written += await db.writer.write(reset)
        async with db.session() as session:
            assert await session.scalar(text("SELECT n FROM counter")) == 0
    finally:
        await db.close()
    assert written == 60

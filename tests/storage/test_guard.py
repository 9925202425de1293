"""The guard: no unit of work is held across another unit of work or password hashing."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from school.passwords import hash_password, verify_password
from storage import ConnectionHeld, ensure_free
from storage.database import Database, sqlite_url


@pytest.fixture
async def strict(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(sqlite_url(tmp_path), strict=True)
    yield database
    await database.close()


@pytest.fixture
async def lenient(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(sqlite_url(tmp_path))
    yield database
    await database.close()


async def test_a_unit_of_work_opened_inside_another_is_refused(strict: Database) -> None:
    async with strict.session() as outer:
        await outer.execute(text("SELECT 1"))
        with pytest.raises(ConnectionHeld, match="a unit of work opened inside another"):
            async with strict.session():
                pass
    assert strict.engine.pool.checkedout() == 0


async def test_passwords_are_never_hashed_or_verified_inside_a_unit_of_work(strict: Database) -> None:
    async with strict.session():
        with pytest.raises(ConnectionHeld, match="password hashing"):
            await hash_password("secret-password")
        with pytest.raises(ConnectionHeld, match="password verification"):
            await verify_password(None, "secret-password")


async def test_a_queued_write_is_refused_inside_a_unit_of_work(strict: Database) -> None:
    async def nothing(session: object) -> None:
        return None

    async with strict.session():
        with pytest.raises(ConnectionHeld, match="queued database write"):
            await strict.writer.write(nothing)
    assert strict.writer.queued == 0


async def test_outside_a_unit_of_work_everything_is_allowed(strict: Database) -> None:
    ensure_free("anything")  # no unit of work at all
    async with strict.session() as first:
        await first.execute(text("SELECT 1"))
    password_hash = await hash_password("secret-password")  # after the unit of work ended
    assert await verify_password(password_hash, "secret-password")
    async with strict.session() as second:  # one after another, not nested
        await second.execute(text("SELECT 1"))
    assert await strict.writer.write(_one) == 1


async def _one(session) -> int:  # type: ignore[no-untyped-def]
    return int((await session.execute(text("SELECT 1"))).scalar_one())


async def test_a_task_started_inside_a_unit_of_work_holds_none_of_it(strict: Database) -> None:
    """The mark is the opening task's: another task (a reply sent later, a timer) is free."""
    async with strict.session() as session:
        await session.execute(text("SELECT 1"))
        other = asyncio.create_task(_count_in_own_unit(strict))
    assert await other == 1


async def _count_in_own_unit(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(text("SELECT 1"))).scalar_one())


async def test_a_lenient_database_warns_once_per_offence_and_goes_on(lenient: Database,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="storage.guard")
    for _ in range(3):
        async with lenient.session():
            async with lenient.session() as inner:
                assert (await inner.execute(text("SELECT 1"))).scalar_one() == 1
    warnings = [r for r in caplog.records if r.name == "storage.guard"]
    assert len(warnings) == 1
    assert "a unit of work opened inside another" in warnings[0].getMessage()

"""The writer on a real SQLite file and a real PostgreSQL: grouped commits, durable before
acknowledged, a failing write failing alone, a failing commit failing its group."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import Database, WriterClosed
from tests.storage.tables import CHILDREN, NOTES, PARENTS


def add_note(text: str):  # type: ignore[no-untyped-def]
    async def write(session: AsyncSession) -> int:
        return int((await session.execute(insert(NOTES).values(text=text).returning(NOTES.c.id))).scalar_one())
    return write


async def notes(db: Database) -> set[str]:
    async with db.session() as session:
        return set(await session.scalars(select(NOTES.c.text)))


async def test_concurrent_writes_commit_in_few_groups_each_acknowledged_once_committed(
        db: Database, reader: Database) -> None:
    async def write_then_read_back(n: int) -> None:
        note_id = await db.writer.write(add_note(f"note {n}"))
        # Another engine, another connection: it sees only committed rows.
        async with reader.session() as session:
            assert await session.scalar(select(NOTES.c.text).where(NOTES.c.id == note_id)) == f"note {n}"

    await asyncio.gather(*(write_then_read_back(n) for n in range(200)))
    assert db.writer.writes_committed == 200
    assert 1 <= db.writer.groups_committed <= 20, db.writer.groups_committed
    assert db.writer.queued == 0
    assert len(await notes(reader)) == 200


async def test_a_failing_write_fails_alone(db: Database, reader: Database) -> None:
    async def insert_then_fail(session: AsyncSession) -> None:
        await session.execute(insert(NOTES).values(text="half done"))
        raise ValueError("changed my mind")

    await db.writer.write(add_note("taken"))
    groups_before = db.writer.groups_committed
    writes = [add_note(f"good {n}") for n in range(5)] + [insert_then_fail, add_note("taken")]
    writes += [add_note(f"good {n}") for n in range(5, 10)]
    results = await asyncio.gather(*(db.writer.write(w) for w in writes), return_exceptions=True)

    assert isinstance(results[5], ValueError)
    assert isinstance(results[6], IntegrityError), results[6]  # a database error, rolled back to its savepoint
    good = [r for i, r in enumerate(results) if i not in (5, 6)]
    assert all(isinstance(r, int) for r in good), good
    assert await notes(reader) == {"taken"} | {f"good {n}" for n in range(10)}
    assert db.writer.groups_committed == groups_before + 1, "the failures did not fail the group"


async def test_a_commit_that_fails_fails_its_whole_group_and_the_writer_goes_on(
        db: Database, reader: Database) -> None:
    async def orphan(session: AsyncSession) -> None:
        await session.execute(insert(CHILDREN).values(parent_id=404))  # refused at commit (deferred check)

    async def parent(session: AsyncSession) -> None:
        await session.execute(insert(PARENTS).values(id=1))

    results = await asyncio.gather(db.writer.write(add_note("in the doomed group")), db.writer.write(orphan),
                                   db.writer.write(parent), return_exceptions=True)
    assert all(isinstance(r, IntegrityError) for r in results), results
    assert await notes(reader) == set()
    async with reader.session() as session:
        assert await session.scalar(select(func.count()).select_from(PARENTS)) == 0
    assert isinstance(await db.writer.write(add_note("afterwards")), int)
    assert await notes(reader) == {"afterwards"}


async def test_a_closed_writer_commits_what_was_queued_and_refuses_more(db: Database, reader: Database) -> None:
    pending = [asyncio.ensure_future(db.writer.write(add_note(f"last {n}"))) for n in range(3)]
    await asyncio.sleep(0)  # queued
    await db.writer.close()
    assert all(isinstance(p.result(), int) for p in pending)
    assert await notes(reader) == {"last 0", "last 1", "last 2"}
    with pytest.raises(WriterClosed, match="closed"):
        await db.writer.write(add_note("too late"))

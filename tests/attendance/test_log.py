"""The attendance log on a real SQLite file: durable joins and leaves, grace, crash recovery."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import migrations
from attendance.log import AttendanceLog
from attendance.models import AttendanceEvent, OpenPresence
from storage.database import Database, sqlite_url

JOIN = {"school_id": 1, "lesson_id": 3, "user_id": 5, "role": "student", "via": "browser"}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(sqlite_url(tmp_path), strict=True)
    await migrations.upgrade(database)
    yield database
    await database.close()


async def events(db: Database) -> list[AttendanceEvent]:
    async with db.session() as session:
        return list(await session.scalars(select(AttendanceEvent).order_by(AttendanceEvent.id)))


async def test_a_join_is_on_disk_when_join_returns_and_a_leave_closes_it(db: Database) -> None:
    log = AttendanceLog(db, "n1")
    presence = await log.join(**JOIN)
    other = Database(db.url)  # another connection sees it: committed, not just buffered
    try:
        async with other.session() as session:
            assert (await session.scalar(select(AttendanceEvent.kind).where(
                AttendanceEvent.presence_id == presence.id))) == "join"
    finally:
        await other.close()
    await log.leave(presence, "left")
    await log.leave(presence, "left")  # twice: still one leave
    rows = await events(db)
    assert [(e.kind, e.reason) for e in rows] == [("join", None), ("leave", "left")]
    async with db.session() as session:
        assert (await session.scalars(select(OpenPresence))).all() == []


async def test_a_reconnection_within_the_grace_period_is_one_presence(db: Database) -> None:
    log = AttendanceLog(db, "n1", grace=timedelta(seconds=1))
    first = await log.join(**JOIN)
    await log.leave(first, "disconnected")
    again = await log.join(**JOIN)
    assert again.id == first.id
    await asyncio.sleep(1.3)
    assert [e.kind for e in await events(db)] == ["join"], "no leave: the grace period was met"
    await log.leave(again, "left")
    assert [e.kind for e in await events(db)] == ["join", "leave"]


async def test_a_drop_without_return_is_written_at_the_time_of_the_drop(db: Database) -> None:
    log = AttendanceLog(db, "n1", grace=timedelta(seconds=0.5))
    presence = await log.join(**JOIN)
    await log.leave(presence, "disconnected")
    dropped_at = (await events(db))[0].at
    await asyncio.sleep(1.0)
    leave = (await events(db))[-1]
    assert (leave.kind, leave.reason) == ("leave", "disconnected")
    assert (leave.at - dropped_at).total_seconds() < 0.5, "the leave is the drop, not the end of the grace"


async def test_restart_closes_what_a_crash_left_open_at_last_seen_and_twice_changes_nothing(db: Database) -> None:
    crashed = AttendanceLog(db, "n1", heartbeat=timedelta(seconds=0.2))
    await crashed.start()
    presences = [await crashed.join(**{**JOIN, "user_id": uid}) for uid in (5, 6)]
    await asyncio.sleep(0.7)  # a few heartbeats
    assert crashed._task is not None
    crashed._task.cancel()  # the process dies: no leave is written
    async with db.session() as session:
        last_seen = {row.presence_id: row.last_seen_at for row in await session.scalars(select(OpenPresence))}

    restarted = AttendanceLog(db, "n1")
    assert await restarted.recover() == 2
    assert await AttendanceLog(db, "n1").recover() == 0, "a second restart finds nothing open"
    leaves = [e for e in await events(db) if e.kind == "leave"]
    assert sorted(e.presence_id for e in leaves) == sorted(p.id for p in presences)
    for leave in leaves:
        assert leave.reason == "server_restart"
        assert leave.at == last_seen[leave.presence_id]
    joins = [e for e in await events(db) if e.kind == "join"]
    assert all(last_seen[j.presence_id] > j.at for j in joins), "the heartbeat moved last-seen on"


async def test_bad_reasons_and_ways_in_are_refused(db: Database) -> None:
    log = AttendanceLog(db, "n1")
    with pytest.raises(ValueError):
        await log.join(**{**JOIN, "via": "carrier-pigeon"})
    presence = await log.join(**JOIN)
    with pytest.raises(ValueError):
        await log.leave(presence, "bored")
    assert [e.kind for e in await events(db)] == ["join"], "nothing half-written"


async def test_a_class_arriving_and_leaving_at_once_is_written_in_a_few_grouped_commits(db: Database) -> None:
    """Forty joins at once: each returns only once its row is committed (another engine sees it),
    and the writer commits them in a few transactions, not forty."""
    log = AttendanceLog(db, "n1")
    other = Database(db.url)

    async def arrive(user_id: int) -> str:
        presence = await log.join(**{**JOIN, "user_id": user_id})
        async with other.session() as session:
            assert await session.scalar(select(OpenPresence.user_id).where(
                OpenPresence.presence_id == presence.id)) == user_id
        return presence.id

    try:
        groups = db.writer.groups_committed
        ids = await asyncio.gather(*(arrive(user_id) for user_id in range(100, 140)))
        assert len(set(ids)) == 40
        assert db.writer.groups_committed - groups <= 10, db.writer.groups_committed - groups
        presences = list(log._attached.values())
        await asyncio.gather(*(log.leave(p, "lesson_ended") for p in presences))
    finally:
        await other.close()
    rows = await events(db)
    assert sorted(e.kind for e in rows) == ["join"] * 40 + ["leave"] * 40
    async with db.session() as session:
        assert (await session.scalars(select(OpenPresence))).all() == []


async def test_close_writes_every_leave_before_the_writer_stops(db: Database) -> None:
    log = AttendanceLog(db, "n1", heartbeat=timedelta(seconds=0.1))
    await log.start()
    presences = await asyncio.gather(*(log.join(**{**JOIN, "user_id": uid}) for uid in (7, 8, 9)))
    await asyncio.sleep(0.3)  # heartbeats through the writer
    await log.close()
    await db.writer.close()
    leaves = [e for e in await events(db) if e.kind == "leave"]
    assert sorted(e.presence_id for e in leaves) == sorted(p.id for p in presences)
    assert {e.reason for e in leaves} == {"server_restart"}

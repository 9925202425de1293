"""Writing the attendance log: every join and leave durable before it is acknowledged, a
heartbeat of who is still here, a grace period for network drops, and recovery after a crash.

Joins, leaves and heartbeats go through the process's writer (`storage.Writer`): a class that
arrives at once is committed in a few grouped transactions, each write acknowledged only once
its group is on disk."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.models import AttendanceEvent, OpenPresence
from storage.database import Database
from storage.writer import Writer

log = logging.getLogger(__name__)

GRACE = timedelta(seconds=15)
"""A drop that reconnects within this long is one continuous presence."""
HEARTBEAT = timedelta(seconds=5)
STALE = timedelta(seconds=30)
"""Another node's presence unseen this long is closed by whoever notices (that node is gone)."""
REASONS = ("left", "disconnected", "removed", "lesson_ended", "server_restart", "replaced", "moved")
VIAS = ("browser", "whip", "whep")


@dataclass(frozen=True)
class Presence:
    id: str
    school_id: int
    lesson_id: int
    user_id: int
    role: str
    via: str
    room: str


@dataclass
class _Detached:
    presence: Presence
    since: datetime
    timer: asyncio.TimerHandle | None = None


def now_utc() -> datetime:
    return datetime.now(UTC)


class AttendanceLog:
    def __init__(self, db: Database, node_id: str, *, grace: timedelta = GRACE, heartbeat: timedelta = HEARTBEAT,
                 writer: Writer | None = None) -> None:
        self.db = db
        self.writer = writer or db.writer
        """Where joins, leaves and heartbeats are written (the database's own writer by default)."""
        self.node_id = node_id
        self.grace = grace
        self.heartbeat = heartbeat
        self._attached: dict[str, Presence] = {}
        self._detached: dict[tuple[int, int, str, str], _Detached] = {}
        self._task: asyncio.Task[None] | None = None
        self._finishing: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Close what a crash left open, then keep the heartbeat. Returns how many were closed."""
        closed = await self.recover()
        self._task = asyncio.create_task(self._beat())
        return closed

    async def recover(self) -> int:
        """Every presence this node left open (it crashed), and every other node's that went stale,
        ends at its last-seen time with reason server_restart. Idempotent: a closed presence has no
        open row, so a second restart finds nothing to close."""
        cutoff = now_utc() - STALE
        async with self.db.session(immediate=True) as session:
            rows = (await session.scalars(select(OpenPresence).where(
                (OpenPresence.node_id == self.node_id) | (OpenPresence.last_seen_at < cutoff)))).all()
            for row in rows:
                join = await session.scalar(select(AttendanceEvent).where(
                    AttendanceEvent.presence_id == row.presence_id, AttendanceEvent.kind == "join"))
                if join is not None:
                    session.add(_leave_event(join, "server_restart", max(row.last_seen_at, join.at), self.node_id))
                await session.delete(row)
        if rows:
            log.info("attendance: closed %d presences left open by a crash", len(rows))
        return len(rows)

    async def join(self, *, school_id: int, lesson_id: int, user_id: int, role: str, via: str,
                   room: str = "main") -> Presence:
        """Record a join (committed before this returns), or resume a presence still in its grace period."""
        if via not in VIAS:
            raise ValueError(f"via must be one of {VIAS}")
        key = (lesson_id, user_id, via, room)
        detached = self._detached.pop(key, None)
        if detached is not None:
            if detached.timer is not None:
                detached.timer.cancel()
            await self.writer.write(_mark(detached.presence.id, connected=True, at=now_utc()))
            self._attached[detached.presence.id] = detached.presence
            return detached.presence
        presence = Presence(str(uuid.uuid4()), school_id, lesson_id, user_id, role, via, room)
        at = now_utc()
        node_id = self.node_id

        async def record(session: AsyncSession) -> None:
            session.add(AttendanceEvent(presence_id=presence.id, school_id=school_id, lesson_id=lesson_id,
                                        user_id=user_id, role=role, via=via, room=room, kind="join", reason=None,
                                        at=at, node_id=node_id))
            session.add(OpenPresence(presence_id=presence.id, lesson_id=lesson_id, user_id=user_id,
                                     node_id=node_id, last_seen_at=at, connected=True))
            await session.flush()

        await self.writer.write(record)
        self._attached[presence.id] = presence
        return presence

    async def leave(self, presence: Presence, reason: str, at: datetime | None = None) -> None:
        """Record a leave now. A `disconnected` leave waits out the grace period first and, if the
        participant does not come back, is written at the time of the drop."""
        if reason not in REASONS:
            raise ValueError(f"reason must be one of {REASONS}")
        at = at or now_utc()
        if self._attached.pop(presence.id, None) is None:
            return  # already left
        if reason == "disconnected" and self.grace > timedelta(0):
            key = (presence.lesson_id, presence.user_id, presence.via, presence.room)
            detached = _Detached(presence, at)
            self._detached[key] = detached
            await self.writer.write(_mark(presence.id, connected=False, at=at))
            detached.timer = asyncio.get_running_loop().call_later(
                self.grace.total_seconds(), self._grace_over, key, detached)
            return
        await self._write_leave(presence, reason, at)

    def _grace_over(self, key: tuple[int, int, str, str], detached: _Detached) -> None:
        if self._detached.get(key) is detached:
            del self._detached[key]
            task = asyncio.ensure_future(self._write_leave(detached.presence, "disconnected", detached.since))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)

    async def _write_leave(self, presence: Presence, reason: str, at: datetime) -> None:
        node_id = self.node_id

        async def record(session: AsyncSession) -> None:
            open_row = await session.get(OpenPresence, presence.id)
            if open_row is None:
                return  # closed by recovery elsewhere: never twice
            session.add(AttendanceEvent(presence_id=presence.id, school_id=presence.school_id,
                                        lesson_id=presence.lesson_id, user_id=presence.user_id, role=presence.role,
                                        via=presence.via, room=presence.room, kind="leave", reason=reason, at=at,
                                        node_id=node_id))
            await session.delete(open_row)
            await session.flush()

        await self.writer.write(record)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat.total_seconds())
            try:
                ids = list(self._attached)
                if ids:
                    await self.writer.write(_seen(ids, now_utc()))
                stale = now_utc() - STALE
                async with self.db.session() as session:  # a read: it never waits on the writer
                    others = (await session.scalars(select(OpenPresence.presence_id).where(
                        OpenPresence.node_id != self.node_id, OpenPresence.last_seen_at < stale))).all()
                if others:
                    await self.recover()
            except asyncio.CancelledError:
                raise
            except Exception:  # the heartbeat must outlive a database hiccup
                log.exception("attendance heartbeat failed")

    async def close(self) -> None:
        """Graceful stop: presences in their grace period end at their drop, the rest now, as server_restart."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for detached in list(self._detached.values()):
            if detached.timer is not None:
                detached.timer.cancel()
            await self._write_leave(detached.presence, "disconnected", detached.since)
        self._detached.clear()
        for presence in list(self._attached.values()):
            await self._write_leave(presence, "server_restart", now_utc())
        self._attached.clear()
        for task in list(self._finishing):
            with contextlib.suppress(Exception):
                await task


def _leave_event(join: AttendanceEvent, reason: str, at: datetime, node_id: str) -> AttendanceEvent:
    return AttendanceEvent(presence_id=join.presence_id, school_id=join.school_id, lesson_id=join.lesson_id,
                           user_id=join.user_id, role=join.role, via=join.via, room=join.room, kind="leave",
                           reason=reason, at=at, node_id=node_id)


def _mark(presence_id: str, *, connected: bool, at: datetime) -> Callable[[AsyncSession], Awaitable[None]]:
    async def write(session: AsyncSession) -> None:
        await session.execute(update(OpenPresence).where(OpenPresence.presence_id == presence_id)
                              .values(connected=connected, last_seen_at=at))
    return write


def _seen(presence_ids: list[str], at: datetime) -> Callable[[AsyncSession], Awaitable[None]]:
    async def write(session: AsyncSession) -> None:
        await session.execute(update(OpenPresence).where(OpenPresence.presence_id.in_(presence_ids))
                              .values(last_seen_at=at))
    return write

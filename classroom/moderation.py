"""The lesson's moderation records: students removed from a lesson (a ban their next join must get
past: the waiting room), and the lesson's end: when its room closes (the scheduled end plus the
school's grace, or the teacher's extension) and when it was ended. Durable writes go through the
process's writer; reads are short."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from school.models import Lesson, School
from storage.database import Base
from storage.types import UTCDateTime
from storage.writer import Writer

DEFAULT_GRACE = timedelta(minutes=15)
EXTEND_MIN, EXTEND_MAX = 5, 120
"""Minutes a teacher may extend the lesson's room by, at a time."""


class LessonBan(Base):
    """A student the teacher removed from a lesson: their next join waits for the teacher, who may
    admit them (which lifts the ban)."""

    __tablename__ = "lesson_bans"
    lesson_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def closes_at(lesson: Lesson, grace_minutes: int | None) -> datetime:
    """When the lesson's room closes: the teacher's extension, else the end plus the school's grace."""
    if lesson.closes_at is not None:
        return lesson.closes_at
    grace = DEFAULT_GRACE if grace_minutes is None else timedelta(minutes=grace_minutes)
    return lesson.ends_at + grace


async def grace_minutes(session: AsyncSession, school_id: int) -> int:
    value = await session.scalar(select(School.lesson_grace_minutes).where(School.id == school_id))
    return int(value) if value is not None else int(DEFAULT_GRACE.total_seconds() // 60)


async def lesson_closes_at(session: AsyncSession, lesson: Lesson) -> datetime:
    return closes_at(lesson, await grace_minutes(session, lesson.school_id))


async def is_banned(session: AsyncSession, lesson_id: int, user_id: int) -> bool:
    ban = await session.get(LessonBan, (lesson_id, user_id))
    return ban is not None and ban.lifted_at is None


async def ban(writer: Writer, *, lesson_id: int, user_id: int, by_id: int | None, at: datetime) -> None:
    """Ban the student from the lesson (again); durable when this returns."""

    async def write(session: AsyncSession) -> None:
        row = await session.get(LessonBan, (lesson_id, user_id))
        if row is None:
            session.add(LessonBan(lesson_id=lesson_id, user_id=user_id, by_id=by_id, at=at))
        else:
            row.by_id, row.at, row.lifted_at = by_id, at, None
        await session.flush()

    await writer.write(write)


async def lift(writer: Writer, *, lesson_id: int, user_id: int, at: datetime) -> bool:
    """Lift the student's ban, if any; durable when this returns. True if one was lifted."""

    async def write(session: AsyncSession) -> bool:
        row = await session.get(LessonBan, (lesson_id, user_id))
        if row is None or row.lifted_at is not None:
            return False
        row.lifted_at = at
        await session.flush()
        return True

    return bool(await writer.write(write))


async def mark_ended(writer: Writer, lesson_id: int, at: datetime) -> datetime:
    """Set the lesson's ended_at (the first end stands); returns it. Durable when this returns."""

    async def write(session: AsyncSession) -> datetime:
        lesson = await session.get(Lesson, lesson_id)
        assert lesson is not None
        if lesson.ended_at is None:
            lesson.ended_at = at
            await session.flush()
        return lesson.ended_at

    return await writer.write(write)


class LessonAlreadyEnded(Exception):
    """The lesson was ended: its room cannot be extended."""


async def extend(writer: Writer, lesson_id: int, current: datetime, minutes: int) -> datetime:
    """Move the room's close `minutes` later than `current` (what the room closes at now); durable
    when this returns. Returns the new close time; LessonAlreadyEnded if the lesson has ended."""
    if not EXTEND_MIN <= minutes <= EXTEND_MAX:
        raise ValueError(f"minutes must be {EXTEND_MIN} to {EXTEND_MAX}")

    async def write(session: AsyncSession) -> datetime:
        lesson = await session.get(Lesson, lesson_id)
        assert lesson is not None
        if lesson.ended_at is not None:
            raise LessonAlreadyEnded(f"lesson {lesson_id} has ended")
        lesson.closes_at = current + timedelta(minutes=minutes)
        await session.flush()
        return lesson.closes_at

    return await writer.write(write)


async def lesson_times(session: AsyncSession, school_id: int,
                       lesson_ids: list[int]) -> dict[int, tuple[datetime, datetime | None, datetime]]:
    """Per lesson: (starts_at, ended_at, closes_at)."""
    if not lesson_ids:
        return {}
    grace = await grace_minutes(session, school_id)
    lessons = await session.scalars(select(Lesson).where(Lesson.id.in_(lesson_ids)))
    return {lesson.id: (lesson.starts_at, lesson.ended_at, closes_at(lesson, grace)) for lesson in lessons}

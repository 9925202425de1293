"""Raised hands, the floor given and reactions, as the lesson's activity log keeps them
(classroom/activity.py): several entries of one step written together, and counts per student."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from classroom.activity import KINDS, LessonActivity
from storage.writer import Writer

REACTIONS = ("understood", "confused", "thumbs_up")


async def record_steps(writer: Writer, *, school_id: int, lesson_id: int, user_ids: Sequence[int], kind: str,
                       at: datetime, detail: str | None = None, by_id: int | None = None) -> None:
    """One entry per user, all in one write (durable when this returns)."""
    if kind not in KINDS:
        raise ValueError(f"unknown activity kind {kind!r}")
    rows = [LessonActivity(school_id=school_id, lesson_id=lesson_id, user_id=user_id, kind=kind, detail=detail,
                           by_id=by_id, at=at) for user_id in user_ids]

    async def add(session: AsyncSession) -> None:
        session.add_all(rows)

    if rows:
        await writer.write(add)


async def counts_by_user(session: AsyncSession, lesson_id: int, kind: str) -> dict[int, int]:
    """How many entries of this kind each user has in the lesson (e.g. hands raised, reactions)."""
    rows = await session.execute(
        select(LessonActivity.user_id, func.count()).where(LessonActivity.lesson_id == lesson_id,
                                                           LessonActivity.kind == kind)
        .group_by(LessonActivity.user_id))
    return {user_id: count for user_id, count in rows if user_id is not None}

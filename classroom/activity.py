"""The lesson's activity log: hands raised and lowered, the floor given, reactions, and every
moderation step (who was muted, removed, admitted; the room locked; the lesson extended or ended),
with who did it and when. Append-only, plain ids (no foreign keys), like the attendance log."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Base
from storage.types import UTCDateTime
from storage.writer import Writer

KINDS = frozenset({"hand_raised", "hand_lowered", "floor_given", "reaction", "chat_blocked", "chat_unblocked",
                   "removed", "admitted", "denied", "muted_all", "cameras_off", "locked", "unlocked", "extended",
                   "ended"})


class LessonActivity(Base):
    __tablename__ = "lesson_activity"
    __table_args__ = (Index("ix_lesson_activity_lesson_at", "lesson_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Whom it concerns (None: the whole lesson, e.g. locked)."""
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Who did it (None: the user themselves, or the server)."""
    at: Mapped[datetime] = mapped_column(UTCDateTime)


async def record_activity(writer: Writer, *, school_id: int, lesson_id: int, user_id: int | None, kind: str,
                          detail: str | None = None, by_id: int | None = None,
                          at: datetime | None = None) -> None:
    """Append one entry; durable when this returns."""
    if kind not in KINDS:
        raise ValueError(f"unknown activity kind {kind!r}")
    row = LessonActivity(school_id=school_id, lesson_id=lesson_id, user_id=user_id, kind=kind,
                         detail=detail[:200] if detail else None, by_id=by_id, at=at or datetime.now(UTC))

    async def add(session: AsyncSession) -> None:
        session.add(row)

    await writer.write(add)

"""Tables of the timetable: the school's periods (tiết), weekly series of lessons, the notices of a
lesson's changes (moved, cancelled, a substitute, a make-up) and teachers' requests for changes."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Base
from storage.types import UTCDateTime, utcnow


class Period(Base):
    """Tiết: a numbered slot of the school day, in the school's local time ("07:00")."""

    __tablename__ = "periods"
    __table_args__ = (
        UniqueConstraint("school_id", "number"),
        CheckConstraint("number BETWEEN 1 AND 10", name="number_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    session: Mapped[str] = mapped_column(String(16))
    """morning or afternoon (buổi sáng / buổi chiều)."""
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str] = mapped_column(String(5))


class LessonSeries(Base):
    """A weekly lesson of a class over a range of dates: its lessons carry the series' id."""

    __tablename__ = "lesson_series"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    school_year_id: Mapped[int] = mapped_column(ForeignKey("school_years.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    weekday: Mapped[int] = mapped_column(Integer)
    """1 = Monday ... 7 = Sunday."""
    period_from: Mapped[int] = mapped_column(Integer)
    period_to: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonChange(Base):
    """A notice of a change to one lesson, shown to its class and the teachers concerned."""

    __tablename__ = "lesson_changes"
    __table_args__ = (Index("ix_lesson_changes_lesson", "lesson_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    """move, cancel, substitute or makeup."""
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON of what it was (times, teacher)."""
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChangeRequest(Base):
    """A teacher's request to move, cancel or hand over one of their lessons; an admin decides."""

    __tablename__ = "lesson_change_requests"
    __table_args__ = (Index("ix_lesson_change_requests_school_status", "school_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    """move, cancel or substitute."""
    note: Mapped[str] = mapped_column(String(500), default="")
    proposed: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON of the proposed change (a new time, a substitute teacher)."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending, approved or refused."""
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

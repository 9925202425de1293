"""Tables of assignments (bài tập): what a teacher sets a class, what each student hands in (nộp bài),
and the files of both. Scores are on the school's 10-point scale."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false as sa_false

from storage.database import Base
from storage.types import UTCDateTime, utcnow

LATE_POLICIES = ("accept", "penalty", "refuse")
"""accept: late work is taken and marked late; penalty: taken, its score reduced by
late_penalty_percent; refuse: nothing is taken after the due time."""


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_class_subject", "class_id", "subject_id"),
        CheckConstraint("due_at > opens_at", name="times_ordered"),
        CheckConstraint("late_penalty_percent BETWEEN 0 AND 100", name="penalty_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    """Plain text as the teacher typed it."""
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """Students see it (when published) and may hand in from this time."""
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """Hạn nộp: work handed in later is late (see late_policy)."""
    late_policy: Mapped[str] = mapped_column(String(8), default="accept")
    late_penalty_percent: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssignmentFile(Base):
    """An attachment of the teacher's (worksheet, reading) given with the assignment."""

    __tablename__ = "assignment_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    file_key: Mapped[str] = mapped_column(String(200))
    """Where the bytes are kept (a name under the data directory's assignments/ folder)."""
    file_name: Mapped[str] = mapped_column(String(200))
    """As the uploader's computer named it (plain text)."""
    mime: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(Base):
    """One student's work for one assignment (the latest they handed in)."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "student_id"),
        CheckConstraint("score10 IS NULL OR (score10 >= 0 AND score10 <= 10)", name="score_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """Nộp muộn: handed in after the due time."""
    score10: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The grade on the 10-point scale, after any late penalty; None until graded."""
    raw_score10: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The teacher's mark before a late penalty."""
    comment: Mapped[str] = mapped_column(Text, default="")
    """Nhận xét: the teacher's comment (plain text)."""
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class SubmissionFile(Base):
    __tablename__ = "submission_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    file_key: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Online tests (bài kiểm tra trực tuyến): question banks per subject, tests drawn from them, each
student's attempts with their answers (saved one by one, durable before acknowledged) and the
integrity events of an attempt (leaving the page, pasting, a second device)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false as sa_false

from storage.database import Base
from storage.types import UTCDateTime, utcnow

KINDS = ("single", "multiple", "true_false", "short", "number", "essay")
OBJECTIVE_KINDS = frozenset({"single", "multiple", "true_false", "short", "number"})


class QuestionBank(Base):
    """Ngân hàng câu hỏi: a subject's questions, kept by a teacher of the school."""

    __tablename__ = "question_banks"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Question(Base):
    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """single, multiple, true_false, short, number or essay."""
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    correct: Mapped[Any] = mapped_column(JSON, nullable=True)
    """Sorted option indexes (choice kinds), a text (short), a number; None for an essay."""
    points: Mapped[float] = mapped_column(Float, default=1.0)
    image: Mapped[bytes | None] = mapped_column(nullable=True)
    image_mime: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OnlineTest(Base):
    __tablename__ = "online_tests"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_limit_minutes: Mapped[int] = mapped_column(Integer)
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=1)
    results_published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    camera_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="SET NULL"), nullable=True)
    question_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    """Questions listed by the teacher (every student gets them all)."""
    draws: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    """[{"bank_id": .., "count": ..}]: each attempt draws that many questions of the bank."""
    shuffle: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TestAttempt(Base):
    __tablename__ = "test_attempts"
    __table_args__ = (UniqueConstraint("test_id", "student_id", "number"),
                      Index("ix_test_attempts_status_deadline", "status", "deadline_at"))
    __test__ = False  # not a pytest class
    id: Mapped[int] = mapped_column(primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("online_tests.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    """in_progress, submitted (an essay waits for its grade) or graded."""
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_points: Mapped[float] = mapped_column(Float)
    score10: Mapped[float | None] = mapped_column(Float, nullable=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """The attempt's paper, in the order the student sees it: [{"q": question id, "o": option
    order (the shown option i is the question's option o[i])}]."""
    device: Mapped[str] = mapped_column(String(64))
    """The session (token digest) that started the attempt: another one using it is a second device."""
    submitted_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """student, or server (its time ran out)."""


class AttemptAnswer(Base):
    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("test_attempts.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(Integer)
    answer: Mapped[Any] = mapped_column(JSON)
    """Option indexes of the question (not as shown), a text or a number."""
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    graded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AttemptEvent(Base):
    """The integrity log of an attempt: blur, hidden, paste, second_device, started, submitted."""

    __tablename__ = "attempt_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("test_attempts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(String(200), default="")
    device: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

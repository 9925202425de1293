"""The lesson's questions (Q&A): students ask, classmates vote, the teacher answers (in writing or
aloud), marks them done, hides or reopens them. Their records, the rules of who sees what, and
their export rows. Text a user typed is kept as plain text."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from school.models import User
from storage.database import Base
from storage.types import UTCDateTime

QUESTION_MAX = 500
ANSWER_MAX = 2000
STATUSES = ("open", "answered", "done", "hidden")
ASK_LIMIT = 3
ASK_WINDOW_S = 30.0
"""A user may ask this many questions in this many seconds."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class LessonQuestion(Base):
    __tablename__ = "lesson_questions"
    __table_args__ = (Index("ix_lesson_questions_lesson", "lesson_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(QUESTION_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    answer_text: Mapped[str | None] = mapped_column(String(ANSWER_MAX), nullable=True)
    answered_live: Mapped[bool] = mapped_column(Boolean, default=False)
    """The teacher answered it aloud, in the lesson."""
    answered_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LessonQuestionVote(Base):
    __tablename__ = "lesson_question_votes"
    question_id: Mapped[int] = mapped_column(ForeignKey("lesson_questions.id", ondelete="CASCADE"),
                                             primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass
class Question:
    """A question as the lesson keeps it (live, or read back from the records)."""

    id: int
    author_id: int
    author_name: str
    text: str
    at: datetime
    status: str = "open"
    answer: str | None = None
    answered_live: bool = False
    answered_by: int | None = None
    answered_at: datetime | None = None
    voters: set[int] = field(default_factory=set)

    def visible_to(self, user_id: int, staff: bool) -> bool:
        """Hidden questions reach only staff and their author."""
        return self.status != "hidden" or staff or self.author_id == user_id

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "author_id": self.author_id, "author_name": self.author_name, "text": self.text,
                "at": self.at.isoformat(), "votes": len(self.voters), "status": self.status, "answer": self.answer,
                "answered_live": self.answered_live}


def plain_text(text: str) -> str:
    """What a user typed, as kept: control characters (but newlines and tabs) dropped, trimmed."""
    return _CONTROL.sub("", text).strip()


# --- records ------------------------------------------------------------------------------------
async def lesson_questions(session: AsyncSession, lesson_id: int) -> list[Question]:
    """Every question of the lesson, oldest first, with its voters and its author's name."""
    rows = (await session.execute(
        select(LessonQuestion, User.full_name).outerjoin(User, User.id == LessonQuestion.author_id)
        .where(LessonQuestion.lesson_id == lesson_id).order_by(LessonQuestion.id))).all()
    questions = {row.id: Question(row.id, row.author_id, name or "", row.text, row.created_at, row.status,
                                  row.answer_text, row.answered_live, row.answered_by, row.answered_at)
                 for row, name in rows}
    if questions:
        votes = await session.execute(
            select(LessonQuestionVote.question_id, LessonQuestionVote.user_id)
            .join(LessonQuestion, LessonQuestion.id == LessonQuestionVote.question_id)
            .where(LessonQuestion.lesson_id == lesson_id))
        for question_id, user_id in votes:
            questions[question_id].voters.add(user_id)
    return list(questions.values())


async def add_question(session: AsyncSession, *, school_id: int, lesson_id: int, author_id: int, text: str,
                       at: datetime) -> int:
    """A new open question; its id."""
    row = LessonQuestion(school_id=school_id, lesson_id=lesson_id, author_id=author_id, text=text, created_at=at,
                         status="open", answered_live=False)
    session.add(row)
    await session.flush()
    return row.id


async def set_vote(session: AsyncSession, question_id: int, user_id: int, vote: bool, at: datetime) -> None:
    """The user's vote on the question, on or off (once per user)."""
    existing = await session.get(LessonQuestionVote, (question_id, user_id))
    if vote and existing is None:
        session.add(LessonQuestionVote(question_id=question_id, user_id=user_id, at=at))
    elif not vote and existing is not None:
        await session.delete(existing)


async def save_state(session: AsyncSession, question: Question) -> None:
    """The question's status and answer as `question` holds them."""
    row = await session.get(LessonQuestion, question.id)
    if row is None:
        raise LookupError(f"question {question.id} is not recorded")
    row.status = question.status
    row.answer_text = question.answer
    row.answered_live = question.answered_live
    row.answered_by = question.answered_by
    row.answered_at = question.answered_at


# --- exports ------------------------------------------------------------------------------------
EXPORT_HEADER = ["id", "at", "author_id", "author", "text", "votes", "status", "answer", "answered_live"]


def export_rows(questions: list[Question]) -> list[list[object]]:
    return [[q.id, q.at.isoformat(), q.author_id, q.author_name, q.text, len(q.voters), q.status, q.answer or "",
             q.answered_live] for q in questions]

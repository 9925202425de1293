"""How each student took part in a lesson: time speaking and on camera (sampled by the live lesson,
kept in `lesson_participation`), and what the other features' records count: chat messages,
questions, hands raised, reactions, poll answers and quiz score. Nothing is cleared after the
lesson: the report reads the database, joined by the caller with the time present from the
attendance log."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Integer, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from classroom.activity import LessonActivity
from classroom.chat import ChatMessage
from classroom.polls import Poll, PollAnswer
from classroom.questions import LessonQuestion
from storage.database import Base
from storage.types import UTCDateTime
from storage.writer import Writer

REACTIONS = ("understood", "confused", "thumbs_up")



class LessonParticipation(Base):
    __tablename__ = "lesson_participation"
    lesson_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    speaking_ms: Mapped[int] = mapped_column(Integer, default=0)
    """Time their microphone was heard above the voice threshold."""
    camera_ms: Mapped[int] = mapped_column(Integer, default=0)
    """Time their camera was on (published and not paused)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Times:
    speaking_ms: int = 0
    camera_ms: int = 0


async def add_times(writer: Writer, *, school_id: int, lesson_id: int, times: Mapping[int, Times]) -> None:
    """Add these increments to each user's totals (a row is made on the first); durable when this
    returns."""
    increments = {uid: t for uid, t in times.items() if t.speaking_ms > 0 or t.camera_ms > 0}
    if not increments:
        return
    now = datetime.now(UTC)

    async def upsert(session: AsyncSession) -> None:
        table = LessonParticipation.__table__
        for user_id, t in increments.items():
            done = await session.execute(
                update(table).where(table.c.lesson_id == lesson_id, table.c.user_id == user_id)
                .values(speaking_ms=table.c.speaking_ms + t.speaking_ms, camera_ms=table.c.camera_ms + t.camera_ms,
                        updated_at=now))
            if done.rowcount == 0:  # type: ignore[attr-defined]
                await session.execute(insert(table).values(
                    lesson_id=lesson_id, user_id=user_id, school_id=school_id, speaking_ms=t.speaking_ms,
                    camera_ms=t.camera_ms, updated_at=now))

    await writer.write(upsert)


@dataclass
class Participation:
    """One student's part in one lesson."""

    user_id: int
    full_name: str
    present_s: int = 0
    speaking_s: int = 0
    camera_s: int = 0
    messages: int = 0
    questions: int = 0
    hands: int = 0
    reactions: int = 0
    poll_answers: int = 0
    quiz_score: float = 0.0
    quiz_max: float = 0.0


async def lesson_participation(session: AsyncSession, lesson_id: int, roster: Sequence[tuple[int, str]],
                               present_s: Mapping[int, int], *, published_quizzes_only: bool) -> list[Participation]:
    """One row per student of `roster` (user id, full name), in its order, those who never came
    included (zeros). `published_quizzes_only`: a student's own view counts only the quizzes whose
    results were published."""
    ids = [uid for uid, _ in roster]
    rows = {uid: Participation(uid, name, present_s=int(present_s.get(uid, 0))) for uid, name in roster}
    if not ids:
        return []
    for part in await session.scalars(select(LessonParticipation).where(
            LessonParticipation.lesson_id == lesson_id, LessonParticipation.user_id.in_(ids))):
        rows[part.user_id].speaking_s = round(part.speaking_ms / 1000)
        rows[part.user_id].camera_s = round(part.camera_ms / 1000)
    for uid, n in await _counted(session, ChatMessage.sender_id, ChatMessage.lesson_id == lesson_id,
                                 ChatMessage.deleted_at.is_(None), ids=ids):
        rows[uid].messages = n
    for uid, n in await _counted(session, LessonQuestion.author_id, LessonQuestion.lesson_id == lesson_id,
                                 LessonQuestion.status != "hidden", ids=ids):
        rows[uid].questions = n
    for uid, n in await _counted(session, LessonActivity.user_id, LessonActivity.lesson_id == lesson_id,
                                 LessonActivity.kind == "hand_raised", ids=ids):
        rows[uid].hands = n
    for uid, n in await _counted(session, LessonActivity.user_id, LessonActivity.lesson_id == lesson_id,
                                 LessonActivity.kind == "reaction", LessonActivity.detail.in_(REACTIONS), ids=ids):
        rows[uid].reactions = n
    polls = {pid: (correct is not None, float(points or 0.0), status, bool(published))
             for pid, correct, points, status, published in await session.execute(
                 select(Poll.id, Poll.correct, Poll.points, Poll.status, Poll.published)
                 .where(Poll.lesson_id == lesson_id))}
    # A quiz is a poll with a correct answer (read in Python: a JSON null is not an SQL NULL);
    # a student's own view counts only those whose results were published.
    counted = {pid for pid, (quiz, _points, status, published) in polls.items()
               if quiz and status != "draft" and (published or not published_quizzes_only)}
    quiz_max = sum(polls[pid][1] for pid in counted)
    if polls:
        for uid, poll_id, score in await session.execute(
                select(PollAnswer.user_id, PollAnswer.poll_id, PollAnswer.score)
                .where(PollAnswer.poll_id.in_(list(polls)), PollAnswer.user_id.in_(ids))):
            rows[uid].poll_answers += 1
            if poll_id in counted:
                rows[uid].quiz_score += float(score or 0.0)
    for row in rows.values():
        row.quiz_score = round(row.quiz_score, 2)
        row.quiz_max = round(quiz_max, 2)
    return [rows[uid] for uid in ids]


async def _counted(session: AsyncSession, who: object, *where: object, ids: Iterable[int]) -> list[tuple[int, int]]:
    column = who  # a mapped column: user id of the row's author
    result = await session.execute(select(column, func.count()).where(
        and_(*where), column.in_(list(ids))).group_by(column))  # type: ignore[attr-defined]
    return [(int(uid), int(n)) for uid, n in result]


HEADER = ["STT", "Họ và tên", "Thời gian có mặt (phút)", "Thời gian phát biểu (phút)", "Thời gian bật camera (phút)",
          "Tin nhắn", "Câu hỏi", "Giơ tay", "Cảm nhận", "Trả lời thăm dò", "Điểm kiểm tra nhanh",
          "Điểm tối đa"]


def export_rows(rows: Sequence[Participation]) -> tuple[list[str], list[list[object]]]:
    """The report as a table with Vietnamese headers (minutes to one decimal)."""
    def minutes(seconds: int) -> float:
        return round(seconds / 60, 1)

    return HEADER, [[n, r.full_name, minutes(r.present_s), minutes(r.speaking_s), minutes(r.camera_s), r.messages,
                     r.questions, r.hands, r.reactions, r.poll_answers, r.quiz_score, r.quiz_max]
                    for n, r in enumerate(rows, 1)]

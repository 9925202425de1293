"""Who may enter a lesson's room, and as what: the lesson's teacher, the class's students, and the
school's administrators as observers. Checked against the database on every join."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from school import errors as school_errors
from school.accounts import active_user
from school.models import ClassStudent, Lesson, Role, SchoolClass, User
from school.tokens import TokenClaims, TokenSigner
from classroom import moderation as records
from signaling.errors import Forbidden, LessonEnded, NotAuthenticated, NotFound

MEDIA_TOKEN_PURPOSE = "media"
MEDIA_TOKEN_TTL = timedelta(minutes=2)
OPENS_BEFORE = timedelta(minutes=15)
"""Students may enter this long before the lesson starts (and until its room closes)."""


@dataclass(frozen=True)
class LessonInfo:
    id: int
    school_id: int
    title: str
    class_id: int
    class_name: str
    teacher_id: int
    starts_at: datetime
    ends_at: datetime
    subject_id: int = 0
    school_year_id: int | None = None
    recording_mode: str = "auto"
    record_students: bool = False
    student_ids: frozenset[int] = frozenset()
    """The class's students (who may be put in breakout groups)."""
    closes_at: datetime | None = None
    """When the room closes: the teacher's extension, else ends_at plus the school's grace
    (None: at ends_at)."""


@dataclass(frozen=True)
class Admission:
    user_id: int
    full_name: str
    role: str
    """In the lesson: teacher, student or observer."""
    lesson: LessonInfo
    banned: bool = False
    """A student the teacher removed from this lesson: their join waits for the teacher."""


def room_open(role: str, starts_at: datetime, ended_at: datetime | None, closes_at: datetime,
              now: datetime) -> bool:
    """Whether someone in this role (teacher, observer, student) may enter the lesson's room now:
    until it closes and unless the lesson was ended; students from 15 minutes before the start."""
    if ended_at is not None or now >= closes_at:
        return False
    return role != "student" or now >= starts_at - OPENS_BEFORE


def verify_token(signer: TokenSigner, token: str) -> TokenClaims:
    """A media token, or an API session token; NotAuthenticated otherwise (expired included)."""
    try:
        return signer.verify(token, MEDIA_TOKEN_PURPOSE)
    except school_errors.NotAuthenticated:
        pass
    try:
        return signer.verify(token, "session")
    except school_errors.NotAuthenticated as exc:
        raise NotAuthenticated(exc.message) from exc


async def admit(session: AsyncSession, user_id: int, lesson_id: int, now: datetime | None = None) -> Admission:
    user = await active_user(session, user_id)
    if user is None:
        raise NotAuthenticated("account disabled or deleted")
    return await admit_user(session, user, lesson_id, now)


async def admit_user(session: AsyncSession, user: User, lesson_id: int, now: datetime | None = None) -> Admission:
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.school_id != user.school_id:
        raise NotFound(f"lesson {lesson_id} not found")
    klass = await session.get(SchoolClass, lesson.class_id)
    assert klass is not None
    students = frozenset(await session.scalars(select(ClassStudent.student_id).where(
        ClassStudent.class_id == lesson.class_id)))
    closes_at = await records.lesson_closes_at(session, lesson)
    info = LessonInfo(lesson.id, lesson.school_id, lesson.title, lesson.class_id, klass.name, lesson.teacher_id,
                      lesson.starts_at, lesson.ends_at, lesson.subject_id, klass.school_year_id,
                      lesson.recording_mode, lesson.record_students, students, closes_at)
    mine = lesson.teacher_id == user.id or user.role is Role.admin or (
        user.role is Role.student and user.id in students)
    now = now or datetime.now(UTC)
    if mine and not room_open("teacher", lesson.starts_at, lesson.ended_at, closes_at, now):
        raise LessonEnded("the lesson has ended")
    if lesson.teacher_id == user.id:
        return Admission(user.id, user.full_name, "teacher", info)
    if user.role is Role.admin:
        return Admission(user.id, user.full_name, "observer", info)
    if user.role is Role.student:
        if user.id not in students:
            raise Forbidden("only students of this class may join this lesson")
        if not room_open("student", lesson.starts_at, lesson.ended_at, closes_at, now):
            raise Forbidden("the lesson room is not open yet: it opens 15 minutes before the lesson")
        return Admission(user.id, user.full_name, "student", info,
                         banned=await records.is_banned(session, lesson.id, user.id))
    raise Forbidden("only the lesson's teacher, its class's students and administrators may join")

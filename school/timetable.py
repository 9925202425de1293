"""The timetable (thời khóa biểu): scheduling lessons and finding them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access
from school.errors import Conflict, InvalidField
from school.models import Grade, Lesson, Role, SchoolClass, Subject, User
from school.schemas import LessonCreate, LessonOut, LessonStatus, LessonUpdate
from school.timezones import as_utc, school_zone, start_of_day

MAX_LESSON = timedelta(hours=12)
DEFAULT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    """A time range; a bare date as `start` means its first moment, as `end` its last (inclusive)."""

    start: datetime | date | None = None
    end: datetime | date | None = None


def status_at(lesson: Lesson, now: datetime) -> LessonStatus:
    if now < lesson.starts_at:
        return "upcoming"
    if now < lesson.ends_at:
        return "live"
    return "ended"


def _lesson_query() -> Select[tuple[Lesson, str, int, str, str]]:
    return (
        select(Lesson, SchoolClass.name, Grade.level, Subject.name, User.full_name)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(Grade, Grade.id == SchoolClass.grade_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(User, User.id == Lesson.teacher_id)
    )


async def _out(session: AsyncSession, query: Select[tuple[Lesson, str, int, str, str]]) -> list[LessonOut]:
    now = datetime.now(UTC)
    rows = (await session.execute(query.order_by(Lesson.starts_at, Lesson.id)))
    return [
        LessonOut(
            id=lesson.id,
            class_id=lesson.class_id,
            class_name=class_name,
            grade=grade,
            subject_id=lesson.subject_id,
            subject_name=subject,
            teacher_id=lesson.teacher_id,
            teacher_name=teacher,
            title=lesson.title,
            starts_at=lesson.starts_at,
            ends_at=lesson.ends_at,
            status=status_at(lesson, now),
        )
        for lesson, class_name, grade, subject, teacher in rows
    ]


async def bounds(session: AsyncSession, school_id: int, window: Window) -> tuple[datetime, datetime]:
    zone = await school_zone(session, school_id)

    def edge(value: datetime | date | None, is_end: bool) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return as_utc(value, zone)
        return start_of_day(value + timedelta(days=1) if is_end else value, zone)

    start = edge(window.start, False)
    end = edge(window.end, True)
    if start is None:
        start = start_of_day(datetime.now(zone).date(), zone) if end is None else end - DEFAULT_WINDOW
    if end is None:
        end = start + DEFAULT_WINDOW
    if end <= start:
        raise InvalidField("to", "must be after from")
    if end - start > timedelta(days=366):
        raise InvalidField("to", "the range may span at most a year")
    return start, end


async def list_lessons(
    session: AsyncSession,
    actor: User,
    window: Window,
    *,
    class_id: int | None = None,
    teacher_id: int | None = None,
) -> list[LessonOut]:
    """Lessons overlapping the window, among those the actor may see."""
    start, end = await bounds(session, actor.school_id, window)
    query = _lesson_query().where(
        Lesson.school_id == actor.school_id, Lesson.ends_at > start, Lesson.starts_at < end
    )
    if class_id is not None:
        await access.get_class(session, actor, class_id)
        query = query.where(Lesson.class_id == class_id)
    if teacher_id is not None:
        query = query.where(Lesson.teacher_id == teacher_id)
    visible = await access.class_ids_of(session, actor)
    if visible is not None:
        query = query.where(Lesson.class_id.in_(visible) | (Lesson.teacher_id == actor.id))
    return await _out(session, query)


async def my_lessons(session: AsyncSession, actor: User, window: Window) -> list[LessonOut]:
    """The actor's own timetable: what a teacher teaches, or the lessons of a student's class."""
    start, end = await bounds(session, actor.school_id, window)
    query = _lesson_query().where(
        Lesson.school_id == actor.school_id, Lesson.ends_at > start, Lesson.starts_at < end
    )
    if actor.role is Role.student:
        query = query.where(Lesson.class_id.in_(await access.class_ids_of(session, actor) or set()))
    else:
        query = query.where(Lesson.teacher_id == actor.id)
    return await _out(session, query)


async def get_lesson(session: AsyncSession, actor: User, lesson_id: int) -> LessonOut:
    lesson = await access.get_lesson(session, actor, lesson_id)
    (out,) = await _out(session, _lesson_query().where(Lesson.id == lesson.id))
    return out


async def _check(
    session: AsyncSession,
    actor: User,
    *,
    class_id: int,
    subject_id: int,
    teacher_id: int,
    starts_at: datetime,
    ends_at: datetime,
    ignore_id: int | None = None,
) -> None:
    cls = await session.get(SchoolClass, class_id)
    if cls is None or cls.school_id != actor.school_id:
        raise InvalidField("class_id", "no such class in this school")
    subject = await session.get(Subject, subject_id)
    if subject is None or subject.school_id != actor.school_id:
        raise InvalidField("subject_id", "no such subject in this school")
    teacher = await session.get(User, teacher_id)
    if teacher is None or teacher.school_id != actor.school_id or teacher.role is not Role.teacher:
        raise InvalidField("teacher_id", "no such teacher in this school")
    if ends_at <= starts_at:
        raise InvalidField("ends_at", "must be after starts_at")
    if ends_at - starts_at > MAX_LESSON:
        raise InvalidField("ends_at", "a lesson lasts at most 12 hours")
    await access.may_manage_lessons_of(session, actor, class_id, subject_id, teacher_id)
    overlapping = select(Lesson).where(Lesson.starts_at < ends_at, Lesson.ends_at > starts_at)
    if ignore_id is not None:
        overlapping = overlapping.where(Lesson.id != ignore_id)
    clash = await session.scalar(overlapping.where(Lesson.class_id == class_id).limit(1))
    if clash is not None:
        raise Conflict(f"class {cls.name} already has lesson {clash.id} ({clash.title}) at that time")
    clash = await session.scalar(overlapping.where(Lesson.teacher_id == teacher_id).limit(1))
    if clash is not None:
        raise Conflict(f"{teacher.full_name} already teaches lesson {clash.id} ({clash.title}) at that time")


async def create_lesson(session: AsyncSession, actor: User, data: LessonCreate) -> LessonOut:
    access.require_staff(actor)
    zone = await school_zone(session, actor.school_id)
    starts_at, ends_at = as_utc(data.starts_at, zone), as_utc(data.ends_at, zone)
    await _check(
        session,
        actor,
        class_id=data.class_id,
        subject_id=data.subject_id,
        teacher_id=data.teacher_id,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    lesson = Lesson(
        school_id=actor.school_id,
        class_id=data.class_id,
        subject_id=data.subject_id,
        teacher_id=data.teacher_id,
        title=data.title,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor.id,
    )
    session.add(lesson)
    await session.flush()
    return await get_lesson(session, actor, lesson.id)


async def update_lesson(
    session: AsyncSession, actor: User, lesson_id: int, data: LessonUpdate
) -> LessonOut:
    access.require_staff(actor)
    lesson = await access.get_lesson(session, actor, lesson_id)
    # The actor must be allowed to manage the lesson as it is and as it will be.
    await access.may_manage_lessons_of(
        session, actor, lesson.class_id, lesson.subject_id, lesson.teacher_id
    )
    zone = await school_zone(session, actor.school_id)
    changes = data.model_dump(exclude_unset=True)
    for key in ("starts_at", "ends_at"):
        if changes.get(key) is not None:
            changes[key] = as_utc(changes[key], zone)
    for key, value in changes.items():
        if value is None:
            raise InvalidField(key, "may not be null")
    merged = {
        "class_id": lesson.class_id,
        "subject_id": changes.get("subject_id", lesson.subject_id),
        "teacher_id": changes.get("teacher_id", lesson.teacher_id),
        "starts_at": changes.get("starts_at", lesson.starts_at),
        "ends_at": changes.get("ends_at", lesson.ends_at),
    }
    await _check(session, actor, ignore_id=lesson.id, **merged)
    for key, value in changes.items():
        setattr(lesson, key, value)
    await session.flush()
    return await get_lesson(session, actor, lesson.id)


async def delete_lesson(session: AsyncSession, actor: User, lesson_id: int) -> None:
    access.require_staff(actor)
    lesson = await access.get_lesson(session, actor, lesson_id)
    await access.may_manage_lessons_of(
        session, actor, lesson.class_id, lesson.subject_id, lesson.teacher_id
    )
    await session.delete(lesson)
    await session.flush()

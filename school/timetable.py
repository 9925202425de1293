"""The timetable (thời khóa biểu): scheduling lessons, the rules every lesson keeps, and finding them.

Rules on every lesson created or changed: it lies within its class's school year, its teacher is
assigned that class and subject (a substitution is the one exception), and neither the class nor
the teacher has another (not cancelled) lesson at that time. Each refusal names what it clashes with,
in the school's time zone."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from school import access, audit
from school.errors import Conflict, InvalidField
from school.models import Grade, Lesson, Role, School, SchoolClass, SchoolYear, Subject, TeachingAssignment, User
from school.schemas import LessonCreate, LessonUpdate
from school.timetable_models import LessonChange
from school.timetable_schemas import LessonChangeOut, LessonView
from school.timezones import as_utc, school_zone, start_of_day

MAX_LESSON = timedelta(hours=12)
DEFAULT_WINDOW = timedelta(days=7)
WEEKDAYS_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LESSON_FIELDS = ("class_id", "subject_id", "teacher_id", "title", "starts_at", "ends_at")


@dataclass(frozen=True)
class Window:
    """A time range; a bare date as `start` means its first moment, as `end` its last (inclusive)."""

    start: datetime | date | None = None
    end: datetime | date | None = None


def status_at(lesson: Lesson, now: datetime) -> str:
    if lesson.cancelled_at is not None:
        return "cancelled"
    if now < lesson.starts_at:
        return "upcoming"
    if now < lesson.ends_at:
        return "live"
    return "ended"


_Substitute = aliased(User)


def _lesson_query() -> Select[Any]:
    return (
        select(Lesson, SchoolClass.name, Grade.level, Subject.name, User.full_name, _Substitute.full_name)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(Grade, Grade.id == SchoolClass.grade_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(User, User.id == Lesson.teacher_id)
        .outerjoin(_Substitute, _Substitute.id == Lesson.substitute_for)
    )


async def _changes(session: AsyncSession, lesson_ids: list[int]) -> dict[int, list[LessonChangeOut]]:
    out: dict[int, list[LessonChangeOut]] = {}
    if not lesson_ids:
        return out
    rows = await session.scalars(select(LessonChange).where(LessonChange.lesson_id.in_(lesson_ids))
                                 .order_by(LessonChange.at, LessonChange.id))
    for row in rows:
        out.setdefault(row.lesson_id, []).append(LessonChangeOut(
            kind=row.kind, at=row.at, note=row.note,  # type: ignore[arg-type]
            before=json.loads(row.before) if row.before else None,
            after=json.loads(row.after) if row.after else None))
    return out


async def _out(session: AsyncSession, query: Select[Any]) -> list[LessonView]:
    now = datetime.now(UTC)
    rows = list(await session.execute(query.order_by(Lesson.starts_at, Lesson.id)))
    changes = await _changes(session, [row[0].id for row in rows])
    return [
        LessonView(
            id=lesson.id, class_id=lesson.class_id, class_name=class_name, grade=grade,
            subject_id=lesson.subject_id, subject_name=subject, teacher_id=lesson.teacher_id,
            teacher_name=teacher, title=lesson.title, starts_at=lesson.starts_at, ends_at=lesson.ends_at,
            status=status_at(lesson, now), series_id=lesson.series_id,  # type: ignore[arg-type]
            period_from=lesson.period_from, period_to=lesson.period_to, cancelled_at=lesson.cancelled_at,
            cancel_reason=lesson.cancel_reason, makeup_of=lesson.makeup_of,
            substitute_for_id=lesson.substitute_for, substitute_for_name=substitute,
            changes=changes.get(lesson.id, []),
        )
        for lesson, class_name, grade, subject, teacher, substitute in rows
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
        raise InvalidField("to", "must be after from", reason="ends_before_start")
    if end - start > timedelta(days=366):
        raise InvalidField("to", "the range may span at most a year", reason="too_big", params={"max": "366"})
    return start, end


async def list_lessons(
    session: AsyncSession,
    actor: User,
    window: Window,
    *,
    class_id: int | None = None,
    teacher_id: int | None = None,
) -> list[LessonView]:
    """Lessons overlapping the window, among those the actor may see."""
    start, end = await bounds(session, actor.school_id, window)
    query = _lesson_query().where(
        Lesson.school_id == actor.school_id, Lesson.ends_at > start, Lesson.starts_at < end
    )
    if class_id is not None:
        await access.get_class(session, actor, class_id)
        query = query.where(Lesson.class_id == class_id)
    if teacher_id is not None:
        query = query.where((Lesson.teacher_id == teacher_id) | (Lesson.substitute_for == teacher_id))
    visible = await access.class_ids_of(session, actor)
    if visible is not None:
        query = query.where(Lesson.class_id.in_(visible) | (Lesson.teacher_id == actor.id)
                            | (Lesson.substitute_for == actor.id))
    return await _out(session, query)


async def my_lessons(session: AsyncSession, actor: User, window: Window) -> list[LessonView]:
    """The actor's own timetable: what a teacher teaches (or handed to a substitute), or the
    lessons of a student's class."""
    start, end = await bounds(session, actor.school_id, window)
    query = _lesson_query().where(
        Lesson.school_id == actor.school_id, Lesson.ends_at > start, Lesson.starts_at < end
    )
    if actor.role is Role.student:
        query = query.where(Lesson.class_id.in_(await access.class_ids_of(session, actor) or set()))
    else:
        query = query.where((Lesson.teacher_id == actor.id) | (Lesson.substitute_for == actor.id))
    return await _out(session, query)


async def get_lesson(session: AsyncSession, actor: User, lesson_id: int) -> LessonView:
    lesson = await access.get_lesson(session, actor, lesson_id)
    (out,) = await _out(session, _lesson_query().where(Lesson.id == lesson.id))
    return out


# --- the rules --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Busy:
    """A lesson that holds a class and a teacher for a while (existing, or about to be created)."""

    id: int | None
    class_id: int
    class_name: str
    subject: str
    teacher_id: int
    teacher_name: str
    starts_at: datetime
    ends_at: datetime


def clash_params(busy: Busy, zone: ZoneInfo) -> dict[str, Any]:
    local = busy.starts_at.astimezone(zone)
    return {"class_name": busy.class_name, "subject": busy.subject, "teacher": busy.teacher_name,
            "time": local.strftime("%H:%M"), "date": local.strftime("%d/%m"),
            "weekday": WEEKDAYS_VI[local.weekday()], "weekday_en": WEEKDAYS_EN[local.weekday()],
            "lesson_id": busy.id}


def clash_english(reason: str, p: dict[str, Any]) -> str:
    if reason == "class_busy":
        return (f"Class {p['class_name']} already has {p['subject']} ({p['teacher']}) at {p['time']} on "
                f"{p['weekday_en']} {p['date']}")
    return (f"{p['teacher']} already teaches {p['subject']} to class {p['class_name']} at {p['time']} on "
            f"{p['weekday_en']} {p['date']}")


async def busy_lessons(session: AsyncSession, school_id: int, start: datetime, end: datetime, *,
                       class_ids: Iterable[int], teacher_ids: Iterable[int],
                       ignore: Iterable[int] = ()) -> list[Busy]:
    """The school's lessons (not cancelled) overlapping [start, end) of these classes or teachers."""
    query = (
        select(Lesson.id, Lesson.class_id, SchoolClass.name, Subject.name, Lesson.teacher_id, User.full_name,
               Lesson.starts_at, Lesson.ends_at)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .join(User, User.id == Lesson.teacher_id)
        .where(Lesson.school_id == school_id, Lesson.cancelled_at.is_(None), Lesson.starts_at < end,
               Lesson.ends_at > start,
               Lesson.class_id.in_(list(class_ids)) | Lesson.teacher_id.in_(list(teacher_ids)))
        .order_by(Lesson.starts_at, Lesson.id)
    )
    ignored = set(ignore)
    return [Busy(*row) for row in await session.execute(query) if row[0] not in ignored]


def first_clash(busy: Iterable[Busy], class_id: int | None, teacher_id: int, starts_at: datetime,
                ends_at: datetime) -> tuple[str, Busy] | None:
    """The clash of a lesson with `busy` (the class's first, then the teacher's), if any."""
    overlapping = [b for b in busy if b.starts_at < ends_at and b.ends_at > starts_at]
    for b in overlapping:
        if class_id is not None and b.class_id == class_id:
            return "class_busy", b
    for b in overlapping:
        if b.teacher_id == teacher_id:
            return "teacher_busy", b
    return None


async def check_free(session: AsyncSession, school_id: int, *, class_id: int | None, teacher_id: int,
                     starts_at: datetime, ends_at: datetime, ignore: Iterable[int] = ()) -> None:
    """409 naming the clashing lesson when the class (None: not checked) or the teacher is busy."""
    busy = await busy_lessons(session, school_id, starts_at, ends_at,
                              class_ids=[class_id] if class_id is not None else [], teacher_ids=[teacher_id],
                              ignore=ignore)
    found = first_clash(busy, class_id, teacher_id, starts_at, ends_at)
    if found is not None:
        reason, other = found
        params = clash_params(other, await school_zone(session, school_id))
        raise Conflict(clash_english(reason, params), reason=reason, params=params,
                       field="starts_at")


async def check_in_year(session: AsyncSession, cls: SchoolClass, starts_at: datetime, ends_at: datetime,
                        field: str = "starts_at") -> None:
    year = await session.get(SchoolYear, cls.school_year_id)
    assert year is not None
    zone = await school_zone(session, cls.school_id)
    first = starts_at.astimezone(zone).date()
    last = (ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    if first < year.starts_on or last > year.ends_on:
        day = first if first < year.starts_on else last
        raise InvalidField(field, f"{day.isoformat()} is outside class {cls.name}'s school year {year.name}",
                           reason="lesson_outside_year",
                           params={"date": day.strftime("%d/%m/%Y"), "year": year.name, "class_name": cls.name,
                                   "starts_on": year.starts_on.strftime("%d/%m/%Y"),
                                   "ends_on": year.ends_on.strftime("%d/%m/%Y")})


async def check_assigned(session: AsyncSession, cls: SchoolClass, subject: Subject, teacher: User,
                         field: str = "teacher_id") -> None:
    assigned = await session.scalar(select(TeachingAssignment.id).where(
        TeachingAssignment.class_id == cls.id, TeachingAssignment.subject_id == subject.id,
        TeachingAssignment.teacher_id == teacher.id))
    if assigned is None:
        raise InvalidField(field, f"{teacher.full_name} is not assigned to teach {subject.name} to {cls.name}",
                           reason="teacher_not_assigned",
                           params={"teacher": teacher.full_name, "subject": subject.name, "class_name": cls.name})


async def school_teacher(session: AsyncSession, school_id: int, teacher_id: int, field: str = "teacher_id") -> User:
    teacher = await session.get(User, teacher_id)
    if teacher is None or teacher.school_id != school_id or teacher.role is not Role.teacher:
        raise InvalidField(field, "no such teacher in this school", reason="invalid")
    return teacher


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
    substitute: bool = False,
) -> None:
    cls = await session.get(SchoolClass, class_id)
    if cls is None or cls.school_id != actor.school_id:
        raise InvalidField("class_id", "no such class in this school", reason="invalid")
    subject = await session.get(Subject, subject_id)
    if subject is None or subject.school_id != actor.school_id:
        raise InvalidField("subject_id", "no such subject in this school", reason="invalid")
    teacher = await school_teacher(session, actor.school_id, teacher_id)
    if ends_at <= starts_at:
        raise InvalidField("ends_at", "must be after starts_at", reason="ends_before_start")
    if ends_at - starts_at > MAX_LESSON:
        raise InvalidField("ends_at", "a lesson lasts at most 12 hours", reason="too_long_lesson")
    await access.may_manage_lessons_of(session, actor, class_id, subject_id, teacher_id)
    await check_in_year(session, cls, starts_at, ends_at)
    if not substitute:
        await check_assigned(session, cls, subject, teacher)
    await check_free(session, actor.school_id, class_id=class_id, teacher_id=teacher_id, starts_at=starts_at,
                     ends_at=ends_at, ignore=[ignore_id] if ignore_id is not None else [])


async def create_lesson(session: AsyncSession, actor: User, data: LessonCreate) -> LessonView:
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
    school = await session.get(School, actor.school_id)
    assert school is not None
    lesson = Lesson(
        school_id=actor.school_id,
        class_id=data.class_id,
        subject_id=data.subject_id,
        teacher_id=data.teacher_id,
        title=data.title,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor.id,
        recording_mode=school.recording_mode,
        record_students=school.record_students,
    )
    session.add(lesson)
    await session.flush()
    audit.record(session, actor, "create", "lesson", lesson.id, summary=lesson.title,
                 after=audit.snapshot(lesson, LESSON_FIELDS))
    return await get_lesson(session, actor, lesson.id)


async def update_lesson(
    session: AsyncSession, actor: User, lesson_id: int, data: LessonUpdate
) -> LessonView:
    access.require_staff(actor)
    lesson = await access.get_lesson(session, actor, lesson_id)
    # The actor must be allowed to manage the lesson as it is and as it will be.
    await access.may_manage_lessons_of(
        session, actor, lesson.class_id, lesson.subject_id, lesson.teacher_id
    )
    if lesson.cancelled_at is not None:
        raise Conflict("the lesson was cancelled", reason="lesson_cancelled")
    zone = await school_zone(session, actor.school_id)
    changes = data.model_dump(exclude_unset=True)
    for key in ("starts_at", "ends_at"):
        if changes.get(key) is not None:
            changes[key] = as_utc(changes[key], zone)
    for key, value in changes.items():
        if value is None:
            raise InvalidField(key, "may not be null", reason="required")
    merged = {
        "class_id": lesson.class_id,
        "subject_id": changes.get("subject_id", lesson.subject_id),
        "teacher_id": changes.get("teacher_id", lesson.teacher_id),
        "starts_at": changes.get("starts_at", lesson.starts_at),
        "ends_at": changes.get("ends_at", lesson.ends_at),
    }
    substitute = lesson.substitute_for is not None and merged["teacher_id"] == lesson.teacher_id
    await _check(session, actor, ignore_id=lesson.id, substitute=substitute, **merged)
    before = audit.snapshot(lesson, LESSON_FIELDS)
    for key, value in changes.items():
        setattr(lesson, key, value)
    if "starts_at" in changes or "ends_at" in changes:
        lesson.period_from = lesson.period_to = None
    await session.flush()
    old, new = audit.changed(before, audit.snapshot(lesson, LESSON_FIELDS))
    if new:
        audit.record(session, actor, "update", "lesson", lesson.id, summary=lesson.title, before=old, after=new)
    if "starts_at" in new or "ends_at" in new:
        # The class and the teacher see a rescheduled lesson as such, however it was changed.
        times = ("starts_at", "ends_at")
        session.add(LessonChange(
            school_id=lesson.school_id, lesson_id=lesson.id, kind="move", actor_id=actor.id,
            before=json.dumps({k: before[k] for k in times}),
            after=json.dumps({k: new.get(k, before[k]) for k in times})))
        await session.flush()
    return await get_lesson(session, actor, lesson.id)


async def delete_lesson(session: AsyncSession, actor: User, lesson_id: int) -> None:
    access.require_staff(actor)
    lesson = await access.get_lesson(session, actor, lesson_id)
    await access.may_manage_lessons_of(
        session, actor, lesson.class_id, lesson.subject_id, lesson.teacher_id
    )
    audit.record(session, actor, "delete", "lesson", lesson.id, summary=lesson.title,
                 before=audit.snapshot(lesson, LESSON_FIELDS))
    await session.delete(lesson)
    await session.flush()

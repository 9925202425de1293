"""Exceptions to the timetable: moving, cancelling, making up and handing over one lesson; and the
teachers' requests for such changes, which administrators approve or refuse.

Each change is written with a notice (LessonChange) that the class's students and the teachers
concerned see on their lessons, and an audit entry, in the same unit of work."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access, audit, periods
from school.errors import Conflict, Forbidden, InvalidField, NotFound
from school.models import Lesson, Role, SchoolClass, Subject, User
from school.timetable import check_assigned, check_free, check_in_year, get_lesson, school_teacher
from school.timetable_models import ChangeRequest, LessonChange
from school.timetable_schemas import (
    CancelIn,
    ChangeRequestIn,
    ChangeRequestOut,
    MakeupIn,
    MoveIn,
    NewTime,
    SubstituteIn,
)
from school.timezones import as_utc, school_zone

TIME_FIELDS = ("starts_at", "ends_at", "period_from", "period_to")


async def _times(session: AsyncSession, school_id: int, data: NewTime) -> tuple[datetime, datetime, int | None,
                                                                                 int | None]:
    zone = await school_zone(session, school_id)
    if data.starts_at is not None and data.ends_at is not None:
        starts_at, ends_at = as_utc(data.starts_at, zone), as_utc(data.ends_at, zone)
        if ends_at <= starts_at:
            raise InvalidField("ends_at", "must be after starts_at", reason="ends_before_start")
        return starts_at, ends_at, None, None
    assert data.date is not None and data.period_from is not None
    period_to = data.period_to if data.period_to is not None else data.period_from
    starts, ends = periods.span(await periods.periods_of(session, school_id), data.period_from, period_to)
    return periods.at(data.date, starts, zone), periods.at(data.date, ends, zone), data.period_from, period_to


def _when(lesson: Lesson) -> dict[str, Any]:
    return audit.snapshot(lesson, TIME_FIELDS)


def _notice(session: AsyncSession, actor: User, lesson: Lesson, kind: str, before: dict[str, Any] | None,
            after: dict[str, Any] | None, note: str = "") -> None:
    session.add(LessonChange(
        school_id=lesson.school_id, lesson_id=lesson.id, kind=kind, note=note, actor_id=actor.id,
        before=json.dumps(before, ensure_ascii=False, default=str) if before is not None else None,
        after=json.dumps(after, ensure_ascii=False, default=str) if after is not None else None))
    audit.record(session, actor, kind, "lesson", lesson.id, summary=lesson.title, before=before, after=after)


async def _lesson(session: AsyncSession, actor: User, lesson_id: int, *, cancelled: bool = False) -> Lesson:
    access.require_admin(actor)
    lesson = await access.get_lesson(session, actor, lesson_id)
    if cancelled and lesson.cancelled_at is None:
        raise Conflict("a make-up lesson is only for a cancelled lesson", reason="lesson_not_cancelled")
    if not cancelled and lesson.cancelled_at is not None:
        raise Conflict("the lesson was cancelled", reason="lesson_cancelled")
    if not cancelled and (lesson.ended_at is not None or lesson.ends_at <= datetime.now(UTC)):
        raise Conflict("the lesson has already taken place", reason="lesson_already_held")
    return lesson


async def move(session: AsyncSession, actor: User, lesson_id: int, data: MoveIn) -> None:
    lesson = await _lesson(session, actor, lesson_id)
    starts_at, ends_at, period_from, period_to = await _times(session, actor.school_id, data)
    cls = await session.get(SchoolClass, lesson.class_id)
    assert cls is not None
    await check_in_year(session, cls, starts_at, ends_at, "date" if data.date is not None else "starts_at")
    await check_free(session, actor.school_id, class_id=lesson.class_id, teacher_id=lesson.teacher_id,
                     starts_at=starts_at, ends_at=ends_at, ignore=[lesson.id])
    before = _when(lesson)
    lesson.starts_at, lesson.ends_at = starts_at, ends_at
    lesson.period_from, lesson.period_to = period_from, period_to
    lesson.closes_at = None
    await session.flush()
    _notice(session, actor, lesson, "move", before, _when(lesson), data.note)


async def cancel(session: AsyncSession, actor: User, lesson_id: int, data: CancelIn) -> None:
    lesson = await _lesson(session, actor, lesson_id)
    now = datetime.now(UTC)
    lesson.cancelled_at = now
    lesson.cancel_reason = data.reason
    if lesson.ended_at is None:
        lesson.ended_at = now  # no one enters a cancelled lesson
    await session.flush()
    _notice(session, actor, lesson, "cancel", _when(lesson), None, data.reason)


async def makeup(session: AsyncSession, actor: User, lesson_id: int, data: MakeupIn) -> int:
    original = await _lesson(session, actor, lesson_id, cancelled=True)
    starts_at, ends_at, period_from, period_to = await _times(session, actor.school_id, data)
    cls = await session.get(SchoolClass, original.class_id)
    subject = await session.get(Subject, original.subject_id)
    assert cls is not None and subject is not None
    teacher_id = data.teacher_id if data.teacher_id is not None else original.teacher_id
    teacher = await school_teacher(session, actor.school_id, teacher_id)
    await check_in_year(session, cls, starts_at, ends_at, "date" if data.date is not None else "starts_at")
    if teacher_id != original.teacher_id:
        await check_assigned(session, cls, subject, teacher)
    await check_free(session, actor.school_id, class_id=original.class_id, teacher_id=teacher_id,
                     starts_at=starts_at, ends_at=ends_at)
    lesson = Lesson(
        school_id=original.school_id, class_id=original.class_id, subject_id=original.subject_id,
        teacher_id=teacher_id, title=original.title, starts_at=starts_at, ends_at=ends_at,
        period_from=period_from, period_to=period_to, makeup_of=original.id, series_id=original.series_id,
        substitute_for=original.substitute_for if teacher_id == original.teacher_id else None,
        recording_mode=original.recording_mode, record_students=original.record_students, created_by=actor.id)
    session.add(lesson)
    await session.flush()
    _notice(session, actor, lesson, "makeup", _when(original), _when(lesson), data.note)
    return lesson.id


async def substitute(session: AsyncSession, actor: User, lesson_id: int, data: SubstituteIn) -> None:
    lesson = await _lesson(session, actor, lesson_id)
    teacher = await school_teacher(session, actor.school_id, data.teacher_id)
    if teacher.id == lesson.teacher_id:
        raise InvalidField("teacher_id", "the substitute must be another teacher", reason="same_teacher")
    await check_free(session, actor.school_id, class_id=None, teacher_id=teacher.id, starts_at=lesson.starts_at,
                     ends_at=lesson.ends_at, ignore=[lesson.id])
    old = await session.get(User, lesson.teacher_id)
    before = {"teacher_id": lesson.teacher_id, "teacher_name": old.full_name if old else ""}
    if lesson.substitute_for is None:
        lesson.substitute_for = lesson.teacher_id
    elif lesson.substitute_for == teacher.id:
        lesson.substitute_for = None  # handed back to its own teacher
    lesson.teacher_id = teacher.id
    await session.flush()
    _notice(session, actor, lesson, "substitute", before,
            {"teacher_id": teacher.id, "teacher_name": teacher.full_name}, data.note)


# --- teachers' requests -------------------------------------------------------------------------
async def request_change(session: AsyncSession, actor: User, lesson_id: int, data: ChangeRequestIn) -> int:
    if actor.role is not Role.teacher:
        raise Forbidden("only teachers request changes to their lessons", reason="not_your_lesson")
    lesson = await access.get_lesson(session, actor, lesson_id)
    if lesson.teacher_id != actor.id:
        raise Forbidden("you may only request changes to your own lessons", reason="not_your_lesson")
    if lesson.cancelled_at is not None:
        raise Conflict("the lesson was cancelled", reason="lesson_cancelled")
    proposed = data.proposed.model_dump(exclude_none=True, mode="json") if data.proposed is not None else None
    if data.kind == "move":
        if data.proposed is None:
            raise InvalidField("proposed", "a move needs the new time", reason="request_needs_proposal")
        NewTime.model_validate({k: v for k, v in proposed.items() if k != "teacher_id"})
    if data.kind == "substitute":
        if data.proposed is None or data.proposed.teacher_id is None:
            raise InvalidField("teacher_id", "a substitution needs the teacher", reason="request_needs_proposal")
        await school_teacher(session, actor.school_id, data.proposed.teacher_id)
    if data.kind == "cancel":
        proposed = None
    request = ChangeRequest(school_id=actor.school_id, lesson_id=lesson.id, teacher_id=actor.id, kind=data.kind,
                            note=data.note, proposed=json.dumps(proposed) if proposed is not None else None)
    session.add(request)
    await session.flush()
    return request.id


async def list_requests(session: AsyncSession, actor: User, status: str | None) -> list[ChangeRequestOut]:
    access.require_staff(actor)
    query = select(ChangeRequest).where(ChangeRequest.school_id == actor.school_id)
    if actor.role is Role.teacher:
        query = query.where(ChangeRequest.teacher_id == actor.id)
    if status is not None:
        query = query.where(ChangeRequest.status == status)
    out = []
    for request in await session.scalars(query.order_by(ChangeRequest.created_at.desc(), ChangeRequest.id.desc())
                                         .limit(200)):
        out.append(await _request_out(session, actor, request))
    return out


async def _request_out(session: AsyncSession, actor: User, request: ChangeRequest) -> ChangeRequestOut:
    teacher = await session.get(User, request.teacher_id)
    proposed = json.loads(request.proposed) if request.proposed else None
    substitute_name = None
    if proposed and proposed.get("teacher_id"):
        other = await session.get(User, proposed["teacher_id"])
        substitute_name = other.full_name if other else None
    return ChangeRequestOut(
        id=request.id, lesson=await get_lesson(session, actor, request.lesson_id), teacher_id=request.teacher_id,
        teacher_name=teacher.full_name if teacher else "",
        kind=request.kind, note=request.note,  # type: ignore[arg-type]
        proposed=proposed, proposed_teacher_name=substitute_name, status=request.status,  # type: ignore[arg-type]
        decision_note=request.decision_note, created_at=request.created_at, decided_at=request.decided_at)


async def get_request(session: AsyncSession, actor: User, request_id: int) -> ChangeRequestOut:
    request = await session.get(ChangeRequest, request_id)
    if request is None or request.school_id != actor.school_id or (
            actor.role is not Role.admin and request.teacher_id != actor.id):
        raise NotFound(f"change request {request_id} not found")
    return await _request_out(session, actor, request)


async def decide(session: AsyncSession, actor: User, request_id: int, approve: bool, note: str) -> None:
    access.require_admin(actor)
    request = await session.get(ChangeRequest, request_id)
    if request is None or request.school_id != actor.school_id:
        raise NotFound(f"change request {request_id} not found")
    if request.status != "pending":
        raise Conflict("this request was already decided", reason="request_decided")
    proposed = json.loads(request.proposed) if request.proposed else {}
    if approve:
        if request.kind == "move":
            await move(session, actor, request.lesson_id, MoveIn.model_validate(
                {k: v for k, v in proposed.items() if k != "teacher_id"} | {"note": request.note[:500]}))
        elif request.kind == "cancel":
            await cancel(session, actor, request.lesson_id, CancelIn(reason=request.note or note or "—"))
        else:
            await substitute(session, actor, request.lesson_id,
                             SubstituteIn(teacher_id=proposed["teacher_id"], note=request.note))
    else:
        lesson = await session.get(Lesson, request.lesson_id)
        audit.record(session, actor, "update", "lesson", request.lesson_id,
                     summary=f"{lesson.title if lesson else ''}: đề nghị bị từ chối / request refused",
                     before={"request": request.kind, "status": "pending"}, after={"status": "refused", "note": note})
    request.status = "approved" if approve else "refused"
    request.decided_by = actor.id
    request.decided_at = datetime.now(UTC)
    request.decision_note = note
    await session.flush()

"""Changing and removing the school's structure: school years, classes (archived when they have
lessons, restored later), subjects, subject teams and teaching assignments. Every change is
checked against the same rules as a creation and leaves an entry in the audit log."""
from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access, audit
from school.errors import Conflict, InvalidField, NotFound
from school.models import (
    ClassStudent,
    Grade,
    Lesson,
    SchoolClass,
    SchoolYear,
    Subject,
    SubjectTeam,
    SubjectTeamMember,
    SubjectTeamSubject,
    TeachingAssignment,
    User,
)
from school.schemas import (
    AssignmentOut,
    AssignmentUpdate,
    ClassOut,
    ClassUpdate,
    SchoolYearOut,
    SchoolYearUpdate,
    SubjectOut,
    SubjectTeamOut,
    SubjectTeamUpdate,
    SubjectUpdate,
)
from school.structure import (
    ASSIGNMENT_FIELDS,
    CLASS_FIELDS,
    SUBJECT_FIELDS,
    YEAR_FIELDS,
    _classes_out,
    _team_out,
    assignment_out,
    check_assignment_free,
    check_class_free,
    check_name_grade,
    check_subject_free,
    check_team_free,
    check_team_members,
    check_year_free,
    class_of,
    current_year,
    subject_of,
    teacher_of,
    team_snapshot,
    years_out,
)
from school.timezones import school_today, school_zone, start_of_day
from storage.types import utcnow

Owned = TypeVar("Owned", SchoolYear, Subject, SubjectTeam, TeachingAssignment)

LISTED = 5
"""How many names a refusal lists before saying how many more."""


def _listed(names: list[str], total: int) -> str:
    shown = ", ".join(names[:LISTED])
    return shown if total <= LISTED else f"{shown}, … (+{total - LISTED})"


def _sent(data: object) -> set[str]:
    return set(getattr(data, "model_fields_set", set()))


async def _owned(session: AsyncSession, actor: User, model: type[Owned], row_id: int, label: str,
                 reason: str | None = None) -> Owned:
    """The administrator's own school's row, or 404 (another school's row is not found either)."""
    access.require_admin(actor)
    row = await session.get(model, row_id)
    if row is None or row.school_id != actor.school_id:
        raise NotFound(f"{label} {row_id} not found", reason=reason)
    return row


# --- school years ----------------------------------------------------------------------------
async def _year(session: AsyncSession, actor: User, year_id: int) -> SchoolYear:
    return await _owned(session, actor, SchoolYear, year_id, "school year", reason="no_such_year")


async def update_school_year(session: AsyncSession, actor: User, year_id: int,
                             data: SchoolYearUpdate) -> SchoolYearOut:
    year = await _year(session, actor, year_id)
    sent = _sent(data)
    name = data.name if "name" in sent and data.name is not None else year.name
    starts_on = data.starts_on if "starts_on" in sent and data.starts_on is not None else year.starts_on
    ends_on = data.ends_on if "ends_on" in sent and data.ends_on is not None else year.ends_on
    if ends_on <= starts_on:
        raise InvalidField("ends_on", "ends_on must be after starts_on", reason="ends_before_start")
    await check_year_free(session, actor.school_id, name, starts_on, ends_on, exclude_id=year.id)
    zone = await school_zone(session, actor.school_id)
    outside = (
        select(Lesson.starts_at, SchoolClass.name)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .where(SchoolClass.school_year_id == year.id,
               (Lesson.starts_at < start_of_day(starts_on, zone))
               | (Lesson.starts_at >= start_of_day(ends_on + timedelta(days=1), zone)))
    )
    count = await session.scalar(select(func.count()).select_from(outside.subquery()))
    if count:
        first_at, klass = (await session.execute(outside.order_by(Lesson.starts_at).limit(1))).one()
        raise Conflict(f"{count} lessons of {year.name} fall outside the new dates", reason="year_lessons_outside",
                       field="starts_on" if first_at < start_of_day(starts_on, zone) else "ends_on",
                       params={"name": year.name, "count": count, "klass": klass,
                               "day": first_at.astimezone(zone).strftime("%d/%m/%Y")})
    before = audit.snapshot(year, YEAR_FIELDS)
    year.name, year.starts_on, year.ends_on = name, starts_on, ends_on
    await session.flush()
    old, new = audit.changed(before, audit.snapshot(year, YEAR_FIELDS))
    if new:
        audit.record(session, actor, "update", "school_year", year.id, summary=year.name, before=old, after=new)
    current = await current_year(session, actor.school_id, await school_today(session, actor.school_id))
    (out,) = await years_out(session, [year], current.id)
    return out


async def delete_school_year(session: AsyncSession, actor: User, year_id: int) -> None:
    """Only a year without classes goes; one with classes names them."""
    year = await _year(session, actor, year_id)
    names = list(await session.scalars(
        select(SchoolClass.name).where(SchoolClass.school_year_id == year.id).order_by(SchoolClass.name)))
    if names:
        raise Conflict(f"school year {year.name} has {len(names)} classes", reason="year_in_use",
                       params={"name": year.name, "count": len(names), "classes": _listed(names, len(names))})
    audit.record(session, actor, "delete", "school_year", year.id, summary=year.name,
                 before=audit.snapshot(year, YEAR_FIELDS))
    await session.delete(year)
    await session.flush()


# --- classes ---------------------------------------------------------------------------------
async def _class(session: AsyncSession, actor: User, class_id: int) -> SchoolClass:
    access.require_admin(actor)
    return await access.get_class(session, actor, class_id)


async def update_class(session: AsyncSession, actor: User, class_id: int, data: ClassUpdate) -> ClassOut:
    cls = await _class(session, actor, class_id)
    if cls.archived_at is not None:
        raise Conflict(f"class {cls.name} is archived", reason="class_archived", params={"name": cls.name})
    sent = _sent(data)
    grade = await session.get(Grade, cls.grade_id)
    assert grade is not None
    grade_field = "grade"
    if "grade_id" in sent and data.grade_id is not None:
        grade_field = "grade_id"
        chosen = await session.get(Grade, data.grade_id)
        if chosen is None or chosen.school_id != actor.school_id:
            raise InvalidField("grade_id", "no such grade in this school", reason="no_such_grade")
        if data.grade is not None and data.grade != chosen.level:
            raise InvalidField("grade", "grade and grade_id disagree", reason="grade_conflict")
        grade = chosen
    elif "grade" in sent and data.grade is not None:
        chosen = await session.scalar(
            select(Grade).where(Grade.school_id == actor.school_id, Grade.level == data.grade))
        if chosen is None:
            raise InvalidField("grade", "no such grade in this school", reason="no_such_grade")
        grade = chosen
    name = data.name if "name" in sent and data.name is not None else cls.name
    check_name_grade(name, grade.level, "name" if "name" in sent else grade_field)
    if name != cls.name:
        year = await session.get(SchoolYear, cls.school_year_id)
        assert year is not None
        await check_class_free(session, year, name, exclude_id=cls.id)
    teacher_id = cls.homeroom_teacher_id
    if "homeroom_teacher_id" in sent:
        teacher_id = data.homeroom_teacher_id
        if teacher_id is not None:
            await teacher_of(session, actor, teacher_id, "homeroom_teacher_id")
    before = audit.snapshot(cls, CLASS_FIELDS)
    cls.name, cls.grade_id, cls.homeroom_teacher_id = name, grade.id, teacher_id
    await session.flush()
    old, new = audit.changed(before, audit.snapshot(cls, CLASS_FIELDS))
    if new:
        audit.record(session, actor, "update", "class", cls.id, summary=cls.name, before=old, after=new)
    (out,) = await _classes_out(session, [cls])
    return out


async def delete_class(session: AsyncSession, actor: User, class_id: int, archive: bool = False) -> None:
    """A class without lessons is deleted (its enrolments and assignments with it); a class with
    lessons is only archived (`archive`), keeping every record."""
    cls = await _class(session, actor, class_id)
    if archive:
        if cls.archived_at is None:
            cls.archived_at = utcnow()
            audit.record(session, actor, "archive", "class", cls.id, summary=cls.name,
                         before={"archived_at": None}, after={"archived_at": cls.archived_at})
            await session.flush()
        return
    lessons = await session.scalar(select(func.count()).select_from(Lesson).where(Lesson.class_id == cls.id)) or 0
    if lessons:
        students = await session.scalar(
            select(func.count()).select_from(ClassStudent).where(ClassStudent.class_id == cls.id)) or 0
        raise Conflict(f"class {cls.name} has {lessons} lessons: archive it instead", reason="class_has_lessons",
                       params={"name": cls.name, "count": lessons, "students": students})
    audit.record(session, actor, "delete", "class", cls.id, summary=cls.name, before=audit.snapshot(cls, CLASS_FIELDS))
    await session.delete(cls)
    await session.flush()


async def restore_class(session: AsyncSession, actor: User, class_id: int) -> ClassOut:
    cls = await _class(session, actor, class_id)
    if cls.archived_at is None:
        raise Conflict(f"class {cls.name} is not archived", reason="class_not_archived", params={"name": cls.name})
    before = cls.archived_at
    cls.archived_at = None
    await session.flush()
    audit.record(session, actor, "restore", "class", cls.id, summary=cls.name,
                 before={"archived_at": before}, after={"archived_at": None})
    (out,) = await _classes_out(session, [cls])
    return out


# --- subjects --------------------------------------------------------------------------------
async def _subject(session: AsyncSession, actor: User, subject_id: int) -> Subject:
    return await _owned(session, actor, Subject, subject_id, "subject", reason="no_such_subject")


async def update_subject(session: AsyncSession, actor: User, subject_id: int, data: SubjectUpdate) -> SubjectOut:
    subject = await _subject(session, actor, subject_id)
    sent = _sent(data)
    name = data.name if "name" in sent and data.name is not None else subject.name
    code = (data.code or None) if "code" in sent else subject.code
    await check_subject_free(session, actor.school_id, name if name != subject.name else None,
                             code if code != subject.code else None, exclude_id=subject.id)
    before = audit.snapshot(subject, SUBJECT_FIELDS)
    subject.name, subject.code = name, code
    await session.flush()
    old, new = audit.changed(before, audit.snapshot(subject, SUBJECT_FIELDS))
    if new:
        audit.record(session, actor, "update", "subject", subject.id, summary=subject.name, before=old, after=new)
    return SubjectOut.model_validate(subject)


async def delete_subject(session: AsyncSession, actor: User, subject_id: int) -> None:
    """A subject that lessons or assignments use stays (409 says which)."""
    subject = await _subject(session, actor, subject_id)
    lessons = await session.scalar(
        select(func.count()).select_from(Lesson).where(Lesson.subject_id == subject.id)) or 0
    classes = list(await session.scalars(
        select(SchoolClass.name).join(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
        .where(TeachingAssignment.subject_id == subject.id).order_by(SchoolClass.name)))
    if lessons or classes:
        raise Conflict(f"subject {subject.name} is in use", reason="subject_in_use",
                       params={"name": subject.name, "lessons": lessons, "assignments": len(classes),
                               "classes": _listed(classes, len(classes)) or "—"})
    audit.record(session, actor, "delete", "subject", subject.id, summary=subject.name,
                 before=audit.snapshot(subject, SUBJECT_FIELDS))
    await session.delete(subject)
    await session.flush()


# --- subject teams ---------------------------------------------------------------------------
async def _team(session: AsyncSession, actor: User, team_id: int) -> SubjectTeam:
    return await _owned(session, actor, SubjectTeam, team_id, "subject team")


async def update_subject_team(session: AsyncSession, actor: User, team_id: int,
                              data: SubjectTeamUpdate) -> SubjectTeamOut:
    team = await _team(session, actor, team_id)
    sent = _sent(data)
    before = team_snapshot(await _team_out(session, team))
    if "name" in sent and data.name is not None and data.name != team.name:
        await check_team_free(session, actor.school_id, data.name, exclude_id=team.id)
        team.name = data.name
    subject_ids = data.subject_ids if "subject_ids" in sent else None
    teacher_ids = data.teacher_ids if "teacher_ids" in sent else None
    await check_team_members(session, actor, subject_ids, teacher_ids)
    if subject_ids is not None:
        await session.execute(delete(SubjectTeamSubject).where(SubjectTeamSubject.team_id == team.id))
        session.add_all(SubjectTeamSubject(team_id=team.id, subject_id=i) for i in dict.fromkeys(subject_ids))
    if teacher_ids is not None:
        await session.execute(delete(SubjectTeamMember).where(SubjectTeamMember.team_id == team.id))
        session.add_all(SubjectTeamMember(team_id=team.id, teacher_id=i) for i in dict.fromkeys(teacher_ids))
    await session.flush()
    out = await _team_out(session, team)
    old, new = audit.changed(before, team_snapshot(out))
    if new:
        audit.record(session, actor, "update", "subject_team", team.id, summary=team.name, before=old, after=new)
    return out


async def delete_subject_team(session: AsyncSession, actor: User, team_id: int) -> None:
    """The team goes; its subjects and teachers stay."""
    team = await _team(session, actor, team_id)
    audit.record(session, actor, "delete", "subject_team", team.id, summary=team.name,
                 before=team_snapshot(await _team_out(session, team)))
    await session.delete(team)
    await session.flush()


# --- teaching assignments --------------------------------------------------------------------
async def _assignment(session: AsyncSession, actor: User, assignment_id: int) -> TeachingAssignment:
    return await _owned(session, actor, TeachingAssignment, assignment_id, "assignment")


async def update_assignment(session: AsyncSession, actor: User, assignment_id: int,
                            data: AssignmentUpdate) -> AssignmentOut:
    assignment = await _assignment(session, actor, assignment_id)
    teacher = await teacher_of(session, actor, data.teacher_id or assignment.teacher_id, "teacher_id")
    if data.class_id is not None and data.class_id != assignment.class_id:
        cls = await class_of(session, actor, data.class_id, "class_id")
    else:
        cls = await session.get(SchoolClass, assignment.class_id)
    subject = await subject_of(session, actor, data.subject_id or assignment.subject_id, "subject_id")
    assert cls is not None
    await check_assignment_free(session, cls, subject, exclude_id=assignment.id)
    before = audit.snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.teacher_id, assignment.class_id, assignment.subject_id = teacher.id, cls.id, subject.id
    await session.flush()
    old, new = audit.changed(before, audit.snapshot(assignment, ASSIGNMENT_FIELDS))
    if new:
        audit.record(session, actor, "update", "assignment", assignment.id,
                     summary=f"{subject.name} · {cls.name} · {teacher.full_name}", before=old, after=new)
    return assignment_out(assignment, teacher, cls, subject)


async def delete_assignment(session: AsyncSession, actor: User, assignment_id: int) -> None:
    """The assignment goes; lessons already scheduled stay."""
    assignment = await _assignment(session, actor, assignment_id)
    teacher = await session.get(User, assignment.teacher_id)
    cls = await session.get(SchoolClass, assignment.class_id)
    subject = await session.get(Subject, assignment.subject_id)
    summary = " · ".join(x.name for x in (subject, cls) if x is not None) + f" · {teacher.full_name if teacher else ''}"
    audit.record(session, actor, "delete", "assignment", assignment.id, summary=summary,
                 before=audit.snapshot(assignment, ASSIGNMENT_FIELDS))
    await session.delete(assignment)
    await session.flush()

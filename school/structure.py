"""The school's structure: school years, grades (khối), classes (lớp), subjects (môn), subject
teams (tổ chuyên môn) and teaching assignments (phân công giảng dạy)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access, audit
from school.accounts import users_out
from school.errors import Conflict, InvalidField, NotFound
from school.models import (
    ClassStudent,
    Grade,
    Lesson,
    Role,
    School,
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
    AssignmentCreate,
    AssignmentOut,
    ClassCreate,
    ClassDetail,
    ClassOut,
    ClassStudentsAdd,
    GradeOut,
    SchoolYearCreate,
    SchoolYearOut,
    SubjectCreate,
    SubjectOut,
    SubjectTeamCreate,
    SubjectTeamOut,
    UserBrief,
)
from school.timezones import school_today


# --- the rules ------------------------------------------------------------------------------------
def fold(text: str) -> str:
    """A name as compared for duplicates: case, accents (đ too) and spacing ignored."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


_LEADING_NUMBER = re.compile(r"^\s*(\d+)")


def check_name_grade(name: str, level: int, field: str) -> None:
    """A class name that begins with a grade number (1–12) begins with its own: 12A1 is in grade 12."""
    match = _LEADING_NUMBER.match(name)
    if match is None:
        return
    number = int(match.group(1))
    if 1 <= number <= 12 and number != level:
        raise InvalidField(field, f"class {name} begins with {number} but is in grade {level}",
                           reason="class_grade_mismatch", params={"name": name, "number": number, "grade": level})


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


async def check_year_free(session: AsyncSession, school_id: int, name: str, starts_on: date, ends_on: date,
                          exclude_id: int | None = None) -> None:
    """No two years of a school share a name or a day."""
    others = list(await session.scalars(
        select(SchoolYear).where(SchoolYear.school_id == school_id, SchoolYear.id != (exclude_id or 0))
        .order_by(SchoolYear.starts_on)))
    for other in others:
        if other.name == name:
            raise Conflict(f"school year {name} exists", reason="year_exists", field="name", params={"name": name})
    for other in others:
        if starts_on <= other.ends_on and other.starts_on <= ends_on:
            field = "starts_on" if other.starts_on <= starts_on <= other.ends_on else "ends_on"
            raise Conflict(f"overlaps the school year {other.name}", reason="year_overlaps", field=field,
                           params={"other": other.name, "other_starts": _day(other.starts_on),
                                   "other_ends": _day(other.ends_on)})


async def check_class_free(session: AsyncSession, year: SchoolYear, name: str, exclude_id: int | None = None) -> None:
    """No two classes of a year share a name (case and spacing ignored), archived ones included."""
    wanted = fold(name)
    rows = await session.execute(
        select(SchoolClass.name, SchoolClass.archived_at)
        .where(SchoolClass.school_year_id == year.id, SchoolClass.id != (exclude_id or 0)))
    for other, archived_at in rows:
        if fold(other) == wanted:
            reason = "class_exists" if archived_at is None else "class_exists_archived"
            raise Conflict(f"class {other} exists in school year {year.name}", reason=reason, field="name",
                           params={"name": other, "year": year.name})


async def check_subject_free(session: AsyncSession, school_id: int, name: str | None, code: str | None,
                             exclude_id: int | None = None) -> None:
    """No two subjects share a name or a code, compared without case or accents."""
    others = await session.scalars(
        select(Subject).where(Subject.school_id == school_id, Subject.id != (exclude_id or 0)))
    for other in others:
        if name is not None and fold(other.name) == fold(name):
            raise Conflict(f"subject {other.name} exists", reason="subject_exists", field="name",
                           params={"name": other.name})
        if code and other.code and fold(other.code) == fold(code):
            raise Conflict(f"code {code} is used by {other.name}", reason="subject_exists", field="code",
                           params={"name": other.name, "code": other.code})


# --- schools, years and grades -----------------------------------------------------------------
async def create_school(session: AsyncSession, name: str, timezone: str = "Asia/Ho_Chi_Minh") -> School:
    """A school with its twelve grades (khối 1–12)."""
    school = School(name=name, timezone=timezone)
    session.add(school)
    await session.flush()
    session.add_all(Grade(school_id=school.id, level=level) for level in range(1, 13))
    await session.flush()
    return school


def default_year_bounds(today: date) -> tuple[str, date, date]:
    """Vietnamese school years run from September to May; bounds keep the summer in the old year."""
    first = today.year if today.month >= 7 else today.year - 1
    return f"{first}-{first + 1}", date(first, 9, 1), date(first + 1, 7, 31)


async def current_year(session: AsyncSession, school_id: int, today: date) -> SchoolYear:
    """The year containing `today`, else the latest one; created when the school has none."""
    years = list(
        await session.scalars(
            select(SchoolYear).where(SchoolYear.school_id == school_id).order_by(SchoolYear.starts_on)
        )
    )
    for year in years:
        if year.starts_on <= today <= year.ends_on:
            return year
    if years:
        return years[-1]
    name, starts, ends = default_year_bounds(today)
    year = SchoolYear(school_id=school_id, name=name, starts_on=starts, ends_on=ends)
    session.add(year)
    await session.flush()
    return year


async def list_school_years(session: AsyncSession, actor: User) -> list[SchoolYearOut]:
    today = await school_today(session, actor.school_id)
    current = await current_year(session, actor.school_id, today)
    years = list(await session.scalars(
        select(SchoolYear).where(SchoolYear.school_id == actor.school_id).order_by(SchoolYear.starts_on)
    ))
    return await years_out(session, years, current.id)


async def years_out(session: AsyncSession, years: list[SchoolYear], current_id: int | None) -> list[SchoolYearOut]:
    counted = await session.execute(
        select(SchoolClass.school_year_id, func.count()).where(SchoolClass.school_year_id.in_([y.id for y in years]))
        .group_by(SchoolClass.school_year_id))
    counts: dict[int, int] = {year_id: n for year_id, n in counted}
    return [
        SchoolYearOut(id=y.id, name=y.name, starts_on=y.starts_on, ends_on=y.ends_on, is_current=y.id == current_id,
                      class_count=counts.get(y.id, 0))
        for y in years
    ]


async def create_school_year(session: AsyncSession, actor: User, data: SchoolYearCreate) -> SchoolYearOut:
    access.require_admin(actor)
    await check_year_free(session, actor.school_id, data.name, data.starts_on, data.ends_on)
    year = SchoolYear(
        school_id=actor.school_id, name=data.name, starts_on=data.starts_on, ends_on=data.ends_on
    )
    session.add(year)
    await session.flush()
    audit.record(session, actor, "create", "school_year", year.id, summary=year.name,
                 after=audit.snapshot(year, YEAR_FIELDS))
    today = await school_today(session, actor.school_id)
    return SchoolYearOut(
        id=year.id,
        name=year.name,
        starts_on=year.starts_on,
        ends_on=year.ends_on,
        is_current=year.starts_on <= today <= year.ends_on,
    )


async def list_grades(session: AsyncSession, actor: User) -> list[GradeOut]:
    grades = await session.scalars(
        select(Grade).where(Grade.school_id == actor.school_id).order_by(Grade.level)
    )
    return [GradeOut.model_validate(g) for g in grades]


YEAR_FIELDS = ("name", "starts_on", "ends_on")
CLASS_FIELDS = ("name", "grade_id", "homeroom_teacher_id", "school_year_id")
SUBJECT_FIELDS = ("name", "code")
ASSIGNMENT_FIELDS = ("teacher_id", "class_id", "subject_id")


async def teacher_of(session: AsyncSession, actor: User, teacher_id: int, field: str) -> User:
    teacher = await session.get(User, teacher_id)
    if teacher is None or teacher.school_id != actor.school_id or teacher.role is not Role.teacher:
        raise InvalidField(field, "no such teacher in this school", reason="no_such_teacher")
    return teacher




# --- classes ----------------------------------------------------------------------------------
async def _classes_out(session: AsyncSession, classes: list[SchoolClass]) -> list[ClassOut]:
    if not classes:
        return []
    ids = [c.id for c in classes]
    counted = await session.execute(
        select(ClassStudent.class_id, func.count())
        .where(ClassStudent.class_id.in_(ids))
        .group_by(ClassStudent.class_id)
    )
    counts: dict[int, int] = {class_id: n for class_id, n in counted}
    lessons: dict[int, int] = {class_id: n for class_id, n in await session.execute(
        select(Lesson.class_id, func.count()).where(Lesson.class_id.in_(ids)).group_by(Lesson.class_id))}
    grades = {g.id: g.level
              for g in await session.scalars(select(Grade).where(Grade.id.in_({c.grade_id for c in classes})))}
    years = {
        y.id: y.name
        for y in await session.scalars(
            select(SchoolYear).where(SchoolYear.id.in_({c.school_year_id for c in classes}))
        )
    }
    teacher_ids = {c.homeroom_teacher_id for c in classes if c.homeroom_teacher_id}
    teachers = {
        u.id: u.full_name for u in await session.scalars(select(User).where(User.id.in_(teacher_ids)))
    }
    return [
        ClassOut(
            id=c.id,
            name=c.name,
            grade=grades[c.grade_id],
            grade_id=c.grade_id,
            school_year_id=c.school_year_id,
            school_year=years[c.school_year_id],
            homeroom_teacher_id=c.homeroom_teacher_id,
            homeroom_teacher_name=teachers.get(c.homeroom_teacher_id) if c.homeroom_teacher_id else None,
            student_count=counts.get(c.id, 0),
            lesson_count=lessons.get(c.id, 0),
            archived_at=c.archived_at,
        )
        for c in classes
    ]


async def list_classes(session: AsyncSession, actor: User, archived: bool = False) -> list[ClassOut]:
    """The classes in use, or (`archived`) the archived ones."""
    query = select(SchoolClass).where(SchoolClass.school_id == actor.school_id)
    query = query.where(SchoolClass.archived_at.is_not(None) if archived else SchoolClass.archived_at.is_(None))
    visible = await access.class_ids_of(session, actor)
    if visible is not None:
        query = query.where(SchoolClass.id.in_(visible))
    classes = list(await session.scalars(query.order_by(SchoolClass.name)))
    return await _classes_out(session, classes)


async def create_class(session: AsyncSession, actor: User, data: ClassCreate) -> ClassOut:
    access.require_admin(actor)
    if data.school_year_id is not None:
        year = await session.get(SchoolYear, data.school_year_id)
        if year is None or year.school_id != actor.school_id:
            raise InvalidField("school_year_id", "no such school year in this school", reason="no_such_year")
    else:
        year = await current_year(session, actor.school_id, await school_today(session, actor.school_id))
    grade = await session.scalar(
        select(Grade).where(Grade.school_id == actor.school_id, Grade.level == data.grade)
    )
    if grade is None:
        raise InvalidField("grade", "no such grade in this school", reason="no_such_grade")
    check_name_grade(data.name, data.grade, "name")
    if data.homeroom_teacher_id is not None:
        await teacher_of(session, actor, data.homeroom_teacher_id, "homeroom_teacher_id")
    await check_class_free(session, year, data.name)
    cls = SchoolClass(
        school_id=actor.school_id,
        school_year_id=year.id,
        grade_id=grade.id,
        name=data.name,
        homeroom_teacher_id=data.homeroom_teacher_id,
    )
    session.add(cls)
    await session.flush()
    audit.record(session, actor, "create", "class", cls.id, summary=cls.name, after=audit.snapshot(cls, CLASS_FIELDS))
    (out,) = await _classes_out(session, [cls])
    return out


async def class_detail(session: AsyncSession, actor: User, class_id: int) -> ClassDetail:
    cls = await access.get_class(session, actor, class_id)
    (out,) = await _classes_out(session, [cls])
    students = list(
        await session.scalars(
            select(User)
            .join(ClassStudent, ClassStudent.student_id == User.id)
            .where(ClassStudent.class_id == class_id)
            .order_by(User.full_name, User.id)
        )
    )
    return ClassDetail(**out.model_dump(), students=await users_out(session, students))


async def add_students(
    session: AsyncSession, actor: User, class_id: int, data: ClassStudentsAdd
) -> ClassDetail:
    """Enrol students; a student in another class of the same year is refused (409 names them)
    unless `move`, which takes them out of that class."""
    access.require_admin(actor)
    cls = await access.get_class(session, actor, class_id)
    if cls.archived_at is not None:
        raise Conflict(f"class {cls.name} is archived", reason="class_archived", params={"name": cls.name})
    ids = list(dict.fromkeys(data.user_ids))
    students = {
        u.id: u
        for u in await session.scalars(
            select(User).where(User.id.in_(ids), User.school_id == actor.school_id)
        )
    }
    for index, user_id in enumerate(ids):
        user = students.get(user_id)
        if user is None or user.role is not Role.student:
            raise InvalidField(f"user_ids[{index}]", f"user {user_id} is not a student of this school",
                               reason="not_a_student", params={"id": user_id})
    # A student belongs to one class per school year.
    elsewhere = (
        await session.execute(
            select(ClassStudent.student_id, SchoolClass.id, SchoolClass.name)
            .join(SchoolClass, SchoolClass.id == ClassStudent.class_id)
            .where(
                ClassStudent.student_id.in_(ids),
                SchoolClass.school_year_id == cls.school_year_id,
                SchoolClass.id != cls.id,
                SchoolClass.archived_at.is_(None),  # an archived class keeps its roll as it was
            )
        )
    ).all()
    if elsewhere and not data.move:
        listed = ", ".join(f"{students[sid].full_name} ({name})" for sid, _, name in elsewhere)
        raise Conflict(f"already in another class this school year: {listed}", reason="student_in_other_class",
                       field="user_ids", params={"students": listed, "name": cls.name})
    for student_id, old_id, old_name in elsewhere:
        await session.execute(
            delete(ClassStudent).where(ClassStudent.class_id == old_id, ClassStudent.student_id == student_id))
        audit.record(session, actor, "move", "class_student", student_id, summary=students[student_id].full_name,
                     before={"class_id": old_id, "class_name": old_name},
                     after={"class_id": cls.id, "class_name": cls.name})
    moved = {sid for sid, _, _ in elsewhere}
    present = set(
        await session.scalars(
            select(ClassStudent.student_id).where(
                ClassStudent.class_id == cls.id, ClassStudent.student_id.in_(ids)
            )
        )
    )
    added = [i for i in ids if i not in present]
    session.add_all(ClassStudent(class_id=cls.id, student_id=i) for i in added)
    for student_id in added:
        if student_id not in moved:
            audit.record(session, actor, "create", "class_student", student_id, summary=students[student_id].full_name,
                         after={"class_id": cls.id, "class_name": cls.name})
    await session.flush()
    return await class_detail(session, actor, class_id)


async def remove_student(session: AsyncSession, actor: User, class_id: int, user_id: int) -> None:
    access.require_admin(actor)
    cls = await access.get_class(session, actor, class_id)
    result = await session.execute(
        delete(ClassStudent).where(ClassStudent.class_id == class_id, ClassStudent.student_id == user_id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"user {user_id} is not in class {class_id}", reason="not_in_class", params={"name": cls.name})
    student = await session.get(User, user_id)
    audit.record(session, actor, "delete", "class_student", user_id, summary=student.full_name if student else "",
                 before={"class_id": cls.id, "class_name": cls.name})


# --- subjects and subject teams ---------------------------------------------------------------
async def list_subjects(session: AsyncSession, actor: User) -> list[SubjectOut]:
    subjects = await session.scalars(
        select(Subject).where(Subject.school_id == actor.school_id).order_by(Subject.name)
    )
    return [SubjectOut.model_validate(s) for s in subjects]


async def create_subject(session: AsyncSession, actor: User, data: SubjectCreate) -> SubjectOut:
    access.require_admin(actor)
    await check_subject_free(session, actor.school_id, data.name, data.code)
    subject = Subject(school_id=actor.school_id, name=data.name, code=data.code or None)
    session.add(subject)
    await session.flush()
    audit.record(session, actor, "create", "subject", subject.id, summary=subject.name,
                 after=audit.snapshot(subject, SUBJECT_FIELDS))
    return SubjectOut.model_validate(subject)


async def subject_of(session: AsyncSession, actor: User, subject_id: int, field: str) -> Subject:
    subject = await session.get(Subject, subject_id)
    if subject is None or subject.school_id != actor.school_id:
        raise InvalidField(field, "no such subject in this school", reason="no_such_subject")
    return subject


async def _team_out(session: AsyncSession, team: SubjectTeam) -> SubjectTeamOut:
    subjects = await session.scalars(
        select(Subject)
        .join(SubjectTeamSubject, SubjectTeamSubject.subject_id == Subject.id)
        .where(SubjectTeamSubject.team_id == team.id)
        .order_by(Subject.name)
    )
    teachers = await session.scalars(
        select(User)
        .join(SubjectTeamMember, SubjectTeamMember.teacher_id == User.id)
        .where(SubjectTeamMember.team_id == team.id)
        .order_by(User.full_name)
    )
    return SubjectTeamOut(
        id=team.id,
        name=team.name,
        subjects=[SubjectOut.model_validate(s) for s in subjects],
        teachers=[UserBrief.model_validate(t) for t in teachers],
    )


async def list_subject_teams(session: AsyncSession, actor: User) -> list[SubjectTeamOut]:
    access.require_staff(actor)
    teams = await session.scalars(
        select(SubjectTeam).where(SubjectTeam.school_id == actor.school_id).order_by(SubjectTeam.name)
    )
    return [await _team_out(session, t) for t in teams]


async def create_subject_team(
    session: AsyncSession, actor: User, data: SubjectTeamCreate
) -> SubjectTeamOut:
    access.require_admin(actor)
    await check_team_free(session, actor.school_id, data.name)
    await check_team_members(session, actor, data.subject_ids, data.teacher_ids)
    team = SubjectTeam(school_id=actor.school_id, name=data.name)
    session.add(team)
    await session.flush()
    session.add_all(SubjectTeamSubject(team_id=team.id, subject_id=i) for i in dict.fromkeys(data.subject_ids))
    session.add_all(SubjectTeamMember(team_id=team.id, teacher_id=i) for i in dict.fromkeys(data.teacher_ids))
    await session.flush()
    out = await _team_out(session, team)
    audit.record(session, actor, "create", "subject_team", team.id, summary=team.name, after=team_snapshot(out))
    return out


async def check_team_free(session: AsyncSession, school_id: int, name: str, exclude_id: int | None = None) -> None:
    names = await session.scalars(
        select(SubjectTeam.name).where(SubjectTeam.school_id == school_id, SubjectTeam.id != (exclude_id or 0)))
    for other in names:
        if fold(other) == fold(name):
            raise Conflict(f"subject team {other} exists", reason="team_exists", field="name", params={"name": other})


async def check_team_members(session: AsyncSession, actor: User, subject_ids: list[int] | None,
                             teacher_ids: list[int] | None) -> None:
    for index, subject_id in enumerate(subject_ids or []):
        await subject_of(session, actor, subject_id, f"subject_ids[{index}]")
    for index, teacher_id in enumerate(teacher_ids or []):
        await teacher_of(session, actor, teacher_id, f"teacher_ids[{index}]")


def team_snapshot(team: SubjectTeamOut) -> dict[str, object]:
    return {"name": team.name, "subjects": ", ".join(s.name for s in team.subjects),
            "teachers": ", ".join(t.full_name for t in team.teachers)}


# --- teaching assignments ---------------------------------------------------------------------
async def list_assignments(session: AsyncSession, actor: User) -> list[AssignmentOut]:
    access.require_staff(actor)
    query = (
        select(TeachingAssignment, User.full_name, SchoolClass.name, Subject.name)
        .join(User, User.id == TeachingAssignment.teacher_id)
        .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
        .join(Subject, Subject.id == TeachingAssignment.subject_id)
        .where(TeachingAssignment.school_id == actor.school_id)
        .order_by(SchoolClass.name, Subject.name)
    )
    if actor.role is Role.teacher:
        query = query.where(TeachingAssignment.teacher_id == actor.id)
    rows = await session.execute(query)
    return [
        AssignmentOut(
            id=a.id,
            teacher_id=a.teacher_id,
            teacher_name=teacher,
            class_id=a.class_id,
            class_name=class_name,
            subject_id=a.subject_id,
            subject_name=subject,
        )
        for a, teacher, class_name, subject in rows
    ]


async def create_assignment(session: AsyncSession, actor: User, data: AssignmentCreate) -> AssignmentOut:
    access.require_admin(actor)
    teacher = await teacher_of(session, actor, data.teacher_id, "teacher_id")
    cls = await class_of(session, actor, data.class_id, "class_id")
    subject = await subject_of(session, actor, data.subject_id, "subject_id")
    await check_assignment_free(session, cls, subject)
    assignment = TeachingAssignment(
        school_id=actor.school_id, teacher_id=teacher.id, class_id=cls.id, subject_id=subject.id
    )
    session.add(assignment)
    await session.flush()
    audit.record(session, actor, "create", "assignment", assignment.id,
                 summary=f"{subject.name} · {cls.name} · {teacher.full_name}",
                 after=audit.snapshot(assignment, ASSIGNMENT_FIELDS))
    return assignment_out(assignment, teacher, cls, subject)


async def class_of(session: AsyncSession, actor: User, class_id: int, field: str) -> SchoolClass:
    cls = await session.get(SchoolClass, class_id)
    if cls is None or cls.school_id != actor.school_id:
        raise InvalidField(field, "no such class in this school", reason="no_such_class")
    if cls.archived_at is not None:
        raise InvalidField(field, f"class {cls.name} is archived", reason="class_archived", params={"name": cls.name})
    return cls


async def check_assignment_free(session: AsyncSession, cls: SchoolClass, subject: Subject,
                                exclude_id: int | None = None) -> None:
    """One teacher per subject in a class."""
    taken = await session.scalar(
        select(TeachingAssignment).where(
            TeachingAssignment.class_id == cls.id, TeachingAssignment.subject_id == subject.id,
            TeachingAssignment.id != (exclude_id or 0)))
    if taken is not None:
        teacher = await session.get(User, taken.teacher_id)
        raise Conflict(f"{subject.name} in {cls.name} is already assigned", reason="assignment_exists",
                       field="subject_id", params={"subject": subject.name, "klass": cls.name,
                                                   "teacher": teacher.full_name if teacher else ""})


def assignment_out(assignment: TeachingAssignment, teacher: User, cls: SchoolClass, subject: Subject) -> AssignmentOut:
    return AssignmentOut(
        id=assignment.id,
        teacher_id=teacher.id,
        teacher_name=teacher.full_name,
        class_id=cls.id,
        class_name=cls.name,
        subject_id=subject.id,
        subject_name=subject.name,
    )


async def class_rosters(session: AsyncSession, class_ids: set[int]) -> dict[int, list[User]]:
    """The students of each class, by full name (for attendance lists; no access check here)."""
    rows = await session.execute(
        select(ClassStudent.class_id, User).join(User, User.id == ClassStudent.student_id)
        .where(ClassStudent.class_id.in_(class_ids)).order_by(User.full_name, User.id))
    out: dict[int, list[User]] = {cid: [] for cid in class_ids}
    for class_id, user in rows:
        out[class_id].append(user)
    return out

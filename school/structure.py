"""The school's structure: school years, grades (khối), classes (lớp), subjects (môn), subject
teams (tổ chuyên môn) and teaching assignments (phân công giảng dạy)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access
from school.accounts import users_out
from school.errors import Conflict, InvalidField, NotFound
from school.models import (
    ClassStudent,
    Grade,
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
    years = await session.scalars(
        select(SchoolYear).where(SchoolYear.school_id == actor.school_id).order_by(SchoolYear.starts_on)
    )
    return [
        SchoolYearOut(
            id=y.id, name=y.name, starts_on=y.starts_on, ends_on=y.ends_on, is_current=y.id == current.id
        )
        for y in years
    ]


async def create_school_year(session: AsyncSession, actor: User, data: SchoolYearCreate) -> SchoolYearOut:
    access.require_admin(actor)
    exists = await session.scalar(
        select(SchoolYear.id).where(SchoolYear.school_id == actor.school_id, SchoolYear.name == data.name)
    )
    if exists is not None:
        raise Conflict(f"school year {data.name} exists")
    year = SchoolYear(
        school_id=actor.school_id, name=data.name, starts_on=data.starts_on, ends_on=data.ends_on
    )
    session.add(year)
    await session.flush()
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


async def _teacher(session: AsyncSession, actor: User, teacher_id: int, field: str) -> User:
    teacher = await session.get(User, teacher_id)
    if teacher is None or teacher.school_id != actor.school_id or teacher.role is not Role.teacher:
        raise InvalidField(field, "no such teacher in this school")
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
    grades = {g.id: g.level for g in await session.scalars(select(Grade).where(Grade.id.in_({c.grade_id for c in classes})))}
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
            school_year_id=c.school_year_id,
            school_year=years[c.school_year_id],
            homeroom_teacher_id=c.homeroom_teacher_id,
            homeroom_teacher_name=teachers.get(c.homeroom_teacher_id) if c.homeroom_teacher_id else None,
            student_count=counts.get(c.id, 0),
        )
        for c in classes
    ]


async def list_classes(session: AsyncSession, actor: User) -> list[ClassOut]:
    query = select(SchoolClass).where(SchoolClass.school_id == actor.school_id)
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
            raise InvalidField("school_year_id", "no such school year in this school")
    else:
        year = await current_year(session, actor.school_id, await school_today(session, actor.school_id))
    grade = await session.scalar(
        select(Grade).where(Grade.school_id == actor.school_id, Grade.level == data.grade)
    )
    if grade is None:
        raise InvalidField("grade", "no such grade in this school")
    if data.homeroom_teacher_id is not None:
        await _teacher(session, actor, data.homeroom_teacher_id, "homeroom_teacher_id")
    taken = await session.scalar(
        select(SchoolClass.id).where(SchoolClass.school_year_id == year.id, SchoolClass.name == data.name)
    )
    if taken is not None:
        raise Conflict(f"class {data.name} exists in school year {year.name}")
    cls = SchoolClass(
        school_id=actor.school_id,
        school_year_id=year.id,
        grade_id=grade.id,
        name=data.name,
        homeroom_teacher_id=data.homeroom_teacher_id,
    )
    session.add(cls)
    await session.flush()
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
    access.require_admin(actor)
    cls = await access.get_class(session, actor, class_id)
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
            raise InvalidField(f"user_ids[{index}]", f"user {user_id} is not a student of this school")
    # A student belongs to one class per school year.
    elsewhere = (
        await session.execute(
            select(ClassStudent.student_id, SchoolClass.name)
            .join(SchoolClass, SchoolClass.id == ClassStudent.class_id)
            .where(
                ClassStudent.student_id.in_(ids),
                SchoolClass.school_year_id == cls.school_year_id,
                SchoolClass.id != cls.id,
            )
        )
    ).all()
    if elsewhere:
        listed = ", ".join(f"{students[sid].full_name} ({name})" for sid, name in elsewhere)
        raise Conflict(f"already in another class this school year: {listed}")
    present = set(
        await session.scalars(
            select(ClassStudent.student_id).where(
                ClassStudent.class_id == cls.id, ClassStudent.student_id.in_(ids)
            )
        )
    )
    session.add_all(ClassStudent(class_id=cls.id, student_id=i) for i in ids if i not in present)
    await session.flush()
    return await class_detail(session, actor, class_id)


async def remove_student(session: AsyncSession, actor: User, class_id: int, user_id: int) -> None:
    access.require_admin(actor)
    await access.get_class(session, actor, class_id)
    result = await session.execute(
        delete(ClassStudent).where(ClassStudent.class_id == class_id, ClassStudent.student_id == user_id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"user {user_id} is not in class {class_id}")


# --- subjects and subject teams ---------------------------------------------------------------
async def list_subjects(session: AsyncSession, actor: User) -> list[SubjectOut]:
    subjects = await session.scalars(
        select(Subject).where(Subject.school_id == actor.school_id).order_by(Subject.name)
    )
    return [SubjectOut.model_validate(s) for s in subjects]


async def create_subject(session: AsyncSession, actor: User, data: SubjectCreate) -> SubjectOut:
    access.require_admin(actor)
    taken = await session.scalar(
        select(Subject.id).where(Subject.school_id == actor.school_id, Subject.name == data.name)
    )
    if taken is not None:
        raise Conflict(f"subject {data.name} exists")
    subject = Subject(school_id=actor.school_id, name=data.name, code=data.code or None)
    session.add(subject)
    await session.flush()
    return SubjectOut.model_validate(subject)


async def _subject(session: AsyncSession, actor: User, subject_id: int, field: str) -> Subject:
    subject = await session.get(Subject, subject_id)
    if subject is None or subject.school_id != actor.school_id:
        raise InvalidField(field, "no such subject in this school")
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
    taken = await session.scalar(
        select(SubjectTeam.id).where(SubjectTeam.school_id == actor.school_id, SubjectTeam.name == data.name)
    )
    if taken is not None:
        raise Conflict(f"subject team {data.name} exists")
    for index, subject_id in enumerate(data.subject_ids):
        await _subject(session, actor, subject_id, f"subject_ids[{index}]")
    for index, teacher_id in enumerate(data.teacher_ids):
        await _teacher(session, actor, teacher_id, f"teacher_ids[{index}]")
    team = SubjectTeam(school_id=actor.school_id, name=data.name)
    session.add(team)
    await session.flush()
    session.add_all(SubjectTeamSubject(team_id=team.id, subject_id=i) for i in dict.fromkeys(data.subject_ids))
    session.add_all(SubjectTeamMember(team_id=team.id, teacher_id=i) for i in dict.fromkeys(data.teacher_ids))
    await session.flush()
    return await _team_out(session, team)


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
    teacher = await _teacher(session, actor, data.teacher_id, "teacher_id")
    cls = await session.get(SchoolClass, data.class_id)
    if cls is None or cls.school_id != actor.school_id:
        raise InvalidField("class_id", "no such class in this school")
    subject = await _subject(session, actor, data.subject_id, "subject_id")
    taken = await session.scalar(
        select(TeachingAssignment.id).where(
            TeachingAssignment.class_id == cls.id, TeachingAssignment.subject_id == subject.id
        )
    )
    if taken is not None:
        raise Conflict(f"{subject.name} in {cls.name} is already assigned")
    assignment = TeachingAssignment(
        school_id=actor.school_id, teacher_id=teacher.id, class_id=cls.id, subject_id=subject.id
    )
    session.add(assignment)
    await session.flush()
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

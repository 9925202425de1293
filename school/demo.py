"""`--demo`: a small school to try lophoc with: a class, its teacher, students and a lesson now."""
from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from school.models import (
    ClassStudent,
    Grade,
    Lesson,
    Role,
    School,
    SchoolClass,
    Subject,
    TeachingAssignment,
    User,
)
from school.passwords import hash_password
from school.structure import create_school, current_year
from school.timezones import school_today, school_zone
from storage.database import Database


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    full_name: str


@dataclass(frozen=True)
class DemoSchool:
    admin: Credentials
    teacher: Credentials
    students: list[Credentials]
    class_id: int
    class_name: str
    lesson_id: int
    lesson_title: str


ADMIN = ("quantri.demo", "Trần Văn Quản")
TEACHER = ("gv.lan", "Nguyễn Thị Lan")
STUDENTS = [
    ("hs.an", "Lê Văn An"),
    ("hs.binh", "Phạm Thị Bình"),
    ("hs.chi", "Hoàng Minh Chi"),
    ("hs.dung", "Vũ Tiến Dũng"),
]
CLASS_NAME = "10A1"
SUBJECTS = [("Toán", "TOAN"), ("Ngữ văn", "VAN"), ("Tiếng Anh", "ANH")]


async def _account(session: AsyncSession, school_id: int, username: str, full_name: str, role: Role,
                   password: tuple[str, str]) -> tuple[User, Credentials]:
    """The demo account, created or given a fresh password (printed at every demo start)."""
    plain, password_hash = password
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(school_id=school_id, username=username, full_name=full_name, role=role, password_hash="")
        session.add(user)
    user.password_hash = password_hash
    user.is_active = True
    await session.flush()
    return user, Credentials(username, plain, full_name)


async def _fresh_password() -> tuple[str, str]:
    password = secrets.token_urlsafe(9)
    return password, await hash_password(password)


async def seed_demo(db: Database, school_name: str = "Trường THPT Demo") -> DemoSchool:
    """Idempotent: running it again reuses the demo school and schedules a lesson for now.
    The passwords are hashed first (in threads, side by side), then one unit of work seeds."""
    passwords = await asyncio.gather(*(_fresh_password() for _ in range(2 + len(STUDENTS))))
    async with db.session(immediate=True) as session:
        return await _seed(session, school_name, passwords)


async def _seed(session: AsyncSession, school_name: str, passwords: list[tuple[str, str]]) -> DemoSchool:
    school = await session.scalar(select(School).order_by(School.id).limit(1))
    if school is None:
        school = await create_school(session, school_name)
    admin, admin_cred = await _account(session, school.id, *ADMIN, Role.admin, passwords[0])
    teacher, teacher_cred = await _account(session, school.id, *TEACHER, Role.teacher, passwords[1])
    students = [await _account(session, school.id, u, n, Role.student, passwords[2 + i])
                for i, (u, n) in enumerate(STUDENTS)]

    year = await current_year(session, school.id, await school_today(session, school.id))
    cls = await session.scalar(
        select(SchoolClass).where(SchoolClass.school_year_id == year.id, SchoolClass.name == CLASS_NAME)
    )
    if cls is None:
        grade = await session.scalar(select(Grade).where(Grade.school_id == school.id, Grade.level == 10))
        assert grade is not None
        cls = SchoolClass(
            school_id=school.id, school_year_id=year.id, grade_id=grade.id, name=CLASS_NAME,
            homeroom_teacher_id=teacher.id,
        )
        session.add(cls)
        await session.flush()
    enrolled = set(await session.scalars(select(ClassStudent.student_id).where(ClassStudent.class_id == cls.id)))
    session.add_all(
        ClassStudent(class_id=cls.id, student_id=user.id) for user, _ in students if user.id not in enrolled
    )
    subjects = []
    for name, code in SUBJECTS:
        subject = await session.scalar(select(Subject).where(Subject.school_id == school.id, Subject.name == name))
        if subject is None:
            subject = Subject(school_id=school.id, name=name, code=code)
            session.add(subject)
            await session.flush()
        # The demo teacher teaches every demo subject to the class (the timetable's rule for lessons).
        assigned = await session.scalar(select(TeachingAssignment.id).where(
            TeachingAssignment.class_id == cls.id, TeachingAssignment.subject_id == subject.id))
        if assigned is None:
            session.add(TeachingAssignment(school_id=school.id, teacher_id=teacher.id, class_id=cls.id,
                                           subject_id=subject.id))
        subjects.append(subject)
    await session.flush()

    now = datetime.now(UTC).replace(microsecond=0)
    lesson = await session.scalar(
        select(Lesson).where(Lesson.class_id == cls.id, Lesson.starts_at <= now, Lesson.ends_at > now + timedelta(minutes=10))
    )
    if lesson is None:
        # The demo lesson runs from 5 minutes ago for 45 minutes; the demo's future is rebuilt.
        starts, ends = now - timedelta(minutes=5), now + timedelta(minutes=40)
        clashing = await session.scalars(
            select(Lesson).where(
                (Lesson.class_id == cls.id) | (Lesson.teacher_id == teacher.id),
                Lesson.ends_at > starts,
            )
        )
        for old in clashing:
            await session.delete(old)
        lesson = Lesson(
            school_id=school.id, class_id=cls.id, subject_id=subjects[0].id, teacher_id=teacher.id,
            title="Hàm số bậc hai", starts_at=starts, ends_at=ends, created_by=admin.id,
        )
        session.add(lesson)
        # And the next days' lessons at 7:00, 8:00 and 9:00 school time, so the week has a timetable.
        zone = await school_zone(session, school.id)
        today = datetime.now(zone).date()
        for day in range(1, 6):
            for slot, subject in enumerate(subjects):
                at = datetime.combine(today + timedelta(days=day), time(7 + slot), tzinfo=zone).astimezone(UTC)
                session.add(Lesson(
                    school_id=school.id, class_id=cls.id, subject_id=subject.id, teacher_id=teacher.id,
                    title=f"{subject.name}: bài {day}", starts_at=at, ends_at=at + timedelta(minutes=45),
                    created_by=admin.id,
                ))
        await session.flush()
    return DemoSchool(
        admin=admin_cred,
        teacher=teacher_cred,
        students=[cred for _, cred in students],
        class_id=cls.id,
        class_name=cls.name,
        lesson_id=lesson.id,
        lesson_title=lesson.title,
    )

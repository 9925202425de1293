"""Who may see what: the one place where roles and class membership turn into permissions."""
from __future__ import annotations

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from school.errors import Forbidden, NotFound
from school.models import ClassStudent, Lesson, Role, SchoolClass, TeachingAssignment, User


def require_admin(actor: User) -> None:
    if actor.role is not Role.admin:
        raise Forbidden("only a school administrator may do this")


def require_staff(actor: User) -> None:
    if actor.role not in (Role.admin, Role.teacher):
        raise Forbidden("students may not do this")


async def class_ids_of(session: AsyncSession, actor: User) -> set[int] | None:
    """The classes `actor` may see; None means every class of the actor's school (admins)."""
    if actor.role is Role.admin:
        return None
    if actor.role is Role.student:
        rows = await session.scalars(
            select(ClassStudent.class_id).where(ClassStudent.student_id == actor.id)
        )
        return set(rows)
    # A teacher sees the classes they are homeroom teacher of, teach by assignment, or teach a lesson to.
    query = union(
        select(SchoolClass.id).where(SchoolClass.homeroom_teacher_id == actor.id),
        select(TeachingAssignment.class_id).where(TeachingAssignment.teacher_id == actor.id),
        select(Lesson.class_id).where(Lesson.teacher_id == actor.id),
    )
    return set((await session.execute(query)).scalars())


async def get_class(session: AsyncSession, actor: User, class_id: int) -> SchoolClass:
    """The class, if it exists in the actor's school and the actor may see it."""
    cls = await session.get(SchoolClass, class_id)
    if cls is None or cls.school_id != actor.school_id:
        raise NotFound(f"class {class_id} not found")
    visible = await class_ids_of(session, actor)
    if visible is not None and class_id not in visible:
        raise Forbidden("you do not belong to this class")
    return cls


async def get_lesson(session: AsyncSession, actor: User, lesson_id: int) -> Lesson:
    """The lesson, if it exists in the actor's school and the actor may see it."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.school_id != actor.school_id:
        raise NotFound(f"lesson {lesson_id} not found")
    if actor.role is Role.admin or lesson.teacher_id == actor.id:
        return lesson
    visible = await class_ids_of(session, actor)
    if visible is None or lesson.class_id not in visible:
        raise Forbidden("this lesson is not in your classes")
    return lesson


async def may_manage_lessons_of(
    session: AsyncSession, actor: User, class_id: int, subject_id: int, teacher_id: int
) -> None:
    """Admins schedule any lesson; a teacher only their own, for a class and subject assigned to them."""
    if actor.role is Role.admin:
        return
    if actor.role is Role.teacher and teacher_id == actor.id:
        assigned = await session.scalar(
            select(TeachingAssignment.id).where(
                TeachingAssignment.teacher_id == actor.id,
                TeachingAssignment.class_id == class_id,
                TeachingAssignment.subject_id == subject_id,
            )
        )
        if assigned is not None:
            return
        raise Forbidden("you are not assigned to teach this subject to this class")
    raise Forbidden("you may not schedule lessons for others")

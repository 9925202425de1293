"""Parents (phụ huynh) and their children: who may see which student. A parent account sees only
the students it is linked to (by the school, or by an invitation code the school gave them), and
nothing of any class as such."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from school.errors import Forbidden, NotFound
from school.models import ClassStudent, Role, User
from storage.database import Base
from storage.types import UTCDateTime, utcnow


class ParentLink(Base):
    __tablename__ = "parent_links"
    parent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def children_of(session: AsyncSession, parent_id: int) -> list[int]:
    """The ids of the students this parent is linked to."""
    return list(await session.scalars(select(ParentLink.student_id).where(ParentLink.parent_id == parent_id)
                                      .order_by(ParentLink.student_id)))


async def may_see_student(session: AsyncSession, actor: User, student_id: int) -> User:
    """The student, if `actor` may see their records: the student themselves, a parent linked to
    them, an admin of their school, or a teacher of one of their classes. Otherwise 403/404."""
    student = await session.get(User, student_id)
    if student is None or student.school_id != actor.school_id or student.role is not Role.student:
        raise NotFound(f"student {student_id} not found")
    if actor.role is Role.admin or actor.id == student.id:
        return student
    if actor.role is Role.parent:
        linked = await session.scalar(select(ParentLink.student_id).where(
            ParentLink.parent_id == actor.id, ParentLink.student_id == student_id))
        if linked is None:
            raise Forbidden("this student is not your child")
        return student
    if actor.role is Role.teacher:
        from school import access  # the classes a teacher sees

        visible = await access.class_ids_of(session, actor) or set()
        enrolled = set(await session.scalars(select(ClassStudent.class_id).where(ClassStudent.student_id == student_id)))
        if visible & enrolled:
            return student
    raise Forbidden("you may not see this student's records")

"""Parent accounts (tài khoản phụ huynh): the school creates them linked to students, or gives a
parent an invitation code (mã mời) for one student, with which the parent creates their own account
(or links the account they already have) at /parent/join. A code is used once and expires."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StringConstraints
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from school import access, audit
from school.accounts import username_taken
from school.errors import Conflict, Forbidden, InvalidField, NotFound
from school.models import Role, User
from school.parents import ParentLink
from school.schemas import Name, Password, Username
from storage.database import Base
from storage.types import UTCDateTime, utcnow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: a code read aloud or copied from paper is typed right."""
CODE_LENGTH = 10
INVITE_DAYS = 14
MAX_CHILDREN = 10


class ParentInvite(Base):
    __tablename__ = "parent_invites"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class ParentContact(Base):
    """Where a parent is told by e-mail (when the school configures SMTP)."""

    __tablename__ = "parent_contacts"
    parent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)


InviteCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=16,
                                              pattern=r"^[A-Za-z0-9]+$"), AfterValidator(str.upper)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")]


class ParentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    password: Password
    full_name: Name
    email: Email | None = None
    student_ids: list[StrictInt] = Field(min_length=1, max_length=MAX_CHILDREN)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student_id: StrictInt


class InviteOut(BaseModel):
    code: str
    student_id: int
    student_name: str
    expires_at: datetime


class JoinIn(BaseModel):
    """A new account from a code; a signed-in parent sends only the code to link another child."""

    model_config = ConfigDict(extra="forbid")
    code: InviteCode
    username: Username
    password: Password
    full_name: Name
    email: Email | None = None


class LinkCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: InviteCode


class ChildOut(BaseModel):
    id: int
    full_name: str
    class_id: int | None
    class_name: str | None


class ParentOut(BaseModel):
    id: int
    username: str
    full_name: str
    email: str | None
    children: list[ChildOut]


async def school_student(session: AsyncSession, school_id: int, student_id: int) -> User:
    student = await session.get(User, student_id)
    if student is None or student.school_id != school_id or student.role is not Role.student:
        raise InvalidField("student_id", "no such student in this school", reason="parent_student_not_found",
                           params={"id": student_id})
    return student


async def children_out(session: AsyncSession, student_ids: list[int]) -> list[ChildOut]:
    from school.accounts import class_of_students

    students = list(await session.scalars(select(User).where(User.id.in_(student_ids)).order_by(User.full_name)))
    classes = await class_of_students(session, student_ids)
    return [ChildOut(id=s.id, full_name=s.full_name, class_id=classes[s.id].id if s.id in classes else None,
                     class_name=classes[s.id].name if s.id in classes else None) for s in students]


async def _link(session: AsyncSession, parent_id: int, student_id: int) -> None:
    exists = await session.scalar(select(ParentLink.parent_id).where(ParentLink.parent_id == parent_id,
                                                                     ParentLink.student_id == student_id))
    if exists is None:
        count = await session.scalar(select(func.count()).select_from(ParentLink)
                                     .where(ParentLink.parent_id == parent_id))
        if (count or 0) >= MAX_CHILDREN:
            raise Conflict("this parent is linked to too many students", reason="parent_too_many_children",
                           params={"max": MAX_CHILDREN})
        session.add(ParentLink(parent_id=parent_id, student_id=student_id))
        await session.flush()


async def _set_email(session: AsyncSession, parent_id: int, email: str | None) -> None:
    contact = await session.get(ParentContact, parent_id)
    if contact is None:
        session.add(ParentContact(parent_id=parent_id, email=email))
    else:
        contact.email = email


async def _new_parent(session: AsyncSession, school_id: int, username: str, full_name: str, password_hash: str,
                      email: str | None) -> User:
    taken = await session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken is not None:
        raise username_taken(username)
    user = User(school_id=school_id, username=username, full_name=full_name, role=Role.parent,
                password_hash=password_hash)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise username_taken(username) from exc
    await _set_email(session, user.id, email)
    return user


async def create_parent(session: AsyncSession, actor: User, data: ParentCreate, password_hash: str) -> ParentOut:
    """An administrator creates a parent account linked to the given students (audited)."""
    access.require_admin(actor)
    for student_id in data.student_ids:
        await school_student(session, actor.school_id, student_id)
    parent = await _new_parent(session, actor.school_id, data.username, data.full_name, password_hash,
                               data.email)
    for student_id in dict.fromkeys(data.student_ids):
        await _link(session, parent.id, student_id)
    audit.record(session, actor, "create", "user", parent.id, summary=parent.full_name,
                 after={"username": parent.username, "role": "parent", "children": sorted(set(data.student_ids))})
    return await parent_out(session, parent)


async def parent_out(session: AsyncSession, parent: User) -> ParentOut:
    from school.parents import children_of

    contact = await session.get(ParentContact, parent.id)
    return ParentOut(id=parent.id, username=parent.username, full_name=parent.full_name,
                     email=contact.email if contact else None,
                     children=await children_out(session, await children_of(session, parent.id)))


async def list_parents(session: AsyncSession, actor: User) -> list[ParentOut]:
    access.require_admin(actor)
    parents = await session.scalars(select(User).where(User.school_id == actor.school_id, User.role == Role.parent)
                                    .order_by(User.full_name, User.id))
    return [await parent_out(session, p) for p in parents]


async def _school_parent(session: AsyncSession, actor: User, parent_id: int) -> User:
    access.require_admin(actor)
    parent = await session.get(User, parent_id)
    if parent is None or parent.school_id != actor.school_id or parent.role is not Role.parent:
        raise NotFound(f"parent {parent_id} not found")
    return parent


async def link(session: AsyncSession, actor: User, parent_id: int, student_id: int) -> ParentOut:
    parent = await _school_parent(session, actor, parent_id)
    await school_student(session, actor.school_id, student_id)
    await _link(session, parent.id, student_id)
    audit.record(session, actor, "link", "parent", parent.id, summary=parent.full_name, after={"student_id": student_id})
    return await parent_out(session, parent)


async def unlink(session: AsyncSession, actor: User, parent_id: int, student_id: int) -> None:
    parent = await _school_parent(session, actor, parent_id)
    row = await session.get(ParentLink, (parent.id, student_id))
    if row is None:
        raise NotFound("this parent is not linked to this student")
    await session.delete(row)
    audit.record(session, actor, "unlink", "parent", parent.id, summary=parent.full_name,
                 before={"student_id": student_id})


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def issue_invite(session: AsyncSession, actor: User, student_id: int, now: datetime) -> InviteOut:
    """An invitation code for a parent of this student (staff of the school: admins; the student's
    homeroom or subject teachers through may_see_student)."""
    from school.parents import may_see_student

    access.require_staff(actor)
    student = await may_see_student(session, actor, student_id)
    invite = ParentInvite(code=new_code(), school_id=actor.school_id, student_id=student.id, created_by=actor.id,
                          created_at=now, expires_at=now + timedelta(days=INVITE_DAYS))
    session.add(invite)
    audit.record(session, actor, "invite", "parent", student.id, summary=student.full_name,
                 after={"expires_at": invite.expires_at.isoformat()})
    return InviteOut(code=invite.code, student_id=student.id, student_name=student.full_name,
                     expires_at=invite.expires_at)


async def _usable_invite(session: AsyncSession, code: str, now: datetime) -> ParentInvite:
    invite = await session.get(ParentInvite, code, with_for_update=True)
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        # One refusal for unknown, used and expired codes: a guesser learns nothing.
        raise InvalidField("code", "this invitation code is not valid (unknown, used or expired)",
                           reason="parent_invite_invalid")
    return invite


async def join(session: AsyncSession, data: JoinIn, password_hash: str, now: datetime) -> User:
    """A new parent account from an invitation code, linked to the code's student."""
    invite = await _usable_invite(session, data.code, now)
    parent = await _new_parent(session, invite.school_id, data.username, data.full_name, password_hash, data.email)
    await _link(session, parent.id, invite.student_id)
    invite.used_at, invite.used_by = now, parent.id
    audit.record(session, parent, "join", "parent", parent.id, summary=parent.full_name,
                 after={"student_id": invite.student_id})
    return parent


async def link_with_code(session: AsyncSession, actor: User, code: str, now: datetime) -> ParentOut:
    """A signed-in parent adds another child with a code of their school."""
    if actor.role is not Role.parent:
        raise Forbidden("only a parent account links children with a code", reason="parent_only")
    invite = await _usable_invite(session, code, now)
    if invite.school_id != actor.school_id:
        raise InvalidField("code", "this invitation code is not valid (unknown, used or expired)",
                           reason="parent_invite_invalid")
    await _link(session, actor.id, invite.student_id)
    invite.used_at, invite.used_by = now, actor.id
    audit.record(session, actor, "link", "parent", actor.id, summary=actor.full_name,
                 after={"student_id": invite.student_id})
    return await parent_out(session, actor)

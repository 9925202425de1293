"""An administrator's changes to accounts: editing a person (name, username, class), locking and
unlocking ("Khóa tài khoản"), deleting one that has no records yet, and resetting a password
("Đặt lại mật khẩu"). Each change is written with its audit entry in one unit of work; locking,
deleting and resetting end the person's sign-ins at once."""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access, audit, catalogue
from school.account_schemas import UserUpdate
from school.accounts import class_of_students, username_taken, users_out
from school.errors import Conflict, InvalidField, NotFound
from school.models import ClassStudent, Lesson, Role, SchoolClass, SubjectTeamMember, TeachingAssignment, User
from school.schemas import UserOut
from school.sessions import AuthSession

RecordProbe = tuple[str, Any]
"""(kind, column): the rows whose `column` equals a user's id are that user's records of `kind`
(a `records.<kind>` sentence of the catalogue names them)."""

SCHOOL_RECORDS: tuple[RecordProbe, ...] = (
    ("lessons", Lesson.teacher_id),
    ("assignments", TeachingAssignment.teacher_id),
    ("homeroom", SchoolClass.homeroom_teacher_id),
)
"""The school's own records of a person; the web edge adds those of the classroom, attendance,
recordings and whiteboard (which the school layer does not import)."""

PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
"""Without look-alikes (l, o, 0, 1): read aloud or copied from paper without mistakes."""


def generate_password(groups: int = 3, size: int = 4) -> str:
    """A random password easy to read and type, e.g. `kx7m-p4qa-9tzn` (about 60 bits)."""
    return "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(size)) for _ in range(groups))


async def _target(session: AsyncSession, actor: User, user_id: int) -> User:
    access.require_admin(actor)
    user = await session.get(User, user_id)
    if user is None or user.school_id != actor.school_id:
        raise NotFound(f"user {user_id} not found", reason="user_not_found")
    return user


async def end_sign_ins(session: AsyncSession, user_id: int) -> None:
    """Every sign-in of the user ends: their tokens (media tokens too) stop working at once."""
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))


async def _move_class(session: AsyncSession, actor: User, user: User, class_id: int | None) -> tuple[Any, Any]:
    """Moves a student to `class_id` (out of their class of that school year), or out of their
    current class (None). Returns the class names before and after."""
    if user.role is not Role.student:
        raise InvalidField("class_id", "class_id is only for students", reason="class_only_for_students")
    current = (await class_of_students(session, [user.id])).get(user.id)
    if class_id is None:
        if current is not None:
            await session.execute(delete(ClassStudent).where(ClassStudent.student_id == user.id,
                                                             ClassStudent.class_id == current.id))
        return (current.name if current else None), None
    cls = await session.get(SchoolClass, class_id)
    if cls is None or cls.school_id != actor.school_id:
        raise InvalidField("class_id", "no such class in this school", reason="user_class_not_found")
    if cls.archived_at is not None:
        raise Conflict(f"class {cls.name} is archived", reason="user_class_archived", field="class_id",
                       params={"class_name": cls.name})
    same_year = select(SchoolClass.id).where(SchoolClass.school_year_id == cls.school_year_id)
    await session.execute(delete(ClassStudent).where(ClassStudent.student_id == user.id,
                                                     ClassStudent.class_id.in_(same_year)))
    session.add(ClassStudent(class_id=cls.id, student_id=user.id))
    return (current.name if current else None), cls.name


async def update_user(session: AsyncSession, actor: User, user_id: int, data: UserUpdate) -> UserOut:
    user = await _target(session, actor, user_id)
    sent = data.model_fields_set
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if "username" in sent and data.username is not None and data.username != user.username:
        taken = await session.scalar(select(User.id).where(func.lower(User.username) == data.username.lower(),
                                                           User.id != user.id))
        if taken is not None:
            raise username_taken(data.username)
        before["username"], after["username"] = user.username, data.username
        user.username = data.username
    if "full_name" in sent and data.full_name is not None and data.full_name != user.full_name:
        before["full_name"], after["full_name"] = user.full_name, data.full_name
        user.full_name = data.full_name
    if "class_id" in sent:
        old, new = await _move_class(session, actor, user, data.class_id)
        if old != new:
            before["class_name"], after["class_name"] = old, new
    if before or after:
        audit.record(session, actor, "update", "user", user.id, summary=user.full_name, before=before, after=after)
    if "is_active" in sent and data.is_active is not None and data.is_active != user.is_active:
        if user.id == actor.id and not data.is_active:
            raise Conflict("you cannot deactivate your own account", reason="cannot_deactivate_self",
                           field="is_active")
        user.is_active = data.is_active
        if not data.is_active:
            await end_sign_ins(session, user.id)
        audit.record(session, actor, "activate" if data.is_active else "deactivate", "user", user.id,
                     summary=user.full_name, before={"is_active": not data.is_active},
                     after={"is_active": data.is_active})
    await session.flush()
    (out,) = await users_out(session, [user])
    return out


async def records_of(session: AsyncSession, user_id: int, probes: Sequence[RecordProbe]) -> dict[str, int]:
    """How many records of each kind name the user (kinds with none left out)."""
    found: dict[str, int] = {}
    for kind, column in probes:
        n = await session.scalar(select(func.count()).select_from(column.class_).where(column == user_id))
        if n:
            found[kind] = found.get(kind, 0) + int(n)
    return found


def _records_text(found: dict[str, int], lang: str) -> str:
    return ", ".join(catalogue.text(f"records.{kind}", lang, {"n": n}) or f"{n} {kind}" for kind, n in found.items())


async def delete_user(session: AsyncSession, actor: User, user_id: int,
                      probes: Sequence[RecordProbe] = ()) -> None:
    """Deletes an account that no record names yet; otherwise 409 `user_has_records` naming them
    (the account can be locked instead: it keeps every record)."""
    user = await _target(session, actor, user_id)
    if user.id == actor.id:
        raise Conflict("you cannot delete your own account", reason="cannot_delete_self")
    found = await records_of(session, user.id, (*SCHOOL_RECORDS, *probes))
    if found:
        raise Conflict(f"{user.full_name} has records: {_records_text(found, 'en')}", reason="user_has_records",
                       params={"name": user.full_name, "records": found, "what_vi": _records_text(found, "vi"),
                               "what_en": _records_text(found, "en")})
    (shown,) = await users_out(session, [user])
    before = audit.snapshot(user, ("username", "full_name", "role", "is_active"))
    if shown.class_name:
        before["class_name"] = shown.class_name
    await end_sign_ins(session, user.id)
    await session.execute(delete(ClassStudent).where(ClassStudent.student_id == user.id))
    await session.execute(delete(SubjectTeamMember).where(SubjectTeamMember.teacher_id == user.id))
    await session.delete(user)
    audit.record(session, actor, "delete", "user", user_id, summary=before["full_name"], before=before)
    await session.flush()


async def reset_password(session: AsyncSession, actor: User, user_id: int, password_hash: str) -> None:
    """Sets a new (generated) password the person must change at their next sign-in; their
    sign-ins end."""
    user = await _target(session, actor, user_id)
    if user.id == actor.id:
        raise Conflict("you cannot reset your own password here", reason="cannot_reset_own_password")
    user.password_hash = password_hash
    user.must_change_password = True
    await end_sign_ins(session, user.id)
    audit.record(session, actor, "reset_password", "user", user.id, summary=user.full_name,
                 after={"must_change_password": True})
    await session.flush()

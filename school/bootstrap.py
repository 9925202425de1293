"""First start: a school and its administrator, so an empty database can be signed into."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from school.models import Role, School, User
from school.passwords import hash_password
from school.structure import create_school
from storage.database import Database

ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class Bootstrap:
    school_id: int
    admin_password: str | None
    """The generated password, when one was generated (to print once); None otherwise."""


async def bootstrap(db: Database, *, school_name: str, admin_password: str | None) -> Bootstrap | None:
    """Creates the school and `admin` when the database has no user; returns None otherwise.
    The password is hashed between two units of work, never inside one."""
    async with db.session() as session:
        if await session.scalar(select(func.count()).select_from(User)):
            return None
    generated = None
    if not admin_password:
        admin_password = generated = secrets.token_urlsafe(12)
    password_hash = await hash_password(admin_password)
    async with db.session(immediate=True) as session:
        if await session.scalar(select(func.count()).select_from(User)):
            return None  # another process of this server got there first
        school = await session.scalar(select(School).order_by(School.id).limit(1))
        if school is None:
            school = await create_school(session, school_name)
        session.add(
            User(
                school_id=school.id,
                username=ADMIN_USERNAME,
                full_name="Quản trị viên",
                role=Role.admin,
                password_hash=password_hash,
            )
        )
        await session.flush()
        return Bootstrap(school_id=school.id, admin_password=generated)

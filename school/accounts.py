"""Accounts: creating users, signing in, and listing people an actor may see."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from school import access, audit
from school.errors import Conflict, Forbidden, InvalidCredentials, InvalidField, NotFound
from school.models import ClassStudent, Role, School, SchoolClass, SchoolYear, User
from school.passwords import hash_password, needs_rehash, verify_password
from school.schemas import MeOut, SchoolOut, UserCreate, UserOut
from storage.database import Database


async def authenticate(db: Database, username: str, password: str) -> User:
    """The active user with this name and password, or InvalidCredentials (the same refusal, in
    about the same time, whether the name exists or not). No connection is held while hashing:
    a short read, the verification, then a short write only when the hash needs renewing."""
    async with db.session() as session:
        user = await session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise InvalidCredentials("wrong username or password")
    if needs_rehash(user.password_hash):
        old, new = user.password_hash, await hash_password(password)
        async with db.session() as session:
            # Only if unchanged meanwhile: a password set since then wins over this renewal.
            await session.execute(update(User).where(User.id == user.id, User.password_hash == old)
                                  .values(password_hash=new))
        user.password_hash = new
    return user


def username_taken(username: str) -> Conflict:
    return Conflict(f"username {username!r} is taken", reason="username_taken", field="username",
                    params={"username": username})


async def active_user(session: AsyncSession, user_id: int) -> User | None:
    user = await session.get(User, user_id)
    return user if user is not None and user.is_active else None


async def class_of_students(
    session: AsyncSession, student_ids: Iterable[int]
) -> dict[int, SchoolClass]:
    """Each student's class in their latest school year."""
    ids = list(student_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(ClassStudent.student_id, SchoolClass)
        .join(SchoolClass, SchoolClass.id == ClassStudent.class_id)
        .join(SchoolYear, SchoolYear.id == SchoolClass.school_year_id)
        .where(ClassStudent.student_id.in_(ids))
        .order_by(SchoolYear.starts_on)
    )
    return {student_id: cls for student_id, cls in rows}


async def users_out(session: AsyncSession, users: list[User]) -> list[UserOut]:
    classes = await class_of_students(session, [u.id for u in users if u.role is Role.student])
    out = []
    for user in users:
        cls = classes.get(user.id)
        out.append(
            UserOut(
                id=user.id,
                username=user.username,
                full_name=user.full_name,
                role=user.role,
                class_id=cls.id if cls else None,
                class_name=cls.name if cls else None,
                is_active=user.is_active,
                must_change_password=user.must_change_password,
            )
        )
    return out


async def me(session: AsyncSession, actor: User) -> MeOut:
    school = await session.get(School, actor.school_id)
    assert school is not None
    (user,) = await users_out(session, [actor])
    return MeOut(user=user, school=SchoolOut.model_validate(school))


async def create_user(db: Database, actor: User, data: UserCreate, *, enrol: bool = True) -> UserOut:
    """Hashes the password first (no connection held), then one unit of work creates the user."""
    password_hash = await hash_password(data.password)
    async with db.session() as session:
        return await _insert_user(session, actor, data, password_hash, enrol=enrol)


async def _insert_user(
    session: AsyncSession, actor: User, data: UserCreate, password_hash: str, *, enrol: bool
) -> UserOut:
    access.require_admin(actor)
    taken = await session.scalar(
        select(User.id).where(func.lower(User.username) == data.username.lower())
    )
    if taken is not None:
        raise username_taken(data.username)
    cls = None
    if data.class_id is not None:
        cls = await session.get(SchoolClass, data.class_id)
        if cls is None or cls.school_id != actor.school_id:
            raise InvalidField("class_id", "no such class in this school", reason="user_class_not_found")
    user = User(
        school_id=actor.school_id,
        username=data.username,
        full_name=data.full_name,
        role=data.role,
        password_hash=password_hash,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise username_taken(data.username) from exc
    if cls is not None and enrol:
        session.add(ClassStudent(class_id=cls.id, student_id=user.id))
        await session.flush()
    after = audit.snapshot(user, ("username", "full_name", "role"))
    if cls is not None and enrol:
        after["class_name"] = cls.name
    audit.record(session, actor, "create", "user", user.id, summary=user.full_name, after=after)
    (out,) = await users_out(session, [user])
    return out


async def list_users(
    session: AsyncSession,
    actor: User,
    *,
    role: Role | None = None,
    class_id: int | None = None,
    unassigned: bool = False,
) -> list[UserOut]:
    """Admins list anyone of their school. Teachers list teachers and the students of their
    classes. Students list nobody here (they see classmates through their lessons)."""
    access.require_staff(actor)
    query: Select[tuple[User]] = select(User).where(User.school_id == actor.school_id)
    if role is not None:
        query = query.where(User.role == role)
    if class_id is not None:
        await access.get_class(session, actor, class_id)
        query = query.join(ClassStudent, ClassStudent.student_id == User.id).where(
            ClassStudent.class_id == class_id
        )
    elif actor.role is Role.teacher:
        if role is Role.admin:
            raise Forbidden("teachers may not list administrators")
        visible = await access.class_ids_of(session, actor) or set()
        mine = select(ClassStudent.student_id).where(ClassStudent.class_id.in_(visible))
        query = query.where((User.role == Role.teacher) | User.id.in_(mine))
    if unassigned:
        query = query.where(User.role == Role.student).where(
            ~User.id.in_(select(ClassStudent.student_id))
        )
    users = list(await session.scalars(query.order_by(User.role, User.full_name, User.id)))
    return await users_out(session, users)


async def get_user(session: AsyncSession, actor: User, user_id: int) -> UserOut:
    user = await session.get(User, user_id)
    if user is None or user.school_id != actor.school_id:
        raise NotFound(f"user {user_id} not found")
    if actor.id != user.id:
        visible = {u.id for u in await list_users(session, actor)}
        if user.id not in visible:
            raise Forbidden("you may not see this user")
    (out,) = await users_out(session, [user])
    return out

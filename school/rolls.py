"""The rolls: students, teachers, classes and teaching assignments imported from a spreadsheet,
all or nothing, and exported back in the same shapes.

An import runs in three steps so no connection is held while passwords are hashed: a short read
checks every row against the school's records (a preview stops here and writes nothing), the new
accounts' generated passwords are hashed with no unit of work open, then one unit of work checks
again and writes every row with one audit entry, or nothing."""
from __future__ import annotations

import asyncio
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from argon2 import PasswordHasher
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from school import access, audit, catalogue
from school.errors import Conflict, InvalidField
from school.models import (
    ClassStudent,
    Grade,
    Role,
    SchoolClass,
    SchoolYear,
    Subject,
    SubjectTeam,
    SubjectTeamMember,
    TeachingAssignment,
    User,
)
from school.rolls_sheets import COLUMNS, Kind, Sheet, fold
from school.structure import current_year
from school.timezones import school_today
from storage.database import Database
from storage.guard import ensure_free

USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
MAX_LENGTH = {"full_name": 200, "class_name": 32, "name": 32, "username": 64, "birth_date": 32, "team": 300,
              "grade": 8, "homeroom_teacher": 64, "subject": 100, "teacher": 64}
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""Lower-case letters and digits a person copies from paper without doubt (no l/1, no o/0, no i)."""
ENTITY = {"students": "user", "teachers": "user", "classes": "class", "assignments": "assignment"}
LEADING_LEVEL = re.compile(r"^(\d{1,2})(?!\d)")


# --- what the API gives back ----------------------------------------------------------------------
class RollProblem(BaseModel):
    column: str
    """The column at fault (`full_name`, `class_name`, ...)."""
    code: str
    params: dict[str, Any] = {}
    message: str


class RollRow(BaseModel):
    row: int
    """The row's number in the spreadsheet (the header is row 1)."""
    values: dict[str, str]
    problems: list[RollProblem]
    action: Literal["create", "skip"]
    """create: written by the import; skip: already there (the same person, class or assignment)."""
    username: str | None = None
    """For a person to create: the username given, or the one that will be generated."""
    enrol_existing: bool = False
    """A student who has an account but no class this school year: enrolled in the row's class,
    keeping their account and password."""


class RollsPreview(BaseModel):
    kind: Kind
    school_year: str | None
    rows: list[RollRow]
    ok: bool
    """True when no row has a problem: the import may run."""
    counts: dict[str, int]
    """rows, create, skip, problems (rows with at least one)."""


class Credential(BaseModel):
    class_name: str | None
    full_name: str
    username: str
    password: str


class RollsImported(BaseModel):
    kind: Kind
    created: int
    skipped: int
    credentials: list[Credential]
    """Each new account's initial password, shown once (the user must change it at first sign-in)."""


# --- checking the rows --------------------------------------------------------------------------
@dataclass
class _Row:
    row: int
    values: dict[str, str]
    problems: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    action: Literal["create", "skip"] = "create"
    username: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def problem(self, column: str, code: str, **params: Any) -> None:
        self.problems.append((column, code, params))


@dataclass
class Plan:
    kind: Kind
    year: SchoolYear | None
    rows: list[_Row]

    @property
    def ok(self) -> bool:
        return not any(r.problems for r in self.rows)

    def creating(self) -> list[_Row]:
        return [r for r in self.rows if r.action == "create"]

    def new_accounts(self) -> list[_Row]:
        return [r for r in self.creating() if "existing" not in r.data]

    def preview(self, lang: str) -> RollsPreview:
        rows = [RollRow(row=r.row, values=r.values, action=r.action, username=r.username,
                        enrol_existing="existing" in r.data,
                        problems=[RollProblem(column=c, code=code, params=p,
                                              message=catalogue.text(code, lang, p, c) or code)
                                  for c, code, p in r.problems]) for r in self.rows]
        counts = {"rows": len(rows), "create": sum(r.action == "create" and not r.problems for r in rows),
                  "skip": sum(r.action == "skip" and not r.problems for r in rows),
                  "problems": sum(bool(r.problems) for r in rows)}
        return RollsPreview(kind=self.kind, school_year=self.year.name if self.year else None, rows=rows,
                            ok=self.ok, counts=counts)


@dataclass
class _School:
    """What the rows are checked against, read once."""

    school_id: int
    year: SchoolYear | None
    usernames: set[str]
    users: dict[str, User]
    """Lower-case username -> user of this school."""
    classes: dict[str, SchoolClass]
    """Folded class name -> class of the year (archived ones included: they cannot take rows)."""
    grades: dict[int, int]
    teams: dict[str, SubjectTeam]
    subjects: dict[str, Subject]
    """Folded name and folded code -> subject."""
    members: dict[int, int]
    """Student id -> their class of the year."""
    class_names: dict[int, set[str]]
    """Class id -> folded names of its students."""
    teacher_names: set[str]
    assignments: dict[tuple[int, int], int]
    """(class id, subject id) -> teacher id."""


async def _year(session: AsyncSession, school_id: int, year_id: int | None) -> SchoolYear | None:
    if year_id is not None:
        year = await session.get(SchoolYear, year_id)
        if year is None or year.school_id != school_id:
            raise InvalidField("school_year_id", "no such school year in this school", reason="rolls_no_year")
        return year
    today = await school_today(session, school_id)
    years = list(await session.scalars(select(SchoolYear).where(SchoolYear.school_id == school_id)
                                       .order_by(SchoolYear.starts_on)))
    for year in years:
        if year.starts_on <= today <= year.ends_on:
            return year
    return years[-1] if years else None


async def _load(session: AsyncSession, school_id: int, year: SchoolYear | None) -> _School:
    users = list(await session.scalars(select(User).where(User.school_id == school_id)))
    usernames = set(await session.scalars(select(func.lower(User.username))))
    classes = list(await session.scalars(select(SchoolClass).where(SchoolClass.school_year_id == year.id))) \
        if year else []
    class_ids = [c.id for c in classes]
    members: dict[int, int] = {}
    class_names: dict[int, set[str]] = {c.id: set() for c in classes}
    by_id = {u.id: u for u in users}
    if class_ids:
        for class_id, student_id in await session.execute(
                select(ClassStudent.class_id, ClassStudent.student_id).where(ClassStudent.class_id.in_(class_ids))):
            members[student_id] = class_id
            if student_id in by_id:
                class_names[class_id].add(fold(by_id[student_id].full_name))
    subjects: dict[str, Subject] = {}
    for subject in await session.scalars(select(Subject).where(Subject.school_id == school_id)):
        subjects.setdefault(fold(subject.name), subject)
        if subject.code:
            subjects.setdefault(fold(subject.code), subject)
    assignments = {}
    if class_ids:
        for a in await session.scalars(select(TeachingAssignment).where(TeachingAssignment.class_id.in_(class_ids))):
            assignments[(a.class_id, a.subject_id)] = a.teacher_id
    return _School(
        school_id=school_id, year=year, usernames=usernames, users={u.username.lower(): u for u in users},
        classes={fold(c.name): c for c in classes},
        grades={g.level: g.id for g in await session.scalars(select(Grade).where(Grade.school_id == school_id))},
        teams={fold(t.name): t for t in await session.scalars(select(SubjectTeam)
                                                              .where(SubjectTeam.school_id == school_id))},
        subjects=subjects, members=members, class_names=class_names,
        teacher_names={fold(u.full_name) for u in users if u.role is Role.teacher},
        assignments=assignments)


def _cells(kind: Kind, sheet: Sheet) -> list[_Row]:
    rows = []
    for number, cells in sheet.rows:
        values = {c.key: (cells[sheet.columns[c.key]] if c.key in sheet.columns
                          and sheet.columns[c.key] < len(cells) else "") for c in COLUMNS[kind]}
        row = _Row(row=number, values=values)
        for column in COLUMNS[kind]:
            value = values[column.key]
            if not value:
                if column.required:
                    row.problem(column.key, "required")
                continue
            if CONTROLS.search(value):
                row.problem(column.key, "control_characters")
            elif len(value) > MAX_LENGTH[column.key]:
                row.problem(column.key, "too_long", max_length=MAX_LENGTH[column.key])
        rows.append(row)
    return rows


def _fine(row: _Row, column: str) -> bool:
    """The cell is present and passed the generic checks."""
    return bool(row.values.get(column)) and not any(c == column for c, _, _ in row.problems)


def _birth_date(text: str) -> date | None:
    for pattern in (r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", r"^(\d{4})-(\d{1,2})-(\d{1,2})$"):
        match = re.match(pattern, text)
        if match:
            a, b, c = (int(x) for x in match.groups())
            day, month, year = (c, b, a) if len(match.group(1)) == 4 else (a, b, c)
            try:
                found = date(year, month, day)
            except ValueError:
                return None
            return found if 1900 <= found.year <= date.today().year else None
    return None


def _check_username(row: _Row, school: _School, seen: dict[str, int], role: Role) -> None:
    """A given username: well formed, once in the file, and free (or the same person, skipped)."""
    given = row.values["username"]
    if not _fine(row, "username"):
        return
    if not USERNAME.match(given):
        row.problem("username", "bad_format")
        return
    key = given.lower()
    if key in seen:
        row.problem("username", "rolls_username_repeated", username=given, row=seen[key])
        return
    seen[key] = row.row
    row.username = given
    existing = school.users.get(key)
    if existing is None:
        if key in school.usernames:  # another school's account
            row.problem("username", "rolls_username_taken", username=given, name="")
        return
    same = existing.role is role and fold(existing.full_name) == fold(row.values["full_name"])
    if not same:
        row.problem("username", "rolls_username_taken", username=given, name=existing.full_name)
        return
    if role is Role.student:
        cls = row.data.get("class")
        if cls is None:
            return  # the class is what is wrong (said already)
        if school.members.get(existing.id) not in (None, cls.id):
            row.problem("class_name", "rolls_student_elsewhere", name=existing.full_name,
                        **{"class": next((c.name for c in school.classes.values()
                                          if c.id == school.members[existing.id]), "")})
            return
        if school.members.get(existing.id) == cls.id:
            row.action = "skip"
        else:  # last year's student, in no class this year: enrolled, keeping their account
            row.data["existing"] = existing
    else:
        row.action = "skip"


def _class(row: _Row, school: _School, column: str) -> SchoolClass | None:
    if not _fine(row, column):
        return None
    cls = school.classes.get(fold(row.values[column]))
    if cls is None or cls.archived_at is not None:
        row.problem(column, "rolls_class_unknown", name=row.values[column],
                    year=school.year.name if school.year else "")
        return None
    return cls


def _teacher(row: _Row, school: _School, column: str) -> User | None:
    if not _fine(row, column):
        return None
    user = school.users.get(row.values[column].lower())
    if user is None or user.role is not Role.teacher:
        row.problem(column, "rolls_teacher_unknown", username=row.values[column])
        return None
    return user


def base_username(full_name: str, role: Role) -> str:
    """ASCII from a Vietnamese name: the given name, a dot, the initials of the others
    ('Nguyễn Văn An' -> 'an.nv'); a single name takes 'hs' (học sinh) or 'gv' (giáo viên)."""
    words = [re.sub(r"[^a-z0-9]", "", w) for w in fold(full_name).split()]
    words = [w for w in words if w]
    tag = "hs" if role is Role.student else "gv"
    if not words:
        base = "hocsinh" if role is Role.student else "giaovien"
    elif len(words) == 1:
        base = f"{words[0]}.{tag}"
    else:
        base = f"{words[-1]}.{''.join(w[0] for w in words[:-1])}"
    return base[:56].strip(".") if len(base) >= 3 else f"{base}.{tag}"


def _generate(row: _Row, school: _School, role: Role) -> None:
    base = base_username(row.values["full_name"], role)
    candidate, n = base, 1
    while candidate.lower() in school.usernames:
        n += 1
        candidate = f"{base}{n}"
    school.usernames.add(candidate.lower())
    row.username = candidate


def _people(kind: Kind, rows: list[_Row], school: _School) -> None:
    role = Role.student if kind == "students" else Role.teacher
    seen: dict[str, int] = {}
    for row in rows:
        if role is Role.student:
            row.data["class"] = _class(row, school, "class_name")
            if _fine(row, "birth_date") and _birth_date(row.values["birth_date"]) is None:
                row.problem("birth_date", "rolls_bad_birth_date")
        else:
            teams = []
            for name in (n.strip() for n in row.values["team"].split(";")) if _fine(row, "team") else ():
                team = school.teams.get(fold(name))
                if name and team is None:
                    row.problem("team", "rolls_team_unknown", name=name)
                elif team is not None:
                    teams.append(team)
            row.data["teams"] = teams
        if row.values["username"]:
            _check_username(row, school, seen, role)
        elif _fine(row, "full_name"):
            name = fold(row.values["full_name"])
            cls = row.data.get("class")
            if role is Role.student and cls is not None and name in school.class_names.get(cls.id, set()):
                row.action = "skip"
            elif role is Role.teacher and name in school.teacher_names:
                row.action = "skip"
    for username in seen:
        school.usernames.add(username)
    for row in rows:
        if row.action == "create" and not row.values["username"] and _fine(row, "full_name"):
            _generate(row, school, role)


def _classes(rows: list[_Row], school: _School) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        level = None
        if _fine(row, "grade"):
            text = row.values["grade"].strip()
            level = int(text) if text.isdigit() and 1 <= int(text) <= 12 else None
            if level is None or level not in school.grades:
                row.problem("grade", "rolls_grade_bad", grade=text)
                level = None
        if _fine(row, "name"):
            name = row.values["name"]
            leading = LEADING_LEVEL.match(name)
            if level is not None and leading and 1 <= int(leading.group(1)) <= 12 and int(leading.group(1)) != level:
                row.problem("name", "rolls_class_grade_mismatch", name=name, grade=level)
            key = fold(name)
            if key in seen:
                row.problem("name", "rolls_repeated_row", row=seen[key])
            seen.setdefault(key, row.row)
            existing = school.classes.get(key)
            if existing is not None and level is not None:
                if existing.grade_id != school.grades[level]:
                    grade = next((lv for lv, gid in school.grades.items() if gid == existing.grade_id), "?")
                    row.problem("grade", "rolls_class_other_grade", name=existing.name, grade=grade)
                else:
                    row.action = "skip"
        teacher = _teacher(row, school, "homeroom_teacher")
        row.data.update(level=level, teacher=teacher)


def _assignments(rows: list[_Row], school: _School) -> None:
    seen: dict[tuple[int, int], int] = {}
    for row in rows:
        cls = _class(row, school, "class_name")
        subject = None
        if _fine(row, "subject"):
            subject = school.subjects.get(fold(row.values["subject"]))
            if subject is None:
                row.problem("subject", "rolls_subject_unknown", name=row.values["subject"])
        teacher = _teacher(row, school, "teacher")
        row.data.update({"class": cls, "subject": subject, "teacher": teacher})
        if cls is None or subject is None:
            continue
        key = (cls.id, subject.id)
        if key in seen:
            row.problem("subject", "rolls_repeated_row", row=seen[key])
            continue
        seen[key] = row.row
        current = school.assignments.get(key)
        if current is not None and teacher is not None:
            if current == teacher.id:
                row.action = "skip"
            else:
                holder = next((u.full_name for u in school.users.values() if u.id == current), "")
                row.problem("teacher", "rolls_assignment_taken", **{"class": cls.name, "subject": subject.name,
                                                                     "teacher": holder})


async def plan(session: AsyncSession, actor: User, kind: Kind, sheet: Sheet,
               school_year_id: int | None = None) -> Plan:
    """Every row checked against the school's records (nothing written)."""
    access.require_admin(actor)
    year = await _year(session, actor.school_id, school_year_id)
    school = await _load(session, actor.school_id, year)
    rows = _cells(kind, sheet)
    if kind in ("students", "teachers"):
        _people(kind, rows, school)
    elif kind == "classes":
        _classes(rows, school)
    else:
        _assignments(rows, school)
    return Plan(kind=kind, year=year, rows=rows)


# --- writing ---------------------------------------------------------------------------------------
def new_password() -> str:
    """An initial password: three groups of four, e.g. 'k7pm-w3rt-a9hx' (about 59 bits)."""
    return "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))


INITIAL_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
"""Argon2id with lighter parameters for generated initial passwords: the standard cost protects
passwords people choose; these carry about 59 random bits, so guessing one from its hash stays out
of reach, and a school's two thousand accounts hash in seconds rather than minutes (an import
answers before a proxy gives up on it). The owner replaces it at the first sign-in
(must_change_password), and signing in renews the hash with the standard parameters."""


async def _hash_all(passwords: list[str]) -> list[str]:
    """Hashed in worker threads (argon2 releases the GIL), at most two at a time so live lessons
    keep a core; no unit of work is held."""
    limit = asyncio.Semaphore(max(1, min(2, (os.cpu_count() or 2) - 1)))

    async def one(password: str) -> str:
        async with limit:
            ensure_free("hashing an initial password")
            return await asyncio.to_thread(INITIAL_HASHER.hash, password)

    return list(await asyncio.gather(*(one(p) for p in passwords)))


class RollsRejected(Exception):
    """The file has problems: nothing was written; `preview` says which rows and why."""

    def __init__(self, preview: Plan) -> None:
        super().__init__("the file has problems")
        self.plan = preview


async def run_import(db: Database, actor: User, kind: Kind, sheet: Sheet, *, school_year_id: int | None,
                     filename: str = "") -> RollsImported:
    async with db.session() as session:
        first = await plan(session, actor, kind, sheet, school_year_id)
    if not first.ok:
        raise RollsRejected(first)
    people = kind in ("students", "teachers")
    passwords = {r.row: new_password() for r in first.new_accounts()} if people else {}
    hashes = dict(zip(passwords, await _hash_all(list(passwords.values())), strict=True))
    try:
        return await _commit(db, actor, kind, sheet, school_year_id, filename, hashes, passwords)
    except IntegrityError as exc:  # another import took a name between the check and the insert
        raise Conflict("the school's records changed while importing: try again", reason="rolls_changed") from exc


async def _commit(db: Database, actor: User, kind: Kind, sheet: Sheet, school_year_id: int | None, filename: str,
                  hashes: dict[int, str], passwords: dict[int, str]) -> RollsImported:
    """The rows checked again and written in one unit of work (SQLite's write lock taken first),
    with the import's audit entry."""
    people = kind in ("students", "teachers")
    async with db.session(immediate=True) as session:
        again = await plan(session, actor, kind, sheet, school_year_id)
        if not again.ok:
            raise RollsRejected(again)
        if people and any(r.row not in hashes for r in again.new_accounts()):
            raise Conflict("the school's records changed while importing: try again", reason="rolls_changed")
        credentials, year_name = await _write(session, actor, again, hashes, passwords)
        created, skipped = len(again.creating()), len(again.rows) - len(again.creating())
        audit.record(session, actor, "import", ENTITY[kind], None,
                     summary=f"{kind}: {created} created, {skipped} skipped"
                     + (f" ({year_name})" if year_name else "") + (f" from {filename}" if filename else ""),
                     after={"kind": kind, "created": created, "skipped": skipped, "school_year": year_name,
                            "file": filename})
    return RollsImported(kind=kind, created=created, skipped=skipped, credentials=credentials)


async def _write(session: AsyncSession, actor: User, plan_: Plan, hashes: dict[int, str],
                 passwords: dict[int, str]) -> tuple[list[Credential], str]:
    credentials: list[Credential] = []
    year_name = plan_.year.name if plan_.year else ""
    rows = plan_.creating()
    if plan_.kind in ("students", "teachers"):
        role = Role.student if plan_.kind == "students" else Role.teacher
        fresh = [row for row in rows if "existing" not in row.data]
        users = [User(school_id=actor.school_id, username=row.username, full_name=row.values["full_name"],
                      role=role, password_hash=hashes[row.row], must_change_password=True) for row in fresh]
        session.add_all(users)
        await session.flush()  # one batch of inserts: the ids come back
        for row in rows:
            if "existing" in row.data:
                session.add(ClassStudent(class_id=row.data["class"].id, student_id=row.data["existing"].id))
        for row, user in zip(fresh, users, strict=True):
            cls = row.data.get("class")
            if cls is not None:
                session.add(ClassStudent(class_id=cls.id, student_id=user.id))
            for team in row.data.get("teams", []):
                session.add(SubjectTeamMember(team_id=team.id, teacher_id=user.id))
            credentials.append(Credential(class_name=cls.name if cls is not None else None,
                                          full_name=user.full_name, username=user.username,
                                          password=passwords[row.row]))
    elif plan_.kind == "classes":
        year = plan_.year or await current_year(session, actor.school_id,
                                                await school_today(session, actor.school_id))
        year_name = year.name
        grades = {g.level: g.id for g in await session.scalars(select(Grade).where(Grade.school_id == actor.school_id))}
        for row in rows:
            teacher = row.data["teacher"]
            session.add(SchoolClass(school_id=actor.school_id, school_year_id=year.id,
                                    grade_id=grades[row.data["level"]], name=row.values["name"],
                                    homeroom_teacher_id=teacher.id if teacher else None))
    else:
        for row in rows:
            session.add(TeachingAssignment(school_id=actor.school_id, teacher_id=row.data["teacher"].id,
                                           class_id=row.data["class"].id, subject_id=row.data["subject"].id))
    await session.flush()
    return credentials, year_name


# --- export --------------------------------------------------------------------------------------
async def export_rows(session: AsyncSession, actor: User, kind: Kind,
                      school_year_id: int | None = None) -> tuple[list[str], list[list[object]], str]:
    """(headers, rows, year name) of the school's rolls in the import's shape."""
    access.require_admin(actor)
    year = await _year(session, actor.school_id, school_year_id)
    headers = [c.header for c in COLUMNS[kind]]
    year_name = year.name if year else ""
    classes = list(await session.scalars(
        select(SchoolClass).where(SchoolClass.school_year_id == year.id, SchoolClass.archived_at.is_(None))
        .order_by(SchoolClass.name))) if year else []
    class_ids = [c.id for c in classes]
    users = {u.id: u for u in await session.scalars(select(User).where(User.school_id == actor.school_id))}
    rows: list[list[object]] = []
    if kind == "students":
        if class_ids:
            found = await session.execute(
                select(SchoolClass.name, User).join(ClassStudent, ClassStudent.class_id == SchoolClass.id)
                .join(User, User.id == ClassStudent.student_id).where(SchoolClass.id.in_(class_ids))
                .order_by(SchoolClass.name, User.full_name, User.id))
            rows = [[u.full_name, name, u.username, ""] for name, u in found]
    elif kind == "teachers":
        teams: dict[int, list[str]] = {}
        for teacher_id, name in await session.execute(
                select(SubjectTeamMember.teacher_id, SubjectTeam.name)
                .join(SubjectTeam, SubjectTeam.id == SubjectTeamMember.team_id)
                .where(SubjectTeam.school_id == actor.school_id).order_by(SubjectTeam.name)):
            teams.setdefault(teacher_id, []).append(name)
        teachers = sorted((u for u in users.values() if u.role is Role.teacher), key=lambda u: (u.full_name, u.id))
        rows = [[u.full_name, u.username, "; ".join(teams.get(u.id, []))] for u in teachers]
    elif kind == "classes":
        levels = {g.id: g.level for g in await session.scalars(select(Grade).where(Grade.school_id == actor.school_id))}
        rows = [[c.name, levels[c.grade_id],
                 users[c.homeroom_teacher_id].username if c.homeroom_teacher_id in users else ""] for c in classes]
    else:
        if class_ids:
            found = await session.execute(
                select(SchoolClass.name, Subject.name, TeachingAssignment.teacher_id)
                .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
                .join(Subject, Subject.id == TeachingAssignment.subject_id)
                .where(TeachingAssignment.class_id.in_(class_ids)).order_by(SchoolClass.name, Subject.name))
            rows = [[cname, sname, users[tid].username if tid in users else ""] for cname, sname, tid in found]
    return headers, rows, year_name

"""The gradebook ("sổ điểm") of a class in a subject: students × graded items (lesson quizzes,
assignments, online tests) on the 10-point scale with averages, as JSON or an XLSX download; and one
student's results (grades, attendance, what is due) for the student, their parents and their teachers.
Teachers open only the classes and subjects they teach (a homeroom teacher every subject of their
class); administrators every class of their school."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from coursework.grades import GradeItem, grades_of
from school.errors import Forbidden, NotFound
from school.models import Lesson, Role, SchoolClass, Subject, TeachingAssignment, User
from school.parents import may_see_student
from school.structure import class_rosters
from web.api.my_results import StudentResultsOut, average, student_results
from web.routing import MAX_ID, Api, Call
from web.tables import export

KIND_VI = {"quiz": "Kiểm tra nhanh", "assignment": "Bài tập", "test": "Bài kiểm tra"}


class GradebookQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    class_id: int = Field(ge=1, le=MAX_ID)
    subject_id: int = Field(ge=1, le=MAX_ID)
    format: Literal["json", "xlsx"] = "json"


class ColumnOut(BaseModel):
    kind: Literal["quiz", "assignment", "test"]
    id: int
    title: str
    at: datetime
    average10: float | None


class RowOut(BaseModel):
    student_id: int
    full_name: str
    scores: list[float | None]
    """One per column, in the columns' order."""
    statuses: list[str]
    average10: float | None


class GradebookOut(BaseModel):
    class_id: int
    class_name: str
    subject_id: int
    subject_name: str
    generated_at: datetime
    columns: list[ColumnOut]
    rows: list[RowOut]
    average10: float | None
    """The class's average of the students' averages."""


class PairOut(BaseModel):
    class_id: int
    class_name: str
    subject_id: int
    subject_name: str


class PairsOut(BaseModel):
    items: list[PairOut]


async def teachable_pairs(session: AsyncSession, actor: User) -> list[tuple[SchoolClass, Subject]]:
    """The (class, subject) pairs whose gradebook `actor` may open."""
    if actor.role is Role.admin:
        pairs = set((await session.execute(union(
            select(TeachingAssignment.class_id, TeachingAssignment.subject_id)
            .where(TeachingAssignment.school_id == actor.school_id),
            select(Lesson.class_id, Lesson.subject_id).where(Lesson.school_id == actor.school_id)))).all())
    elif actor.role is Role.teacher:
        pairs = set((await session.execute(union(
            select(TeachingAssignment.class_id, TeachingAssignment.subject_id)
            .where(TeachingAssignment.teacher_id == actor.id),
            select(Lesson.class_id, Lesson.subject_id).where(Lesson.teacher_id == actor.id)))).all())
        homeroom = set(await session.scalars(select(SchoolClass.id).where(SchoolClass.homeroom_teacher_id == actor.id)))
        if homeroom:
            pairs |= set((await session.execute(union(
                select(TeachingAssignment.class_id, TeachingAssignment.subject_id)
                .where(TeachingAssignment.class_id.in_(homeroom)),
                select(Lesson.class_id, Lesson.subject_id).where(Lesson.class_id.in_(homeroom))))).all())
    else:
        raise Forbidden("only teachers and administrators keep a gradebook")
    if not pairs:
        return []
    classes = {c.id: c for c in await session.scalars(select(SchoolClass).where(
        SchoolClass.id.in_({c for c, _ in pairs}), SchoolClass.school_id == actor.school_id))}
    subjects = {s.id: s for s in await session.scalars(select(Subject).where(Subject.id.in_({s for _, s in pairs})))}
    out = [(classes[c], subjects[s]) for c, s in pairs if c in classes and s in subjects]
    out.sort(key=lambda p: (p[0].name, p[1].name))
    return out


async def gradebook(session: AsyncSession, actor: User, class_id: int, subject_id: int) -> GradebookOut:
    klass = await session.get(SchoolClass, class_id)
    subject = await session.get(Subject, subject_id)
    if klass is None or klass.school_id != actor.school_id:
        raise NotFound(f"class {class_id} not found")
    if subject is None or subject.school_id != actor.school_id:
        raise NotFound(f"subject {subject_id} not found")
    if actor.role is not Role.admin and not any(
            c.id == class_id and s.id == subject_id for c, s in await teachable_pairs(session, actor)):
        raise Forbidden("you do not teach this subject to this class")
    roster = (await class_rosters(session, {class_id}))[class_id]
    grades = await grades_of(session, [u.id for u in roster], class_id=class_id, subject_id=subject_id)
    keys: list[tuple[str, int]] = []
    meta: dict[tuple[str, int], GradeItem] = {}
    cells: dict[tuple[int, str, int], GradeItem] = {}
    for item in grades:
        key = (item.kind, item.id)
        if key not in meta:
            meta[key] = item
            keys.append(key)
        cells[(item.student_id, item.kind, item.id)] = item
    rows = []
    for student in roster:
        mine = [cells.get((student.id, *key)) for key in keys]
        scores = [c.score10 if c is not None else None for c in mine]
        rows.append(RowOut(student_id=student.id, full_name=student.full_name, scores=scores,
                           statuses=[c.status if c is not None else "" for c in mine], average10=average(scores)))
    columns = [ColumnOut(kind=meta[k].kind, id=k[1], title=meta[k].title, at=meta[k].at,
                         average10=average([r.scores[i] for r in rows])) for i, k in enumerate(keys)]
    return GradebookOut(class_id=klass.id, class_name=klass.name, subject_id=subject.id, subject_name=subject.name,
                        generated_at=datetime.now(UTC), columns=columns, rows=rows,
                        average10=average([r.average10 for r in rows]))


def gradebook_xlsx(book: GradebookOut) -> web.Response:
    header = ["STT", "Họ và tên"] + [f"{KIND_VI[c.kind]}: {c.title}" for c in book.columns] + ["Điểm trung bình"]
    rows: list[list[object]] = [[n, r.full_name, *r.scores, r.average10] for n, r in enumerate(book.rows, 1)]
    rows.append(["", "Điểm trung bình của lớp", *[c.average10 for c in book.columns], book.average10])
    return export(header, rows, "xlsx", f"so-diem-{book.class_name}-{book.subject_name}", "Sổ điểm")


def register(api: Api) -> None:
    @api.route("GET", "/api/gradebook", summary="A class's gradebook in a subject", tag="grades",
               query=GradebookQuery, response=GradebookOut, errors=(403, 404),
               description="Sổ điểm: one row per student of the class (by name), one column per graded item of the "
               "subject, oldest first: each lesson with quizzes (the published quizzes' points on 10), each "
               "published assignment (its grade), each online test (the best graded attempt once the results are "
               "published); null where there is no grade yet (`statuses` says why: pending, submitted, missing, "
               "open, not_taken). Averages per student, per column and of the class (điểm trung bình: the mean of "
               "the grades given). `format=xlsx` downloads it. Teachers: the classes and subjects they teach (a "
               "homeroom teacher every subject of their class); administrators every class; others 403.")
    async def class_gradebook(call: Call) -> GradebookOut | web.Response:
        if call.user.role not in (Role.admin, Role.teacher):
            raise Forbidden("only teachers and administrators keep a gradebook")
        book = await gradebook(call.session, call.user, call.query.class_id, call.query.subject_id)
        return gradebook_xlsx(book) if call.query.format == "xlsx" else book

    @api.route("GET", "/api/gradebook/classes", summary="The gradebooks I may open", tag="grades",
               response=PairsOut, errors=(403,), roles=(Role.admin, Role.teacher),
               description="The (class, subject) pairs whose gradebook the caller may open, by class and subject name.")
    async def gradebook_classes(call: Call) -> PairsOut:
        return PairsOut(items=[PairOut(class_id=c.id, class_name=c.name, subject_id=s.id, subject_name=s.name)
                               for c, s in await teachable_pairs(call.session, call.user)])

    @api.route("GET", r"/api/students/{id:\d+}/results", summary="A student's results", tag="grades",
               response=StudentResultsOut, errors=(403, 404),
               description="Kết quả học tập of one student: their grades (quizzes, assignments, tests; score on 10), "
               "the average per subject, their attendance summary and what is due. The student themselves, a "
               "parent linked to them, a teacher of one of their classes or an administrator; others 403/404.")
    async def results_of_student(call: Call) -> StudentResultsOut:
        student = await may_see_student(call.session, call.user, call.path_id("id"))
        return await student_results(call.session, student)

"""Thống kê dạy học trực tuyến: online teaching over a period grouped by subject, teacher, grade and
class. The web layer brings the lessons (held or not, the teacher's minutes, attendance); this module
adds the assignments and online tests given and the results (score10) from their tables, read by
name so that a school without them yet counts zeros, and folds everything into groups."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from school.models import Grade, SchoolClass, Subject, User
from storage.types import UTCDateTime

GROUPS = ("subject", "teacher", "grade", "class")


@dataclass(frozen=True)
class Where:
    """What a piece of teaching belongs to: the keys of every group."""

    class_id: int
    class_name: str
    grade: int
    subject_id: int
    subject_name: str
    teacher_id: int
    teacher_name: str

    def keys(self) -> dict[str, tuple[int, str]]:
        return {"subject": (self.subject_id, self.subject_name), "teacher": (self.teacher_id, self.teacher_name),
                "grade": (self.grade, f"Khối {self.grade}"), "class": (self.class_id, self.class_name)}


@dataclass
class Tally:
    lessons_scheduled: int = 0
    lessons_held: int = 0
    minutes: float = 0.0
    student_lessons: int = 0
    attended: int = 0
    assignments: int = 0
    tests: int = 0
    scores: list[float] = field(default_factory=list)

    @property
    def attendance_rate(self) -> float:
        return round(self.attended / self.student_lessons, 4) if self.student_lessons else 0.0

    @property
    def average_score10(self) -> float | None:
        return round(sum(self.scores) / len(self.scores), 2) if self.scores else None


@dataclass(frozen=True)
class LessonFigures:
    where: Where
    held: bool
    minutes: float
    """The teacher's time in the lesson's room (online teaching time)."""
    student_lessons: int
    attended: int
    scores: tuple[float, ...] = ()
    """The lesson's quiz results on the 10-point scale, one per student who had a quiz."""


@dataclass(frozen=True)
class WorkFigures:
    """An assignment or an online test given in the period, and its results (score10)."""

    where: Where
    kind: str
    """assignment or test."""
    scores: tuple[float, ...]


class Statistics:
    def __init__(self) -> None:
        self.total = Tally()
        self.groups: dict[str, dict[int, Tally]] = {g: defaultdict(Tally) for g in GROUPS}
        self.names: dict[tuple[str, int], str] = {}

    def _tallies(self, where: Where) -> Iterable[Tally]:
        yield self.total
        for group, (key, name) in where.keys().items():
            self.names[(group, key)] = name
            yield self.groups[group][key]

    def add_lesson(self, lesson: LessonFigures) -> None:
        for t in self._tallies(lesson.where):
            t.lessons_scheduled += 1
            if lesson.held:
                t.lessons_held += 1
                t.minutes += lesson.minutes
                t.student_lessons += lesson.student_lessons
                t.attended += lesson.attended
            t.scores.extend(lesson.scores)

    def add_work(self, work: WorkFigures) -> None:
        for t in self._tallies(work.where):
            if work.kind == "assignment":
                t.assignments += 1
            else:
                t.tests += 1
            t.scores.extend(work.scores)

    def rows(self, group: str) -> list[tuple[int, str, Tally]]:
        return sorted(((key, self.names[(group, key)], t) for key, t in self.groups[group].items()),
                      key=lambda row: (row[1], row[0]))


async def _has(session: AsyncSession, name: str) -> bool:
    return await session.run_sync(lambda s: sa.inspect(s.connection()).has_table(name))


ASSIGNMENTS = sa.table("assignments", sa.column("id"), sa.column("school_id"), sa.column("class_id"),
                       sa.column("subject_id"), sa.column("teacher_id"), sa.column("due_at", UTCDateTime()), sa.column("published"))
SUBMISSIONS = sa.table("submissions", sa.column("assignment_id"), sa.column("student_id"), sa.column("score10"))
TESTS = sa.table("online_tests", sa.column("id"), sa.column("school_id"), sa.column("class_id"),
                 sa.column("subject_id"), sa.column("teacher_id"), sa.column("opens_at", UTCDateTime()))
ATTEMPTS = sa.table("test_attempts", sa.column("test_id"), sa.column("student_id"), sa.column("score10"))


async def work_given(session: AsyncSession, school_id: int, start: datetime, end: datetime, *,
                     class_ids: set[int] | None, subject_id: int | None = None, teacher_id: int | None = None,
                     grade: int | None = None) -> list[WorkFigures]:
    """Assignments due and online tests opening in [start, end) of the classes given (None: every
    class of the school), each with its graded results (score10)."""
    rows: list[tuple[str, int, int, int, int | None]] = []  # kind, id, class, subject, teacher
    scores: dict[tuple[str, int], list[float]] = defaultdict(list)
    for kind, work, results, at, link in (("assignment", ASSIGNMENTS, SUBMISSIONS, "due_at", "assignment_id"),
                                          ("test", TESTS, ATTEMPTS, "opens_at", "test_id")):
        if not await _has(session, work.name):
            continue
        query = sa.select(work.c.id, work.c.class_id, work.c.subject_id, work.c.teacher_id).where(
            work.c.school_id == school_id, work.c[at] >= start, work.c[at] < end)
        if kind == "assignment":
            query = query.where(work.c.published == sa.true())
        if class_ids is not None:
            query = query.where(work.c.class_id.in_(class_ids))
        if subject_id is not None:
            query = query.where(work.c.subject_id == subject_id)
        if teacher_id is not None:
            query = query.where(work.c.teacher_id == teacher_id)
        found = [(kind, *row) for row in (await session.execute(query)).all()]
        rows.extend(found)
        ids = [r[1] for r in found]
        if ids and await _has(session, results.name):
            if kind == "assignment":  # one submission per student
                graded = sa.select(results.c[link], results.c.score10)
            else:  # a student's best graded attempt counts
                graded = sa.select(results.c[link], sa.func.max(results.c.score10)).group_by(
                    results.c[link], results.c.student_id)
            for wid, score in (await session.execute(graded.where(
                    results.c[link].in_(ids), results.c.score10.is_not(None)))).all():
                scores[(kind, wid)].append(float(score))
    if not rows:
        return []
    classes = {c.id: c for c in await session.scalars(sa.select(SchoolClass).where(
        SchoolClass.id.in_({r[2] for r in rows})))}
    grades = {g.id: g.level for g in await session.scalars(sa.select(Grade).where(
        Grade.id.in_({c.grade_id for c in classes.values()})))}
    subjects = {s.id: s.name for s in await session.scalars(sa.select(Subject).where(
        Subject.id.in_({r[3] for r in rows})))}
    teachers = {u.id: u.full_name for u in await session.scalars(sa.select(User).where(
        User.id.in_({r[4] for r in rows if r[4] is not None})))}
    out = []
    for kind, wid, class_id, subj, teacher in rows:
        klass = classes.get(class_id)
        if klass is None:
            continue
        level = grades.get(klass.grade_id, 0)
        if grade is not None and level != grade:
            continue
        where = Where(class_id, klass.name, level, subj, subjects.get(subj, ""), teacher or 0,
                      teachers.get(teacher or 0, ""))
        out.append(WorkFigures(where, kind, tuple(scores.get((kind, wid), ()))))
    return out

"""A student's grades and the work they have to do ("kết quả học tập", "cần làm"), on the school's
10-point scale: lesson quizzes (per lesson, once the teacher published their results), assignments
(once graded) and online tests (once their results are published).

The lesson polls are read by their tables' names (they belong to the classroom, which this package
does not import): a server without them reads no quizzes."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Table, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from coursework.assignments_models import Assignment, Submission
from coursework.tests_models import OnlineTest, TestAttempt
from school.models import ClassStudent, Lesson, Subject
from storage.database import Base

Kind = Literal["quiz", "assignment", "test"]
KINDS: tuple[Kind, ...] = ("quiz", "assignment", "test")


@dataclass(frozen=True)
class GradeItem:
    student_id: int
    kind: Kind
    id: int
    """The lesson (quiz), the assignment or the online test."""
    title: str
    subject_id: int
    subject_name: str
    class_id: int
    score10: float | None
    """On the 10-point scale; None while not graded or not published (or never done)."""
    status: str
    """quiz: graded | pending; assignment: graded | submitted | missing | open;
    test: graded | pending | not_taken | open."""
    at: datetime
    """The lesson's start, the assignment's due time, the test's closing time."""


@dataclass(frozen=True)
class DueItem:
    kind: Kind
    id: int
    title: str
    subject_name: str
    due_at: datetime
    done: bool


def score10(points: float, maximum: float) -> float | None:
    """`points` out of `maximum` on the school's 10-point scale (None when nothing could be earned)."""
    if maximum <= 0:
        return None
    return round(min(max(points / maximum, 0.0), 1.0) * 10, 2)


def _table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


async def _classes_of(session: AsyncSession, student_ids: list[int], class_id: int | None) -> dict[int, set[int]]:
    query = select(ClassStudent.class_id, ClassStudent.student_id).where(ClassStudent.student_id.in_(student_ids))
    if class_id is not None:
        query = query.where(ClassStudent.class_id == class_id)
    out: dict[int, set[int]] = defaultdict(set)
    for cid, sid in (await session.execute(query)).all():
        out[cid].add(sid)
    return out


async def _subject_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict((await session.execute(select(Subject.id, Subject.name).where(Subject.id.in_(ids)))).all())


async def _quizzes(session: AsyncSession, members: dict[int, set[int]], subject_id: int | None,
                   now: datetime) -> list[tuple[int, int, str, int, int, float | None, str, datetime]]:
    """(student, lesson, title, subject, class, score10, status, at) per lesson with quizzes opened."""
    polls, answers = _table("polls"), _table("poll_answers")
    if polls is None or answers is None or not members:
        return []
    query = (select(Lesson.id, Lesson.title, Lesson.subject_id, Lesson.class_id, Lesson.starts_at, polls.c.id,
                    polls.c.points, polls.c.published)
             .join(polls, polls.c.lesson_id == Lesson.id)
             .where(Lesson.class_id.in_(members), polls.c.correct.is_not(None), polls.c.status != "draft"))
    if subject_id is not None:
        query = query.where(Lesson.subject_id == subject_id)
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    students = set().union(*members.values())
    scores = {(pid, uid): float(score or 0.0) for pid, uid, score in (await session.execute(
        select(answers.c.poll_id, answers.c.user_id, answers.c.score).where(
            answers.c.poll_id.in_({r[5] for r in rows}), answers.c.user_id.in_(students)))).all()}
    lessons: dict[int, dict] = {}
    for lid, title, sid, cid, starts, pid, points, published in rows:
        entry = lessons.setdefault(lid, {"title": title, "subject": sid, "class": cid, "at": starts, "polls": []})
        entry["polls"].append((pid, float(points), bool(published)))
    out = []
    for lid, entry in lessons.items():
        published = [(pid, pts) for pid, pts, pub in entry["polls"] if pub]
        maximum = sum(pts for _, pts in published)
        for uid in sorted(members.get(entry["class"], ())):
            if published and maximum > 0:
                earned = sum(scores.get((pid, uid), 0.0) for pid, _ in published)
                value, status = score10(earned, maximum), "graded"
            else:
                value, status = None, "pending"
            out.append((uid, lid, entry["title"], entry["subject"], entry["class"], value, status,
                        _aware(entry["at"]) or now))
    return out


async def _assignments(session: AsyncSession, members: dict[int, set[int]], subject_id: int | None,
                       now: datetime) -> list[tuple[int, int, str, int, int, float | None, str, datetime]]:
    table, subs = Assignment.__table__, Submission.__table__
    if not members:
        return []
    query = select(table.c.id, table.c.title, table.c.subject_id, table.c.class_id, table.c.due_at,
                   table.c.opens_at).where(table.c.class_id.in_(members), table.c.published.is_(True))
    if subject_id is not None:
        query = query.where(table.c.subject_id == subject_id)
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    students = set().union(*members.values())
    done = {(aid, uid): (score, graded_at) for aid, uid, score, graded_at in (await session.execute(
        select(subs.c.assignment_id, subs.c.student_id, subs.c.score10, subs.c.graded_at).where(
            subs.c.assignment_id.in_({r[0] for r in rows}), subs.c.student_id.in_(students)))).all()}
    out = []
    for aid, title, sid, cid, due_at, _opens in rows:
        due = _aware(due_at) or now
        for uid in sorted(members.get(cid, ())):
            submission = done.get((aid, uid))
            if submission is None:
                value, status = None, "missing" if due < now else "open"
            elif submission[0] is not None:
                value, status = round(float(submission[0]), 2), "graded"
            else:
                value, status = None, "submitted"
            out.append((uid, aid, title, sid, cid, value, status, due))
    return out


async def _tests(session: AsyncSession, members: dict[int, set[int]], subject_id: int | None,
                 now: datetime) -> list[tuple[int, int, str, int, int, float | None, str, datetime]]:
    table, attempts = OnlineTest.__table__, TestAttempt.__table__
    if not members:
        return []
    query = select(table.c.id, table.c.title, table.c.subject_id, table.c.class_id, table.c.closes_at,
                   table.c.results_published).where(table.c.class_id.in_(members))
    if subject_id is not None:
        query = query.where(table.c.subject_id == subject_id)
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    students = set().union(*members.values())
    taken: dict[tuple[int, int], list[tuple[str, float | None]]] = defaultdict(list)
    for tid, uid, status, value in (await session.execute(
            select(attempts.c.test_id, attempts.c.student_id, attempts.c.status, attempts.c.score10).where(
                attempts.c.test_id.in_({r[0] for r in rows}), attempts.c.student_id.in_(students)))).all():
        taken[(tid, uid)].append((status, value))
    out = []
    for tid, title, sid, cid, closes_at, published in rows:
        closes = _aware(closes_at) or now
        for uid in sorted(members.get(cid, ())):
            mine = taken.get((tid, uid), [])
            finished = [v for status, v in mine if status in ("submitted", "graded")]
            graded = [float(v) for status, v in mine if status == "graded" and v is not None]
            if not finished and not mine:
                value, state = None, "not_taken" if closes < now else "open"
            elif published and graded:
                value, state = round(max(graded), 2), "graded"  # the best graded attempt counts
            else:
                value, state = None, "pending"
            out.append((uid, tid, title, sid, cid, value, state, closes))
    return out


async def grades_of(session: AsyncSession, student_ids: list[int], *, class_id: int | None = None,
                    subject_id: int | None = None) -> list[GradeItem]:
    """Every graded (or gradable) item of these students in their classes, oldest first: one per
    student and lesson with quizzes, per published assignment, per online test."""
    ids = list(dict.fromkeys(student_ids))
    if not ids:
        return []
    members = await _classes_of(session, ids, class_id)
    now = datetime.now(UTC)
    rows = [("quiz", r) for r in await _quizzes(session, members, subject_id, now)]
    rows += [("assignment", r) for r in await _assignments(session, members, subject_id, now)]
    rows += [("test", r) for r in await _tests(session, members, subject_id, now)]
    names = await _subject_names(session, {r[3] for _, r in rows})
    items = [GradeItem(student_id=uid, kind=kind, id=iid, title=title, subject_id=sid,  # type: ignore[arg-type]
                       subject_name=names.get(sid, ""), class_id=cid, score10=value, status=status, at=at)
             for kind, (uid, iid, title, sid, cid, value, status, at) in rows]
    items.sort(key=lambda i: (i.at, KINDS.index(i.kind), i.id, i.student_id))
    return items


async def due_of(session: AsyncSession, student_id: int) -> list[DueItem]:
    """What the student has to do, soonest first: published assignments not yet past due (or past due
    and not yet handed in when late work is accepted) and online tests still open."""
    members = await _classes_of(session, [student_id], None)
    if not members:
        return []
    now = datetime.now(UTC)
    rows: list[tuple[str, int, str, int, datetime, bool]] = []
    table, subs = Assignment.__table__, Submission.__table__
    submitted = select(subs.c.id).where(and_(subs.c.assignment_id == table.c.id,
                                             subs.c.student_id == student_id)).exists()
    for aid, title, sid, due_at, opens_at, policy, done in (await session.execute(
            select(table.c.id, table.c.title, table.c.subject_id, table.c.due_at, table.c.opens_at,
                   table.c.late_policy, submitted).where(table.c.class_id.in_(members),
                                                         table.c.published.is_(True)))).all():
        due, opens = _aware(due_at), _aware(opens_at)
        if due is None or (opens is not None and opens > now):
            continue
        if due >= now or (not done and policy != "refuse"):
            rows.append(("assignment", aid, title, sid, due, bool(done)))
    tests, attempts = OnlineTest.__table__, TestAttempt.__table__
    finished = select(attempts.c.id).where(and_(attempts.c.test_id == tests.c.id,
                                                attempts.c.student_id == student_id,
                                                attempts.c.status.in_(("submitted", "graded")))).exists()
    for tid, title, sid, closes_at, done in (await session.execute(
            select(tests.c.id, tests.c.title, tests.c.subject_id, tests.c.closes_at, finished)
            .where(tests.c.class_id.in_(members)))).all():
        closes = _aware(closes_at)
        if closes is not None and closes >= now:
            rows.append(("test", tid, title, sid, closes, bool(done)))
    names = await _subject_names(session, {r[3] for r in rows})
    out = [DueItem(kind=kind, id=iid, title=title, subject_name=names.get(sid, ""), due_at=due,  # type: ignore[arg-type]
                   done=done) for kind, iid, title, sid, due, done in rows]
    out.sort(key=lambda d: (d.done, d.due_at, d.kind, d.id))
    return out

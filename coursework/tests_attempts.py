"""A student's attempts at a test (làm bài): the paper drawn and shuffled for the attempt (seeded by
it, so it reads the same every time), each answer saved on its own, the deadline kept by the server
(an answer after it is refused; an attempt past it is submitted by the server when next touched and
by the sweeper), objective items graded at once, essays by the teacher (chấm bài tự luận), and the
integrity events of the attempt. Every function here runs inside one database write."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coursework.tests_grading import CHOICE_KINDS, answer_value, points_of, score10
from coursework.tests_models import AttemptAnswer, AttemptEvent, OnlineTest, Question, TestAttempt
from coursework.tests_papers import not_open
from school.errors import Conflict, Forbidden, InvalidField, NotFound

EVENT_KINDS = ("blur", "hidden", "paste", "camera_off")


def draw(test: OnlineTest, student_id: int, number: int, bank_questions: dict[int, list[Question]],
         listed: list[Question]) -> list[dict[str, Any]]:
    """The attempt's paper: listed questions and those drawn from banks, questions and options
    shuffled (when the test shuffles) by a generator seeded with the attempt."""
    rng = random.Random(f"{test.id}:{student_id}:{number}")
    chosen = list(listed)
    for spec in test.draws:
        pool = sorted(bank_questions.get(spec["bank_id"], []), key=lambda q: q.id)
        taken = {q.id for q in chosen}
        pool = [q for q in pool if q.id not in taken]
        chosen.extend(rng.sample(pool, min(spec["count"], len(pool))))
    if test.shuffle:
        rng.shuffle(chosen)
    items = []
    for question in chosen:
        order = list(range(len(question.options)))
        if test.shuffle and question.kind in ("single", "multiple"):
            rng.shuffle(order)
        items.append({"q": question.id, "o": order})
    return items


async def _questions(session: AsyncSession, ids: list[int]) -> dict[int, Question]:
    return {q.id: q for q in await session.scalars(select(Question).where(Question.id.in_(ids)))}


async def _event(session: AsyncSession, attempt_id: int, kind: str, device: str, detail: str = "") -> None:
    session.add(AttemptEvent(attempt_id=attempt_id, kind=kind, device=device, detail=detail[:200]))


async def _check_device(session: AsyncSession, attempt: TestAttempt, device: str) -> None:
    """A session other than the one that started the attempt is a second device (logged once per session)."""
    if device == attempt.device:
        return
    seen = await session.scalar(select(AttemptEvent.id).where(
        AttemptEvent.attempt_id == attempt.id, AttemptEvent.kind == "second_device", AttemptEvent.device == device))
    if seen is None:
        await _event(session, attempt.id, "second_device", device)


async def start(session: AsyncSession, test_id: int, student_id: int, device: str, now: datetime) -> TestAttempt:
    """The student's attempt in progress, or a new one while the test is open and attempts remain."""
    test = await session.get(OnlineTest, test_id)
    if test is None:
        raise NotFound(f"test {test_id} not found")
    attempts = list(await session.scalars(select(TestAttempt).where(
        TestAttempt.test_id == test_id, TestAttempt.student_id == student_id).order_by(TestAttempt.number)))
    for attempt in attempts:
        if attempt.status == "in_progress":
            if now < attempt.deadline_at:
                await _check_device(session, attempt, device)
                return attempt
            await finish(session, attempt, now, by="server")
    not_open(test, now)
    if len(attempts) >= test.attempts_allowed:
        raise Conflict("no attempts left", reason="test_no_attempts_left", params={"allowed": test.attempts_allowed})
    number = len(attempts) + 1
    banks = {spec["bank_id"] for spec in test.draws}
    bank_questions: dict[int, list[Question]] = {}
    for question in await session.scalars(select(Question).where(Question.bank_id.in_(banks))):
        bank_questions.setdefault(question.bank_id, []).append(question)
    listed_map = await _questions(session, list(test.question_ids))
    listed = [listed_map[i] for i in test.question_ids if i in listed_map]
    items = draw(test, student_id, number, bank_questions, listed)
    paper = await _questions(session, [item["q"] for item in items])
    deadline = min(now + timedelta(minutes=test.time_limit_minutes), test.closes_at)
    attempt = TestAttempt(test_id=test_id, student_id=student_id, number=number, started_at=now,
                          deadline_at=deadline, status="in_progress", items=items, device=device,
                          max_points=float(sum(paper[i["q"]].points for i in items)))
    session.add(attempt)
    await session.flush()
    await _event(session, attempt.id, "started", device)
    return attempt


async def own_attempt(session: AsyncSession, attempt_id: int, student_id: int) -> TestAttempt:
    attempt = await session.get(TestAttempt, attempt_id)
    if attempt is None:
        raise NotFound(f"attempt {attempt_id} not found")
    if attempt.student_id != student_id:
        raise Forbidden("this attempt is not yours")
    return attempt


async def save_answer(session: AsyncSession, attempt_id: int, student_id: int, position: int, device: str,
                      now: datetime, *, choices: list[int] | None, text: str | None,
                      number: float | None) -> tuple[TestAttempt, AttemptAnswer | None]:
    """One answer (item `position` of the paper, choices as shown), durable when the write commits.
    After the deadline the attempt is submitted (by the server) and the answer refused."""
    attempt = await own_attempt(session, attempt_id, student_id)
    if attempt.status != "in_progress":
        raise Conflict("this attempt is submitted", reason="test_attempt_submitted")
    if now >= attempt.deadline_at:
        await finish(session, attempt, now, by="server")
        return attempt, None
    if not 0 <= position < len(attempt.items):
        raise InvalidField("position", "no such question in this paper", reason="test_no_such_item")
    await _check_device(session, attempt, device)
    item = attempt.items[position]
    question = await session.get(Question, item["q"])
    if question is None:
        raise NotFound("question gone")
    order = item["o"]
    if choices is not None and question.kind in CHOICE_KINDS:
        if any(not 0 <= c < len(order) for c in choices):
            raise InvalidField("choices", "option indexes of this question", reason="test_answer_shape")
        choices = [order[c] for c in choices]
    value = answer_value(question.kind, len(question.options), choices=choices, text=text, number=number)
    row = await session.scalar(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.question_id == question.id))
    if row is None:
        row = AttemptAnswer(attempt_id=attempt.id, question_id=question.id, answer=value, saved_at=now, comment="")
        session.add(row)
    else:
        row.answer, row.saved_at = value, now
    await session.flush()
    return attempt, row


async def finish(session: AsyncSession, attempt: TestAttempt, now: datetime, *, by: str) -> TestAttempt:
    """Submit (nộp bài): objective answers graded; `graded` unless an essay waits for the teacher."""
    if attempt.status != "in_progress":
        return attempt
    paper = await _questions(session, [i["q"] for i in attempt.items])
    answers = {a.question_id: a for a in await session.scalars(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))}
    waiting = False
    for item in attempt.items:
        question = paper.get(item["q"])
        if question is None:
            continue
        answer = answers.get(question.id)
        if question.kind == "essay":
            if answer is None:
                session.add(AttemptAnswer(attempt_id=attempt.id, question_id=question.id, answer="", saved_at=now,
                                          comment="", points=0.0))
            elif answer.answer:
                waiting = True
            else:
                answer.points = 0.0
        elif answer is not None:
            answer.points = points_of(question.kind, question.correct, question.points, answer.answer)
    await session.flush()
    attempt.submitted_at = min(now, attempt.deadline_at) if by == "server" else now
    attempt.submitted_by = by
    await _total(session, attempt, waiting)
    await _event(session, attempt.id, "submitted", "", by)
    return attempt


async def _total(session: AsyncSession, attempt: TestAttempt, waiting: bool | None = None) -> None:
    rows = list(await session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)))
    if waiting is None:
        waiting = any(r.points is None for r in rows)
    attempt.points = round(sum(r.points or 0.0 for r in rows), 4)
    if waiting:
        attempt.status, attempt.score10 = "submitted", None
    else:
        attempt.status, attempt.score10 = "graded", score10(attempt.points, attempt.max_points)


async def submit(session: AsyncSession, attempt_id: int, student_id: int, now: datetime) -> TestAttempt:
    attempt = await own_attempt(session, attempt_id, student_id)
    if attempt.status != "in_progress":
        raise Conflict("this attempt is submitted", reason="test_attempt_submitted")
    return await finish(session, attempt, now, by="server" if now >= attempt.deadline_at else "student")


async def log_event(session: AsyncSession, attempt_id: int, student_id: int, kind: str, device: str,
                    detail: str) -> None:
    attempt = await own_attempt(session, attempt_id, student_id)
    if attempt.status == "in_progress":
        await _event(session, attempt.id, kind, device, detail)


async def grade_essay(session: AsyncSession, attempt_id: int, question_id: int, points: float, comment: str,
                      grader_id: int, now: datetime) -> TestAttempt:
    attempt = await session.get(TestAttempt, attempt_id)
    if attempt is None:
        raise NotFound(f"attempt {attempt_id} not found")
    if attempt.status == "in_progress":
        raise Conflict("the attempt is not submitted yet", reason="test_attempt_in_progress")
    question = await session.get(Question, question_id)
    if question is None or question.kind != "essay" or question_id not in {i["q"] for i in attempt.items}:
        raise InvalidField("question_id", "an essay of this attempt", reason="test_not_an_essay")
    if points > question.points:
        raise InvalidField("points", f"at most {question.points}", reason="test_too_many_points",
                           params={"max": question.points})
    answer = await session.scalar(select(AttemptAnswer).where(
        AttemptAnswer.attempt_id == attempt.id, AttemptAnswer.question_id == question_id))
    assert answer is not None  # finish() wrote a row for every essay
    answer.points, answer.comment, answer.graded_by, answer.graded_at = points, comment, grader_id, now
    await session.flush()
    await _total(session, attempt)
    return attempt


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Submit every attempt whose deadline has passed; the number submitted."""
    overdue = list(await session.scalars(select(TestAttempt).where(
        TestAttempt.status == "in_progress", TestAttempt.deadline_at <= now).limit(500)))
    for attempt in overdue:
        await finish(session, attempt, now, by="server")
    return len(overdue)


async def attempts_count(session: AsyncSession, test_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(TestAttempt)
                                    .where(TestAttempt.test_id == test_id)) or 0)

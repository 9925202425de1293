"""Question banks and the tests drawn from them: who may write them and what a test must be."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coursework.tests_grading import QuestionIn
from coursework.tests_models import OnlineTest, Question, QuestionBank
from school import access
from school.errors import Conflict, Forbidden, InvalidField, NotFound
from school.models import Lesson, Role, Subject, TeachingAssignment, User

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
MAX_QUESTIONS = 200


class BankIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    subject_id: Id
    title: Title


class DrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    bank_id: Id
    count: Annotated[int, Field(ge=1, le=MAX_QUESTIONS)]


class TestIn(BaseModel):
    """Bài kiểm tra: for a class and subject, open between `opens_at` and `closes_at`."""

    __test__ = False
    model_config = ConfigDict(extra="forbid")
    class_id: Id
    subject_id: Id
    title: Title
    opens_at: datetime
    closes_at: datetime
    time_limit_minutes: Annotated[int, Field(ge=1, le=600)]
    attempts_allowed: Annotated[int, Field(ge=1, le=20)] = 1
    question_ids: Annotated[list[Id], Field(max_length=MAX_QUESTIONS)] = []
    draws: Annotated[list[DrawIn], Field(max_length=20)] = []
    shuffle: bool = True
    camera_required: bool = False
    lesson_id: Id | None = None

    @model_validator(mode="after")
    def _sound(self) -> TestIn:
        if self.opens_at.tzinfo is None or self.closes_at.tzinfo is None:
            raise ValueError("opens_at and closes_at carry a time zone")
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must come after opens_at")
        if not self.question_ids and not self.draws:
            raise ValueError("list questions or draw them from banks")
        if len(set(self.question_ids)) != len(self.question_ids):
            raise ValueError("question_ids: each question once")
        if self.camera_required and self.lesson_id is None:
            raise ValueError("camera_required needs the live lesson (lesson_id) the camera is shown in")
        return self


async def may_teach(session: AsyncSession, actor: User, class_id: int | None, subject_id: int) -> None:
    """Admins anything; a teacher the subject (and class) assigned to them."""
    if actor.role is Role.admin:
        return
    if actor.role is not Role.teacher:
        raise Forbidden("only teachers make tests")
    query = select(TeachingAssignment.id).where(TeachingAssignment.teacher_id == actor.id,
                                                TeachingAssignment.subject_id == subject_id)
    if class_id is not None:
        query = query.where(TeachingAssignment.class_id == class_id)
    if await session.scalar(query.limit(1)) is None:
        raise Forbidden("you do not teach this subject to this class", reason="test_not_your_subject")


async def get_bank(session: AsyncSession, actor: User, bank_id: int, *, write: bool = False) -> QuestionBank:
    bank = await session.get(QuestionBank, bank_id)
    if bank is None or bank.school_id != actor.school_id or actor.role not in (Role.admin, Role.teacher):
        raise NotFound(f"question bank {bank_id} not found")
    if write and actor.role is not Role.admin and bank.owner_id != actor.id:
        raise Forbidden("only the bank's owner changes it")
    if actor.role is Role.teacher and bank.owner_id != actor.id:
        await may_teach(session, actor, None, bank.subject_id)
    return bank


async def create_bank(session: AsyncSession, actor: User, spec: BankIn) -> QuestionBank:
    subject = await session.get(Subject, spec.subject_id)
    if subject is None or subject.school_id != actor.school_id:
        raise InvalidField("subject_id", "no such subject", reason="test_unknown_subject")
    await may_teach(session, actor, None, spec.subject_id)
    bank = QuestionBank(school_id=actor.school_id, subject_id=spec.subject_id, owner_id=actor.id, title=spec.title)
    session.add(bank)
    await session.flush()
    return bank


async def add_questions(session: AsyncSession, actor: User, bank_id: int, specs: list[QuestionIn],
                        image: tuple[bytes, str] | None = None) -> list[Question]:
    await get_bank(session, actor, bank_id, write=True)
    rows = [Question(bank_id=bank_id, kind=q.kind, text=q.text, options=list(q.options), correct=q.correct,
                     points=q.points, image=image[0] if image else None, image_mime=image[1] if image else None)
            for q in specs]
    session.add_all(rows)
    await session.flush()
    return rows


async def create_test(session: AsyncSession, actor: User, spec: TestIn) -> OnlineTest:
    cls = await access.get_class(session, actor, spec.class_id)
    await may_teach(session, actor, cls.id, spec.subject_id)
    for draw in spec.draws:
        bank = await get_bank(session, actor, draw.bank_id)
        if bank.subject_id != spec.subject_id:
            raise InvalidField("draws", "a bank of another subject", reason="test_bank_subject")
        have = await session.scalar(select(func.count()).select_from(Question).where(Question.bank_id == bank.id))
        if (have or 0) < draw.count:
            raise InvalidField("draws", f"the bank holds {have} questions", reason="test_bank_too_small",
                               params={"have": have or 0})
    if spec.question_ids:
        found = list(await session.execute(select(Question.id, QuestionBank.school_id, QuestionBank.subject_id)
                                           .join(QuestionBank, QuestionBank.id == Question.bank_id)
                                           .where(Question.id.in_(spec.question_ids))))
        if len(found) != len(spec.question_ids) or any(
                school != actor.school_id or subject != spec.subject_id for _, school, subject in found):
            raise InvalidField("question_ids", "questions of this subject's banks", reason="test_unknown_question")
    if spec.lesson_id is not None:
        lesson = await session.get(Lesson, spec.lesson_id)
        if lesson is None or lesson.school_id != actor.school_id or lesson.class_id != cls.id:
            raise InvalidField("lesson_id", "a lesson of this class", reason="test_unknown_lesson")
    test = OnlineTest(school_id=actor.school_id, class_id=cls.id, subject_id=spec.subject_id, teacher_id=actor.id,
                      title=spec.title, opens_at=spec.opens_at, closes_at=spec.closes_at,
                      time_limit_minutes=spec.time_limit_minutes, attempts_allowed=spec.attempts_allowed,
                      question_ids=list(spec.question_ids), draws=[d.model_dump() for d in spec.draws],
                      shuffle=spec.shuffle, camera_required=spec.camera_required, lesson_id=spec.lesson_id)
    session.add(test)
    await session.flush()
    return test


async def get_test(session: AsyncSession, actor: User, test_id: int) -> tuple[OnlineTest, bool]:
    """The test and whether the actor is its staff (its teacher, a teacher of the subject and class, an
    admin); a student of its class sees it from when it opens; anyone else 403/404."""
    test = await session.get(OnlineTest, test_id)
    if test is None or test.school_id != actor.school_id or actor.role is Role.parent:
        raise NotFound(f"test {test_id} not found")
    if actor.role is Role.admin or test.teacher_id == actor.id:
        return test, True
    if actor.role is Role.teacher:
        await may_teach(session, actor, test.class_id, test.subject_id)
        return test, True
    visible = await access.class_ids_of(session, actor) or set()
    if test.class_id not in visible:
        raise Forbidden("this test is not for your class")
    return test, False


async def visible_tests(session: AsyncSession, actor: User) -> list[OnlineTest]:
    if actor.role is Role.parent:
        return []
    query = select(OnlineTest).where(OnlineTest.school_id == actor.school_id)
    if actor.role is Role.teacher:
        pairs = {(class_id, subject_id) for class_id, subject_id in await session.execute(
            select(TeachingAssignment.class_id, TeachingAssignment.subject_id)
            .where(TeachingAssignment.teacher_id == actor.id))}
        rows = await session.scalars(query.order_by(OnlineTest.opens_at.desc()))
        return [t for t in rows if t.teacher_id == actor.id or (t.class_id, t.subject_id) in pairs]
    if actor.role is Role.student:
        query = query.where(OnlineTest.class_id.in_(await access.class_ids_of(session, actor) or set()))
    return list(await session.scalars(query.order_by(OnlineTest.opens_at.desc())))


def not_open(test: OnlineTest, now: datetime) -> None:
    if now < test.opens_at:
        raise Conflict("the test has not opened yet", reason="test_not_open")
    if now >= test.closes_at:
        raise Conflict("the test is closed", reason="test_closed")

"""Online tests (bài kiểm tra): question banks (ngân hàng câu hỏi), tests for a class, students'
attempts (làm bài, nộp bài) with each answer saved durably before it is acknowledged, the teacher's
essay grading (chấm bài tự luận), integrity events, and the results published to students."""
from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import filetype
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coursework import tests_attempts as attempts
from coursework import tests_papers as papers
from coursework.tests_grading import CHOICE_KINDS, QuestionIn
from coursework.tests_import import read_sheet
from coursework.tests_models import AttemptAnswer, AttemptEvent, OnlineTest, Question, QuestionBank, TestAttempt
from school import audit
from school.errors import Conflict, Forbidden, InvalidField, NotFound
from school.models import Role, User
from school.timezones import school_zone
from signaling.lesson_room import LessonRoom
from signaling.participant import Participant
from web.api import live
from web.api.attendance import FormatQuery
from web.api.live import SDP
from web.auth import current_claims
from web.keys import DATABASE
from web.routing import Api, Call
from web.tables import export

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(seconds=30)
MAX_IMAGE = 2 * 1024 * 1024
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}


def _now() -> datetime:
    return datetime.now(UTC)


def _device(call: Call) -> str:
    """The sign-in (session) making the request, as a digest: another one is another device."""
    return hashlib.sha256(current_claims(call.request).session_id.encode()).hexdigest()[:32]


# --- shapes ----------------------------------------------------------------------------------------
class BankOut(BaseModel):
    id: int
    subject_id: int
    owner_id: int
    title: str
    questions: int


class BanksOut(BaseModel):
    items: list[BankOut]


class QuestionOut(BaseModel):
    id: int
    bank_id: int
    kind: str
    text: str
    options: list[str]
    correct: Any
    points: float
    has_image: bool


class QuestionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    questions: Annotated[list[QuestionIn], Field(min_length=1, max_length=200)]


class QuestionsOut(BaseModel):
    items: list[QuestionOut]


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    format: Literal["csv", "xlsx"]
    content: Annotated[str, StringConstraints(max_length=2_000_000)]
    """The CSV text, or the XLSX file in base64."""


class ImageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    mime: Literal["image/png", "image/jpeg", "image/webp", "image/gif"]
    data: Annotated[str, StringConstraints(max_length=MAX_IMAGE * 4 // 3 + 8)]
    """base64."""


class TestOut(BaseModel):
    __test__ = False
    id: int
    class_id: int
    subject_id: int
    teacher_id: int
    title: str
    opens_at: datetime
    closes_at: datetime
    time_limit_minutes: int
    attempts_allowed: int
    results_published: bool
    camera_required: bool
    lesson_id: int | None
    question_count: int
    staff: bool
    my_attempts: list[dict[str, Any]] = []


class TestsOut(BaseModel):
    items: list[TestOut]


class ItemOut(BaseModel):
    position: int
    question_id: int
    kind: str
    text: str
    options: list[str]
    """In the order this student sees them."""
    points: float
    image_url: str | None
    answer: Any = None
    """Saved answer: choices as shown, a text or a number."""
    awarded: float | None = None
    comment: str = ""


class AttemptOut(BaseModel):
    id: int
    test_id: int
    student_id: int
    number: int
    status: str
    started_at: datetime
    deadline_at: datetime
    submitted_at: datetime | None
    submitted_by: str | None
    remaining_s: int
    points: float | None
    max_points: float
    score10: float | None
    """Students see their score once the teacher publishes the results."""
    items: list[ItemOut]
    camera_required: bool
    lesson_id: int | None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    choices: Annotated[list[Annotated[int, Field(ge=0, le=20)]], Field(max_length=10)] | None = None
    text: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    number: Annotated[float, Field(allow_inf_nan=False)] | None = None


class SavedOut(BaseModel):
    attempt_id: int
    position: int
    saved_at: datetime
    remaining_s: int


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["blur", "hidden", "paste", "camera_off"]
    detail: Annotated[str, StringConstraints(max_length=200)] = ""


class EventOut(BaseModel):
    kind: str
    detail: str
    at: datetime


class AttemptRowOut(BaseModel):
    id: int
    student_id: int
    student_name: str
    number: int
    status: str
    started_at: datetime
    submitted_at: datetime | None
    submitted_by: str | None
    points: float | None
    max_points: float
    score10: float | None
    events: list[EventOut]


class AttemptsOut(BaseModel):
    items: list[AttemptRowOut]


class EssayGradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    points: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    published: bool = True


# --- views -----------------------------------------------------------------------------------------
async def _bank_out(session: AsyncSession, bank: QuestionBank) -> BankOut:
    count = len(list(await session.scalars(select(Question.id).where(Question.bank_id == bank.id))))
    return BankOut(id=bank.id, subject_id=bank.subject_id, owner_id=bank.owner_id, title=bank.title, questions=count)


def _question_out(q: Question) -> QuestionOut:
    return QuestionOut(id=q.id, bank_id=q.bank_id, kind=q.kind, text=q.text, options=list(q.options),
                       correct=q.correct, points=q.points, has_image=q.image is not None)


async def _test_out(session: AsyncSession, test: OnlineTest, staff: bool, user: User) -> TestOut:
    count = len(test.question_ids) + sum(d["count"] for d in test.draws)
    mine: list[dict[str, Any]] = []
    if user.role is Role.student:
        for a in await session.scalars(select(TestAttempt).where(
                TestAttempt.test_id == test.id, TestAttempt.student_id == user.id).order_by(TestAttempt.number)):
            shown = test.results_published and a.status == "graded"
            mine.append({"id": a.id, "number": a.number, "status": a.status,
                         "score10": a.score10 if shown else None})
    return TestOut(id=test.id, class_id=test.class_id, subject_id=test.subject_id, teacher_id=test.teacher_id,
                   title=test.title, opens_at=test.opens_at, closes_at=test.closes_at,
                   time_limit_minutes=test.time_limit_minutes, attempts_allowed=test.attempts_allowed,
                   results_published=test.results_published, camera_required=test.camera_required,
                   lesson_id=test.lesson_id, question_count=count, staff=staff, my_attempts=mine)


async def _attempt_out(session: AsyncSession, attempt: TestAttempt, test: OnlineTest, *, staff: bool,
                       now: datetime) -> AttemptOut:
    paper = {q.id: q for q in await session.scalars(
        select(Question).where(Question.id.in_([i["q"] for i in attempt.items])))}
    answers = {a.question_id: a for a in await session.scalars(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))}
    shown = staff or (test.results_published and attempt.status == "graded")
    items = []
    for position, item in enumerate(attempt.items):
        q = paper.get(item["q"])
        if q is None:
            continue
        order = item["o"]
        row = answers.get(q.id)
        value = row.answer if row is not None else None
        if value is not None and q.kind in CHOICE_KINDS:
            value = sorted(order.index(c) for c in value if c in order)
        items.append(ItemOut(position=position, question_id=q.id, kind=q.kind, text=q.text,
                             options=[q.options[i] for i in order],
                             points=q.points,
                             image_url=f"/api/questions/{q.id}/image?attempt={attempt.id}" if q.image else None,
                             answer=value, awarded=row.points if (row is not None and shown) else None,
                             comment=row.comment if (row is not None and shown) else ""))
    remaining = max(0, int((attempt.deadline_at - now).total_seconds())) if attempt.status == "in_progress" else 0
    return AttemptOut(id=attempt.id, test_id=attempt.test_id, student_id=attempt.student_id, number=attempt.number,
                      status=attempt.status, started_at=attempt.started_at, deadline_at=attempt.deadline_at,
                      submitted_at=attempt.submitted_at, submitted_by=attempt.submitted_by, remaining_s=remaining,
                      points=attempt.points if shown else None, max_points=attempt.max_points,
                      score10=attempt.score10 if shown else None, items=items,
                      camera_required=test.camera_required, lesson_id=test.lesson_id)


async def _attempt_for(session: AsyncSession, user: User, attempt_id: int) -> tuple[TestAttempt, OnlineTest, bool]:
    attempt = await session.get(TestAttempt, attempt_id)
    if attempt is None:
        raise NotFound(f"attempt {attempt_id} not found")
    test, staff = await papers.get_test(session, user, attempt.test_id)
    if not staff and attempt.student_id != user.id:
        raise Forbidden("this attempt is not yours")
    return attempt, test, staff


STATUS_VI = {"in_progress": "Đang làm bài", "submitted": "Chờ chấm tự luận", "graded": "Đã chấm"}
EVENT_VI = {"blur": "rời cửa sổ", "hidden": "ẩn trang", "paste": "dán nội dung", "second_device": "thiết bị thứ hai",
            "camera_off": "tắt camera"}


def results_table(out: AttemptsOut, zone: ZoneInfo) -> tuple[list[str], list[list[object]]]:
    """The test's results sheet: one row per attempt, times in the school's zone, the integrity
    events counted by kind."""
    def local(at: datetime | None) -> str:
        return at.astimezone(zone).strftime("%d/%m/%Y %H:%M") if at else ""

    header = ["STT", "Học sinh", "Lần làm", "Trạng thái", "Bắt đầu", "Nộp bài", "Hết giờ, máy chủ nộp",
              "Điểm", "Điểm tối đa", "Điểm (thang 10)", "Sự kiện bất thường"]
    rows: list[list[object]] = []
    for n, r in enumerate(out.items, 1):
        counts: dict[str, int] = {}
        for e in r.events:
            if e.kind in EVENT_VI:
                counts[e.kind] = counts.get(e.kind, 0) + 1
        rows.append([n, r.student_name, r.number, STATUS_VI.get(r.status, r.status), local(r.started_at),
                     local(r.submitted_at), "có" if r.submitted_by == "server" else "", r.points, r.max_points,
                     r.score10, ", ".join(f"{EVENT_VI[k]} ×{c}" for k, c in counts.items())])
    return header, rows


def _student(call: Call) -> None:
    if call.user.role is not Role.student:
        raise Forbidden("only students take tests")


async def _decode(data: str, limit: int) -> bytes:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidField("data", "base64", reason="test_image_not_base64") from None
    if len(raw) > limit:
        raise InvalidField("data", "too big", reason="test_image_too_big", params={"max_mb": limit // (1024 * 1024)})
    return raw


# --- the sweeper -----------------------------------------------------------------------------------
async def sweep_once(app: web.Application) -> int:
    """Submit the attempts past their deadline: a short read first, a write only when there are some."""
    now = _now()
    db = app[DATABASE]
    async with db.session() as session:
        overdue = await session.scalar(select(TestAttempt.id).where(
            TestAttempt.status == "in_progress", TestAttempt.deadline_at <= now).limit(1))
    if overdue is None:
        return 0
    return await db.writer.write(lambda s: attempts.sweep(s, now))


async def sweeper_context(app: web.Application) -> AsyncIterator[None]:
    """At start and every 30 s, attempts past their deadline are submitted by the server."""

    async def run() -> None:
        while True:
            try:
                done = await sweep_once(app)
                if done:
                    log.info("submitted %d online test attempts past their deadline", done)
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("online test sweeper failed")
            await asyncio.sleep(SWEEP_EVERY.total_seconds())

    task = asyncio.get_running_loop().create_task(run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# --- endpoints -------------------------------------------------------------------------------------
def register(api: Api) -> None:  # noqa: C901 - one declaration per endpoint
    staff_roles = (Role.admin, Role.teacher)

    @api.route("POST", "/api/question-banks", summary="Create a question bank", tag="online-tests", body=papers.BankIn,
               response=BankOut, status=201, errors=(403, 422), roles=staff_roles, unit_of_work=False,
               description="Ngân hàng câu hỏi of a subject; a teacher of that subject or an administrator.")
    async def create_question_bank(call: Call) -> BankOut:
        user, spec = call.user, call.body

        async def write(s: AsyncSession) -> BankOut:
            bank = await papers.create_bank(s, user, spec)
            audit.record(s, user, "create", "question_bank", bank.id, summary=bank.title)
            return await _bank_out(s, bank)
        return await call.db.writer.write(write)

    @api.route("GET", "/api/question-banks", summary="Question banks", tag="online-tests", response=BanksOut,
               roles=staff_roles,
               description="The school's banks of the subjects the teacher teaches (all for admins).")
    async def list_question_banks(call: Call) -> BanksOut:
        out = []
        for bank in await call.session.scalars(select(QuestionBank).where(
                QuestionBank.school_id == call.user.school_id).order_by(QuestionBank.id)):
            try:
                await papers.get_bank(call.session, call.user, bank.id)
            except (Forbidden, NotFound):
                continue
            out.append(await _bank_out(call.session, bank))
        return BanksOut(items=out)

    @api.route("GET", r"/api/question-banks/{id:\d+}/questions", summary="A bank's questions", tag="online-tests",
               response=QuestionsOut, errors=(403, 404), roles=staff_roles)
    async def list_bank_questions(call: Call) -> QuestionsOut:
        bank = await papers.get_bank(call.session, call.user, call.path_id("id"))
        rows = await call.session.scalars(select(Question).where(Question.bank_id == bank.id).order_by(Question.id))
        return QuestionsOut(items=[_question_out(q) for q in rows])

    async def _add(call: Call, specs: list[QuestionIn]) -> QuestionsOut:
        user, bank_id = call.user, call.path_id("id")

        async def write(s: AsyncSession) -> QuestionsOut:
            rows = await papers.add_questions(s, user, bank_id, specs)
            audit.record(s, user, "add_questions", "question_bank", bank_id, summary=f"{len(rows)} questions")
            return QuestionsOut(items=[_question_out(q) for q in rows])
        return await call.db.writer.write(write)

    @api.route("POST", r"/api/question-banks/{id:\d+}/questions", summary="Add questions to a bank",
               tag="online-tests", body=QuestionsIn, response=QuestionsOut, status=201, errors=(403, 404, 422),
               roles=staff_roles, unit_of_work=False,
               description="Kinds: single, multiple, true_false, short, number (graded automatically) and essay "
               "(graded by the teacher). All or none are added.")
    async def add_bank_questions(call: Call) -> QuestionsOut:
        return await _add(call, list(call.body.questions))

    @api.route("POST", r"/api/question-banks/{id:\d+}/import", summary="Import questions from a sheet",
               tag="online-tests", body=ImportIn, response=QuestionsOut, status=201, errors=(403, 404, 422),
               roles=staff_roles, unit_of_work=False,
               description="CSV (UTF-8) or XLSX (base64) with the columns kind, text, option1..option10, correct, "
               "points. correct: the option numbers from 1 (\"1;3\"), Đúng/Sai, the text or the number. A bad row "
               "is refused by its row number and nothing is added.")
    async def import_bank_questions(call: Call) -> QuestionsOut:
        return await _add(call, read_sheet(call.body.format, call.body.content))

    @api.route("PUT", r"/api/questions/{id:\d+}/image", summary="A question's image", tag="online-tests",
               body=ImageIn, status=204, errors=(403, 404, 422), roles=staff_roles, unit_of_work=False)
    async def put_question_image(call: Call) -> None:
        raw = await _decode(call.body.data, MAX_IMAGE)
        kind = filetype.guess(raw)
        if kind is None or kind.mime not in IMAGE_TYPES:
            raise InvalidField("data", "a PNG, JPEG, WebP or GIF image", reason="test_image_type")
        user, qid, mime = call.user, call.path_id("id"), kind.mime

        async def write(s: AsyncSession) -> None:
            q = await s.get(Question, qid)
            if q is None:
                raise NotFound(f"question {qid} not found")
            await papers.get_bank(s, user, q.bank_id, write=True)
            q.image, q.image_mime = raw, mime
        await call.db.writer.write(write)

    @api.route("GET", r"/api/questions/{id:\d+}/image", summary="A question's image", tag="online-tests",
               errors=(403, 404),
               description="Staff of the bank; a student only for a question of their own attempt (?attempt=).")
    async def get_question_image(call: Call) -> web.Response:
        q = await call.session.get(Question, call.path_id("id"))
        if q is None or q.image is None:
            raise NotFound("no image")
        if call.user.role is Role.student:
            raw = call.request.query.get("attempt", "")
            attempt = await call.session.get(TestAttempt, int(raw)) if raw.isdigit() and len(raw) < 10 else None
            if attempt is None or attempt.student_id != call.user.id or q.id not in {i["q"] for i in attempt.items}:
                raise NotFound("no image")
        else:
            await papers.get_bank(call.session, call.user, q.bank_id)
        return web.Response(body=q.image, content_type=q.image_mime or "application/octet-stream",
                            headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})

    @api.route("POST", "/api/online-tests", summary="Create a test", tag="online-tests", body=papers.TestIn,
               response=TestOut, status=201, errors=(403, 404, 422), roles=staff_roles, unit_of_work=False,
               description="Bài kiểm tra for a class: listed questions and/or N drawn from banks per student, "
               "the time window, the time limit (kept by the server), attempts allowed, shuffling, and "
               "`camera_required` with the live lesson the students' cameras are shown in.")
    async def create_online_test(call: Call) -> TestOut:
        user, spec = call.user, call.body

        async def write(s: AsyncSession) -> TestOut:
            test = await papers.create_test(s, user, spec)
            audit.record(s, user, "create", "online_test", test.id, summary=test.title,
                         after=spec.model_dump(mode="json"))
            return await _test_out(s, test, True, user)
        return await call.db.writer.write(write)

    @api.route("GET", "/api/online-tests", summary="Tests", tag="online-tests", response=TestsOut,
               description="A student's class's tests (with their attempts), a teacher's classes' tests, all for "
               "admins.")
    async def list_online_tests(call: Call) -> TestsOut:
        tests = await papers.visible_tests(call.session, call.user)
        staff = call.user.role is not Role.student
        return TestsOut(items=[await _test_out(call.session, t, staff, call.user) for t in tests])

    @api.route("GET", r"/api/online-tests/{id:\d+}", summary="A test", tag="online-tests", response=TestOut,
               errors=(403, 404))
    async def get_online_test(call: Call) -> TestOut:
        test, staff = await papers.get_test(call.session, call.user, call.path_id("id"))
        return await _test_out(call.session, test, staff, call.user)

    @api.route("POST", r"/api/online-tests/{id:\d+}/attempts", summary="Start (or resume) my attempt",
               tag="online-tests", response=AttemptOut, status=201, errors=(403, 404, 409), unit_of_work=False,
               description="Students of the class, while the test is open: the attempt in progress, or a new one "
               "if attempts remain (409 test_not_open, test_closed, no_attempts_left). Its paper is drawn and "
               "shuffled for this attempt. Starting from another sign-in logs a second device.")
    async def start_test_attempt(call: Call) -> AttemptOut:
        _student(call)
        test_id = call.path_id("id")
        async with call.db.session() as session:
            await papers.get_test(session, call.user, test_id)
        user_id, device, now = call.user.id, _device(call), _now()

        async def write(s: AsyncSession) -> AttemptOut:
            attempt = await attempts.start(s, test_id, user_id, device, now)
            test = await s.get(OnlineTest, test_id)
            assert test is not None
            return await _attempt_out(s, attempt, test, staff=False, now=now)
        return await call.db.writer.write(write)

    @api.route("GET", r"/api/test-attempts/{id:\d+}", summary="An attempt", tag="online-tests", response=AttemptOut,
               errors=(403, 404), unit_of_work=False,
               description="The student's own (scores once published) or the test's staff. An attempt past its "
               "deadline is submitted by the server first.")
    async def get_test_attempt(call: Call) -> AttemptOut:
        attempt_id, user = call.path_id("id"), call.user
        async with call.db.session() as session:
            attempt, test, staff = await _attempt_for(session, user, attempt_id)
            overdue = attempt.status == "in_progress" and _now() >= attempt.deadline_at
        if overdue:
            now = _now()

            async def close(s: AsyncSession) -> None:
                row = await s.get(TestAttempt, attempt_id)
                if row is not None:
                    await attempts.finish(s, row, now, by="server")
            await call.db.writer.write(close)
        async with call.db.session() as session:
            attempt, test, staff = await _attempt_for(session, user, attempt_id)
            return await _attempt_out(session, attempt, test, staff=staff, now=_now())

    @api.route("POST", r"/api/lessons/{id:\d+}/test-camera/{attempt:\d+}", summary="Share my camera for a test",
               tag="online-tests", status=201, media_type=SDP, errors=(400, 403, 404, 406, 409, 413, 415, 503),
               unit_of_work=False,
               description="WHIP (like POST /api/lessons/{id}/whip) for a student whose attempt at a test that "
               "requires the camera is in progress, the test naming this live lesson: the camera is allowed for "
               "this session without the teacher's grant, so the teacher sees them. Ended with DELETE on the "
               "Location (the lesson's WHIP session URL). Recorded only when the lesson records students.")
    async def share_test_camera(call: Call) -> web.Response:
        _student(call)
        lesson_id, attempt_id = call.path_id("id"), call.path_id("attempt")
        async with call.db.session() as session:
            attempt = await attempts.own_attempt(session, attempt_id, call.user.id)
            test = await session.get(OnlineTest, attempt.test_id)
            if test is None or not test.camera_required or test.lesson_id != lesson_id:
                raise Forbidden("this test does not share a camera into this lesson")
            if attempt.status != "in_progress" or _now() >= attempt.deadline_at:
                raise Conflict("this attempt is submitted", reason="test_attempt_submitted")

        async def publish(room: LessonRoom, participant: Participant, offer: str) -> str:
            participant.permissions["camera"] = True  # this session only; the test requires it
            return str((await room.publish(participant, offer, live._whip_tracks(offer)))["sdp"])
        return await live._enter(call, "whip", publish)  # the lesson's own WHIP entry

    @api.route("PUT", r"/api/test-attempts/{id:\d+}/answers/{pos:\d+}", summary="Save one answer",
               tag="online-tests", body=AnswerIn, response=SavedOut, errors=(403, 404, 409, 422),
               unit_of_work=False,
               description="The answer to item `pos` of the paper (choices as shown), committed before the reply. "
               "409 attempt_submitted, or time_over once the deadline has passed (the attempt is then submitted).")
    async def save_test_answer(call: Call) -> SavedOut:
        _student(call)
        attempt_id, position, user_id, device, body = (call.path_id("id"), call.path_id("pos"), call.user.id,
                                                       _device(call), call.body)
        now = _now()
        attempt, row = await call.db.writer.write(lambda s: attempts.save_answer(
            s, attempt_id, user_id, position, device, now, choices=body.choices, text=body.text, number=body.number))
        if row is None:
            raise Conflict("the time is over: the attempt was submitted", reason="test_time_over")
        return SavedOut(attempt_id=attempt_id, position=position, saved_at=row.saved_at,
                        remaining_s=max(0, int((attempt.deadline_at - now).total_seconds())))

    @api.route("POST", r"/api/test-attempts/{id:\d+}/submit", summary="Submit my attempt", tag="online-tests",
               response=AttemptOut, errors=(403, 404, 409), unit_of_work=False)
    async def submit_test_attempt(call: Call) -> AttemptOut:
        _student(call)
        attempt_id, user_id, now = call.path_id("id"), call.user.id, _now()

        async def write(s: AsyncSession) -> AttemptOut:
            attempt = await attempts.submit(s, attempt_id, user_id, now)
            test = await s.get(OnlineTest, attempt.test_id)
            assert test is not None
            return await _attempt_out(s, attempt, test, staff=False, now=now)
        return await call.db.writer.write(write)

    @api.route("POST", r"/api/test-attempts/{id:\d+}/events", summary="Report an integrity event",
               tag="online-tests", body=EventIn, status=204, errors=(403, 404), unit_of_work=False,
               description="blur, hidden (the page was hidden), paste, camera_off: shown to the teacher.")
    async def report_test_event(call: Call) -> None:
        _student(call)
        attempt_id, user_id, device, body = call.path_id("id"), call.user.id, _device(call), call.body
        await call.db.writer.write(lambda s: attempts.log_event(s, attempt_id, user_id, body.kind, device,
                                                                body.detail))

    @api.route("GET", r"/api/online-tests/{id:\d+}/attempts", summary="The test's attempts", tag="online-tests",
               query=FormatQuery, response=AttemptsOut, errors=(403, 404), roles=staff_roles,
               description="Every attempt with its score and integrity events (blur, hidden, paste, second_device); "
               "`format=csv|xlsx` downloads the test's results sheet.")
    async def list_test_attempts(call: Call) -> AttemptsOut | web.Response:
        test, staff = await papers.get_test(call.session, call.user, call.path_id("id"))
        if not staff:
            raise Forbidden("staff only")
        rows = list(await call.session.scalars(select(TestAttempt).where(TestAttempt.test_id == test.id)
                                               .order_by(TestAttempt.student_id, TestAttempt.number)))
        names = {u.id: u.full_name for u in await call.session.scalars(
            select(User).where(User.id.in_({r.student_id for r in rows})))}
        events: dict[int, list[EventOut]] = {}
        for e in await call.session.scalars(select(AttemptEvent).where(
                AttemptEvent.attempt_id.in_([r.id for r in rows])).order_by(AttemptEvent.at, AttemptEvent.id)):
            events.setdefault(e.attempt_id, []).append(EventOut(kind=e.kind, detail=e.detail, at=e.at))
        out = AttemptsOut(items=[AttemptRowOut(
            id=r.id, student_id=r.student_id, student_name=names.get(r.student_id, ""), number=r.number,
            status=r.status, started_at=r.started_at, submitted_at=r.submitted_at, submitted_by=r.submitted_by,
            points=r.points, max_points=r.max_points, score10=r.score10, events=events.get(r.id, []))
            for r in rows])
        if call.query.format == "json":
            return out
        zone = await school_zone(call.session, call.user.school_id)
        header, table = results_table(out, zone)
        return export(header, table, call.query.format, f"ket-qua-{test.title}", "Kết quả")

    @api.route("PUT", r"/api/test-attempts/{id:\d+}/grades/{qid:\d+}", summary="Grade an essay", tag="online-tests",
               body=EssayGradeIn, response=AttemptOut, errors=(403, 404, 409, 422), roles=staff_roles,
               unit_of_work=False, description="Chấm bài tự luận: points (up to the question's) and a comment.")
    async def grade_test_essay(call: Call) -> AttemptOut:
        attempt_id, qid, user, body = call.path_id("id"), call.path_id("qid"), call.user, call.body
        async with call.db.session() as session:
            _a, _t, staff = await _attempt_for(session, user, attempt_id)
        if not staff:
            raise Forbidden("staff only")
        now = _now()

        async def write(s: AsyncSession) -> AttemptOut:
            attempt = await attempts.grade_essay(s, attempt_id, qid, body.points, body.comment, user.id, now)
            audit.record(s, user, "grade", "test_attempt", attempt_id, summary=f"question {qid}: {body.points}",
                         after={"points": body.points, "score10": attempt.score10})
            test = await s.get(OnlineTest, attempt.test_id)
            assert test is not None
            return await _attempt_out(s, attempt, test, staff=True, now=now)
        return await call.db.writer.write(write)

    @api.route("POST", r"/api/online-tests/{id:\d+}/publish", summary="Publish (or hide) the results",
               tag="online-tests", body=PublishIn, response=TestOut, errors=(403, 404), roles=staff_roles,
               unit_of_work=False, description="Students see their scores only once published.")
    async def publish_test_results(call: Call) -> TestOut:
        test_id, user, published = call.path_id("id"), call.user, call.body.published
        async with call.db.session() as session:
            _t, staff = await papers.get_test(session, user, test_id)
        if not staff:
            raise Forbidden("staff only")

        async def write(s: AsyncSession) -> TestOut:
            test = await s.get(OnlineTest, test_id)
            assert test is not None
            test.results_published = published
            audit.record(s, user, "publish" if published else "unpublish", "online_test", test_id, summary=test.title)
            return await _test_out(s, test, True, user)
        return await call.db.writer.write(write)

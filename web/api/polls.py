"""Polls and quick quizzes over REST: the lesson's teacher (or an administrator) prepares, opens,
closes and publishes them and downloads the results; the class's students answer and follow their
own quiz results. What is written here reaches the lesson's live room at once when it is open."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from classroom import polls as records
from classroom.polls import PollIn, PollRecord
from school import access
from school.errors import Forbidden, NotFound
from school.models import Lesson, Role, User
from signaling import polls as live
from signaling.lesson_room import LessonRoom
from web.keys import ROOMS
from web.routing import Api, Call
from web.tables import export


class PollCreateIn(PollIn):
    draft: bool = False
    """Keep it prepared (opened later); otherwise it opens at once if the lesson is live now."""


class AnswerIn(BaseModel):
    """Exactly one of: `choices` (option indexes), `text` (short), `number` (number)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    choices: Annotated[list[Annotated[int, Field(ge=0, le=1000)]], Field(max_length=records.MAX_OPTIONS)] | None = None
    text: Annotated[str, Field(max_length=4 * records.MAX_TEXT)] | None = None
    number: Annotated[float, Field(allow_inf_nan=False)] | None = None


class AnswerOut(BaseModel):
    poll_id: int
    answer: Any
    answered_at: datetime
    updated_at: datetime
    correct: bool | None = None
    """Only once the results are published."""
    score: float | None = None


class PollOut(BaseModel):
    id: int
    lesson_id: int
    question: str
    kind: str
    options: list[str]
    points: float
    duration_s: int | None
    anonymous: bool
    status: Literal["draft", "open", "closed"]
    quiz: bool
    opened_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    published: bool
    answered: int | None
    """How many answered (staff only)."""
    correct: Any
    """The correct answer: staff always, students once published."""
    counts: list[int] | None
    """Answers per option: staff always, students once published."""
    mine: AnswerOut | None = None
    """A student's own answer."""


class PollsOut(BaseModel):
    items: list[PollOut]


class FormatQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "csv", "xlsx"] = "json"


class ResultRowOut(BaseModel):
    user_id: int
    full_name: str
    answered: bool
    answer: str
    """Human-readable: the chosen options' texts joined with "; ", the text, or the number; "" if none."""
    correct: bool | None
    """A quiz: right or not (false without an answer); a poll: null."""
    score: float | None
    """A quiz: points earned (0 without an answer); a poll: null."""


class ResultsOut(BaseModel):
    poll: PollOut
    rows: list[ResultRowOut]


class QuizResultOut(BaseModel):
    poll_id: int
    lesson_id: int
    lesson_title: str
    lesson_starts_at: datetime
    question: str
    answer: str
    points: float
    published: bool
    correct: bool | None
    """Once the teacher has published the results; null before."""
    score: float | None


class QuizResultsOut(BaseModel):
    items: list[QuizResultOut]


# --- who may --------------------------------------------------------------------------------------
def _staff(user: User, lesson: Lesson) -> bool:
    return user.role is Role.admin or lesson.teacher_id == user.id


async def _lesson(session: AsyncSession, user: User, lesson_id: int) -> tuple[Lesson, bool]:
    """The lesson and whether the caller runs it; 403 for anyone but its staff and its class's students."""
    lesson = await access.get_lesson(session, user, lesson_id)
    staff = _staff(user, lesson)
    if not staff and user.role is not Role.student:
        raise Forbidden("only the lesson's teacher, administrators and the class's students see its polls")
    return lesson, staff


async def _poll(session: AsyncSession, user: User, poll_id: int) -> tuple[PollRecord, Lesson, bool]:
    poll = await records.get_poll(session, poll_id)
    if poll.school_id != user.school_id:
        raise NotFound(f"poll {poll_id} not found")
    lesson, staff = await _lesson(session, user, poll.lesson_id)
    return poll, lesson, staff


def _require_staff(staff: bool) -> None:
    if not staff:
        raise Forbidden("only the lesson's teacher or an administrator runs its polls")


def _room(call: Call, lesson_id: int) -> LessonRoom | None:
    room = call.request.app[ROOMS].rooms.get(lesson_id)
    return room if room is not None and not room.closed else None


async def _out(session: AsyncSession, poll: PollRecord, user: User, staff: bool) -> PollOut:
    answers = await records.poll_answers(session, [poll.id])
    view = records.poll_view(poll, answers, staff=staff, user_id=user.id)
    assert view is not None
    return PollOut.model_validate(view)


async def _after_write(call: Call, poll: PollRecord, class_id: int, results: bool = False) -> PollOut:
    """The written poll applied to the live room (if open), and as the staff caller sees it."""
    rows = await live.result_rows(call.db, poll, class_id) if results else None
    await live.tell_room(_room(call, poll.lesson_id), poll, rows)
    async with call.db.session() as session:
        return await _out(session, poll, call.user, True)


def _results_table(rows: list[records.ResultRow], quiz: bool) -> tuple[list[str], list[list[object]]]:
    header = ["Mã học sinh", "Họ và tên", "Câu trả lời", "Đúng/Sai", "Điểm"]
    out: list[list[object]] = []
    for row in rows:
        correct = ("Đúng" if row.correct else "Sai") if quiz else ""
        out.append([row.user_id, row.full_name, row.answer, correct, row.score if quiz else ""])
    return header, out


def register(api: Api) -> None:
    @api.route("POST", r"/api/lessons/{id:\d+}/polls", summary="Prepare or launch a poll or quiz", tag="polls",
               body=PollCreateIn, response=PollOut, status=201, errors=(403, 404), unit_of_work=False,
               description="The lesson's teacher or an administrator. With a correct answer it is a quiz (scored); "
               "without, a poll. Made while the lesson is live and not a `draft`, it opens at once; otherwise it is "
               "kept prepared and opened with POST /api/polls/{pid}/open. 422 when the options, the correct answer "
               "or the limits do not fit the kind.")
    async def create(call: Call) -> PollOut:
        lesson_id = call.path_id("id")
        async with call.db.session() as session:
            lesson, staff = await _lesson(session, call.user, lesson_id)
        _require_staff(staff)
        spec: PollIn = call.body
        open_now = not call.body.draft and _room(call, lesson_id) is not None
        school_id, user_id = lesson.school_id, call.user.id
        poll = await call.db.writer.write(lambda s: records.create_poll(
            s, school_id=school_id, lesson_id=lesson_id, created_by=user_id, spec=spec, open_now=open_now))
        return await _after_write(call, poll, lesson.class_id)

    @api.route("GET", r"/api/lessons/{id:\d+}/polls", summary="The lesson's polls", tag="polls",
               response=PollsOut, errors=(403, 404),
               description="Staff see every poll (drafts too) with counts and correct answers; a student sees the "
               "opened ones with their own answer (`mine`), and the correct answer, counts and their score once "
               "the results are published.")
    async def list_polls(call: Call) -> PollsOut:
        lesson, staff = await _lesson(call.session, call.user, call.path_id("id"))
        polls = await records.lesson_polls(call.session, lesson.id)
        answers = await records.poll_answers(call.session, [p.id for p in polls])
        items = [records.poll_view(p, [a for a in answers if a.poll_id == p.id], staff=staff, user_id=call.user.id)
                 for p in polls]
        return PollsOut(items=[PollOut.model_validate(i) for i in items if i is not None])

    @api.route("POST", r"/api/polls/{pid:\d+}/answers", summary="Answer a poll (or change the answer)", tag="polls",
               body=AnswerIn, response=AnswerOut, status=201, errors=(403, 404, 409), unit_of_work=False,
               description="Students of the lesson's class, while the poll is open; the last answer before it closes "
               "counts. 409 once it is closed (or before it opens); 422 when the answer does not fit the kind.")
    async def answer(call: Call) -> AnswerOut:
        poll_id = call.path_id("pid")
        async with call.db.session() as session:
            poll, lesson, _staff_ = await _poll(session, call.user, poll_id)
        if call.user.role is not Role.student:
            raise Forbidden("only students answer polls")
        body, user_id = call.body, call.user.id
        poll, saved = await call.db.writer.write(lambda s: records.save_answer(
            s, poll_id, user_id, lesson_id=lesson.id, choices=body.choices, text=body.text, number=body.number))
        await live.tell_room(_room(call, lesson.id), poll, answer=saved)
        return AnswerOut.model_validate(records.answer_view(poll, saved))

    async def step(call: Call, what: str) -> PollOut:
        poll_id = call.path_id("pid")
        async with call.db.session() as session:
            _poll_, lesson, staff = await _poll(session, call.user, poll_id)
        _require_staff(staff)
        if what == "open":
            poll = await call.db.writer.write(lambda s: records.open_poll(s, poll_id, lesson.id))
        else:
            poll = await call.db.writer.write(lambda s: records.close_poll(s, poll_id, lesson.id,
                                                                            publish=what == "publish"))
        return await _after_write(call, poll, lesson.class_id, results=what == "publish")

    @api.route("POST", r"/api/polls/{pid:\d+}/open", summary="Open a prepared poll", tag="polls", response=PollOut,
               errors=(403, 404, 409), unit_of_work=False,
               description="Students may answer from now on; a timed poll closes by itself after `duration_s`. "
               "409 unless it is a draft.")
    async def open_(call: Call) -> PollOut:
        return await step(call, "open")

    @api.route("POST", r"/api/polls/{pid:\d+}/close", summary="Close a poll", tag="polls", response=PollOut,
               errors=(403, 404, 409), unit_of_work=False,
               description="No more answers. Closing a closed poll changes nothing; 409 for a draft.")
    async def close(call: Call) -> PollOut:
        return await step(call, "close")

    @api.route("POST", r"/api/polls/{pid:\d+}/publish", summary="Show a poll's results to the students",
               tag="polls", response=PollOut, errors=(403, 404, 409), unit_of_work=False,
               description="Closes it if open. Students then see the counts, the correct answer and their own score; "
               "others' answers only if the poll is not anonymous.")
    async def publish_poll(call: Call) -> PollOut:
        return await step(call, "publish")

    @api.route("GET", r"/api/polls/{pid:\d+}/results", summary="A poll's results, per student", tag="polls",
               query=FormatQuery, response=ResultsOut, errors=(403, 404),
               description="Staff only. One row per student of the class, those who did not answer too (answer \"\"; "
               "in a quiz correct false and score 0, in a poll both null). `format=csv|xlsx` downloads it "
               "(Mã học sinh, Họ và tên, Câu trả lời, Đúng/Sai, Điểm). Students follow their own results in "
               "the poll (`mine`) and at GET /api/users/me/quiz-results.")
    async def results(call: Call) -> ResultsOut | web.Response:
        poll, lesson, staff = await _poll(call.session, call.user, call.path_id("pid"))
        _require_staff(staff)
        answers = await records.poll_answers(call.session, [poll.id])
        roster = await records.class_roster(call.session, lesson.class_id)
        rows = records.result_rows(poll, roster, answers)
        if call.query.format != "json":
            header, table = _results_table(rows, poll.quiz)
            name = f"ket-qua-cau-hoi-{poll.id}-tiet-{lesson.id}"
            return export(header, table, call.query.format, name, "Kết quả")
        view = records.poll_view(poll, answers, staff=True, user_id=call.user.id)
        return ResultsOut(poll=PollOut.model_validate(view),
                          rows=[ResultRowOut.model_validate(r, from_attributes=True) for r in rows])

    @api.route("GET", "/api/users/me/quiz-results", summary="My quiz results", tag="polls",
               response=QuizResultsOut, roles=(Role.student,),
               description="The signed-in student's answered quizzes, by lesson: the score and whether it was right "
               "once the teacher has published the results (null before).")
    async def my_results(call: Call) -> QuizResultsOut:
        answered = [(p, a) for p, a in await records.user_answers(call.session, call.user.id) if p.quiz]
        lesson_ids = {p.lesson_id for p, _ in answered}
        lessons = {lesson.id: lesson for lesson in await call.session.scalars(
            select(Lesson).where(Lesson.id.in_(lesson_ids)))} if lesson_ids else {}
        items = []
        for poll, answer in answered:
            lesson = lessons.get(poll.lesson_id)
            if lesson is None or lesson.school_id != call.user.school_id:
                continue
            items.append(QuizResultOut(
                poll_id=poll.id, lesson_id=lesson.id, lesson_title=lesson.title, lesson_starts_at=lesson.starts_at,
                question=poll.question, answer=records.answer_text(poll.options, poll.kind, answer.answer),
                points=poll.points, published=poll.published,
                correct=answer.correct if poll.published else None, score=answer.score if poll.published else None))
        items.sort(key=lambda i: (i.lesson_starts_at, i.poll_id))
        return QuizResultsOut(items=items)

"""A lesson's questions over REST: what was asked, voted and answered (live or after the lesson).
Students of the lesson's class see the questions that were not hidden (and their own); the lesson's
teacher and the school's administrators see all of them and may download them."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from classroom.questions import EXPORT_HEADER, export_rows, lesson_questions
from school import access
from school.errors import Forbidden
from school.models import Role
from web.routing import Api, Call
from web.tables import export


class QuestionOut(BaseModel):
    id: int
    author_id: int
    author_name: str
    text: str
    at: datetime
    votes: int
    status: Literal["open", "answered", "done", "hidden"]
    answer: str | None
    answered_live: bool


class QuestionsOut(BaseModel):
    questions: list[QuestionOut]


class QuestionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "csv", "xlsx"] = "json"


def register(api: Api) -> None:
    @api.route("GET", r"/api/lessons/{id:\d+}/questions", summary="The lesson's questions", tag="questions",
               query=QuestionsQuery, response=QuestionsOut, errors=(403, 404),
               description="Oldest first, with their votes and answers. Students see those not hidden (and their "
               "own); the lesson's teacher and administrators see all, and may download them with "
               "`format=csv|xlsx`.")
    async def questions(call: Call) -> QuestionsOut | web.Response:
        lesson = await access.get_lesson(call.session, call.user, call.path_id("id"))
        staff = call.user.role is Role.admin or lesson.teacher_id == call.user.id
        if call.query.format != "json" and not staff:
            raise Forbidden("only the lesson's teacher or an administrator downloads its questions")
        found = [q for q in await lesson_questions(call.session, lesson.id) if q.visible_to(call.user.id, staff)]
        if call.query.format != "json":
            return export(EXPORT_HEADER, export_rows(found), call.query.format, f"cau-hoi-tiet-{lesson.id}",
                          "Câu hỏi")
        return QuestionsOut(questions=[QuestionOut.model_validate(q.describe()) for q in found])

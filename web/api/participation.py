"""Each student's part in a lesson (time present, speaking, on camera; messages, questions, hands,
reactions, poll answers, quiz score), as JSON, CSV or XLSX; and the lesson's chat, questions and
polls with their times, for the recording player."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.models import AttendanceEvent
from attendance.report import lesson_attendance
from classroom.participation import export_rows, lesson_participation
from classroom.replay import replay_messages, replay_polls, replay_questions
from recorder.models import Recording
from school import access
from school.errors import Forbidden
from school.models import Lesson, Role, SchoolClass, User
from school.structure import class_rosters
from school.timezones import school_zone
from web.routing import Api, Call
from web.tables import export


class FormatQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "csv", "xlsx"] = "json"


class ParticipationRowOut(BaseModel):
    user_id: int
    full_name: str
    present_s: int
    speaking_s: int
    camera_s: int
    messages: int
    questions: int
    hands: int
    reactions: int
    poll_answers: int
    quiz_score: float
    quiz_max: float
    """Points of the lesson's quizzes (a student's own view: those whose results were published)."""


class ParticipationOut(BaseModel):
    lesson_id: int
    generated_at: datetime
    students: list[ParticipationRowOut]


class SegmentOut(BaseModel):
    start: float
    """Seconds into the lesson video where this recorded part begins."""
    at: datetime
    """When the part began (UTC): the lesson video's time `start` shows this moment."""


class ReplayOut(BaseModel):
    lesson_id: int
    starts_at: datetime
    """The wall-clock moment the lesson video's time 0 shows (the lesson's start when it has no video)."""
    recording_id: int | None
    segments: list[SegmentOut]
    messages: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    polls: list[dict[str, Any]]


async def _lesson(call: Call) -> tuple[Lesson, bool]:
    """The lesson and whether the actor is its staff (its teacher, an administrator); a student of
    its class gets their own view; anyone else is refused."""
    lesson = await access.get_lesson(call.session, call.user, call.path_id("id"))
    actor = call.user
    if actor.role is Role.admin or lesson.teacher_id == actor.id:
        return lesson, True
    if actor.role is Role.student:
        return lesson, False  # get_lesson let them through: a student of the lesson's class
    raise Forbidden("only the lesson's teacher or an administrator may see this")


async def _present_seconds(session: AsyncSession, lesson: Lesson, user_ids: list[int]) -> dict[int, int]:
    events = list(await session.scalars(select(AttendanceEvent).where(AttendanceEvent.lesson_id == lesson.id)
                                        .order_by(AttendanceEvent.at, AttendanceEvent.id)))
    rows = lesson_attendance(user_ids, events, starts_at=lesson.starts_at, ends_at=lesson.ends_at,
                             now=datetime.now(UTC), late_after=timedelta(0), left_early=timedelta(0))
    return {row.user_id: row.seconds_present for row in rows}


def register(api: Api) -> None:
    @api.route("GET", r"/api/lessons/{id:\d+}/participation", summary="Each student's part in a lesson",
               tag="participation", query=FormatQuery, response=ParticipationOut, errors=(403, 404),
               description="One row per student of the lesson's class, those who never came included (zeros): "
               "seconds present (the attendance log), speaking and on camera, chat messages, questions, hands "
               "raised, reactions, poll answers, quiz score and its maximum. The lesson's teacher and "
               "administrators see every row, a student of the class only their own. `format=csv|xlsx` "
               "downloads it with Vietnamese headers.")
    async def participation(call: Call) -> ParticipationOut | web.Response:
        lesson, staff = await _lesson(call)
        session = call.session
        roster: list[User] = (await class_rosters(session, {lesson.class_id}))[lesson.class_id]
        if not staff:
            roster = [u for u in roster if u.id == call.user.id]
        ids = [u.id for u in roster]
        rows = await lesson_participation(session, lesson.id, [(u.id, u.full_name) for u in roster],
                                          await _present_seconds(session, lesson, ids),
                                          published_quizzes_only=not staff)
        out = ParticipationOut(lesson_id=lesson.id, generated_at=datetime.now(UTC),
                               students=[ParticipationRowOut(**vars(r)) for r in rows])
        if call.query.format == "json":
            return out
        zone = await school_zone(session, call.user.school_id)
        klass = await session.get(SchoolClass, lesson.class_id)
        day = lesson.starts_at.astimezone(zone).strftime("%Y-%m-%d")
        header, table = export_rows(rows)
        return export(header, table, call.query.format,
                      f"tham-gia-{klass.name if klass else lesson.class_id}-{day}-tiet-{lesson.id}", "Tham gia")

    @api.route("GET", r"/api/lessons/{id:\d+}/replay", summary="The lesson's chat, questions and polls with times",
               tag="participation", response=ReplayOut, errors=(403, 404),
               description="For the recording player: the lesson video's wall-clock start and its recorded parts "
               "(`segments`: a video time and the moment it shows), then the chat messages, questions and polls "
               "with their times (UTC), oldest first. Staff get everything; a student of the class what they "
               "could see in the lesson: the main room's public messages and their own private ones, visible "
               "questions, opened polls (the correct answer once published).")
    async def replay(call: Call) -> ReplayOut:
        lesson, staff = await _lesson(call)
        session, me = call.session, call.user.id
        video = await session.scalar(
            select(Recording).where(Recording.lesson_id == lesson.id, Recording.kind == "composite",
                                    Recording.status.in_(("complete", "interrupted")))
            .order_by(Recording.started_at.desc(), Recording.id.desc()).limit(1))
        segments = []
        if video is not None and video.chapters:
            try:
                segments = [SegmentOut(start=c["start"], at=c["at"]) for c in json.loads(video.chapters)
                            if c.get("kind") == "segment"]
            except (ValueError, KeyError, TypeError):
                segments = []
        starts_at = video.started_at if video is not None else lesson.starts_at
        if not segments:
            segments = [SegmentOut(start=0.0, at=starts_at)]
        return ReplayOut(lesson_id=lesson.id, starts_at=starts_at, recording_id=video.id if video else None,
                         segments=segments, messages=await replay_messages(session, lesson.id, me, staff),
                         questions=await replay_questions(session, lesson.id, me, staff),
                         polls=await replay_polls(session, lesson.id, staff))

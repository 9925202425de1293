"""The lesson's end over REST: its teacher (or a school administrator) ends it or extends its room;
administrators set how long a lesson's room stays open after its scheduled end (docs/protocol.md,
"Moderation and the lesson's end")."""
from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from classroom import moderation as records
from classroom.activity import record_activity
from school import access
from school.errors import Forbidden
from school.models import Lesson, Role, School
from signaling import moderation
from signaling.errors import LessonEnded
from web.keys import ROOMS
from web.routing import Api, Call


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    minutes: int = Field(ge=records.EXTEND_MIN, le=records.EXTEND_MAX)


class LessonTimesOut(BaseModel):
    ends_at: datetime
    closes_at: datetime
    ended_at: datetime | None = None


class LessonSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    lesson_grace_minutes: int = Field(ge=0, le=120, description="How long a lesson's room stays open after its end")


class LessonSettingsOut(BaseModel):
    lesson_grace_minutes: int


async def _runs(call: Call) -> tuple[Lesson, datetime]:
    """The lesson and when its room closes, if the caller runs it (its teacher or an administrator)."""
    async with call.db.session() as session:
        lesson = await access.get_lesson(session, call.user, call.path_id("id"))
        closes_at = await records.lesson_closes_at(session, lesson)
    if call.user.role is not Role.admin and lesson.teacher_id != call.user.id:
        raise Forbidden("only the lesson's teacher or an administrator may do this")
    if lesson.ended_at is not None:
        raise LessonEnded("the lesson has ended")
    return lesson, closes_at


def register(api: Api) -> None:
    roles = (Role.teacher, Role.admin)

    @api.route("POST", r"/api/lessons/{id:\d+}/end", summary="End the lesson for everyone", tag="live",
               response=LessonTimesOut, roles=roles, errors=(403, 404, 409), unit_of_work=False,
               description="Everyone in the live room leaves (`bye` lesson_ended, attendance reason lesson_ended) "
               "and no one enters again. 409 `lesson_ended` if it has already ended.")
    async def end_lesson(call: Call) -> LessonTimesOut:
        lesson, closes_at = await _runs(call)
        rooms = call.request.app[ROOMS]
        room = rooms.rooms.get(lesson.id)
        if room is not None:
            await moderation.end_lesson(room, call.user.id)
        else:
            await records.mark_ended(call.db.writer, lesson.id, datetime.now(UTC))
            await record_activity(call.db.writer, school_id=lesson.school_id, lesson_id=lesson.id, user_id=None,
                                  kind="ended", by_id=call.user.id)
            room = rooms.rooms.get(lesson.id)  # opened by a join read just before the end
            if room is not None:
                await room.close("lesson_ended")
        async with call.db.session() as session:
            ended_at = await session.scalar(select(Lesson.ended_at).where(Lesson.id == lesson.id))
        return LessonTimesOut(ends_at=lesson.ends_at, closes_at=closes_at, ended_at=ended_at)

    @api.route("POST", r"/api/lessons/{id:\d+}/extend", summary="Keep the lesson's room open longer", tag="live",
               body=ExtendIn, response=LessonTimesOut, roles=roles, errors=(403, 404, 409), unit_of_work=False,
               description="Moves the time the room closes by itself `minutes` (5 to 120) later; everyone in it "
               "gets `lesson_times`. 409 `lesson_ended` if the lesson has ended.")
    async def extend_lesson(call: Call) -> LessonTimesOut:
        lesson, closes_at = await _runs(call)
        room = call.request.app[ROOMS].rooms.get(lesson.id)
        if room is not None:
            times = await moderation.extend(room, call.user.id, call.body.minutes)
            return LessonTimesOut(ends_at=lesson.ends_at, closes_at=datetime.fromisoformat(times["closes_at"]))
        try:
            new = await records.extend(call.db.writer, lesson.id, max(closes_at, datetime.now(UTC)),
                                       call.body.minutes)
        except records.LessonAlreadyEnded:
            raise LessonEnded("the lesson has ended") from None
        await record_activity(call.db.writer, school_id=lesson.school_id, lesson_id=lesson.id, user_id=None,
                              kind="extended", detail=new.isoformat(), by_id=call.user.id)
        return LessonTimesOut(ends_at=lesson.ends_at, closes_at=new)

    @api.route("GET", "/api/school/lesson-settings", summary="How long a lesson's room stays open after its end",
               tag="live", response=LessonSettingsOut)
    async def get_lesson_settings(call: Call) -> LessonSettingsOut:
        school = await call.session.get(School, call.user.school_id)
        assert school is not None
        return LessonSettingsOut(lesson_grace_minutes=school.lesson_grace_minutes)

    @api.route("PUT", "/api/school/lesson-settings", summary="Set how long a lesson's room stays open after its end",
               tag="live", body=LessonSettingsIn, response=LessonSettingsOut, roles=(Role.admin,))
    async def put_lesson_settings(call: Call) -> LessonSettingsOut:
        access.require_admin(call.user)
        school = await call.session.get(School, call.user.school_id)
        assert school is not None
        school.lesson_grace_minutes = call.body.lesson_grace_minutes
        return LessonSettingsOut(lesson_grace_minutes=school.lesson_grace_minutes)

"""Lessons and timetables. A lesson says when its live room closes, whether it was ended, and
whether the caller may enter its room now (the same rule the room's admission applies)."""
from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from classroom import moderation as records
from school import timetable
from school.models import Role, User
from signaling.admission import room_open
from school.schemas import LessonCreate, LessonOut, LessonUpdate, Page
from web.api.params import DateOrTime, QueryId
from web.routing import Api, Call

STAFF = (Role.admin, Role.teacher)


class WindowQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: DateOrTime | None = Field(default=None, alias="from")
    to: DateOrTime | None = None

    def window(self) -> timetable.Window:
        return timetable.Window(self.from_, self.to)


class LessonsQuery(WindowQuery):
    class_id: QueryId | None = None
    teacher_id: QueryId | None = None


async def _with_room(session: AsyncSession, user: User, lessons: list[LessonOut]) -> list[LessonOut]:
    """Each lesson with its room's close, its end, and whether `user` may enter now."""
    times = await records.lesson_times(session, user.school_id, [lesson.id for lesson in lessons])
    now = datetime.now(UTC)
    out = []
    for lesson in lessons:
        starts_at, ended_at, closes_at = times[lesson.id]
        role = ("teacher" if lesson.teacher_id == user.id else "observer" if user.role is Role.admin
                else "student" if user.role is Role.student else None)
        # A student sees only their class's lessons; other teachers may not enter.
        live_open = role is not None and room_open(role, starts_at, ended_at, closes_at, now)
        out.append(lesson.model_copy(update={"closes_at": closes_at, "ended_at": ended_at, "live_open": live_open}))
    return out


def register(api: Api) -> None:
    @api.route("GET", "/api/lessons", summary="Lessons in a time window", tag="lessons", query=LessonsQuery,
               response=Page[LessonOut], errors=(403, 404),
               description="Lessons overlapping [from, to) among those the user may see; a date as `to` "
               "includes that day. Default: today and the next 6 days.")
    async def list_lessons(call: Call) -> Page[LessonOut]:
        q = call.query
        return Page[LessonOut](items=await _with_room(call.session, call.user, await timetable.list_lessons(
            call.session, call.user, q.window(), class_id=q.class_id, teacher_id=q.teacher_id)))

    @api.route("POST", "/api/lessons", summary="Schedule a lesson", tag="lessons", body=LessonCreate,
               response=LessonOut, status=201, roles=STAFF, errors=(409,),
               description="Admins schedule any lesson; teachers their own, for an assigned class and "
               "subject. 409 when the class or the teacher already has a lesson then.")
    async def create_lesson(call: Call) -> LessonOut:
        return (await _with_room(call.session, call.user,
                                 [await timetable.create_lesson(call.session, call.user, call.body)]))[0]

    @api.route("GET", r"/api/lessons/{id:\d+}", summary="One lesson", tag="lessons", response=LessonOut,
               errors=(403,))
    async def get_lesson(call: Call) -> LessonOut:
        lesson = await timetable.get_lesson(call.session, call.user, call.path_id("id"))
        return (await _with_room(call.session, call.user, [lesson]))[0]

    @api.route("PATCH", r"/api/lessons/{id:\d+}", summary="Change a lesson", tag="lessons", body=LessonUpdate,
               response=LessonOut, roles=STAFF, errors=(409,))
    async def update_lesson(call: Call) -> LessonOut:
        lesson = await timetable.update_lesson(call.session, call.user, call.path_id("id"), call.body)
        return (await _with_room(call.session, call.user, [lesson]))[0]

    @api.route("DELETE", r"/api/lessons/{id:\d+}", summary="Cancel a lesson", tag="lessons", status=204,
               roles=STAFF)
    async def delete_lesson(call: Call) -> None:
        await timetable.delete_lesson(call.session, call.user, call.path_id("id"))

    @api.route("GET", "/api/me/lessons", summary="My timetable", tag="lessons", query=WindowQuery,
               response=Page[LessonOut],
               description="The lessons a teacher teaches, or a student's class's lessons.")
    async def my_lessons(call: Call) -> Page[LessonOut]:
        return Page[LessonOut](items=await _with_room(
            call.session, call.user, await timetable.my_lessons(call.session, call.user, call.query.window())))

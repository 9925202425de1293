"""Lessons and timetables. A lesson says when its live room closes, whether it was ended, and
whether the caller may enter its room now (the same rule the room's admission applies)."""
from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from classroom import moderation as records
from school import timetable, timetable_changes
from school.models import Role, User
from school.schemas import LessonCreate, LessonUpdate, Page
from school.timetable_schemas import (CancelIn, ChangeRequestIn, ChangeRequestOut, LessonView, MakeupIn, MoveIn,
                                     SubstituteIn)
from signaling.admission import room_open
from web.api.params import DateOrTime, QueryId
from web.routing import Api, Call

STAFF = (Role.admin, Role.teacher)
ADMIN = (Role.admin,)


class WindowQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: DateOrTime | None = Field(default=None, alias="from")
    to: DateOrTime | None = None

    def window(self) -> timetable.Window:
        return timetable.Window(self.from_, self.to)


class LessonsQuery(WindowQuery):
    class_id: QueryId | None = None
    teacher_id: QueryId | None = None


async def _with_room(session: AsyncSession, user: User, lessons: list[LessonView]) -> list[LessonView]:
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
               response=Page[LessonView], errors=(403, 404),
               description="Lessons overlapping [from, to) among those the user may see; a date as `to` "
               "includes that day. Default: today and the next 6 days.")
    async def list_lessons(call: Call) -> Page[LessonView]:
        q = call.query
        return Page[LessonView](items=await _with_room(call.session, call.user, await timetable.list_lessons(
            call.session, call.user, q.window(), class_id=q.class_id, teacher_id=q.teacher_id)))

    @api.route("POST", "/api/lessons", summary="Schedule a lesson", tag="lessons", body=LessonCreate,
               response=LessonView, status=201, roles=STAFF, errors=(409,),
               description="Admins schedule any lesson; teachers their own, for an assigned class and "
               "subject. 409 when the class or the teacher already has a lesson then.")
    async def create_lesson(call: Call) -> LessonView:
        return (await _with_room(call.session, call.user,
                                 [await timetable.create_lesson(call.session, call.user, call.body)]))[0]

    @api.route("GET", r"/api/lessons/{id:\d+}", summary="One lesson", tag="lessons", response=LessonView,
               errors=(403,))
    async def get_lesson(call: Call) -> LessonView:
        lesson = await timetable.get_lesson(call.session, call.user, call.path_id("id"))
        return (await _with_room(call.session, call.user, [lesson]))[0]

    @api.route("PATCH", r"/api/lessons/{id:\d+}", summary="Change a lesson", tag="lessons", body=LessonUpdate,
               response=LessonView, roles=STAFF, errors=(409,))
    async def update_lesson(call: Call) -> LessonView:
        lesson = await timetable.update_lesson(call.session, call.user, call.path_id("id"), call.body)
        return (await _with_room(call.session, call.user, [lesson]))[0]

    @api.route("DELETE", r"/api/lessons/{id:\d+}", summary="Delete a lesson", tag="lessons", status=204,
               roles=STAFF, description="Erases a lesson scheduled by mistake; to call a lesson off, "
               "cancel it (POST /api/lessons/{id}/cancel): it stays listed as cancelled.")
    async def delete_lesson(call: Call) -> None:
        await timetable.delete_lesson(call.session, call.user, call.path_id("id"))

    @api.route("GET", "/api/me/lessons", summary="My timetable", tag="lessons", query=WindowQuery,
               response=Page[LessonView],
               description="The lessons a teacher teaches, or a student's class's lessons.")
    async def my_lessons(call: Call) -> Page[LessonView]:
        return Page[LessonView](items=await _with_room(
            call.session, call.user, await timetable.my_lessons(call.session, call.user, call.query.window())))

    async def _one(call: Call, lesson_id: int) -> LessonView:
        lesson = await timetable.get_lesson(call.session, call.user, lesson_id)
        return (await _with_room(call.session, call.user, [lesson]))[0]

    @api.route("POST", r"/api/lessons/{id:\d+}/move", summary="Move a lesson (đổi lịch)", tag="timetable",
               body=MoveIn, response=LessonView, roles=ADMIN, errors=(403, 404, 409),
               description="To `starts_at`/`ends_at`, or to a `date` and periods. The rules of the timetable "
               "apply (school year, clashes); the class and the teacher see the change on their lessons.")
    async def move_lesson(call: Call) -> LessonView:
        await timetable_changes.move(call.session, call.user, call.path_id("id"), call.body)
        return await _one(call, call.path_id("id"))

    @api.route("POST", r"/api/lessons/{id:\d+}/cancel", summary="Cancel a lesson (hủy tiết)", tag="timetable",
               body=CancelIn, response=LessonView, roles=ADMIN, errors=(403, 404, 409),
               description="The lesson stays listed as cancelled, with the reason; no one may enter it.")
    async def cancel_lesson(call: Call) -> LessonView:
        await timetable_changes.cancel(call.session, call.user, call.path_id("id"), call.body)
        return await _one(call, call.path_id("id"))

    @api.route("POST", r"/api/lessons/{id:\d+}/makeup", summary="Schedule a make-up lesson (dạy bù)",
               tag="timetable", body=MakeupIn, response=LessonView, status=201, roles=ADMIN,
               errors=(403, 404, 409), description="A new lesson for a cancelled one, at a new time.")
    async def makeup_lesson(call: Call) -> LessonView:
        new_id = await timetable_changes.makeup(call.session, call.user, call.path_id("id"), call.body)
        return await _one(call, new_id)

    @api.route("POST", r"/api/lessons/{id:\d+}/substitute", summary="A substitute teacher (dạy thay)",
               tag="timetable", body=SubstituteIn, response=LessonView, roles=ADMIN, errors=(403, 404, 409),
               description="Another teacher teaches this lesson (they need not be assigned to the class).")
    async def substitute_lesson(call: Call) -> LessonView:
        await timetable_changes.substitute(call.session, call.user, call.path_id("id"), call.body)
        return await _one(call, call.path_id("id"))

    @api.route("POST", r"/api/lessons/{id:\d+}/change-requests", summary="Request a change to my lesson",
               tag="timetable", body=ChangeRequestIn, response=ChangeRequestOut, status=201, roles=STAFF,
               errors=(403, 404, 409),
               description="A teacher asks to move (proposed: new time), cancel, or hand over (proposed: "
               "teacher_id) one of their lessons; an administrator approves or refuses it.")
    async def request_lesson_change(call: Call) -> ChangeRequestOut:
        request_id = await timetable_changes.request_change(call.session, call.user, call.path_id("id"), call.body)
        return await timetable_changes.get_request(call.session, call.user, request_id)

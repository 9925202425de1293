"""Lessons and timetables."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from school import timetable
from school.models import Role
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


def register(api: Api) -> None:
    @api.route("GET", "/api/lessons", summary="Lessons in a time window", tag="lessons", query=LessonsQuery,
               response=Page[LessonOut], errors=(403, 404),
               description="Lessons overlapping [from, to) among those the user may see; a date as `to` "
               "includes that day. Default: today and the next 6 days.")
    async def list_lessons(call: Call) -> Page[LessonOut]:
        q = call.query
        return Page[LessonOut](items=await timetable.list_lessons(
            call.session, call.user, q.window(), class_id=q.class_id, teacher_id=q.teacher_id))

    @api.route("POST", "/api/lessons", summary="Schedule a lesson", tag="lessons", body=LessonCreate,
               response=LessonOut, status=201, roles=STAFF, errors=(409,),
               description="Admins schedule any lesson; teachers their own, for an assigned class and "
               "subject. 409 when the class or the teacher already has a lesson then.")
    async def create_lesson(call: Call) -> LessonOut:
        return await timetable.create_lesson(call.session, call.user, call.body)

    @api.route("GET", r"/api/lessons/{id:\d+}", summary="One lesson", tag="lessons", response=LessonOut,
               errors=(403,))
    async def get_lesson(call: Call) -> LessonOut:
        return await timetable.get_lesson(call.session, call.user, call.path_id("id"))

    @api.route("PATCH", r"/api/lessons/{id:\d+}", summary="Change a lesson", tag="lessons", body=LessonUpdate,
               response=LessonOut, roles=STAFF, errors=(409,))
    async def update_lesson(call: Call) -> LessonOut:
        return await timetable.update_lesson(call.session, call.user, call.path_id("id"), call.body)

    @api.route("DELETE", r"/api/lessons/{id:\d+}", summary="Cancel a lesson", tag="lessons", status=204,
               roles=STAFF)
    async def delete_lesson(call: Call) -> None:
        await timetable.delete_lesson(call.session, call.user, call.path_id("id"))

    @api.route("GET", "/api/me/lessons", summary="My timetable", tag="lessons", query=WindowQuery,
               response=Page[LessonOut],
               description="The lessons a teacher teaches, or a student's class's lessons.")
    async def my_lessons(call: Call) -> Page[LessonOut]:
        return Page[LessonOut](items=await timetable.my_lessons(call.session, call.user, call.query.window()))

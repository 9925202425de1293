"""Breakout groups of a live lesson over REST: for the lesson's teacher and the school's
administrators (the same commands as the lesson page's; docs/protocol.md, "Breakout rooms")."""
from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from school import access
from school.errors import Conflict, Forbidden
from school.models import Role
from signaling.breakouts import GroupSpec, InvalidGroups
from signaling.lesson_room import LessonRoom
from signaling.messages import Allow, GroupIn
from web.errors import ApiError
from web.keys import ROOMS
from web.routing import Api, Call

StudentId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class BreakoutsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: Annotated[list[GroupIn], Field(min_length=1, max_length=50)]
    duration_s: Annotated[int, Field(ge=5, le=4 * 3600)] | None = None
    """None: until the teacher ends them."""
    allow: Allow = Allow()


class MembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_ids: Annotated[list[StudentId], Field(max_length=200)]


class GroupRecordingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    active: bool


class GroupOut(BaseModel):
    id: str
    name: str
    user_ids: list[int]
    present: list[int] = []
    speaking: str | None = None
    recording: bool = False
    """The teacher turned this group's recording on (off by default)."""


class HelpCallOut(BaseModel):
    group_id: str
    user_id: int
    full_name: str
    at: str


class BreakoutsOut(BaseModel):
    groups: list[GroupOut]
    ends_at: str | None = None
    allow: dict[str, bool] = {}
    help_calls: list[HelpCallOut] = []


async def _live_lesson(call: Call) -> LessonRoom:
    """The lesson's open room, if the caller runs this lesson (its teacher, or an administrator)."""
    lesson_id = call.path_id("id")
    async with call.db.session() as session:
        lesson = await access.get_lesson(session, call.user, lesson_id)
    if call.user.role is not Role.admin and lesson.teacher_id != call.user.id:
        raise Forbidden("only the lesson's teacher or an administrator runs its breakout groups")
    room = call.request.app[ROOMS].rooms.get(lesson_id)
    if room is None:
        raise Conflict("the lesson is not live: nobody is in its room")
    return room


async def _run(room: LessonRoom, action: Any) -> dict[str, Any]:
    try:
        return await room.act(action)
    except InvalidGroups as exc:
        raise ApiError(422, "validation_error", exc.message, fields=[{"field": exc.field, "message": exc.detail}]) from exc


def _state(state: dict[str, Any]) -> BreakoutsOut:
    return BreakoutsOut.model_validate({k: v for k, v in state.items() if k != "listening"})


def register(api: Api) -> None:
    roles = (Role.teacher, Role.admin)

    @api.route("POST", r"/api/lessons/{id:\d+}/breakouts", summary="Start breakout groups", tag="breakouts",
               body=BreakoutsIn, response=BreakoutsOut, status=201, roles=roles, errors=(403, 404, 409),
               unit_of_work=False,
               description="Students connected now move into their groups at once; the others join their group "
               "when they come. 409 while groups run; 422 names a user who is not a student of the class or is in "
               "two groups.")
    async def start(call: Call) -> BreakoutsOut:
        room = await _live_lesson(call)
        specs = [GroupSpec(g.name, g.user_ids) for g in call.body.groups]
        allow = call.body.allow.model_dump()
        return _state(await _run(room, lambda: room.breakouts.start(None, specs, call.body.duration_s, allow)))

    @api.route("GET", r"/api/lessons/{id:\d+}/breakouts", summary="The breakout groups running now",
               tag="breakouts", response=BreakoutsOut, roles=roles, errors=(403, 404, 409), unit_of_work=False,
               description="Each group with who is in it now (`present`), the help calls, and when they end.")
    async def state(call: Call) -> BreakoutsOut:
        room = await _live_lesson(call)
        return _state(await room.act(lambda: room.breakouts.state()))

    @api.route("PUT", r"/api/lessons/{id:\d+}/breakouts/groups/{gid:[a-z0-9]+}/members",
               summary="Move students into a group now", tag="breakouts", body=MembersIn, response=BreakoutsOut,
               roles=roles, errors=(403, 404, 409), unit_of_work=False,
               description="`main` brings them back to the main room.")
    async def move(call: Call) -> BreakoutsOut:
        room = await _live_lesson(call)
        gid, user_ids = call.request.match_info["gid"], list(call.body.user_ids)
        return _state(await _run(room, lambda: room.breakouts.move_students(None, gid, user_ids)))

    @api.route("PUT", r"/api/lessons/{id:\d+}/breakouts/groups/{gid:[a-z0-9]+}/recording",
               summary="Record a group (or stop)", tag="breakouts", body=GroupRecordingIn, response=BreakoutsOut,
               roles=roles, errors=(403, 404, 409), unit_of_work=False,
               description="Off by default: a group's students are recorded only while this is on (and the lesson's "
               "recording runs). Its members are told. 403 when recording is turned off for the lesson.")
    async def record(call: Call) -> BreakoutsOut:
        room = await _live_lesson(call)
        gid, active = call.request.match_info["gid"], call.body.active
        return _state(await _run(room, lambda: room.breakouts.record(None, gid, active)))

    @api.route("DELETE", r"/api/lessons/{id:\d+}/breakouts", summary="End the breakout groups", tag="breakouts",
               status=204, roles=roles, errors=(403, 404, 409), unit_of_work=False,
               description="Everyone returns to the main room.")
    async def end(call: Call) -> web.StreamResponse | None:
        room = await _live_lesson(call)
        await room.act(lambda: room.breakouts.end(None))
        return None

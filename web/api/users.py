"""Users: teachers, students and administrators of the school; an administrator edits, locks,
deletes and resets the password of accounts."""
from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from attendance.models import AttendanceEvent
from classroom.activity import LessonActivity
from classroom.chat import ChatMessage
from classroom.participation import LessonParticipation
from classroom.polls import PollAnswer
from classroom.questions import LessonQuestion
from recorder.models import Recording
from school import account_edits, accounts
from school.account_edits import RecordProbe
from school.account_schemas import PasswordResetOut, UserUpdate
from school.models import Role
from school.passwords import hash_password
from school.schemas import Page, UserCreate, UserOut
from web.api.params import QueryId
from web.routing import Api, Call
from whiteboard.models import BoardOp

USER_ID = r"/api/users/{id:\d+}"

LESSON_RECORDS: tuple[RecordProbe, ...] = (
    ("attendance", AttendanceEvent.user_id),
    ("chat", ChatMessage.sender_id),
    ("questions", LessonQuestion.author_id),
    ("polls", PollAnswer.user_id),
    ("recordings", Recording.user_id),
    ("board", BoardOp.user_id),
    ("participation", LessonParticipation.user_id),
    ("activity", LessonActivity.user_id),
)
"""What a person leaves in lessons: an account with any of these is locked, never deleted."""


class UsersQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    class_id: QueryId | None = None
    unassigned: bool = False
    """Only students who are in no class."""


def register(api: Api) -> None:
    @api.route("GET", "/api/users", summary="List users", tag="users", query=UsersQuery,
               response=Page[UserOut], roles=(Role.admin, Role.teacher), errors=(404,),
               description="Admins see the whole school; teachers see teachers and their classes' students.")
    async def list_users(call: Call) -> Page[UserOut]:
        q = call.query
        return Page[UserOut](items=await accounts.list_users(
            call.session, call.user, role=q.role, class_id=q.class_id, unassigned=q.unassigned))

    @api.route("POST", "/api/users", summary="Create a user", tag="users", body=UserCreate,
               response=UserOut, status=201, roles=(Role.admin,), errors=(409,), unit_of_work=False)
    async def create_user(call: Call) -> UserOut:
        return await accounts.create_user(call.db, call.user, call.body)  # hashes outside the unit of work

    @api.route("GET", USER_ID, summary="One user", tag="users", response=UserOut, errors=(403,))
    async def get_user(call: Call) -> UserOut:
        return await accounts.get_user(call.session, call.user, call.path_id("id"))

    @api.route("PATCH", USER_ID, summary="Edit a user", tag="users", body=UserUpdate, response=UserOut,
               roles=(Role.admin,), errors=(404, 409, 422),
               description="Only the fields sent change: full name, username, `is_active` (false locks the "
               "account: no sign-in, its sign-ins end; an administrator cannot lock themselves, 409 "
               "`cannot_deactivate_self`), and for students `class_id` (moves them out of their class of that "
               "school year; null: out of their class). A taken username: 409 `username_taken`.")
    async def update_user(call: Call) -> UserOut:
        return await account_edits.update_user(call.session, call.user, call.path_id("id"), call.body)

    @api.route("DELETE", USER_ID, summary="Delete a user", tag="users", status=204, roles=(Role.admin,),
               errors=(404, 409),
               description="Only an account no record names yet (lessons, assignments, attendance, chat, "
               "answers, recordings, whiteboard...): otherwise 409 `user_has_records` naming them, and the "
               "account can be locked instead (PATCH `is_active: false`). Never one's own (409 "
               "`cannot_delete_self`).")
    async def delete_user(call: Call) -> web.StreamResponse:
        await account_edits.delete_user(call.session, call.user, call.path_id("id"), LESSON_RECORDS)
        return web.Response(status=204)

    @api.route("POST", f"{USER_ID}/password-reset", summary="Reset a user's password", tag="users",
               response=PasswordResetOut, roles=(Role.admin,), errors=(404, 409), unit_of_work=False,
               description="A new random password, answered once: the person signs in with it and must "
               "choose their own before anything else; every sign-in of theirs ends.")
    async def reset_password(call: Call) -> PasswordResetOut:
        user_id, actor = call.path_id("id"), call.user
        password = account_edits.generate_password()
        password_hash = await hash_password(password)  # no connection held while hashing
        await call.db.writer.write(lambda session: account_edits.reset_password(session, actor, user_id,
                                                                                password_hash))
        return PasswordResetOut(password=password)

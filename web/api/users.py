"""Users: teachers, students and administrators of the school."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from school import accounts
from school.models import Role
from school.schemas import Page, UserCreate, UserOut
from web.api.params import QueryId
from web.routing import Api, Call


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

    @api.route("GET", r"/api/users/{id:\d+}", summary="One user", tag="users", response=UserOut, errors=(403,))
    async def get_user(call: Call) -> UserOut:
        return await accounts.get_user(call.session, call.user, call.path_id("id"))

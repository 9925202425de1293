"""The timetable's API: the school's periods, generating a term of weekly lessons, the week view,
and the teachers' change requests that administrators decide."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from school import catalogue, periods, timetable_changes, timetable_series
from school.models import Role
from school.schemas import Day, Page
from school.timetable_schemas import ChangeRequestOut, DecisionIn, GenerateIn, GenerateOut, WeekOut
from web.api.params import QueryId
from web.routing import Api, Call

ADMIN = (Role.admin,)
STAFF = (Role.admin, Role.teacher)


class WeekQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: Day | None = None
    class_id: QueryId | None = None
    teacher_id: QueryId | None = None


class RequestsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["pending", "approved", "refused"] | None = None


def _lang(call: Call) -> str:
    return catalogue.negotiate(call.request.headers.get("Accept-Language"))


def register(api: Api) -> None:
    @api.route("GET", "/api/school/periods", summary="The school day's periods (tiết)", tag="timetable",
               response=periods.PeriodsOut,
               description="Numbered periods 1–10 with their session and local start and end; the usual "
               "ones (is_default) until the school sets its own.")
    async def get_school_periods(call: Call) -> periods.PeriodsOut:
        return await periods.periods_of(call.session, call.user.school_id)

    @api.route("PUT", "/api/school/periods", summary="Set the school day's periods", tag="timetable",
               body=periods.PeriodsIn, response=periods.PeriodsOut, roles=ADMIN, errors=(403,),
               description="Replaces every period; periods may not overlap.")
    async def put_school_periods(call: Call) -> periods.PeriodsOut:
        return await periods.set_periods(call.session, call.user, call.body)

    @api.route("POST", "/api/timetable/generate", summary="Generate a term of weekly lessons", tag="timetable",
               body=GenerateIn, response=GenerateOut, roles=ADMIN, errors=(403, 409),
               description="Each entry is a weekly lesson (class, subject, assigned teacher, weekday 1–7, "
               "periods) from `from` to `to`. All or nothing: 409 naming the first clash; `dry_run` counts "
               "the lessons and lists every clash without writing.")
    async def generate_timetable(call: Call) -> GenerateOut:
        return await timetable_series.generate(call.session, call.user, call.body, _lang(call))

    @api.route("GET", "/api/timetable/week", summary="A week of the timetable", tag="timetable", query=WeekQuery,
               response=WeekOut, errors=(403, 404),
               description="Monday to Sunday of `date`'s week (default this week), for a class, a teacher, or "
               "the whole school (among the lessons you may see).")
    async def timetable_week(call: Call) -> WeekOut:
        q = call.query
        return await timetable_series.week(call.session, call.user, q.date, class_id=q.class_id,
                                           teacher_id=q.teacher_id)

    @api.route("GET", "/api/timetable/change-requests", summary="Teachers' change requests", tag="timetable",
               query=RequestsQuery, response=Page[ChangeRequestOut], roles=STAFF,
               description="Administrators see the school's; teachers their own. Newest first.")
    async def list_change_requests(call: Call) -> Page[ChangeRequestOut]:
        return Page[ChangeRequestOut](items=await timetable_changes.list_requests(
            call.session, call.user, call.query.status))

    @api.route("POST", r"/api/timetable/change-requests/{id:\d+}/approve", summary="Approve a change request",
               tag="timetable", body=DecisionIn, response=ChangeRequestOut, roles=ADMIN, errors=(404, 409),
               description="Applies the requested move, cancellation or substitution (the timetable's rules "
               "apply).")
    async def approve_change_request(call: Call) -> ChangeRequestOut:
        await timetable_changes.decide(call.session, call.user, call.path_id("id"), True, call.body.note)
        return await timetable_changes.get_request(call.session, call.user, call.path_id("id"))

    @api.route("POST", r"/api/timetable/change-requests/{id:\d+}/refuse", summary="Refuse a change request",
               tag="timetable", body=DecisionIn, response=ChangeRequestOut, roles=ADMIN, errors=(404, 409))
    async def refuse_change_request(call: Call) -> ChangeRequestOut:
        await timetable_changes.decide(call.session, call.user, call.path_id("id"), False, call.body.note)
        return await timetable_changes.get_request(call.session, call.user, call.path_id("id"))

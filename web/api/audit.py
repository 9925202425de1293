"""The audit log ("Nhật ký thay đổi"): who changed what in the school, and when (administrators)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from school.account_schemas import AuditPage
from school.audit_query import AuditFilter, list_entries
from school.models import Role
from school.timezones import as_utc, school_zone, start_of_day
from web.api.params import DateOrTime, QueryId
from web.routing import Api, Call

Code = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    entity: Code | None = Field(default=None, description="user, class, class_student, subject, lesson, school...")
    entity_id: QueryId | None = None
    actor_id: QueryId | None = None
    action: Code | None = Field(default=None, description="create, update, delete, deactivate, reset_password...")
    from_: DateOrTime | None = Field(default=None, alias="from", description="From this day (school's zone) or moment")
    to: DateOrTime | None = Field(default=None, description="Up to this day, included, or moment")
    before_id: QueryId | None = Field(default=None, description="Entries older than this one (the next page)")
    limit: int = Field(default=50, ge=1, le=200)


def _edge(value: date | datetime | None, zone: ZoneInfo, is_end: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value, zone)
    return start_of_day(value + timedelta(days=1) if is_end else value, zone)


def register(api: Api) -> None:
    @api.route("GET", "/api/audit", summary="The audit log", tag="audit", query=AuditQuery, response=AuditPage,
               roles=(Role.admin,),
               description="The school's changes newest first, each with who, when, what and the values before "
               "and after (objects of the changed fields). Pages of `limit`; pass `next_before_id` as "
               "`before_id` for older ones.")
    async def list_audit(call: Call) -> AuditPage:
        q = call.query
        zone = await school_zone(call.session, call.user.school_id)
        return await list_entries(call.session, call.user, AuditFilter(
            entity=q.entity, entity_id=q.entity_id, actor_id=q.actor_id, action=q.action,
            start=_edge(q.from_, zone, False), end=_edge(q.to, zone, True), before_id=q.before_id, limit=q.limit))

"""The school's settings: its name and time zone, the attendance rules (late, left early, the
minimum share of a lesson to count as present), how long a lesson's room stays open after its end,
and the recording defaults for new lessons and how long recordings are kept. Every change is
written with its audit entry (`settings`, before and after) in the same unit of work."""
from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from school import audit
from school.errors import InvalidField, NotFound
from school.models import School, User
from school.schemas import Name

FIELDS = ("name", "timezone", "late_after_minutes", "left_early_minutes", "min_presence_percent",
          "lesson_grace_minutes", "recording_mode", "record_students", "recording_retention_days",
          "chat_retention_days", "board_retention_days", "materials_retention_days", "attempts_retention_days")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(value: str) -> str:
    if value not in _zones():
        raise PydanticCustomError("bad_timezone", "not a known IANA time zone (e.g. Asia/Ho_Chi_Minh)")
    return value


TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_zone)]
Minutes = Annotated[StrictInt, Field(ge=0, le=120)]


class SchoolSettingsOut(BaseModel):
    name: str
    timezone: str
    late_after_minutes: int
    """A student whose first join comes later than this after the start is late."""
    left_early_minutes: int
    """A student whose last leave comes earlier than this before the end left early."""
    min_presence_percent: int
    """The share of a lesson's scheduled length a student must be present to count as present."""
    lesson_grace_minutes: int
    """A lesson's room closes this long after its scheduled end."""
    recording_mode: Literal["auto", "manual", "off"]
    """New lessons' recording: from the start, when the teacher starts it, or never."""
    record_students: bool
    """New lessons record students' media too (they are told)."""
    recording_retention_days: int | None
    """Recordings older than this are deleted; null keeps them."""
    chat_retention_days: int | None = None
    """Lưu trữ: chat, boards, the materials' download log, test attempts older than this are deleted; null keeps."""
    board_retention_days: int | None = None
    materials_retention_days: int | None = None
    attempts_retention_days: int | None = None


class SchoolSettingsPatch(BaseModel):
    """Only the fields sent change; `recording_retention_days: null` keeps recordings."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    timezone: TimeZoneName | None = None
    late_after_minutes: Minutes | None = None
    left_early_minutes: Minutes | None = None
    min_presence_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    lesson_grace_minutes: Minutes | None = None
    recording_mode: Literal["auto", "manual", "off"] | None = None
    record_students: StrictBool | None = None
    recording_retention_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    chat_retention_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    board_retention_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    materials_retention_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    attempts_retention_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None


NULLABLE = frozenset({"recording_retention_days", "chat_retention_days", "board_retention_days",
                      "materials_retention_days", "attempts_retention_days"})
"""The only setting whose null is a value; for the others a null is refused."""


def settings_out(school: School) -> SchoolSettingsOut:
    return SchoolSettingsOut.model_validate(audit.snapshot(school, FIELDS))


async def get_school(session: AsyncSession, school_id: int) -> School:
    school = await session.get(School, school_id)
    if school is None:
        raise NotFound("school not found")
    return school


async def update(session: AsyncSession, actor: User, patch: SchoolSettingsPatch) -> School:
    """Apply the fields sent and record one `settings` entry with what changed (nothing changed: no entry)."""

    school = await get_school(session, actor.school_id)
    values: dict[str, Any] = {name: getattr(patch, name) for name in patch.model_fields_set}
    for name, value in values.items():
        if value is None and name not in NULLABLE:
            raise InvalidField(name, "a value is required", reason="required")
    before = audit.snapshot(school, FIELDS)
    for name, value in values.items():
        setattr(school, name, value)
    old, new = audit.changed(before, audit.snapshot(school, FIELDS))
    if new:
        audit.record(session, actor, "settings", "school", school.id, summary=school.name, before=old, after=new)
    return school

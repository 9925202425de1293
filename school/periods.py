"""The school day's periods (tiết 1–10): read, replaced as a whole, and turned into times.

A school that never set its periods has the usual ones: tiết 1–5 in the morning from 07:00,
tiết 6–10 in the afternoon from 13:30, 45 minutes each with 5–10 minute breaks."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access, audit
from school.errors import InvalidField
from school.models import User
from school.timetable_models import Period

MAX_PERIODS = 10
Session = Literal["morning", "afternoon"]


def _clock(value: str) -> str:
    try:
        parsed = time.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError("bad_time", "not a time of day (HH:MM)") from exc
    return parsed.strftime("%H:%M")


Clock = Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$"), AfterValidator(_clock)]


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[int, Field(ge=1, le=MAX_PERIODS)]
    session: Session
    starts: Clock = Field(description="Local time HH:MM")
    ends: Clock


class PeriodsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    periods: Annotated[list[PeriodIn], Field(min_length=1, max_length=MAX_PERIODS)]

    @field_validator("periods")
    @classmethod
    def _ordered(cls, periods: list[PeriodIn]) -> list[PeriodIn]:
        return sorted(periods, key=lambda p: p.number)


class PeriodOut(BaseModel):
    number: int
    session: Session
    starts: str
    ends: str


class PeriodsOut(BaseModel):
    periods: list[PeriodOut]
    is_default: bool = Field(description="True while the school has not set its own periods")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _default() -> list[PeriodOut]:
    def day(session: Session, first: int, start: str, breaks: list[int]) -> list[PeriodOut]:
        out, clock = [], _minutes(start)
        for i, gap in enumerate([*breaks, 0]):
            out.append(PeriodOut(number=first + i, session=session, starts=_clock_of(clock),
                                 ends=_clock_of(clock + 45)))
            clock += 45 + gap
        return out

    return day("morning", 1, "07:00", [5, 10, 5, 5]) + day("afternoon", 6, "13:30", [5, 10, 5, 5])


DEFAULT_PERIODS = _default()


async def periods_of(session: AsyncSession, school_id: int) -> PeriodsOut:
    rows = list(await session.scalars(select(Period).where(Period.school_id == school_id).order_by(Period.number)))
    if not rows:
        return PeriodsOut(periods=DEFAULT_PERIODS, is_default=True)
    periods = [PeriodOut(number=p.number, session=p.session, starts=p.starts, ends=p.ends)  # type: ignore[arg-type]
               for p in rows]
    return PeriodsOut(periods=periods, is_default=False)


def _check(periods: list[PeriodIn]) -> None:
    seen: dict[int, int] = {}
    for index, period in enumerate(periods):
        if period.number in seen:
            raise InvalidField(f"periods[{index}].number", f"period {period.number} is given twice",
                               reason="period_duplicate", params={"number": period.number})
        seen[period.number] = index
        if _minutes(period.ends) <= _minutes(period.starts):
            raise InvalidField(f"periods[{index}].ends", "must be after the start", reason="ends_before_start")
    by_start = sorted(enumerate(periods), key=lambda item: _minutes(item[1].starts))
    for (_, a), (index, b) in zip(by_start, by_start[1:]):
        if _minutes(b.starts) < _minutes(a.ends):
            raise InvalidField(f"periods[{index}].starts", f"period {b.number} overlaps period {a.number}",
                               reason="period_overlap", params={"number": b.number, "other": a.number})


async def set_periods(session: AsyncSession, actor: User, data: PeriodsIn) -> PeriodsOut:
    access.require_admin(actor)
    _check(data.periods)
    before = await periods_of(session, actor.school_id)
    await session.execute(delete(Period).where(Period.school_id == actor.school_id))
    session.add_all(Period(school_id=actor.school_id, **p.model_dump()) for p in data.periods)
    await session.flush()
    after = await periods_of(session, actor.school_id)
    audit.record(session, actor, "update", "period", None, summary="Tiết học / periods",
                 before={"periods": [p.model_dump() for p in before.periods]},
                 after={"periods": [p.model_dump() for p in after.periods]})
    return after


def span(periods: PeriodsOut, period_from: int, period_to: int, field: str = "period_from") -> tuple[str, str]:
    """The local start and end clock of periods period_from..period_to, or a refusal naming `field`."""
    if period_to < period_from:
        raise InvalidField(field.replace("period_from", "period_to"), "the last period comes before the first",
                           reason="period_order")
    by_number = {p.number: p for p in periods.periods}
    for number, name in ((period_from, field), (period_to, field.replace("period_from", "period_to"))):
        if number not in by_number:
            raise InvalidField(name, f"the school has no period {number}", reason="period_unknown",
                               params={"number": number})
    first, last = by_number[period_from], by_number[period_to]
    if first.session != last.session:
        raise InvalidField(field.replace("period_from", "period_to"), "the periods must be in one session",
                           reason="period_sessions", params={"first": period_from, "last": period_to})
    return first.starts, last.ends


def at(day: date, clock: str, zone: ZoneInfo) -> datetime:
    """The UTC moment of a local clock time on a local day."""
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=zone).astimezone(UTC)

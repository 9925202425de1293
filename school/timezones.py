"""Times are stored in UTC and read in the school's time zone (Asia/Ho_Chi_Minh by default)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from school.models import School


async def school_zone(session: AsyncSession, school_id: int) -> ZoneInfo:
    name = await session.scalar(select(School.timezone).where(School.id == school_id))
    return ZoneInfo(name or "Asia/Ho_Chi_Minh")


async def school_today(session: AsyncSession, school_id: int) -> date:
    return datetime.now(await school_zone(session, school_id)).date()


def as_utc(value: datetime, zone: ZoneInfo) -> datetime:
    """An aware UTC datetime; a naive value is read as the school's local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)

"""Weekly series: a term's timetable generated from rows of class × subject × teacher × weekday ×
periods, all or nothing (a dry run previews the count and every clash); and the week view."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from school import access, audit, catalogue, periods
from school.errors import Conflict, InvalidField
from school.models import Lesson, School, SchoolClass, SchoolYear, Subject, User
from school.timetable import (
    Busy,
    Window,
    busy_lessons,
    check_assigned,
    clash_english,
    clash_params,
    first_clash,
    list_lessons,
    school_teacher,
)
from school.timetable_models import LessonSeries
from school.timetable_schemas import Clash, GenerateIn, GenerateOut, WeekOut
from school.timezones import school_zone


@dataclass
class _Planned:
    entry: int
    day: date
    starts_at: datetime
    ends_at: datetime


async def generate(session: AsyncSession, actor: User, data: GenerateIn, lang: str) -> GenerateOut:
    access.require_admin(actor)
    year = await session.get(SchoolYear, data.school_year_id)
    if year is None or year.school_id != actor.school_id:
        raise InvalidField("school_year_id", "no such school year", reason="invalid")
    if data.to < data.from_:
        raise InvalidField("to", "must not be before from", reason="ends_before_start")
    for name, day in (("from", data.from_), ("to", data.to)):
        if not year.starts_on <= day <= year.ends_on:
            raise InvalidField(name, f"outside the school year {year.name}", reason="range_outside_year",
                               params={"year": year.name, "starts_on": year.starts_on.strftime("%d/%m/%Y"),
                                       "ends_on": year.ends_on.strftime("%d/%m/%Y")})
    zone = await school_zone(session, actor.school_id)
    school_periods = await periods.periods_of(session, actor.school_id)
    planned: list[_Planned] = []
    names: list[tuple[SchoolClass, Subject, User]] = []
    for index, entry in enumerate(data.entries):
        prefix = f"entries[{index}]."
        cls = await session.get(SchoolClass, entry.class_id)
        if cls is None or cls.school_id != actor.school_id:
            raise InvalidField(prefix + "class_id", "no such class", reason="invalid")
        if cls.school_year_id != year.id:
            raise InvalidField(prefix + "class_id", f"class {cls.name} is not in {year.name}",
                               reason="class_not_in_year", params={"class_name": cls.name})
        subject = await session.get(Subject, entry.subject_id)
        if subject is None or subject.school_id != actor.school_id:
            raise InvalidField(prefix + "subject_id", "no such subject", reason="invalid")
        teacher = await school_teacher(session, actor.school_id, entry.teacher_id, prefix + "teacher_id")
        await check_assigned(session, cls, subject, teacher, prefix + "teacher_id")
        starts, ends = periods.span(school_periods, entry.period_from, entry.period_to, prefix + "period_from")
        names.append((cls, subject, teacher))
        first = data.from_ + timedelta(days=(entry.weekday - data.from_.isoweekday()) % 7)
        day = first
        while day <= data.to:
            planned.append(_Planned(index, day, periods.at(day, starts, zone), periods.at(day, ends, zone)))
            day += timedelta(days=7)
    if not planned:
        raise InvalidField("to", "the dates contain no day for these lessons", reason="no_lessons_in_range")

    start = min(p.starts_at for p in planned)
    end = max(p.ends_at for p in planned)
    busy: list[Busy] = await busy_lessons(session, actor.school_id, start, end,
                                          class_ids={e.class_id for e in data.entries},
                                          teacher_ids={e.teacher_id for e in data.entries})
    clashes: list[tuple[_Planned, str, dict[str, Any]]] = []
    for plan in sorted(planned, key=lambda p: (p.starts_at, p.entry)):
        cls, subject, teacher = names[plan.entry]
        found = first_clash(busy, cls.id, teacher.id, plan.starts_at, plan.ends_at)
        if found is not None:
            reason, other = found
            clashes.append((plan, reason, clash_params(other, zone)))
            continue
        busy.append(Busy(None, cls.id, cls.name, subject.name, teacher.id, teacher.full_name,
                         plan.starts_at, plan.ends_at))
    out = GenerateOut(
        dry_run=data.dry_run, lessons=len(planned), series=len(data.entries),
        clashes=[Clash(entry=plan.entry, date=plan.day, reason=reason,
                       message=catalogue.text(reason, lang, params) or clash_english(reason, params))
                 for plan, reason, params in clashes])
    if data.dry_run:
        return out
    if clashes:
        plan, reason, params = clashes[0]
        raise Conflict(clash_english(reason, params), reason=reason, params=params,
                       field=f"entries[{plan.entry}].period_from")

    school = await session.get(School, actor.school_id)
    assert school is not None
    series = []
    for index, entry in enumerate(data.entries):
        row = LessonSeries(school_id=actor.school_id, school_year_id=year.id, class_id=entry.class_id,
                           subject_id=entry.subject_id, teacher_id=entry.teacher_id, weekday=entry.weekday,
                           period_from=entry.period_from, period_to=entry.period_to, starts_on=data.from_,
                           ends_on=data.to, created_by=actor.id)
        session.add(row)
        series.append(row)
    await session.flush()
    for plan in planned:
        entry = data.entries[plan.entry]
        session.add(Lesson(
            school_id=actor.school_id, class_id=entry.class_id, subject_id=entry.subject_id,
            teacher_id=entry.teacher_id, title=names[plan.entry][1].name, starts_at=plan.starts_at,
            ends_at=plan.ends_at, created_by=actor.id, series_id=series[plan.entry].id,
            period_from=entry.period_from, period_to=entry.period_to, recording_mode=school.recording_mode,
            record_students=school.record_students))
    await session.flush()
    audit.record(session, actor, "generate", "lesson_series", series[0].id,
                 summary=f"{len(planned)} tiết, {len(series)} dòng ({data.from_:%d/%m/%Y}–{data.to:%d/%m/%Y})",
                 after={"lessons": len(planned), "series": [s.id for s in series],
                        "from": data.from_, "to": data.to})
    return out.model_copy(update={"series_ids": [s.id for s in series]})


async def week(session: AsyncSession, actor: User, day: date | None, *, class_id: int | None,
               teacher_id: int | None) -> WeekOut:
    """The Monday-to-Sunday week of `day` (default today, school time): its lessons as blocks."""
    zone = await school_zone(session, actor.school_id)
    day = day or datetime.now(zone).date()
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    blocks = await list_lessons(session, actor, Window(monday, days[-1]), class_id=class_id,
                                teacher_id=teacher_id)
    school_periods = await periods.periods_of(session, actor.school_id)
    return WeekOut(monday=monday, days=days, periods=school_periods.periods, blocks=blocks)


"""Attendance: a lesson's record (live while it runs), statistics over a date range by class,
grade, subject and teacher, CSV and XLSX exports, and the school's thresholds.

Statuses follow attendance.report: present only with the school's minimum share of the lesson, late
and left early as flags, `not_yet` for lessons not started or whose room never opened. Reports count
only lessons held (whose room opened); dates in file names and periods are the school's own."""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.models import AttendanceEvent
from attendance.report import ATTENDED, STATUSES, LoggedEvent, StudentAttendance, lesson_attendance, room_opened
from school import settings as school_settings
from school import timetable
from school.access import require_admin
from school.models import Role, School, User
from school.schemas import LessonOut
from school.structure import class_rosters
from school.timezones import school_zone
from storage.database import Database
from web.api.params import DateOrTime, QueryId
from web.keys import CONFIG, EXPORTS
from web.routing import Api, Call
from web.tables import send_file, table_file

STATUS_VI = {"present": "Có mặt", "late": "Đi muộn", "absent": "Vắng", "left_early": "Về sớm",
             "late_left_early": "Đi muộn, về sớm", "not_yet": "Chưa diễn ra"}
Status = Literal["present", "late", "left_early", "late_left_early", "absent", "not_yet"]
REASON_VI = {"left": "tự rời lớp", "disconnected": "mất kết nối", "removed": "bị mời ra", "lesson_ended": "hết tiết",
             "server_restart": "máy chủ khởi động lại", None: "đang trong lớp"}


class IntervalOut(BaseModel):
    joined_at: datetime
    left_at: datetime | None
    room: str
    reason: str | None
    via: str


class StudentAttendanceOut(BaseModel):
    user_id: int
    full_name: str
    username: str
    status: Status
    late: bool
    """Joined later than the late threshold (only for a student who attended)."""
    left_early: bool
    """Left earlier than the left-early threshold before the end (only for a student who attended)."""
    first_join: datetime | None
    last_leave: datetime | None
    seconds_present: int
    minutes_present: float
    share: float
    """Time present within the lesson's scheduled times, as a share (0..1) of its scheduled length."""
    present_now: bool
    intervals: list[IntervalOut]


class AttendanceSummary(BaseModel):
    students: int
    present: int
    late: int
    left_early: int
    late_left_early: int
    absent: int
    not_yet: int


class LessonAttendanceOut(BaseModel):
    lesson: LessonOut
    late_after_minutes: int
    left_early_minutes: int
    min_presence_percent: int
    held: bool
    """Whether the lesson took place: it has started and its room opened (its teacher joined)."""
    generated_at: datetime
    summary: AttendanceSummary
    students: list[StudentAttendanceOut]


class FormatQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "csv", "xlsx"] = "json"


class ReportQuery(FormatQuery):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: DateOrTime | None = Field(default=None, alias="from")
    to: DateOrTime | None = None
    class_id: QueryId | None = None
    grade: int | None = Field(default=None, ge=1, le=12)
    subject_id: QueryId | None = None
    teacher_id: QueryId | None = None


class StudentStatsOut(BaseModel):
    user_id: int
    full_name: str
    class_name: str
    lessons: int
    present: int
    late: int
    absent: int
    left_early: int
    late_left_early: int
    minutes_present: float
    attendance_rate: float
    """Share of lessons held attended (present, late, left early or both: the minimum share reached)."""


class GroupStatsOut(BaseModel):
    id: int
    name: str
    lessons_held: int
    student_lessons: int
    attendance_rate: float
    minutes_present: float
    absences: int
    late: int
    """Late arrivals (late, or late and left early)."""
    left_early: int
    """Early leaves (left early, or late and left early)."""


class DayStatsOut(BaseModel):
    date: date
    lessons_held: int
    attendance_rate: float


class AttendanceReportOut(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    from_date: date
    """The period's first day in the school's time zone."""
    to_date: date
    """The period's last day (inclusive) in the school's time zone."""
    period: str
    """The period as the school writes it: "01/11/2026–30/11/2026"."""
    lessons_held: int
    """Lessons in the period whose room opened; only those are counted."""
    attendance_rate: float
    students: list[StudentStatsOut]
    by_class: list[GroupStatsOut]
    by_grade: list[GroupStatsOut]
    by_subject: list[GroupStatsOut]
    by_teacher: list[GroupStatsOut]
    by_day: list[DayStatsOut]


class ThresholdsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    late_after_minutes: int = Field(ge=0, le=120)
    left_early_minutes: int = Field(ge=0, le=120)


class ThresholdsOut(BaseModel):
    late_after_minutes: int
    left_early_minutes: int


# --- reading ----------------------------------------------------------------------------------------
PERIOD_STEP = timedelta(days=7)
"""A report's lessons are read a week at a time, each week in its own unit of work."""
LOG_PIECE = 100
"""Lessons whose join/leave log one unit of work reads."""
LOG_ROWS = 1000
"""Rows of the log made at a time on the event loop (some milliseconds' work) before it is free again."""
ROSTER_PIECE = 10
"""Classes whose students one unit of work reads."""
EVENT_COLUMNS = (AttendanceEvent.lesson_id, AttendanceEvent.presence_id, AttendanceEvent.user_id,
                 AttendanceEvent.role, AttendanceEvent.via, AttendanceEvent.room, AttendanceEvent.kind,
                 AttendanceEvent.reason, AttendanceEvent.at)
"""What a report reads of the log, as plain rows: no mapped objects to build for the whole log."""

T = TypeVar("T")


def pieces(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for first in range(0, len(items), size):
        yield items[first:first + size]


async def events_of(session: AsyncSession, lesson_ids: Sequence[int]) -> dict[int, list[LoggedEvent]]:
    """The log of these lessons, by lesson, streamed a few rows at a time: the event loop makes each
    row, and between two batches it forwards media."""
    out: dict[int, list[LoggedEvent]] = defaultdict(list)
    if lesson_ids:
        rows = await session.stream(select(*EVENT_COLUMNS).where(AttendanceEvent.lesson_id.in_(lesson_ids))
                                    .order_by(AttendanceEvent.at, AttendanceEvent.id)
                                    .execution_options(yield_per=LOG_ROWS))
        async for batch in rows.partitions(LOG_ROWS):
            for event in batch:
                out[event.lesson_id].append(event)
    return out


async def read_events(db: Database, lesson_ids: Sequence[int]) -> dict[int, list[LoggedEvent]]:
    """The log of many lessons (a lesson without any is missing), a few lessons per unit of work."""
    out: dict[int, list[LoggedEvent]] = {}
    for piece in pieces(lesson_ids, LOG_PIECE):
        async with db.session() as session:
            out.update(await events_of(session, piece))
    return out


async def read_rosters(db: Database, class_ids: set[int]) -> dict[int, list[User]]:
    """The students of each class (see `class_rosters`), a few classes per unit of work."""
    out: dict[int, list[User]] = {}
    for piece in pieces(sorted(class_ids), ROSTER_PIECE):
        async with db.session() as session:
            out.update(await class_rosters(session, set(piece)))
    return out


async def off_loop(request: web.Request, work: Callable[[], T]) -> T:
    """`work` (figures, a workbook) in a worker thread, a few at a time: never on the event loop,
    which forwards the lessons' media."""
    async with request.app[EXPORTS]:
        return await asyncio.to_thread(work)


def json_body(report: BaseModel) -> bytes:
    return json.dumps(report.model_dump(mode="json", by_alias=True), ensure_ascii=False).encode()


async def reply(call: Call, report: Callable[[], BaseModel]) -> web.Response:
    """The JSON reply of a report worked out, and serialised, in a worker thread."""
    body = await off_loop(call.request, lambda: json_body(report()))
    return web.Response(body=body, content_type="application/json", charset="utf-8")


async def download(call: Call, table: Callable[[], tuple[list[str], list[list[object]]]], filename: str,
                   title: str) -> web.StreamResponse:
    """A report's table as the CSV or XLSX `call` asks for, worked out and written in a worker
    thread to a temporary file, then streamed."""
    fmt, directory = call.query.format, call.request.app[CONFIG].data_dir / "tmp"
    handle = await off_loop(call.request, lambda: table_file(*table(), fmt, title, directory))
    return await send_file(call.request, handle, fmt, filename)


# --- computing -------------------------------------------------------------------------------------
def attendance_rows(lesson: LessonOut, roster: list[User], events: list[LoggedEvent], school: School,
              now: datetime) -> list[StudentAttendance]:
    return lesson_attendance([u.id for u in roster], events, starts_at=lesson.starts_at, ends_at=lesson.ends_at,
                             now=now, late_after=timedelta(minutes=school.late_after_minutes),
                             left_early=timedelta(minutes=school.left_early_minutes),
                             min_share=school.min_presence_percent / 100, opened=room_opened(events))


async def lesson_report(db: Database, actor: User, lesson_id: int) -> tuple[LessonAttendanceOut, ZoneInfo]:
    """One lesson's record (a class's worth: small enough to work out on the loop) and the school's zone."""
    async with db.session() as session:
        lesson = await timetable.get_lesson(session, actor, lesson_id)
        school = await session.get(School, actor.school_id)
        assert school is not None
        zone = await school_zone(session, actor.school_id)
        roster = (await class_rosters(session, {lesson.class_id}))[lesson.class_id]
        events = (await events_of(session, [lesson.id]))[lesson.id]
    if actor.role is Role.student:
        roster = [u for u in roster if u.id == actor.id]  # a student sees only their own record
    now = datetime.now(UTC)
    rows = attendance_rows(lesson, roster, events, school, now)
    students = [StudentAttendanceOut(
        user_id=user.id, full_name=user.full_name, username=user.username, status=row.status,  # type: ignore[arg-type]
        late=row.late, left_early=row.left_early, first_join=row.first_join, last_leave=row.last_leave,
        seconds_present=row.seconds_present, minutes_present=row.minutes_present, share=row.share,
        present_now=row.present_now,
        intervals=[IntervalOut(joined_at=i.joined_at, left_at=i.left_at, room=i.room, reason=i.reason, via=i.via)
                   for i in row.intervals]) for user, row in zip(roster, rows, strict=True)]
    counts = {s: sum(1 for r in rows if r.status == s) for s in STATUSES}
    return LessonAttendanceOut(lesson=lesson, late_after_minutes=school.late_after_minutes,
                               left_early_minutes=school.left_early_minutes,
                               min_presence_percent=school.min_presence_percent,
                               held=lesson.starts_at <= now and room_opened(events), generated_at=now,
                               summary=AttendanceSummary(students=len(rows), **counts), students=students), zone


@dataclass(frozen=True)
class ReportScope:
    """What a report over a period reads: the period as instants, the lessons begun by ``now`` that
    the filters keep (the caller's own lessons only), their join/leave log, and the school."""
    start: datetime
    end: datetime
    now: datetime
    lessons: list[LessonOut]
    events: dict[int, list[LoggedEvent]]
    """By lesson; a lesson nobody joined is missing."""
    school: School
    zone: ZoneInfo

    @property
    def days(self) -> tuple[date, date]:
        """The period's first and last (inclusive) days in the school's calendar."""
        return local_days(self.start, self.end, self.zone)


async def report_scope(db: Database, actor: User, q: ReportQuery) -> ReportScope:
    """The scope of a report asked with ``q``; with neither ``from`` nor ``to``, the last 30 days.
    Read in short units of work: the period a week at a time, the log a few lessons at a time."""
    async with db.session() as session:
        zone = await school_zone(session, actor.school_id)
        if q.from_ is None and q.to is None:
            today = datetime.now(zone).date()
            window = timetable.Window(today - timedelta(days=30), today)
        else:
            window = timetable.Window(q.from_, q.to)
        start, end = await timetable.bounds(session, actor.school_id, window)
        school = await session.get(School, actor.school_id)
        assert school is not None
    now = datetime.now(UTC)
    lessons: list[LessonOut] = []
    seen: set[int] = set()
    week = start
    while True:  # at least once: the filters are checked (403, 404) whatever the period
        async with db.session() as session:
            found = await timetable.list_lessons(session, actor, timetable.Window(week, min(week + PERIOD_STEP, end)),
                                                 class_id=q.class_id, teacher_id=q.teacher_id)
        # A lesson across two weeks comes twice; a week's new lessons all start in it, so the order holds.
        lessons += [lesson for lesson in found
                    if lesson.id not in seen and lesson.starts_at <= now and (q.grade is None or lesson.grade == q.grade)
                    and (q.subject_id is None or lesson.subject_id == q.subject_id)]
        seen.update(lesson.id for lesson in found)
        week += PERIOD_STEP
        if week >= end or week > now:
            break
    events = await read_events(db, [lesson.id for lesson in lessons])
    return ReportScope(start, end, now, lessons, events, school, zone)


def range_report(scope: ReportScope, rosters: dict[int, list[User]], only: int | None) -> AttendanceReportOut:
    """The statistics of a period, worked out from what was read (blocking: a worker thread's job).
    `only`: a student's id, who sees only their own figures."""
    start, end, now, events, school, zone = scope.start, scope.end, scope.now, scope.events, scope.school, scope.zone
    lessons = [lesson for lesson in scope.lessons if room_opened(events.get(lesson.id, []))]  # held ones only
    per_student: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    names: dict[int, tuple[str, str]] = {}
    groups: dict[str, dict[int, dict[str, float]]] = {g: defaultdict(lambda: defaultdict(float))
                                                      for g in ("class", "grade", "subject", "teacher", "day")}
    group_names: dict[tuple[str, int], str] = {}
    for lesson in lessons:
        roster = rosters.get(lesson.class_id, [])
        if only is not None:
            roster = [u for u in roster if u.id == only]
        rows = attendance_rows(lesson, roster, events.get(lesson.id, []), school, now)
        day = lesson.starts_at.astimezone(zone).date()
        keys = {"class": (lesson.class_id, lesson.class_name), "grade": (lesson.grade, f"Khối {lesson.grade}"),
                "subject": (lesson.subject_id, lesson.subject_name), "teacher": (lesson.teacher_id, lesson.teacher_name),
                "day": (day.toordinal(), day.isoformat())}
        for group, (key, name) in keys.items():
            group_names[(group, key)] = name
            groups[group][key]["lessons_held"] += 1
        for user, row in zip(roster, rows, strict=True):
            names[user.id] = (user.full_name, lesson.class_name)
            stats = per_student[user.id]
            stats["lessons"] += 1
            stats[row.status] += 1
            stats["minutes"] += row.seconds_present / 60
            for group, (key, _name) in keys.items():
                g = groups[group][key]
                g["student_lessons"] += 1
                g["attended"] += row.status in ATTENDED
                g["minutes"] += row.seconds_present / 60
                g["absences"] += row.status == "absent"
                g["late"] += row.late
                g["left_early"] += row.left_early

    def rate(attended: float, total: float) -> float:
        return round(attended / total, 4) if total else 0.0

    students = sorted((StudentStatsOut(
        user_id=uid, full_name=names[uid][0], class_name=names[uid][1], lessons=int(s["lessons"]),
        present=int(s["present"]), late=int(s["late"]), absent=int(s["absent"]), left_early=int(s["left_early"]),
        late_left_early=int(s["late_left_early"]), minutes_present=round(s["minutes"], 1),
        attendance_rate=rate(s["lessons"] - s["absent"], s["lessons"]))
        for uid, s in per_student.items()), key=lambda s: (s.class_name, s.full_name))

    def grouped(group: str) -> list[GroupStatsOut]:
        return sorted((GroupStatsOut(id=key, name=group_names[(group, key)], lessons_held=int(g["lessons_held"]),
                                     student_lessons=int(g["student_lessons"]),
                                     attendance_rate=rate(g["attended"], g["student_lessons"]),
                                     minutes_present=round(g["minutes"], 1), absences=int(g["absences"]),
                                     late=int(g["late"]), left_early=int(g["left_early"]))
                       for key, g in groups[group].items()), key=lambda g: g.name)

    total = sum(g["student_lessons"] for g in groups["class"].values())
    attended = sum(g["attended"] for g in groups["class"].values())
    first_day, last_day = local_days(start, end, zone)
    return AttendanceReportOut(
        from_=start, to=end, from_date=first_day, to_date=last_day, period=period_label(first_day, last_day),
        lessons_held=len(lessons), attendance_rate=rate(attended, total), students=students,
        by_class=grouped("class"), by_grade=grouped("grade"), by_subject=grouped("subject"),
        by_teacher=grouped("teacher"),
        by_day=[DayStatsOut(date=date.fromordinal(key), lessons_held=int(g["lessons_held"]),
                            attendance_rate=rate(g["attended"], g["student_lessons"]))
                for key, g in sorted(groups["day"].items())])


# --- exports ----------------------------------------------------------------------------------------
def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last (inclusive) days of [start, end) as the school's calendar has them."""
    last = end - timedelta(microseconds=1) if end > start else end
    return start.astimezone(zone).date(), last.astimezone(zone).date()


def period_label(first: date, last: date) -> str:
    return f"{first:%d/%m/%Y}–{last:%d/%m/%Y}" if first != last else f"{first:%d/%m/%Y}"


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S") if value else ""


def lesson_table(report: LessonAttendanceOut, zone: ZoneInfo) -> tuple[list[str], list[list[object]]]:
    header = ["STT", "Họ và tên", "Tên đăng nhập", "Trạng thái", "Vào lớp lúc", "Rời lớp lúc",
              "Thời gian tham gia (phút)", "Số lần vào lớp", "Lý do rời lớp lần cuối", "Đi muộn", "Về sớm",
              "Tỉ lệ thời gian có mặt (%)"]
    rows: list[list[object]] = []
    for n, s in enumerate(report.students, 1):
        last_reason = s.intervals[-1].reason if s.intervals else None
        rows.append([n, s.full_name, s.username, STATUS_VI[s.status], _local(s.first_join, zone),
                     _local(s.last_leave, zone), round(s.seconds_present / 60, 1), len(s.intervals),
                     REASON_VI.get(last_reason, last_reason or "") if s.intervals else "",
                     "x" if s.late else "", "x" if s.left_early else "", round(s.share * 100, 1)])
    return header, rows


def range_table(report: AttendanceReportOut) -> tuple[list[str], list[list[object]]]:
    header = ["STT", "Họ và tên", "Lớp", "Số tiết", "Có mặt", "Đi muộn", "Về sớm", "Vắng",
              "Số phút tham gia", "Tỉ lệ chuyên cần (%)", "Đi muộn và về sớm", "Thời gian"]
    rows: list[list[object]] = [[n, s.full_name, s.class_name, s.lessons, s.present, s.late, s.left_early, s.absent,
                                 s.minutes_present, round(s.attendance_rate * 100, 1), s.late_left_early,
                                 report.period]
                                for n, s in enumerate(report.students, 1)]
    return header, rows


def register(api: Api) -> None:
    @api.route("GET", r"/api/lessons/{id:\d+}/attendance", summary="A lesson's attendance", tag="attendance",
               query=FormatQuery, response=LessonAttendanceOut, errors=(403, 404),
               description="Every student of the lesson's class, those who never came included, with status "
               "(present, late, left_early, late_left_early, absent, not_yet), the late and left_early flags, first join, "
               "last leave, seconds and minutes present, the share of the scheduled length present and every "
               "interval. Present needs the school's min_presence_percent of the lesson; not_yet: the lesson has "
               "not started or its room never opened (its teacher never joined). "
               "Live while the lesson runs. Students see only their own record. `format=csv|xlsx` downloads it "
               "with Vietnamese headers.", unit_of_work=False)
    async def get_lesson_attendance(call: Call) -> LessonAttendanceOut | web.StreamResponse:
        report, zone = await lesson_report(call.db, call.user, call.path_id("id"))
        if call.query.format == "json":
            return report
        day = report.lesson.starts_at.astimezone(zone).strftime("%Y-%m-%d")
        return await download(call, lambda: lesson_table(report, zone),
                              f"diem-danh-{report.lesson.class_name}-{day}-tiet-{report.lesson.id}", "Điểm danh")

    @api.route("GET", "/api/reports/attendance", summary="Attendance statistics over a date range",
               tag="attendance", query=ReportQuery, response=AttendanceReportOut, errors=(403, 404),
               description="Lessons held, attendance rate, minutes present, absences and late arrivals: per "
               "student and by class, grade, subject, teacher and day, for lessons held in [from, to] (started, and "
               "their room opened) (default: the last 30 days); `from_date`, `to_date` and `period` in the school's "
               "time zone. Admins see the school; teachers their classes; students themselves.",
               unit_of_work=False)
    async def get_attendance_report(call: Call) -> web.StreamResponse:
        scope = await report_scope(call.db, call.user, call.query)
        held = {lesson.class_id for lesson in scope.lessons if room_opened(scope.events.get(lesson.id, []))}
        rosters = await read_rosters(call.db, held)
        only = call.user.id if call.user.role is Role.student else None
        if call.query.format == "json":
            return await reply(call, lambda: range_report(scope, rosters, only))
        first, last = scope.days
        return await download(call, lambda: range_table(range_report(scope, rosters, only)),
                              f"thong-ke-chuyen-can-{first:%Y-%m-%d}-den-{last:%Y-%m-%d}",
                              f"Thống kê {first:%d.%m}-{last:%d.%m}")

    @api.route("GET", "/api/school/attendance-settings", summary="Late and left-early thresholds", tag="attendance",
               response=ThresholdsOut)
    async def get_thresholds(call: Call) -> ThresholdsOut:
        school = await call.session.get(School, call.user.school_id)
        assert school is not None
        return ThresholdsOut(late_after_minutes=school.late_after_minutes, left_early_minutes=school.left_early_minutes)

    @api.route("PUT", "/api/school/attendance-settings", summary="Set the late and left-early thresholds",
               tag="attendance", body=ThresholdsIn, response=ThresholdsOut, roles=(Role.admin,))
    async def put_thresholds(call: Call) -> ThresholdsOut:
        require_admin(call.user)
        school = await school_settings.update(call.session, call.user, school_settings.SchoolSettingsPatch(
            late_after_minutes=call.body.late_after_minutes, left_early_minutes=call.body.left_early_minutes))
        return ThresholdsOut(late_after_minutes=school.late_after_minutes, left_early_minutes=school.left_early_minutes)



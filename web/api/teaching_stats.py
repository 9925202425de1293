"""Thống kê dạy học trực tuyến: lessons held (their room opened), the teachers' minutes online,
attendance, assignments and online tests given and the average result (score10), by subject,
teacher, grade and class over a period; as JSON, CSV or XLSX. Administrators see the school,
teachers their own classes. Read in short units of work, worked out and written in a worker thread
(as the attendance statistics are: web.api.attendance)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from attendance.report import ATTENDED, intervals_by_user, room_opened, seconds_within
from classroom.polls import quiz_totals
from coursework.statistics import GROUPS, LessonFigures, Statistics, Tally, Where, WorkFigures, work_given
from school.access import class_ids_of
from school.models import Role, User
from storage.database import Database
from web.api.attendance import (ReportQuery, ReportScope, attendance_rows, download, period_label, pieces,
                                read_rosters, report_scope, reply)
from web.routing import Api, Call

GROUP_VI = {"subject": "Môn học", "teacher": "Giáo viên", "grade": "Khối", "class": "Lớp"}


class StatsQuery(ReportQuery):
    by: Literal["subject", "teacher", "grade", "class"] = "subject"
    """Which grouping a CSV/XLSX download holds (JSON has all four)."""


class TeachingRowOut(BaseModel):
    id: int
    name: str
    lessons_scheduled: int
    """Lessons of the timetable that have started in the period."""
    lessons_held: int
    """Those whose room opened (the teacher taught online)."""
    minutes: float
    """The teachers' time in the rooms of the lessons held."""
    attendance_rate: float
    """Share (0..1) of the students' places in lessons held that were attended."""
    assignments: int
    tests: int
    results: int
    """How many scores (quizzes, assignments, tests; 10-point scale) the average is of."""
    average_score10: float | None


class TeachingStatsOut(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    from_date: date
    to_date: date
    period: str
    total: TeachingRowOut
    by_subject: list[TeachingRowOut]
    by_teacher: list[TeachingRowOut]
    by_grade: list[TeachingRowOut]
    by_class: list[TeachingRowOut]


def _row(key: int, name: str, t: Tally) -> TeachingRowOut:
    return TeachingRowOut(id=key, name=name, lessons_scheduled=t.lessons_scheduled, lessons_held=t.lessons_held,
                          minutes=round(t.minutes, 1), attendance_rate=t.attendance_rate, assignments=t.assignments,
                          tests=t.tests, results=len(t.scores), average_score10=t.average_score10)


QUIZ_PIECE = 20
"""Lessons whose quizzes one unit of work reads."""


@dataclass(frozen=True)
class TeachingScope:
    """What the statistics are worked out from, read in short units of work."""
    attendance: ReportScope
    rosters: dict[int, list[User]]
    """The students of the classes of the lessons held."""
    quizzes: dict[int, tuple[float, dict[int, float]]]
    """By lesson held: what its quizzes were worth and each student's score."""
    work: list[WorkFigures]
    total_name: str


async def teaching_scope(db: Database, actor: User, q: StatsQuery) -> TeachingScope:
    scope = await report_scope(db, actor, q)
    held = [lesson for lesson in scope.lessons if room_opened(scope.events.get(lesson.id, []))]
    rosters = await read_rosters(db, {lesson.class_id for lesson in held})
    quizzes: dict[int, tuple[float, dict[int, float]]] = {}
    for piece in pieces(held, QUIZ_PIECE):
        async with db.session() as session:
            for lesson in piece:
                quizzes[lesson.id] = await quiz_totals(session, lesson.id)
    async with db.session() as session:
        class_ids = await class_ids_of(session, actor)
        if q.class_id is not None:
            class_ids = {q.class_id} if class_ids is None else class_ids & {q.class_id}
        work = await work_given(session, actor.school_id, scope.start, scope.end, class_ids=class_ids,
                                subject_id=q.subject_id, teacher_id=q.teacher_id, grade=q.grade)
    return TeachingScope(scope, rosters, quizzes, work, "Toàn trường" if actor.role is Role.admin else actor.full_name)


def teaching_stats(data: TeachingScope) -> TeachingStatsOut:
    """The statistics worked out from what was read (blocking: a worker thread's job)."""
    scope = data.attendance
    start, end, now, lessons, events, school = (scope.start, scope.end, scope.now, scope.lessons, scope.events,
                                                scope.school)
    stats = Statistics()
    for lesson in lessons:
        log = events.get(lesson.id, [])
        where = Where(lesson.class_id, lesson.class_name, lesson.grade, lesson.subject_id, lesson.subject_name,
                      lesson.teacher_id, lesson.teacher_name)
        if not room_opened(log):
            stats.add_lesson(LessonFigures(where, False, 0.0, 0, 0))
            continue
        roster = data.rosters.get(lesson.class_id, [])
        rows = attendance_rows(lesson, roster, log, school, now)
        teacher = intervals_by_user(e for e in log if e.role == "teacher").get(lesson.teacher_id, [])
        if not teacher:  # another teacher opened it (a substitute): the room's time is theirs
            teacher = [i for intervals in intervals_by_user(e for e in log if e.role == "teacher").values()
                       for i in intervals]
        first = min(i.joined_at for i in teacher)
        minutes = seconds_within(teacher, first, max(now, lesson.ends_at), now) / 60
        worth, scores = data.quizzes[lesson.id]
        quiz = tuple(round(scores.get(u.id, 0.0) / worth * 10, 2) for u in roster) if worth > 0 else ()
        stats.add_lesson(LessonFigures(where, True, minutes, len(rows), sum(r.status in ATTENDED for r in rows), quiz))
    for work in data.work:
        stats.add_work(work)
    first_day, last_day = scope.days
    return TeachingStatsOut(
        from_=start, to=end, from_date=first_day, to_date=last_day, period=period_label(first_day, last_day),
        total=_row(0, data.total_name, stats.total),
        **{f"by_{g}": [_row(*row) for row in stats.rows(g)] for g in GROUPS})


def stats_table(report: TeachingStatsOut, by: str) -> tuple[list[str], list[list[object]]]:
    header = ["STT", GROUP_VI[by], "Số tiết theo thời khóa biểu", "Số tiết đã dạy trực tuyến", "Số phút dạy",
              "Tỉ lệ chuyên cần (%)", "Số bài tập đã giao", "Số bài kiểm tra trực tuyến", "Số kết quả",
              "Điểm trung bình (thang 10)", "Thời gian"]
    rows: list[list[object]] = [
        [n, r.name, r.lessons_scheduled, r.lessons_held, r.minutes, round(r.attendance_rate * 100, 1), r.assignments,
         r.tests, r.results, "" if r.average_score10 is None else r.average_score10, report.period]
        for n, r in enumerate(getattr(report, f"by_{by}"), 1)]
    return header, rows


def register(api: Api) -> None:
    @api.route("GET", "/api/reports/teaching", summary="Online teaching statistics over a period",
               tag="reports", query=StatsQuery, response=TeachingStatsOut, roles=(Role.admin, Role.teacher),
               errors=(403, 404),
               description="Thống kê dạy học trực tuyến for lessons that started in [from, to] (default: the last "
               "30 days): lessons scheduled and held (room opened), the teachers' minutes online, the attendance "
               "rate, assignments (due in the period, published) and online tests (opening in the period) given, "
               "and the average result on the 10-point scale (lesson quizzes, graded assignments, graded "
               "attempts), in total and by subject, teacher, grade and class. Administrators see the school, "
               "teachers their classes. `format=csv|xlsx` downloads the grouping `by`.", unit_of_work=False)
    async def get_teaching_stats(call: Call) -> web.StreamResponse:
        data = await teaching_scope(call.db, call.user, call.query)
        if call.query.format == "json":
            return await reply(call, lambda: teaching_stats(data))
        first, last = data.attendance.days
        return await download(call, lambda: stats_table(teaching_stats(data), call.query.by),
                              f"thong-ke-day-hoc-truc-tuyen-{call.query.by}-{first:%Y-%m-%d}-den-{last:%Y-%m-%d}",
                              "Thống kê dạy học")

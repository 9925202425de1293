"""Notices (thông báo): each user reads and marks their own; the school's SMTP settings for e-mail to
parents (administrators; the password is never answered); and the background task that tells
parents of absences once a lesson is over and sends the e-mails."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import select

from attendance.models import AttendanceEvent
from attendance.report import lesson_attendance, room_opened
from coursework import notices
from coursework.assignments_models import Assignment, Submission
from school import audit
from school.access import require_admin
from school.models import ClassStudent, Lesson, Role, School, User
from school.parents import ParentLink
from storage.database import Database
from storage.writer import WriterClosed
from web.keys import DATABASE
from web.routing import Api, Call

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30.0
LOOKBACK = timedelta(days=2)
"""Lessons over longer ago than this are not told (a server started after a long stop)."""


class NoticesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = False


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[StrictInt] | None = Field(default=None, max_length=500)
    """None: all of mine."""


class ReadOut(BaseModel):
    marked: int


def register(api: Api) -> None:
    @api.route("GET", "/api/notices", summary="My notices", tag="notices", query=NoticesQuery,
               response=notices.NoticesOut,
               description="Newest first (50), with the number unread. Everyone reads only their own.")
    async def my_notices(call: Call) -> notices.NoticesOut:
        return await notices.notices_of(call.session, call.user.id, unread_only=call.query.unread)

    @api.route("POST", "/api/notices/read", summary="Mark my notices read", tag="notices", body=ReadIn,
               response=ReadOut, description="The ids given (only one's own count), or all when `ids` is null.")
    async def mark_read(call: Call) -> ReadOut:
        return ReadOut(marked=await notices.mark_read(call.session, call.user.id, call.body.ids, datetime.now(UTC)))

    @api.route("GET", "/api/school/smtp", summary="The school's e-mail (SMTP) settings", tag="settings",
               response=notices.SmtpOut, roles=(Role.admin,),
               description="For the notices e-mailed to parents. The password is never answered (`password_set`).")
    async def get_smtp(call: Call) -> notices.SmtpOut:
        return notices.smtp_out(await call.session.get(notices.SchoolSmtp, call.user.school_id))

    @api.route("PATCH", "/api/school/smtp", summary="Change the school's e-mail (SMTP) settings", tag="settings",
               body=notices.SmtpPatch, response=notices.SmtpOut, roles=(Role.admin,), errors=(422,),
               description="Only the fields sent change; recorded in the change log (never the password).")
    async def patch_smtp(call: Call) -> notices.SmtpOut:
        require_admin(call.user)
        row = await notices.update_smtp(call.session, call.user.school_id, call.body)
        after = {k: v for k, v in call.body.model_dump(exclude_unset=True).items() if k != "smtp_password"}
        if "smtp_password" in call.body.model_fields_set:
            after["smtp_password"] = "***"
        audit.record(call.session, call.user, "settings", "smtp", call.user.school_id, summary="SMTP", after=after)
        return notices.smtp_out(row)


async def sweep_absences(db: Database, now: datetime) -> int:
    """Tell the parents of each student absent from a lesson that is now over (once per lesson).
    Returns the number of notices written."""
    async with db.session() as session:
        done = select(notices.AbsenceSweep.lesson_id)
        with_parents = select(ClassStudent.class_id).join(ParentLink, ParentLink.student_id == ClassStudent.student_id)
        lesson_ids = list(await session.scalars(
            select(Lesson.id).where(Lesson.cancelled_at.is_(None), Lesson.ends_at > now - LOOKBACK,
                                    (Lesson.ended_at.is_not(None)) | (Lesson.ends_at <= now),
                                    Lesson.class_id.in_(with_parents), Lesson.id.not_in(done))
            .order_by(Lesson.ends_at).limit(200)))
    total = 0
    for lesson_id in lesson_ids:
        async def tell(session, lesson_id: int = lesson_id) -> int:  # type: ignore[no-untyped-def]
            lesson = await session.get(Lesson, lesson_id)
            if lesson is None or await session.get(notices.AbsenceSweep, lesson_id) is not None:
                return 0
            school = await session.get(School, lesson.school_id)
            students = list(await session.execute(
                select(User.id, User.full_name).join(ClassStudent, ClassStudent.student_id == User.id)
                .where(ClassStudent.class_id == lesson.class_id)))
            events = list(await session.scalars(select(AttendanceEvent).where(AttendanceEvent.lesson_id == lesson_id)
                                                .order_by(AttendanceEvent.at, AttendanceEvent.id)))
            if not room_opened(events):
                session.add(notices.AbsenceSweep(lesson_id=lesson_id, at=now))  # nobody is absent from no lesson
                return 0
            end = min(lesson.ended_at or lesson.ends_at, lesson.ends_at)
            rows = lesson_attendance([sid for sid, _ in students], events, starts_at=lesson.starts_at,
                                     ends_at=lesson.ends_at, now=max(now, end),
                                     late_after=timedelta(minutes=school.late_after_minutes),
                                     left_early=timedelta(minutes=school.left_early_minutes),
                                     min_share=school.min_presence_percent / 100, opened=True)
            absent = [row.user_id for row in rows if row.status == "absent"]
            return await notices.absence_notices(session, lesson, absent, dict(students), now)

        total += await db.writer.write(tell)
    return total


async def sweep_missing_work(db: Database, now: datetime) -> int:
    """Tell the parents of each student who has handed nothing in once a published assignment is due
    (once per assignment; work handed in late afterwards shows on the child's page). Returns the
    number of notices written."""
    async with db.session() as session:
        done = select(notices.MissingWorkSweep.assignment_id)
        with_parents = select(ClassStudent.class_id).join(ParentLink, ParentLink.student_id == ClassStudent.student_id)
        assignment_ids = list(await session.scalars(
            select(Assignment.id).where(Assignment.published.is_(True), Assignment.due_at <= now,
                                        Assignment.due_at > now - LOOKBACK, Assignment.class_id.in_(with_parents),
                                        Assignment.id.not_in(done))
            .order_by(Assignment.due_at).limit(200)))
    total = 0
    for assignment_id in assignment_ids:
        async def tell(session, assignment_id: int = assignment_id) -> int:  # type: ignore[no-untyped-def]
            assignment = await session.get(Assignment, assignment_id)
            if assignment is None or await session.get(notices.MissingWorkSweep, assignment_id) is not None:
                return 0
            students = dict((await session.execute(
                select(User.id, User.full_name).join(ClassStudent, ClassStudent.student_id == User.id)
                .where(ClassStudent.class_id == assignment.class_id))).all())
            handed_in = set(await session.scalars(select(Submission.student_id).where(
                Submission.assignment_id == assignment_id)))
            missing = [sid for sid in students if sid not in handed_in]
            return await notices.missing_work_notices(session, assignment, missing, students, now)

        total += await db.writer.write(tell)
    return total


async def _loop(db: Database, every: float) -> None:
    while True:
        now = datetime.now(UTC)
        try:
            await sweep_absences(db, now)
            await sweep_missing_work(db, now)
            await notices.send_pending(db, now)
        except WriterClosed:
            return
        except Exception:  # noqa: BLE001 - the task must outlive one bad run; it is logged
            log.exception("notices: the sweeps or the e-mails failed; trying again later")
        await asyncio.sleep(every)


async def notices_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context (after the database's): the absence and missing-work sweeps and the e-mails,
    every 30 s."""
    task = asyncio.ensure_future(_loop(app[DATABASE], SWEEP_SECONDS))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

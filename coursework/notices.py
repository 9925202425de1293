"""Notices (thông báo) in the page for any user, and by e-mail to parents when the school configures
SMTP. Parents are told of changes to their child's lessons (each LessonChange written by the
timetable becomes a notice to the class's students' parents, in the same unit of work), of
their child's absences (written by the absence sweep when a lesson is over) and of work their
child did not hand in by the due time (written by the same sweep once an assignment is due).

E-mails are sent off the request path by `send_pending` (aiosmtplib), a few tries each, failures
logged; the SMTP password is stored for sending and never answered."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import aiosmtplib
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from coursework.assignments_models import Assignment
from school.models import ClassStudent, Lesson, School, SchoolClass, Subject
from school.parent_accounts import ParentContact
from school.parents import ParentLink
from school.timetable_models import LessonChange
from storage.database import Base, Database
from storage.types import UTCDateTime, utcnow

log = logging.getLogger(__name__)
MAX_EMAIL_TRIES = 4
KINDS = ("lesson_change", "absence", "missing_work")


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_user_read", "user_id", "read_at"),
                      Index("ix_notices_email_state", "email_state"))
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    """A path inside the site (never an outside address)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), nullable=True)
    email_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """None: not mailed; pending, sent or failed."""
    email_tries: Mapped[int] = mapped_column(Integer, default=0)
    email_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AbsenceSweep(Base):
    """A lesson whose absences were told (once)."""

    __tablename__ = "absence_notice_runs"
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MissingWorkSweep(Base):
    """An assignment whose missing work was told (once, when it fell due)."""

    __tablename__ = "missing_work_notice_runs"
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SchoolSmtp(Base):
    __tablename__ = "school_smtp"
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    smtp_host: Mapped[str] = mapped_column(String(255), default="")
    smtp_port: Mapped[int] = mapped_column(Integer, default=587)
    smtp_user: Mapped[str] = mapped_column(String(255), default="")
    smtp_password: Mapped[str] = mapped_column(String(255), default="")
    smtp_from: Mapped[str] = mapped_column(String(254), default="")
    smtp_tls: Mapped[str] = mapped_column(String(16), default="starttls")
    """none, starttls or tls (implicit, port 465)."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)


# --- schemas ------------------------------------------------------------------------------------
class NoticeOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    student_id: int | None
    lesson_id: int | None
    created_at: datetime
    read_at: datetime | None


class NoticesOut(BaseModel):
    unread: int
    items: list[NoticeOut]


Host = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255, pattern=r"^[A-Za-z0-9.\-:\[\]]*$")]


class SmtpOut(BaseModel):
    enabled: bool
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_from: str
    smtp_tls: Literal["none", "starttls", "tls"]
    password_set: bool
    """The password itself is never answered."""


class SmtpPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool | None = None
    smtp_host: Host | None = None
    smtp_port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    smtp_user: Annotated[str, StringConstraints(max_length=255)] | None = None
    smtp_password: Annotated[str, StringConstraints(max_length=255)] | None = None
    smtp_from: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                                pattern=r"^$|^[^@\s<>\"]+@[^@\s<>\"]+$")] | None = None
    smtp_tls: Literal["none", "starttls", "tls"] | None = None


def smtp_out(row: SchoolSmtp | None) -> SmtpOut:
    if row is None:
        return SmtpOut(enabled=False, smtp_host="", smtp_port=587, smtp_user="", smtp_from="", smtp_tls="starttls",
                       password_set=False)
    return SmtpOut(enabled=row.enabled, smtp_host=row.smtp_host, smtp_port=row.smtp_port, smtp_user=row.smtp_user,
                   smtp_from=row.smtp_from, smtp_tls=row.smtp_tls, password_set=bool(row.smtp_password))  # type: ignore[arg-type]


async def update_smtp(session: AsyncSession, school_id: int, patch: SmtpPatch) -> SchoolSmtp:
    row = await session.get(SchoolSmtp, school_id)
    if row is None:
        row = SchoolSmtp(school_id=school_id, smtp_host="", smtp_port=587, smtp_user="", smtp_password="",
                         smtp_from="", smtp_tls="starttls", enabled=False)
        session.add(row)
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        if value is not None:
            setattr(row, name, value)
    return row


# --- reading and marking --------------------------------------------------------------------------
def notice_out(n: Notice) -> NoticeOut:
    return NoticeOut(id=n.id, kind=n.kind, title=n.title, body=n.body, link=n.link, student_id=n.student_id,
                     lesson_id=n.lesson_id, created_at=n.created_at, read_at=n.read_at)


async def notices_of(session: AsyncSession, user_id: int, *, unread_only: bool = False, limit: int = 50) -> NoticesOut:
    query = select(Notice).where(Notice.user_id == user_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    items = await session.scalars(query.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit))
    unread = await session.scalar(select(func.count()).select_from(Notice)
                                  .where(Notice.user_id == user_id, Notice.read_at.is_(None)))
    return NoticesOut(unread=unread or 0, items=[notice_out(n) for n in items])


async def mark_read(session: AsyncSession, user_id: int, notice_ids: list[int] | None, now: datetime) -> int:
    """Mark the user's own notices read (all of them when `notice_ids` is None); others' are untouched."""
    query = update(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None))
    if notice_ids is not None:
        query = query.where(Notice.id.in_(notice_ids))
    result = await session.execute(query.values(read_at=now))
    return result.rowcount or 0  # type: ignore[attr-defined]


# --- writing notices ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ParentOf:
    parent_id: int
    student_id: int
    email: str | None


def _parents_query(student_ids: Any) -> Any:
    return (select(ParentLink.parent_id, ParentLink.student_id, ParentContact.email)
            .outerjoin(ParentContact, ParentContact.parent_id == ParentLink.parent_id)
            .where(ParentLink.student_id.in_(student_ids)))


async def parents_of(session: AsyncSession, student_ids: list[int]) -> list[ParentOf]:
    rows = await session.execute(_parents_query(student_ids))
    return [ParentOf(*row) for row in rows]


def notice_for(school_id: int, parent: ParentOf, kind: str, title: str, body: str, link: str | None,
               lesson_id: int | None, mail: bool, now: datetime) -> Notice:
    return Notice(school_id=school_id, user_id=parent.parent_id, kind=kind, title=title[:300], body=body, link=link,
                  student_id=parent.student_id, lesson_id=lesson_id, created_at=now,
                  email_state="pending" if mail and parent.email else None, email_tries=0, email_next_at=now)


def _local(at: datetime, zone: str) -> datetime:
    try:
        return at.astimezone(ZoneInfo(zone))
    except (KeyError, ValueError):
        return at


def when_text(lesson: Lesson, zone: str) -> str:
    """The lesson's day and times in the school's time zone, e.g. "30/11/2026 07:00–07:45"."""
    starts, ends = _local(lesson.starts_at, zone), _local(lesson.ends_at, zone)
    return f"{starts:%d/%m/%Y %H:%M}–{ends:%H:%M}"


CHANGE_VI = {"move": "Đổi lịch", "cancel": "Nghỉ học (hủy tiết)", "makeup": "Dạy bù", "substitute": "Dạy thay"}
CHANGE_EN = {"move": "Moved", "cancel": "Cancelled", "makeup": "Make-up lesson", "substitute": "Substitute teacher"}


def _lesson_change_notices(session: Session, change: LessonChange) -> None:
    """Runs inside the flush of the unit of work that writes the change (sync, no awaits)."""
    lesson = session.get(Lesson, change.lesson_id)
    if lesson is None:
        return
    cls = session.get(SchoolClass, lesson.class_id)
    subject = session.get(Subject, lesson.subject_id)
    students = select(ClassStudent.student_id).where(ClassStudent.class_id == lesson.class_id)
    parents = [ParentOf(*row) for row in session.execute(_parents_query(students))]
    if not parents:
        return
    smtp = session.get(SchoolSmtp, lesson.school_id)
    mail = smtp is not None and smtp.enabled
    what = f"{subject.name if subject else ''} · {cls.name if cls else ''}"
    title = f"{CHANGE_VI.get(change.kind, change.kind)}: {what} / {CHANGE_EN.get(change.kind, change.kind)}"
    school = session.get(School, lesson.school_id)
    body = f"{lesson.title}\n{when_text(lesson, school.timezone if school else 'UTC')}\n{change.note or ''}".strip()
    now = change.at or utcnow()
    for parent in parents:
        session.add(notice_for(lesson.school_id, parent, "lesson_change", title, body, f"/parent#child-{parent.student_id}",
                               lesson.id, mail, now))


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, flush_context: Any, instances: Any) -> None:
    changes = [obj for obj in session.new if isinstance(obj, LessonChange)]
    if not changes:
        return
    with session.no_autoflush:
        for change in changes:
            _lesson_change_notices(session, change)


async def _tell_parents(session: AsyncSession, school_id: int, class_id: int, subject_id: int, students: list[int],
                        student_names: dict[int, str], kind: str, label: tuple[str, str], body: str,
                        lesson_id: int | None, now: datetime) -> int:
    """A notice to each parent of `students` ("<label>: child — subject · class / <English label>"),
    e-mailed where the school's SMTP is on. Returns how many were written."""
    if not students:
        return 0
    cls = await session.get(SchoolClass, class_id)
    subject = await session.get(Subject, subject_id)
    smtp = await session.get(SchoolSmtp, school_id)
    mail = smtp is not None and smtp.enabled
    count = 0
    for parent in await parents_of(session, students):
        name = student_names.get(parent.student_id, "")
        title = f"{label[0]}: {name} — {subject.name if subject else ''} · {cls.name if cls else ''} / {label[1]}"
        session.add(notice_for(school_id, parent, kind, title, body, f"/parent#child-{parent.student_id}",
                               lesson_id, mail, now))
        count += 1
    return count


async def _school_zone(session: AsyncSession, school_id: int) -> str:
    school = await session.get(School, school_id)
    return school.timezone if school else "UTC"


async def absence_notices(session: AsyncSession, lesson: Lesson, absent: list[int], student_names: dict[int, str],
                          now: datetime) -> int:
    """Notices to the parents of the absent students of a lesson that is over; marks the lesson told."""
    session.add(AbsenceSweep(lesson_id=lesson.id, at=now))
    if not absent:
        return 0
    body = f"{lesson.title}\n{when_text(lesson, await _school_zone(session, lesson.school_id))}"
    return await _tell_parents(session, lesson.school_id, lesson.class_id, lesson.subject_id, absent, student_names,
                               "absence", ("Vắng học", "Absent"), body, lesson.id, now)


async def missing_work_notices(session: AsyncSession, assignment: Assignment, missing: list[int],
                               student_names: dict[int, str], now: datetime) -> int:
    """Notices to the parents of the students who handed nothing in by the assignment's due time;
    marks the assignment told."""
    session.add(MissingWorkSweep(assignment_id=assignment.id, at=now))
    if not missing:
        return 0
    due = _local(assignment.due_at, await _school_zone(session, assignment.school_id))
    body = f"{assignment.title}\nHạn nộp / Due: {due:%d/%m/%Y %H:%M}"
    return await _tell_parents(session, assignment.school_id, assignment.class_id, assignment.subject_id, missing,
                               student_names, "missing_work", ("Chưa nộp bài", "Work not handed in"), body, None,
                               now)


# --- e-mail --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outgoing:
    notice_id: int
    to: str
    subject: str
    body: str
    smtp: SmtpOut
    password: str


async def _pending(db: Database, now: datetime, limit: int) -> list[Outgoing]:
    async with db.session() as session:
        rows = await session.execute(
            select(Notice, ParentContact.email, SchoolSmtp)
            .join(ParentContact, ParentContact.parent_id == Notice.user_id)
            .join(SchoolSmtp, SchoolSmtp.school_id == Notice.school_id)
            .where(Notice.email_state == "pending", Notice.email_next_at <= now)
            .order_by(Notice.id).limit(limit))
        return [Outgoing(n.id, email, n.title, f"{n.title}\n\n{n.body}\n", smtp_out(smtp), smtp.smtp_password)
                for n, email, smtp in rows if email and smtp.enabled]


async def _send(item: Outgoing) -> None:
    message = EmailMessage()
    message["From"] = item.smtp.smtp_from or item.smtp.smtp_user
    message["To"] = item.to
    message["Subject"] = item.subject
    message.set_content(item.body)
    await aiosmtplib.send(message, hostname=item.smtp.smtp_host, port=item.smtp.smtp_port,
                          username=item.smtp.smtp_user or None, password=item.password or None,
                          use_tls=item.smtp.smtp_tls == "tls", start_tls=item.smtp.smtp_tls == "starttls",
                          timeout=20)


async def send_pending(db: Database, now: datetime, *, limit: int = 50) -> tuple[int, int]:
    """Send the e-mails due now; a failure is logged and tried again later (a few times). Returns
    (sent, failed) of this run. No connection is held while talking to the mail server."""
    sent = failed = 0
    for item in await _pending(db, now, limit):
        try:
            await _send(item)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            log.warning("notice %s: e-mail to parent not sent: %s", item.notice_id, exc)
            failed += 1

            async def retry(session: AsyncSession, notice_id: int = item.notice_id) -> None:
                notice = await session.get(Notice, notice_id)
                if notice is not None:
                    notice.email_tries += 1
                    notice.email_state = "failed" if notice.email_tries >= MAX_EMAIL_TRIES else "pending"
                    notice.email_next_at = now + timedelta(minutes=2 ** notice.email_tries)

            await db.writer.write(retry)
            continue
        sent += 1

        async def done(session: AsyncSession, notice_id: int = item.notice_id) -> None:
            await session.execute(update(Notice).where(Notice.id == notice_id)
                                  .values(email_state="sent", email_tries=Notice.email_tries + 1))

        await db.writer.write(done)
    return sent, failed

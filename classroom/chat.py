"""The lesson's chat: its table, and the rules every way of posting shares (what a text may be,
who may write to whom, who sees which message, how often one may write), then the records:
storing, deleting, reading a lesson's messages, and the rows of its download.

A message is public (`recipient_id` None) in a room (the main room, or a breakout group), or
private between two people. Texts are plain text, stored as typed (after the cleaning below)."""
from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from classroom.activity import LessonActivity
from school.models import Role, User
from storage.database import Base
from storage.types import UTCDateTime
from storage.writer import Writer

MAIN = "main"
MAX_TEXT = 1000
"""Characters of a message, after cleaning."""
MAX_RAW_TEXT = 2000
"""Characters a client may send before cleaning (control characters and outer spaces included)."""
RATE_LIMIT = 12
RATE_PERIOD = 10.0
"""At most RATE_LIMIT messages per RATE_PERIOD seconds per person."""
KEPT_TEXT = frozenset("\n\t")


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(Integer, index=True)
    sender_id: Mapped[int] = mapped_column(Integer)
    recipient_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """None: a public message of `room`; else a private one, to this user."""
    room: Mapped[str] = mapped_column(String(64))
    """main, or the breakout group's id (a private message: the sender's room when they wrote)."""
    text: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class InvalidText(ValueError):
    """A text that cannot be a message (empty, or too long), with the reason."""


@dataclass
class ChatRecord:
    """One message as the lesson and the API handle it (names resolved)."""

    id: int
    sender_id: int
    sender_name: str
    sender_role: str
    """teacher, student or observer (an administrator)."""
    recipient_id: int | None
    room: str
    text: str
    created_at: datetime
    deleted_at: datetime | None = None
    deleted_by: int | None = None

    @property
    def private(self) -> bool:
        return self.recipient_id is not None


@dataclass(frozen=True)
class Viewer:
    """Who reads: staff (the lesson's teacher, an administrator) see every message; a student sees
    the main room's public messages, those of the group they are in (`room`), and their own."""

    user_id: int
    staff: bool
    room: str = MAIN


# --- rules ---------------------------------------------------------------------------------------
def clean_text(raw: str) -> str:
    """The text as stored: control characters other than newline and tab removed (a lone
    surrogate too), then trimmed; 1 to MAX_TEXT characters, else InvalidText."""
    text = "".join(ch for ch in raw if ch in KEPT_TEXT or unicodedata.category(ch) not in ("Cc", "Cs")).strip()
    if not text:
        raise InvalidText("text: write something")
    if len(text) > MAX_TEXT:
        raise InvalidText(f"text: at most {MAX_TEXT} characters")
    return text


def role_in_lesson(user_id: int, user_role: Role | str, teacher_id: int) -> str:
    """teacher (the lesson's), student, or observer (an administrator)."""
    if user_id == teacher_id:
        return "teacher"
    return "student" if Role(user_role) is Role.student else "observer"


def private_refusal(sender_role: str, recipient_role: str, students_may: bool) -> str | None:
    """Why this private message may not be sent (None: it may). A student writes to the teacher (or an
    observer); to another student only while the teacher allows it; staff write to anyone."""
    if sender_role != "student" or recipient_role != "student":
        return None
    if students_may:
        return None
    return "private messages between students are turned off by the teacher"


def visible(record: ChatRecord, viewer: Viewer) -> bool:
    if viewer.staff or viewer.user_id in (record.sender_id, record.recipient_id):
        return True
    return not record.private and record.room in (MAIN, viewer.room)


def view(record: ChatRecord, staff: bool) -> dict[str, Any]:
    """The wire's ChatMessage: a deleted message's text is blanked for students; staff get it with
    who deleted it and when."""
    out: dict[str, Any] = {
        "id": record.id, "from": record.sender_id, "from_name": record.sender_name, "from_role": record.sender_role,
        "to": record.recipient_id, "room": record.room,
        "text": record.text if staff or record.deleted_at is None else "",
        "at": record.created_at.isoformat(), "deleted": record.deleted_at is not None,
    }
    if staff:
        out["deleted_by"] = record.deleted_by
        out["deleted_at"] = record.deleted_at.isoformat() if record.deleted_at else None
    return out


class RateWindow:
    """At most `limit` events per `period` seconds per key (a sliding window). `take` returns None
    when one more is allowed (and counts it), else the seconds until one is."""

    def __init__(self, limit: int = RATE_LIMIT, period: float = RATE_PERIOD) -> None:
        self.limit = limit
        self.period = period
        self._times: dict[Any, deque[float]] = {}

    def take(self, key: Any, now: float) -> float | None:
        times = self._times.setdefault(key, deque())
        while times and now - times[0] >= self.period:
            times.popleft()
        if len(times) >= self.limit:
            return max(0.001, self.period - (now - times[0]))
        times.append(now)
        return None


def wait_after(sent: Sequence[datetime], now: datetime, limit: int = RATE_LIMIT,
               period: float = RATE_PERIOD) -> float | None:
    """The same rule over stored times (oldest first, those of the last `period` seconds): None
    when one more is allowed, else the seconds until one is."""
    recent = [at for at in sent if (now - at).total_seconds() < period]
    if len(recent) < limit:
        return None
    return max(0.001, period - (now - recent[-limit]).total_seconds())


# --- records -------------------------------------------------------------------------------------
async def store(writer: Writer, *, school_id: int, lesson_id: int, sender_id: int, sender_name: str,
                sender_role: str, recipient_id: int | None, room: str, text: str,
                at: datetime | None = None) -> ChatRecord:
    """Write one message; durable when this returns."""
    at = at or datetime.now(UTC)
    row = ChatMessage(school_id=school_id, lesson_id=lesson_id, sender_id=sender_id, recipient_id=recipient_id,
                      room=room, text=text, created_at=at)

    async def add(session: AsyncSession) -> int:
        session.add(row)
        await session.flush()
        return row.id

    message_id = await writer.write(add)
    return ChatRecord(message_id, sender_id, sender_name, sender_role, recipient_id, room, text, at)


@dataclass(frozen=True)
class Deleted:
    """A message marked deleted: whose audience to tell, and by whom and when (the first deletion's)."""

    id: int
    sender_id: int
    recipient_id: int | None
    room: str
    deleted_at: datetime
    deleted_by: int


async def delete(writer: Writer, *, lesson_id: int, message_id: int, by_id: int,
                 at: datetime | None = None) -> Deleted | None:
    """Mark a message of this lesson deleted (it stays, with who deleted it and when); None if the
    lesson has no such message. Deleting again changes nothing."""
    at = at or datetime.now(UTC)

    async def mark(session: AsyncSession) -> Deleted | None:
        row = await session.get(ChatMessage, message_id)
        if row is None or row.lesson_id != lesson_id:
            return None
        if row.deleted_at is None:
            row.deleted_at, row.deleted_by = at, by_id
        assert row.deleted_at is not None and row.deleted_by is not None
        return Deleted(row.id, row.sender_id, row.recipient_id, row.room, row.deleted_at, row.deleted_by)

    return await writer.write(mark)


async def _records(session: AsyncSession, rows: Iterable[ChatMessage], teacher_id: int) -> list[ChatRecord]:
    rows = list(rows)
    ids = {r.sender_id for r in rows}
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    out = []
    for r in rows:
        user = users.get(r.sender_id)
        out.append(ChatRecord(r.id, r.sender_id, user.full_name if user else "?",
                              role_in_lesson(r.sender_id, user.role if user else Role.admin, teacher_id),
                              r.recipient_id, r.room, r.text, r.created_at, r.deleted_at, r.deleted_by))
    return out


async def recent(session: AsyncSession, lesson_id: int, teacher_id: int, limit: int) -> list[ChatRecord]:
    """The lesson's last `limit` messages, oldest first."""
    rows = await session.scalars(select(ChatMessage).where(ChatMessage.lesson_id == lesson_id)
                                 .order_by(ChatMessage.id.desc()).limit(limit))
    return list(reversed(await _records(session, rows, teacher_id)))


async def page(session: AsyncSession, lesson_id: int, teacher_id: int, viewer: Viewer, before: int | None,
               limit: int) -> tuple[list[ChatRecord], int | None]:
    """Up to `limit` messages `viewer` may see, older than message `before` (None: the newest),
    oldest first; and the id to ask `before` for the page before it (None: no more)."""
    query = select(ChatMessage).where(ChatMessage.lesson_id == lesson_id)
    if not viewer.staff:
        query = query.where(or_(
            ChatMessage.recipient_id.is_(None) & ChatMessage.room.in_({MAIN, viewer.room}),
            ChatMessage.sender_id == viewer.user_id, ChatMessage.recipient_id == viewer.user_id))
    if before is not None:
        query = query.where(ChatMessage.id < before)
    rows = list(await session.scalars(query.order_by(ChatMessage.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    records = list(reversed(await _records(session, rows[:limit], teacher_id)))
    return records, (records[0].id if more and records else None)


async def everything(session: AsyncSession, lesson_id: int, teacher_id: int) -> list[ChatRecord]:
    rows = await session.scalars(select(ChatMessage).where(ChatMessage.lesson_id == lesson_id)
                                 .order_by(ChatMessage.id))
    return await _records(session, rows, teacher_id)


async def sent_since(session: AsyncSession, lesson_id: int, sender_id: int, since: datetime) -> list[datetime]:
    """When this person wrote in this lesson since `since`, oldest first (the rate rule over REST)."""
    return list(await session.scalars(
        select(ChatMessage.created_at).where(ChatMessage.lesson_id == lesson_id, ChatMessage.sender_id == sender_id,
                                             ChatMessage.created_at >= since).order_by(ChatMessage.id)))


async def blocked_users(session: AsyncSession, lesson_id: int) -> set[int]:
    """Students whose chat the lesson's staff stopped (and did not turn on again), from the activity log."""
    last = (select(LessonActivity.user_id, func.max(LessonActivity.id).label("last"))
            .where(LessonActivity.lesson_id == lesson_id,
                   LessonActivity.kind.in_(("chat_blocked", "chat_unblocked")))
            .group_by(LessonActivity.user_id).subquery())
    rows = await session.scalars(select(LessonActivity.user_id).join(last, LessonActivity.id == last.c.last)
                                 .where(LessonActivity.kind == "chat_blocked"))
    return {user_id for user_id in rows if user_id is not None}


# --- the download --------------------------------------------------------------------------------
HEADER = ["Thời gian", "Phòng", "Người gửi", "Người nhận", "Nội dung", "Đã xoá", "Người xoá"]


def room_label(room: str) -> str:
    return "Cả lớp" if room == MAIN else f"Nhóm {room}"


async def export_table(session: AsyncSession, records: Sequence[ChatRecord],
                       zone: ZoneInfo) -> tuple[list[str], list[list[object]]]:
    """Every message (deleted ones with their text), times in the school's time zone."""
    ids = {r.recipient_id for r in records if r.recipient_id} | {r.deleted_by for r in records if r.deleted_by}
    names: dict[int, str] = {}
    if ids:
        names = {user_id: name for user_id, name in await session.execute(
            select(User.id, User.full_name).where(User.id.in_(ids)))}
    rows: list[list[object]] = [[
        r.created_at.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S"), room_label(r.room), r.sender_name,
        names.get(r.recipient_id, "?") if r.recipient_id else "", r.text, "Có" if r.deleted_at else "",
        names.get(r.deleted_by, "?") if r.deleted_by else ""] for r in records]
    return HEADER, rows

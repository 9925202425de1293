"""A lesson's chat, questions and polls with their times, as the recording player replays them beside
the lesson video: each viewer gets only what they could see in the lesson."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from classroom.chat import MAIN, ChatMessage
from classroom.polls import Poll, record
from classroom.questions import lesson_questions
from school.models import User


async def replay_messages(session: AsyncSession, lesson_id: int, viewer_id: int, staff: bool) -> list[dict[str, Any]]:
    """The lesson's chat, oldest first. Staff: every message (a deleted one marked, with its text).
    A student: the main room's public messages and their own private ones, none deleted (a
    group's chat stays with the group)."""
    c = ChatMessage
    query = select(c.id, c.sender_id, c.recipient_id, c.room, c.text, c.created_at, c.deleted_at, c.deleted_by,
                   User.full_name, User.role).outerjoin(User, User.id == c.sender_id).where(
        c.lesson_id == lesson_id)
    if not staff:
        query = query.where(c.deleted_at.is_(None), or_(
            and_(c.recipient_id.is_(None), c.room == MAIN),
            c.sender_id == viewer_id, c.recipient_id == viewer_id))
    out = []
    for row in await session.execute(query.order_by(c.created_at, c.id)):
        message = {"id": row.id, "at": row.created_at.isoformat(), "from": row.sender_id,
                   "from_name": row.full_name or "", "from_role": getattr(row.role, "value", row.role) or "",
                   "to": row.recipient_id, "room": row.room, "text": row.text, "deleted": row.deleted_at is not None}
        if staff and row.deleted_at is not None:
            message["deleted_at"] = row.deleted_at.isoformat()
            message["deleted_by"] = row.deleted_by
        out.append(message)
    return out


async def replay_questions(session: AsyncSession, lesson_id: int, viewer_id: int,
                           staff: bool) -> list[dict[str, Any]]:
    """The lesson's questions as asked (hidden ones only to staff and their author), oldest first."""
    return [q.describe() for q in await lesson_questions(session, lesson_id) if q.visible_to(viewer_id, staff)]


async def replay_polls(session: AsyncSession, lesson_id: int, staff: bool) -> list[dict[str, Any]]:
    """The lesson's polls that were opened, in the order they opened; the correct answer to students
    only once published."""
    out = []
    for row in await session.scalars(select(Poll).where(Poll.lesson_id == lesson_id, Poll.opened_at.is_not(None))
                                     .order_by(Poll.opened_at, Poll.id)):
        poll = record(row)
        out.append({"id": poll.id, "question": poll.question, "kind": poll.kind, "options": poll.options,
                    "points": poll.points, "status": poll.status,
                    "opened_at": poll.opened_at.isoformat() if poll.opened_at else None,
                    "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
                    "published": poll.published,
                    "correct": poll.correct if staff or poll.published else None})
    return out

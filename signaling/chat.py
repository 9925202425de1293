"""The lesson's chat, live: public messages of the main room and of each breakout group, private
messages, and the staff's deleting and blocking (docs/protocol.md, "Chat"). The rules live in
classroom/chat.py; this module keeps the live state and runs the steps in order: check (an
action), write (outside, durable), then deliver (an action, to whoever is there then).

History: the feature keeps the lesson's recent messages in memory (`KEPT`), so a joining
participant's `welcome` (an action, which never waits) has them. Messages of an earlier room of
the same lesson are read from the database by a task started with the feature; whoever joined
before that read finished is sent `chat_history` when it has."""
from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from classroom import chat as rules
from classroom.activity import record_activity
from classroom.chat import MAIN, ChatRecord, Deleted, InvalidText, Viewer
from signaling.errors import BadMessage, Forbidden, LessonClosed, NotFound, RateLimited
from signaling.features import LessonFeature
from signaling.messages import Message, ShortId

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant

log = logging.getLogger(__name__)
KEPT = 500
"""Messages of the lesson kept in memory (the newest)."""
HISTORY = 100
"""Messages a participant finds on joining: the last this many they may see."""
UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ChatSend(Message):
    type: Literal["chat"]
    text: Annotated[str, Field(max_length=rules.MAX_RAW_TEXT)]
    to: UserId | None = None
    room: ShortId | None = None
    """Staff: the group (or main) a public message goes to; default, where they are."""


class ChatDelete(Message):
    type: Literal["chat_delete"]
    message_id: UserId


class ChatBlock(Message):
    type: Literal["chat_block"]
    user_id: UserId
    blocked: bool


class ChatPolicy(Message):
    type: Literal["chat_policy"]
    private_between_students: bool


MESSAGES: tuple[type, ...] = (ChatSend, ChatDelete, ChatBlock, ChatPolicy)


@dataclass(frozen=True)
class Sender:
    """Who writes: a participant of the lesson page, or a member posting over REST."""

    user_id: int
    full_name: str
    role: str
    """teacher, student or observer."""
    participant: Participant | None = None
    """The session it came from (it gets the reply, not the event)."""

    @property
    def staff(self) -> bool:
        return self.role != "student"


class LessonChat(LessonFeature):
    name = "chat"

    def __init__(self, lesson: LessonRoom) -> None:
        super().__init__(lesson)
        self.records: dict[int, ChatRecord] = {}
        """The lesson's newest messages, by id, oldest first."""
        self.blocked: set[int] = set()
        self.students_may_write_privately = False
        self.window = rules.RateWindow()
        self.loaded = lesson.db is None
        """The messages of the lesson's earlier rooms (and who is blocked) have been read."""
        self._waiting: set[str] = set()
        """Participants who joined before they were: they get `chat_history` when they are."""
        self._blocks_changed: set[int] = set()
        self._ids = itertools.count(1)
        """Message ids of a lesson that keeps no records."""
        self._load: asyncio.Task[None] | None = None
        if lesson.db is not None:
            self._load = asyncio.ensure_future(self._read_earlier())

    # --- what a participant sees (actions) ---------------------------------------------------
    def viewer(self, participant: Participant) -> Viewer:
        return Viewer(participant.user_id, participant.staff, participant.room)

    def history(self, participant: Participant) -> list[dict[str, Any]]:
        viewer = self.viewer(participant)
        seen = [r for r in self.records.values() if rules.visible(r, viewer)][-HISTORY:]
        return [rules.view(r, viewer.staff) for r in seen]

    def welcome(self, participant: Participant) -> dict[str, Any]:
        if not self.loaded:
            self._waiting.add(participant.id)
        state: dict[str, Any] = {
            "messages": self.history(participant), "blocked": participant.user_id in self.blocked,
            "policy": self._policy(), "complete": self.loaded}
        if participant.staff:
            state["blocked_users"] = sorted(self.blocked)
        return state

    def left(self, participant: Participant) -> None:
        self._waiting.discard(participant.id)

    def moved(self, participant: Participant, old_room: str) -> None:
        """A student in another room finds that room's chat."""
        if not participant.staff:
            participant.send({"type": "chat_history", "messages": self.history(participant)})

    def close(self) -> None:
        if self._load is not None:
            self._load.cancel()

    def _policy(self) -> dict[str, bool]:
        return {"private_between_students": self.students_may_write_privately}

    # --- the lesson's earlier messages ------------------------------------------------------
    async def _read_earlier(self) -> None:
        info, db = self.lesson.lesson, self.lesson.db
        assert db is not None
        records: list[ChatRecord] = []
        blocked: set[int] = set()
        try:
            async with db.session() as session:
                records = await rules.recent(session, info.id, info.teacher_id, KEPT)
                blocked = await rules.blocked_users(session, info.id)
        except Exception:
            log.exception("lesson %s: the chat's earlier messages could not be read", info.id)
        self.lesson.actor.post(lambda: self._have_earlier(records, blocked))

    def _have_earlier(self, records: list[ChatRecord], blocked: set[int]) -> None:
        for record in records:
            self.records.setdefault(record.id, record)
        self.records = dict(sorted(self.records.items())[-KEPT:])
        restored = blocked - self._blocks_changed - self.blocked
        self.blocked |= restored
        self.loaded = True
        for participant in self.lesson.participants.values():
            if participant.id in self._waiting:
                participant.send({"type": "chat_history", "messages": self.history(participant)})
            for user_id in restored:
                if participant.staff or participant.user_id == user_id:
                    participant.send({"type": "chat_blocked", "user_id": user_id, "blocked": True})
        self._waiting.clear()

    # --- posting ---------------------------------------------------------------------------------
    async def post(self, sender: Sender, text: str, to: int | None = None, room: str | None = None) -> ChatRecord:
        """Check (an action), write (durable), deliver (an action): the message as stored."""
        try:
            text = rules.clean_text(text)
        except InvalidText as exc:
            raise BadMessage(str(exc)) from None
        target = await self.lesson.act(lambda: self._admit(sender, to, room))
        info, db = self.lesson.lesson, self.lesson.db
        if db is not None:
            record = await rules.store(db.writer, school_id=info.school_id, lesson_id=info.id,
                                       sender_id=sender.user_id, sender_name=sender.full_name,
                                       sender_role=sender.role, recipient_id=to, room=target, text=text)
        else:
            record = ChatRecord(next(self._ids), sender.user_id, sender.full_name, sender.role, to, target, text,
                                datetime.now(UTC))
        try:
            return await self.lesson.act(lambda: self._deliver(record, sender.participant))
        except LessonClosed:  # stored, and nobody is left to tell
            return record

    def _where(self, sender: Sender) -> str:
        if sender.participant is not None and not sender.participant.left:
            return sender.participant.room
        present = [p for p in self.lesson.participants.values() if p.user_id == sender.user_id and p.via == "ws"]
        if present:
            return present[0].room
        return self.lesson.breakouts.assigned(sender.user_id) if not sender.staff else MAIN

    def _role_of(self, user_id: int) -> str | None:
        info = self.lesson.lesson
        if user_id == info.teacher_id:
            return "teacher"
        if user_id in info.student_ids:
            return "student"
        if any(p.user_id == user_id and p.role == "observer" for p in self.lesson.participants.values()):
            return "observer"
        return None

    def _admit(self, sender: Sender, to: int | None, room: str | None) -> str:
        """May `sender` write this now? The room it goes to (a private one: where the sender is)."""
        if not sender.staff and sender.user_id in self.blocked:
            raise Forbidden("the teacher has stopped your chat")
        here = self._where(sender)
        if to is not None:
            if room is not None:
                raise BadMessage("room: a private message goes to a person, not a room")
            if to == sender.user_id:
                raise BadMessage("to: write to someone else")
            recipient_role = self._role_of(to)
            if recipient_role is None:
                raise NotFound(f"user {to} is not in this lesson")
            refusal = rules.private_refusal(sender.role, recipient_role, self.students_may_write_privately)
            if refusal is not None:
                raise Forbidden(refusal)
            target = here
        elif room is None or room == here:
            target = here
        elif not sender.staff:
            raise Forbidden("students write in the room they are in")
        elif room != MAIN and room not in self.lesson.breakouts.groups:
            raise NotFound(f"no group {room}")
        else:
            target = room
        wait = self.window.take(sender.user_id, asyncio.get_running_loop().time())
        if wait is not None:
            raise RateLimited(f"at most {rules.RATE_LIMIT} messages in {rules.RATE_PERIOD:g} seconds", round(wait, 3))
        return target

    def _deliver(self, record: ChatRecord, origin: Participant | None) -> ChatRecord:
        self.records[record.id] = record
        while len(self.records) > KEPT:
            del self.records[next(iter(self.records))]
        for participant in self._audience(record.sender_id, record.recipient_id, record.room):
            if participant is not origin:
                participant.send({"type": "chat", "message": rules.view(record, participant.staff)})
        return record

    def _audience(self, sender_id: int, recipient_id: int | None, room: str) -> list[Participant]:
        """Public: everyone in the room, and staff; private: the two people's sessions."""
        people = list(self.lesson.participants.values())
        if recipient_id is None:
            return [p for p in people if p.room == room or p.staff]
        return [p for p in people if p.user_id in (sender_id, recipient_id)]

    # --- staff -----------------------------------------------------------------------------------
    async def delete(self, by: Sender, message_id: int) -> dict[str, Any]:
        _require_staff(by, "delete messages")
        db = self.lesson.db
        if db is not None:
            deleted = await rules.delete(db.writer, lesson_id=self.lesson.lesson.id, message_id=message_id,
                                         by_id=by.user_id)
        else:
            deleted = await self.lesson.act(lambda: self._deleted_in_memory(message_id, by.user_id))
        if deleted is None:
            raise NotFound(f"no message {message_id} in this lesson")
        return await self.lesson.act(lambda: self._tell_deleted(deleted, by.participant))

    def _deleted_in_memory(self, message_id: int, by_id: int) -> Deleted | None:
        record = self.records.get(message_id)
        if record is None:
            return None
        at = record.deleted_at or datetime.now(UTC)
        return Deleted(record.id, record.sender_id, record.recipient_id, record.room, at,
                       record.deleted_by or by_id)

    def _tell_deleted(self, deleted: Deleted, origin: Participant | None) -> dict[str, Any]:
        record = self.records.get(deleted.id)
        if record is not None:
            record.deleted_at, record.deleted_by = deleted.deleted_at, deleted.deleted_by
        for participant in self._audience(deleted.sender_id, deleted.recipient_id, deleted.room):
            if participant is not origin:
                participant.send({"type": "chat_deleted", "message_id": deleted.id})
        return {"message_id": deleted.id, "deleted_by": deleted.deleted_by,
                "deleted_at": deleted.deleted_at.isoformat()}

    async def block(self, by: Sender, user_id: int, blocked: bool) -> dict[str, Any]:
        _require_staff(by, "stop a student's chat")
        if user_id not in self.lesson.lesson.student_ids:
            raise NotFound(f"user {user_id} is not a student of this class")
        changed = await self.lesson.act(lambda: (user_id in self.blocked) != blocked)
        info, db = self.lesson.lesson, self.lesson.db
        if changed and db is not None:
            await record_activity(db.writer, school_id=info.school_id, lesson_id=info.id, user_id=user_id,
                                  kind="chat_blocked" if blocked else "chat_unblocked", by_id=by.user_id)
        return await self.lesson.act(lambda: self._set_blocked(user_id, blocked))

    def _set_blocked(self, user_id: int, blocked: bool) -> dict[str, Any]:
        self._blocks_changed.add(user_id)
        if blocked:
            self.blocked.add(user_id)
        else:
            self.blocked.discard(user_id)
        event = {"type": "chat_blocked", "user_id": user_id, "blocked": blocked}
        for participant in self.lesson.participants.values():
            if participant.staff or participant.user_id == user_id:
                participant.send(event)
        return {"user_id": user_id, "blocked": blocked}

    def set_policy(self, by: Sender, students_may: bool) -> dict[str, Any]:
        """An action: private messages between students on or off, told to everyone."""
        _require_staff(by, "change who may write privately")
        self.students_may_write_privately = students_may
        self.lesson.broadcast({"type": "chat_policy", **self._policy()})
        return self._policy()


FEATURE = LessonChat


def _require_staff(who: Sender, what: str) -> None:
    if not who.staff:
        raise Forbidden(f"only the lesson's teacher or an observer may {what}")


def sender_of(me: Participant) -> Sender:
    return Sender(me.user_id, me.full_name, me.role, me)


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any]:
    """The chat messages of the lesson page (docs/protocol.md, "Chat")."""
    chat: LessonChat = lesson.features["chat"]  # type: ignore[assignment]
    sender = sender_of(me)
    if isinstance(message, ChatSend):
        record = await chat.post(sender, message.text, message.to, message.room)
        return {"type": "ok", "message": rules.view(record, me.staff)}
    if isinstance(message, ChatDelete):
        return {"type": "ok", **await chat.delete(sender, message.message_id)}
    if isinstance(message, ChatBlock):
        return {"type": "ok", **await chat.block(sender, message.user_id, message.blocked)}
    if isinstance(message, ChatPolicy):
        return {"type": "ok", "policy": await lesson.act(lambda: chat.set_policy(sender, message.private_between_students))}
    raise TypeError(type(message).__name__)  # pragma: no cover (the registry sends only these)

"""The lesson's moderation and its end: the teacher (or an observing administrator) mutes every
student's microphone, turns their cameras off, locks the room (students arriving wait to be
admitted), removes a student (their next join waits too), and ends the lesson. The room also
closes by itself at `closes_at` (the scheduled end plus the school's grace, or later by the
teacher's extension), after warnings. Every step is recorded in the lesson's activity log, and
what must outlive the room (a removal, the end, an extension) is durable before anyone is told."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from classroom import moderation as records
from classroom.activity import record_activity
from signaling.errors import Forbidden, LessonEnded, NotFound, SignalingError
from signaling.features import LessonFeature
from signaling.messages import Message

if TYPE_CHECKING:
    from signaling.admission import Admission
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant

log = logging.getLogger(__name__)
UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Waiting(SignalingError):
    """Sent by a student still in the waiting room: only `ping` and `leave` are answered."""

    code = "waiting"


# --- messages -----------------------------------------------------------------------------------
class Moderate(Message):
    type: Literal["moderate"]
    action: Literal["mute_all", "cameras_off"]


class Lock(Message):
    type: Literal["lock"]
    locked: bool


class Admit(Message):
    type: Literal["admit"]
    user_id: UserId
    admit: bool


class Remove(Message):
    type: Literal["remove"]
    user_id: UserId


class EndLesson(Message):
    type: Literal["end_lesson"]


class Extend(Message):
    type: Literal["extend"]
    minutes: Annotated[int, Field(ge=records.EXTEND_MIN, le=records.EXTEND_MAX)]


MESSAGES: tuple[type, ...] = (Moderate, Lock, Admit, Remove, EndLesson, Extend)


# --- state --------------------------------------------------------------------------------------
@dataclass
class WaitingEntry:
    participant: Participant
    since: datetime
    admitted: asyncio.Future[list[Participant] | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    """Set when the teacher decides: the replaced older sessions (admitted), or None (turned away)."""

    def describe(self) -> dict[str, Any]:
        return {"user_id": self.participant.user_id, "full_name": self.participant.full_name,
                "since": self.since.isoformat()}


class Moderation(LessonFeature):
    name = "moderation"

    def __init__(self, lesson: LessonRoom) -> None:
        super().__init__(lesson)
        self.locked = False
        self.waiting: dict[str, WaitingEntry] = {}
        """Students waiting to be admitted, by participant id, in order of arrival."""
        self.seen: set[int] = set()
        """Users who have been in the room since it opened (a locked room lets them back in)."""
        self.banned: set[int] = set()
        """Students removed while this room is open."""
        self.lifted: set[int] = set()
        """Students admitted after a removal (their admission may still say banned)."""
        self._timer: asyncio.Task[None] | None = None

    # --- the waiting room (actions) -------------------------------------------------------------
    def is_banned(self, user_id: int, banned_at_admission: bool = False) -> bool:
        return user_id in self.banned or (banned_at_admission and user_id not in self.lifted)

    def must_wait(self, admission: Admission) -> bool:
        if admission.role != "student":
            return False
        if self.is_banned(admission.user_id, admission.banned):
            return True
        return self.locked and admission.user_id not in self.seen

    def wait(self, participant: Participant, admission: Admission) -> None:
        for pid, older in list(self.waiting.items()):  # the same student waiting in another tab
            if older.participant.user_id == participant.user_id:
                self._turn_away(pid, "replaced")
        if admission.banned and participant.user_id not in self.lifted:
            self.banned.add(participant.user_id)
        self.waiting[participant.id] = WaitingEntry(participant, datetime.now(UTC))
        self.tell_staff()

    def seated(self, participant: Participant) -> None:
        self.seen.add(participant.user_id)

    def waiting_of(self, participant: Participant) -> WaitingEntry | None:
        return self.waiting.get(participant.id)

    def waiting_list(self) -> list[dict[str, Any]]:
        return [entry.describe() for entry in self.waiting.values()]

    def tell_staff(self) -> None:
        message = {"type": "waiting_list", "waiting": self.waiting_list()}
        for participant in list(self.lesson.participants.values()):
            if participant.staff:
                participant.send(message)

    def admit(self, user_id: int) -> int:
        """Seat the user's waiting sessions (their joins go on); returns how many."""
        admitted = 0
        self.banned.discard(user_id)
        self.lifted.add(user_id)
        for pid, entry in list(self.waiting.items()):
            if entry.participant.user_id != user_id:
                continue
            del self.waiting[pid]
            replaced = self.lesson.seat(entry.participant)
            if not entry.admitted.done():
                entry.admitted.set_result(replaced)
            admitted += 1
        if admitted:
            self.tell_staff()
        return admitted

    def deny(self, user_id: int, reason: str = "denied") -> int:
        turned = 0
        for pid, entry in list(self.waiting.items()):
            if entry.participant.user_id == user_id:
                self._turn_away(pid, reason)
                turned += 1
        if turned:
            self.tell_staff()
            self._maybe_close()
        return turned

    def _turn_away(self, pid: str, reason: str) -> None:
        entry = self.waiting.pop(pid)
        entry.participant.send({"type": "bye", "reason": reason})
        entry.participant.left = True
        entry.participant.left_reason = reason
        if not entry.admitted.done():
            entry.admitted.set_result(None)

    def turn_away(self, reason: str) -> None:
        """Everyone waiting goes (the room closes)."""
        for pid in list(self.waiting):
            self._turn_away(pid, reason)

    def stop_waiting(self, participant: Participant) -> None:
        """A waiting student disconnected or left: off the list."""
        entry = self.waiting.pop(participant.id, None)
        if entry is None:
            return
        participant.left = True
        if not entry.admitted.done():
            entry.admitted.set_result(None)
        self.tell_staff()
        self._maybe_close()

    def _maybe_close(self) -> None:
        if self.lesson.empty and not self.lesson.closed:
            self.lesson.emptied()

    # --- the feature's hooks --------------------------------------------------------------------
    def welcome(self, participant: Participant) -> dict[str, Any]:
        return {"locked": self.locked, "waiting": self.waiting_list() if participant.staff else [],
                "ends_at": self.lesson.lesson.ends_at.isoformat(),
                "closes_at": self.lesson.closes_at.isoformat()}

    def close(self) -> None:
        if self._timer is not None and self._timer is not asyncio.current_task():
            self._timer.cancel()
        self._timer = None

    # --- the lesson's end -----------------------------------------------------------------------
    def arm(self) -> None:
        """(Re)start the timer that warns before `closes_at` and then ends the lesson."""
        if self._timer is not None:
            self._timer.cancel()
        if self.lesson.closed:
            return
        self._timer = asyncio.ensure_future(self._close_on_time(self.lesson.closes_at))
        self._timer.add_done_callback(_log_failure)

    async def _close_on_time(self, closes_at: datetime) -> None:
        warnings = sorted((w.total_seconds() for w in self.lesson.media.close_warnings), reverse=True)
        remaining = (closes_at - datetime.now(UTC)).total_seconds()
        if remaining > 0 and any(w >= remaining for w in warnings):
            self._warn(closes_at)  # opened (or extended) inside the last warning's window
        for before in warnings:
            if before < remaining:
                await asyncio.sleep((closes_at - datetime.now(UTC)).total_seconds() - before)
                self._warn(closes_at)
        delay = (closes_at - datetime.now(UTC)).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        self._timer = None  # what ends the lesson from here on is not cut short by the room's close
        await end_lesson(self.lesson, None)

    def _warn(self, closes_at: datetime) -> None:
        def warn() -> None:
            if self.lesson.closes_at != closes_at:
                return  # extended meanwhile
            in_s = max(0, round((closes_at - datetime.now(UTC)).total_seconds()))
            self.lesson.broadcast({"type": "lesson_ending", "closes_at": closes_at.isoformat(), "in_s": in_s})

        self.lesson.actor.post(warn)


FEATURE = Moderation


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the lesson's close timer failed", exc_info=task.exception())


def _now() -> datetime:
    return datetime.now(UTC)


async def _record(lesson: LessonRoom, kind: str, by: int | None, user_id: int | None = None,
                  detail: str | None = None) -> None:
    if lesson.db is not None:
        await record_activity(lesson.db.writer, school_id=lesson.lesson.school_id, lesson_id=lesson.lesson.id,
                              user_id=user_id, kind=kind, detail=detail, by_id=by)


# --- the steps, for the WebSocket and for REST --------------------------------------------------
async def record_end(lesson: LessonRoom, by: int | None) -> None:
    """The lesson's `ended_at` and the `ended` activity, durable when this returns."""
    if lesson.db is not None:
        await records.mark_ended(lesson.db.writer, lesson.lesson.id, _now())
    await _record(lesson, "ended", by)


async def end_lesson(lesson: LessonRoom, by: int | None) -> None:
    """End the lesson: `ended_at` durable first, then everyone out with `bye lesson_ended` (their
    attendance ends with that reason) and the room closed. `by` None: its time was up."""
    await record_end(lesson, by)
    await lesson.close("lesson_ended")


async def extend(lesson: LessonRoom, by: int, minutes: int) -> dict[str, Any]:
    """Move the room's close `minutes` later (durable), re-arm the timer, tell everyone."""
    current = await lesson.act(lambda: lesson.closes_at)
    if lesson.db is not None:
        try:
            closes_at = await records.extend(lesson.db.writer, lesson.lesson.id, current, minutes)
        except records.LessonAlreadyEnded:
            raise LessonEnded("the lesson has ended") from None
    else:
        closes_at = current + timedelta(minutes=minutes)
    await _record(lesson, "extended", by, detail=closes_at.isoformat())

    def apply() -> dict[str, Any]:
        if lesson.ended or lesson.closed:
            raise LessonEnded("the lesson has ended")
        lesson.closes_at = max(lesson.closes_at, closes_at)
        lesson.moderation.arm()
        times = {"ends_at": lesson.lesson.ends_at.isoformat(), "closes_at": lesson.closes_at.isoformat()}
        lesson.broadcast({"type": "lesson_times", **times})
        return times

    return await lesson.act(apply)


async def set_lock(lesson: LessonRoom, by: int, locked: bool) -> dict[str, Any]:
    await _record(lesson, "locked" if locked else "unlocked", by)

    def apply() -> dict[str, Any]:
        moderation: Moderation = lesson.moderation
        moderation.locked = locked
        lesson.broadcast({"type": "lock", "locked": locked})
        if not locked:  # those waiting only because of the lock come in
            for entry in list(moderation.waiting.values()):
                if not moderation.is_banned(entry.participant.user_id):
                    moderation.admit(entry.participant.user_id)
        return {"locked": locked}

    return await lesson.act(apply)


async def admit(lesson: LessonRoom, by: int, user_id: int, yes: bool) -> dict[str, Any]:
    def waiting() -> bool:
        return any(e.participant.user_id == user_id for e in lesson.moderation.waiting.values())

    if not await lesson.act(waiting):
        raise NotFound(f"user {user_id} is not waiting to be admitted")
    if yes and lesson.db is not None:
        await records.lift(lesson.db.writer, lesson_id=lesson.lesson.id, user_id=user_id, at=_now())
    await _record(lesson, "admitted" if yes else "denied", by, user_id)

    def decide() -> dict[str, Any]:
        moderation: Moderation = lesson.moderation
        count = moderation.admit(user_id) if yes else moderation.deny(user_id)
        if not count:
            raise NotFound(f"user {user_id} is no longer waiting")
        return {"user_id": user_id, "admit": yes}

    return await lesson.act(decide)


async def remove(lesson: LessonRoom, by: int, user_id: int) -> dict[str, Any]:
    """Take the student out (bye removed, attendance reason removed); the ban is durable first,
    so their next join waits for the teacher."""
    if user_id not in lesson.lesson.student_ids:
        raise NotFound(f"user {user_id} is not a student of this lesson's class")
    if lesson.db is not None:
        await records.ban(lesson.db.writer, lesson_id=lesson.lesson.id, user_id=user_id, by_id=by, at=_now())
    await _record(lesson, "removed", by, user_id)

    def apply() -> dict[str, Any]:
        moderation: Moderation = lesson.moderation
        moderation.banned.add(user_id)
        moderation.lifted.discard(user_id)
        sessions = [p for p in lesson.participants.values() if p.user_id == user_id]
        for participant in sessions:
            participant.send({"type": "bye", "reason": "removed"})
            lesson._remove(participant, "removed")
            lesson._finish(lesson._after_leave(participant, "removed"))
        moderation.deny(user_id, "removed")
        return {"user_id": user_id, "removed": len(sessions)}

    return await lesson.act(apply)


async def mute_all(lesson: LessonRoom, by: int) -> dict[str, Any]:
    await _record(lesson, "muted_all", by)

    def apply() -> dict[str, Any]:
        muted = 0
        for participant in list(lesson.participants.values()):
            if participant.role != "student":
                continue
            producer = participant.producers.get("mic")
            if producer is not None and not producer.paused:
                producer.pause()
                muted += 1
                lesson.broadcast({"type": "producer_muted", "producer_id": producer.id, "muted": True,
                                  "participant_id": participant.id, "source": "mic"}, room=participant.room)
            participant.send({"type": "muted", "source": "mic", "by": "teacher"})
        return {"muted": muted}

    return await lesson.act(apply)


async def cameras_off(lesson: LessonRoom, by: int) -> dict[str, Any]:
    await _record(lesson, "cameras_off", by)

    def apply() -> dict[str, Any]:
        for grant in lesson.grants.values():  # students away keep it off when they come back
            grant["camera"] = False
        count = 0
        for participant in list(lesson.participants.values()):
            if participant.role != "student":
                continue
            if participant.main_permissions is not None:
                participant.main_permissions["camera"] = False
            before = participant.permissions.get("camera")
            participant.permissions["camera"] = False
            producer = participant.producers.get("camera")
            if producer is not None:
                producer.close()
            if participant.main_permissions is None:
                lesson.grants[participant.user_id] = dict(participant.permissions)
            else:
                lesson.grants[participant.user_id] = dict(participant.main_permissions)
            if before:
                count += 1
                participant.send({"type": "permissions", "permissions": dict(participant.permissions)})
                lesson.broadcast({"type": "participant_updated", "participant": participant.describe()},
                                 room=participant.room)
        return {"cameras_off": count}

    return await lesson.act(apply)


def _staff(me: Participant) -> None:
    if not me.staff:
        raise Forbidden("only the lesson's teacher or an administrator may do this")


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any]:
    _staff(me)
    if isinstance(message, Moderate):
        done = await (mute_all if message.action == "mute_all" else cameras_off)(lesson, me.user_id)
        return {"type": "ok", **done}
    if isinstance(message, Lock):
        return {"type": "ok", **await set_lock(lesson, me.user_id, message.locked)}
    if isinstance(message, Admit):
        return {"type": "ok", **await admit(lesson, me.user_id, message.user_id, message.admit)}
    if isinstance(message, Remove):
        return {"type": "ok", **await remove(lesson, me.user_id, message.user_id)}
    if isinstance(message, EndLesson):
        await record_end(lesson, me.user_id)
        # The reply goes before the bye that ends this session too.
        me.send({"type": "ok", **({"id": message.id} if message.id is not None else {})})
        await lesson.close("lesson_ended")
        return None  # type: ignore[return-value]
    if isinstance(message, Extend):
        if me.role != "teacher":
            raise Forbidden("only the lesson's teacher may extend it")
        return {"type": "ok", **await extend(lesson, me.user_id, message.minutes)}
    raise TypeError(type(message).__name__)


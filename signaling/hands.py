"""Raised hands, live: students raise and lower their hands, queued in the order the server got
them; the teacher (or an observer) lowers one or all, and the teacher gives a student the floor
(their hand goes down, their microphone is allowed). Each step is in the lesson's activity log
before it is acknowledged or announced. A student who leaves drops out of the queue; one who
reconnects (their new session replacing the old) keeps their place."""
from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from classroom.hands import record_steps
from classroom.limits import RateWindow
from signaling.errors import Forbidden, NotFound, RateLimited
from signaling.features import LessonFeature
from signaling.messages import Message

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant

UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]
HAND_LIMIT = 10
HAND_WINDOW_S = 10.0
"""A student may raise or lower their hand this many times in this many seconds."""


class Hand(Message):
    type: Literal["hand"]
    raised: bool


class HandLower(Message):
    type: Literal["hand_lower"]
    user_id: UserId | None = None
    """None: every hand."""


class Floor(Message):
    type: Literal["floor"]
    user_id: UserId


MESSAGES = (Hand, HandLower, Floor)


@dataclass
class RaisedHand:
    user_id: int
    participant_id: str
    full_name: str
    at: datetime
    seq: int
    """Order of arrival at the server."""

    def describe(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "participant_id": self.participant_id, "full_name": self.full_name,
                "at": self.at.isoformat()}


class Hands(LessonFeature):
    name = "hands"

    def __init__(self, lesson: LessonRoom) -> None:
        super().__init__(lesson)
        self.queue: list[RaisedHand] = []
        self._seq = itertools.count(1)
        self._limit = RateWindow(HAND_LIMIT, HAND_WINDOW_S)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        """A student's own steps one at a time, applied in the order written."""

    # --- state (actions) ------------------------------------------------------------------------
    def welcome(self, participant: Participant) -> dict[str, Any]:
        return {"queue": self.described()}

    def described(self) -> list[dict[str, Any]]:
        return [hand.describe() for hand in self.queue]

    def hand_of(self, user_id: int) -> RaisedHand | None:
        return next((hand for hand in self.queue if hand.user_id == user_id), None)

    def _tell(self) -> None:
        self.lesson.broadcast({"type": "hands", "queue": self.described()})

    def left(self, participant: Participant) -> None:
        hand = self.hand_of(participant.user_id)
        if hand is None or hand.participant_id != participant.id:
            return
        successor = next(iter(self.lesson.same_user_sessions(participant.user_id, "ws")), None)
        if successor is not None:  # reconnected: the new session keeps the place
            hand.participant_id = successor.id
        else:
            self.queue.remove(hand)
            self._record([participant.user_id], "hand_lowered", datetime.now(UTC), detail="left")
        self._tell()

    def _record(self, user_ids: list[int], kind: str, at: datetime, detail: str | None = None,
                by_id: int | None = None) -> None:
        """From an action: written outside it (the room's close waits for it)."""
        if self.lesson.db is not None:
            self.lesson._finish(self._write(user_ids, kind, at, detail, by_id))

    async def _write(self, user_ids: list[int], kind: str, at: datetime, detail: str | None = None,
                     by_id: int | None = None) -> None:
        if self.lesson.db is not None:
            lesson = self.lesson.lesson
            await record_steps(self.lesson.db.writer, school_id=lesson.school_id, lesson_id=lesson.id,
                               user_ids=user_ids, kind=kind, at=at, detail=detail, by_id=by_id)

    # --- commands -------------------------------------------------------------------------------
    async def raise_hand(self, me: Participant, raised: bool) -> dict[str, Any]:
        if me.role != "student":
            raise Forbidden("only students raise their hands")

        def check() -> int | None:
            if me.left:
                raise NotFound("you are no longer in the lesson")
            if (self.hand_of(me.user_id) is not None) == raised:
                return None  # already so
            wait = self._limit.take(me.user_id, asyncio.get_running_loop().time())
            if wait:
                raise RateLimited(f"at most {HAND_LIMIT} raised or lowered hands in {HAND_WINDOW_S:g} seconds",
                                  round(wait, 1))
            return next(self._seq)

        async with self._locks[me.user_id]:
            seq = await self.lesson.act(check)
            if seq is not None:
                at = datetime.now(UTC)
                await self._write([me.user_id], "hand_raised" if raised else "hand_lowered", at)

                def apply() -> None:
                    mine = self.hand_of(me.user_id)
                    if raised and mine is None and not me.left:
                        self.queue.append(RaisedHand(me.user_id, me.id, me.full_name, at, seq))
                        self.queue.sort(key=lambda hand: hand.seq)
                    elif not raised and mine is not None:
                        self.queue.remove(mine)
                    else:
                        return
                    self._tell()

                await self.lesson.act(apply)
            return await self.lesson.act(lambda: {"raised": self.hand_of(me.user_id) is not None,
                                                  "queue": self.described()})

    async def lower(self, me: Participant, user_id: int | None) -> dict[str, Any]:
        """Staff: lower one student's hand, or (None) every hand."""

        def check() -> list[tuple[int, int]]:
            if not me.staff:
                raise Forbidden("only the lesson's teacher or an observer lowers students' hands")
            lowered = [(h.user_id, h.seq) for h in self.queue if user_id is None or h.user_id == user_id]
            if user_id is not None and not lowered:
                raise NotFound(f"user {user_id} has no raised hand")
            return lowered

        lowered = await self.lesson.act(check)
        await self._write([u for u, _ in lowered], "hand_lowered", datetime.now(UTC), by_id=me.user_id)

        def apply() -> dict[str, Any]:
            gone = {hand.user_id for hand in self.queue if (hand.user_id, hand.seq) in lowered}
            self.queue = [hand for hand in self.queue if hand.user_id not in gone]
            for participant in list(self.lesson.participants.values()):
                if participant.user_id in gone:
                    participant.send({"type": "hand_lowered", "by": "teacher"})
            if gone:
                self._tell()
            return {"lowered": sorted(gone), "queue": self.described()}

        return await self.lesson.act(apply)

    async def floor(self, me: Participant, user_id: int) -> dict[str, Any]:
        """The teacher gives a student the floor: their hand goes down, their microphone is allowed."""

        def student() -> Participant:
            if me.role != "teacher":
                raise Forbidden("only the lesson's teacher gives the floor")
            found = next((p for p in self.lesson.same_user_sessions(user_id, "ws") if p.role == "student"), None)
            if found is None:
                raise NotFound(f"user {user_id} is not a student in the lesson")
            return found

        await self.lesson.act(student)
        await self._write([user_id], "floor_given", datetime.now(UTC), by_id=me.user_id)

        def apply() -> dict[str, Any]:
            target = student()
            hand = self.hand_of(user_id)
            if hand is not None:
                self.queue.remove(hand)
            granted = self.lesson._permit(me, target.id, "mic", True)  # the student's `permissions` event
            self.lesson.broadcast({"type": "floor", "user_id": user_id, "full_name": target.full_name})
            self._tell()
            return {"permissions": granted["permissions"], "queue": self.described()}

        return await self.lesson.act(apply)


FEATURE = Hands


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any]:
    """The hand messages of the lesson page (docs/protocol.md, "Raised hands and reactions")."""
    hands: Hands = lesson.features["hands"]  # type: ignore[assignment]
    if isinstance(message, Hand):
        return {"type": "ok", **await hands.raise_hand(me, message.raised)}
    if isinstance(message, HandLower):
        return {"type": "ok", **await hands.lower(me, message.user_id)}
    if isinstance(message, Floor):
        return {"type": "ok", "user_id": message.user_id, **await hands.floor(me, message.user_id)}
    raise TypeError(type(message).__name__)  # pragma: no cover (the registry sends only these)

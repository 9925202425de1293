"""Reactions, live: each student holds one current reaction (understood, confused, thumbs up) or
none. Everyone sees the counts; only the lesson's staff see who reacted how. Each reaction is in
the lesson's activity log before it is acknowledged; a burst of them is announced once."""
from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from classroom.activity import record_activity
from classroom.hands import REACTIONS
from classroom.limits import RateWindow
from signaling.errors import Forbidden, NotFound, RateLimited
from signaling.features import LessonFeature
from signaling.messages import Message

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant

REACT_LIMIT = 10
REACT_WINDOW_S = 10.0


class React(Message):
    type: Literal["react"]
    reaction: Literal["understood", "confused", "thumbs_up"] | None
    """None clears the student's reaction."""


class ReactionsClear(Message):
    type: Literal["reactions_clear"]


MESSAGES = (React, ReactionsClear)


class Reactions(LessonFeature):
    name = "reactions"

    def __init__(self, lesson: LessonRoom) -> None:
        super().__init__(lesson)
        self.current: dict[int, str] = {}
        """Each student's reaction, by user."""
        self._limit = RateWindow(REACT_LIMIT, REACT_WINDOW_S)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._telling = False

    # --- state (actions) ------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {name: sum(1 for r in self.current.values() if r == name) for name in REACTIONS}

    def view(self, participant: Participant) -> dict[str, Any]:
        out: dict[str, Any] = {"counts": self.counts()}
        if participant.staff:
            out["by_user"] = {str(user_id): reaction for user_id, reaction in self.current.items()}
        return out

    def welcome(self, participant: Participant) -> dict[str, Any]:
        return {**self.view(participant), "mine": self.current.get(participant.user_id)}

    def _tell(self) -> None:
        """Announce the counts once after the actions queued now (a class reacting at once)."""
        if self._telling:
            return
        self._telling = True

        def tell() -> None:
            self._telling = False
            for participant in list(self.lesson.participants.values()):
                participant.send({"type": "reactions", **self.view(participant)})

        self.lesson.actor.post(tell)

    def left(self, participant: Participant) -> None:
        if participant.user_id in self.current and not self.lesson.same_user_sessions(participant.user_id, "ws"):
            del self.current[participant.user_id]
            self._tell()

    # --- commands -------------------------------------------------------------------------------
    async def react(self, me: Participant, reaction: str | None) -> dict[str, Any]:
        if me.role != "student":
            raise Forbidden("reactions are the students'")

        def check() -> bool:
            if me.left:
                raise NotFound("you are no longer in the lesson")
            if self.current.get(me.user_id) == reaction:
                return False
            wait = self._limit.take(me.user_id, asyncio.get_running_loop().time())
            if wait:
                raise RateLimited(f"at most {REACT_LIMIT} reactions in {REACT_WINDOW_S:g} seconds", round(wait, 1))
            return True

        async with self._locks[me.user_id]:
            if await self.lesson.act(check):
                lesson, db = self.lesson.lesson, self.lesson.db
                if reaction is not None and db is not None:
                    await record_activity(db.writer, school_id=lesson.school_id, lesson_id=lesson.id,
                                          user_id=me.user_id, kind="reaction", detail=reaction,
                                          at=datetime.now(UTC))

                def apply() -> None:
                    if me.left:
                        return
                    if reaction is None:
                        self.current.pop(me.user_id, None)
                    else:
                        self.current[me.user_id] = reaction
                    self._tell()

                await self.lesson.act(apply)
            return await self.lesson.act(lambda: {"reaction": self.current.get(me.user_id), "counts": self.counts()})

    async def clear(self, me: Participant) -> dict[str, Any]:
        def apply() -> dict[str, Any]:
            if not me.staff:
                raise Forbidden("only the lesson's teacher or an observer clears the reactions")
            self.current.clear()
            self._tell()
            return {"counts": self.counts()}

        return await self.lesson.act(apply)


FEATURE = Reactions


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any]:
    """The reaction messages of the lesson page (docs/protocol.md, "Raised hands and reactions")."""
    reactions: Reactions = lesson.features["reactions"]  # type: ignore[assignment]
    if isinstance(message, React):
        return {"type": "ok", **await reactions.react(me, message.reaction)}
    if isinstance(message, ReactionsClear):
        return {"type": "ok", **await reactions.clear(me)}
    raise TypeError(type(message).__name__)  # pragma: no cover (the registry sends only these)

"""How long each participant spoke and showed their camera: sampled once a second from the lesson's
media (speaking: their microphone heard above the voice threshold, as the active-speaker detection
hears it; camera: a camera published and not paused), added up per user and written to
`lesson_participation` every 10 seconds, when someone leaves and when the lesson's room closes
(the room's close waits for that last write). No messages: the report is read over REST."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from classroom.participation import Times, add_times
from sfu.speaker import SPEAKING_DBOV
from signaling.errors import LessonClosed
from signaling.features import LessonFeature

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant

log = logging.getLogger(__name__)

SAMPLE_S = 1.0
FLUSH_S = 10.0
MAX_STEP_S = 2.0
"""A sample late by more than this (a busy lesson) counts this much: what happened between is unknown."""


class Participation(LessonFeature):
    def __init__(self, lesson: LessonRoom) -> None:
        super().__init__(lesson)
        self.pending: dict[int, list[int]] = {}
        """Milliseconds [speaking, camera] per user not yet written."""
        self._closed = False
        self._last: float | None = None
        self._task: asyncio.Task[None] | None = None
        if lesson.db is not None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        flushed = loop.time()
        self._last = loop.time()
        while not self._closed:
            await asyncio.sleep(SAMPLE_S)
            try:
                await self.lesson.act(self.sample)
            except LessonClosed:
                return
            if loop.time() - flushed >= FLUSH_S:
                flushed = loop.time()
                self.flush()

    def sample(self) -> None:
        """Add the time since the last sample to who is speaking and who shows a camera now (an action)."""
        if self._closed:
            return
        now = asyncio.get_running_loop().time()
        step = min(now - (self._last if self._last is not None else now - SAMPLE_S), MAX_STEP_S)
        self._last = now
        ms = max(0, round(step * 1000))
        speaking: set[int] = set()
        camera: set[int] = set()
        for participant in self.lesson.participants.values():
            mic = participant.producers.get("mic")
            if (mic is not None and not mic.paused and not mic.closed
                    and self.lesson.room.audio_level(mic.id) < SPEAKING_DBOV):
                speaking.add(participant.user_id)
            cam = participant.producers.get("camera")
            if cam is not None and not cam.paused and not cam.closed:
                camera.add(participant.user_id)
        for user_id in speaking | camera:  # one user on two devices counts once
            totals = self.pending.setdefault(user_id, [0, 0])
            totals[0] += ms if user_id in speaking else 0
            totals[1] += ms if user_id in camera else 0

    def flush(self) -> None:
        """Write what was added up so far, in the background; the room's close waits for it."""
        if not self.pending or self.lesson.db is None:
            return
        taken, self.pending = self.pending, {}
        self.lesson._finish(self._write({uid: Times(s, c) for uid, (s, c) in taken.items()}))

    async def _write(self, times: dict[int, Times]) -> None:
        assert self.lesson.db is not None
        try:
            await add_times(self.lesson.db.writer, school_id=self.lesson.lesson.school_id,
                            lesson_id=self.lesson.lesson.id, times=times)
        except Exception:
            log.exception("lesson %s: participation times not recorded", self.lesson.lesson.id)

    def left(self, participant: Participant) -> None:
        self.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            self.lesson._finish(self._stopped(self._task))
        self.flush()

    @staticmethod
    async def _stopped(task: asyncio.Task[None]) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await task


FEATURE = Participation
MESSAGES: tuple[type, ...] = ()


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any]:
    raise TypeError(f"participation handles no messages ({type(message).__name__})")

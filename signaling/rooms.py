"""The lesson rooms this process runs: one per live lesson, opened at the first join, gone when
its room has closed (the last participant left, the lesson ended, or the server stops). A lesson
that ended is never opened again."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from attendance.log import AttendanceLog
from recorder.lesson_recorder import LessonRecorder
from signaling.admission import Admission, LessonInfo
from signaling.gate import JoinGate
from signaling.errors import LessonClosed, LessonEnded
from signaling.lesson_room import LessonRoom, MediaConfig
from signaling.participant import Outbox, Participant
from storage.database import Database


class RoomRegistry:
    def __init__(self, media: MediaConfig, attendance: AttendanceLog | None = None,
                 recorder_for: Callable[[LessonInfo], LessonRecorder] | None = None,
                 gate: JoinGate | None = None, db: Database | None = None) -> None:
        self.media = media
        self.db = db
        self.attendance = attendance
        self.recorder_for = recorder_for
        self.gate = gate or JoinGate()
        self.rooms: dict[int, LessonRoom] = {}
        self._closing: dict[int, LessonRoom] = {}
        """Rooms of lessons that closed and are still letting go (recorder, transports)."""
        self.ended: set[int] = set()
        """Lessons whose room closed because the lesson ended: a join admitted just before is refused."""

    async def enter(self, admission: Admission, via: str, outbox: Outbox | None = None,
                    auto_subscribe: bool = True) -> tuple[LessonRoom, Participant]:
        """Put a participant into their lesson's open room, opening it if needed. A room that
        closed on the way in is never joined: the next one is."""
        while True:
            room = await self._room_for(admission.lesson)
            try:
                return room, await room.enter(admission, via, outbox, auto_subscribe)
            except LessonClosed:
                continue

    async def _room_for(self, lesson: LessonInfo) -> LessonRoom:
        if lesson.id in self.ended:
            raise LessonEnded("the lesson has ended")
        room = self.rooms.get(lesson.id)
        if room is not None and not room.closed:
            return room
        previous = self._closing.get(lesson.id)
        if previous is not None:  # one room of a lesson at a time: its recorder lets go first
            await asyncio.shield(previous.finished)
        if lesson.id in self.ended:
            raise LessonEnded("the lesson has ended")
        room = self.rooms.get(lesson.id)  # someone else may have opened it meanwhile
        if room is None or room.closed:
            room = self.rooms[lesson.id] = LessonRoom(
                lesson, self.media, self.attendance, self.recorder_for(lesson) if self.recorder_for else None,
                on_closed=self._closed, db=self.db)
        return room

    def _closed(self, room: LessonRoom) -> None:
        if room.ended:
            self.ended.add(room.lesson.id)
        if self.rooms.get(room.lesson.id) is room:
            del self.rooms[room.lesson.id]
        self._closing[room.lesson.id] = room
        room.finished.add_done_callback(lambda _: self._forget(room))

    def _forget(self, room: LessonRoom) -> None:
        if self._closing.get(room.lesson.id) is room:
            del self._closing[room.lesson.id]

    def session(self, lesson_id: int, resource: str) -> tuple[LessonRoom, Participant] | None:
        """The WHIP/WHEP session at this URL, if it is still in its lesson."""
        room = self.rooms.get(lesson_id)
        participant_id = room.resources.get(resource) if room is not None else None
        participant = room.participants.get(participant_id) if room and participant_id else None
        if room is None or participant is None:
            return None
        return room, participant

    async def close(self) -> None:
        for room in list(self.rooms.values()):
            await room.close()
        for room in list(self._closing.values()):
            await asyncio.shield(room.finished)
        self.rooms.clear()

"""The lesson rooms this process runs: created at the first join, closed when the last one leaves."""
from __future__ import annotations

from collections.abc import Callable

from attendance.log import AttendanceLog
from recorder.lesson_recorder import LessonRecorder
from signaling.admission import LessonInfo
from signaling.lesson_room import LessonRoom, MediaConfig


class RoomRegistry:
    def __init__(self, media: MediaConfig, attendance: AttendanceLog | None = None,
                 recorder_for: Callable[[LessonInfo], LessonRecorder] | None = None) -> None:
        self.media = media
        self.attendance = attendance
        self.recorder_for = recorder_for
        self.rooms: dict[int, LessonRoom] = {}
        self.whip_sessions: dict[str, tuple[int, str]] = {}
        """WHIP/WHEP resource id -> (lesson id, participant id)."""

    def room_for(self, lesson: LessonInfo) -> LessonRoom:
        room = self.rooms.get(lesson.id)
        if room is None or room.closed:
            room = self.rooms[lesson.id] = LessonRoom(lesson, self.media, self.attendance,
                                                       self.recorder_for(lesson) if self.recorder_for else None)
        return room

    async def release(self, room: LessonRoom) -> None:
        """Close the room if nobody is left in it."""
        if room.empty and self.rooms.get(room.lesson.id) is room:
            del self.rooms[room.lesson.id]
            await room.close()

    async def close(self) -> None:
        for room in list(self.rooms.values()):
            await room.close()
        self.rooms.clear()
        self.whip_sessions.clear()

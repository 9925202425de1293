"""Recording follows the lesson: running while the lesson is to be recorded and its teacher is
present, paused (each pause ends a part) while the teacher is away, stopped when the lesson ends
(its room closing on time or the teacher ending it); everyone told the truth whenever it changes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signaling.errors import Conflict, Forbidden, LessonClosed

if TYPE_CHECKING:
    from signaling.participant import Participant


class LessonRecording:
    """The recording part of a lesson's room (a part of LessonRoom; its actions run in the owner task)."""

    @property
    def recording(self) -> bool:
        return self.recorder is not None and self.recorder.active

    async def set_recording(self, actor: Participant | None, active: bool) -> dict[str, Any]:
        """Whether the lesson is to be recorded (the teacher's command; `actor` None is the school's
        or the teacher's request over HTTP). It records only while the teacher is present."""
        if actor is not None and actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may start or stop the recording")
        if self.recorder is None or (active and self.lesson.recording_mode == "off"):
            raise Forbidden("recording is turned off for this lesson")

        def want() -> None:
            if active and self.ended:
                raise Conflict("the lesson has ended")
            self.recording_wanted = active

        await self._call(want)
        await self._follow_recording()
        return {"recording": self.recording}

    def _records_now(self) -> bool:
        """What the recorder should be doing now (read in an action)."""
        teacher_here = any(p.user_id == self.lesson.teacher_id for p in self.participants.values())
        return self.recording_wanted and teacher_here and not self.ended and not self.closed

    async def _follow_recording(self) -> None:
        """Bring the recorder in line with the lesson: running while it should record, paused
        (each pause ends a segment) while the teacher is away, stopped when the lesson ends. Every
        participant is told the truth whenever it changes."""
        if self.recorder is None:
            return
        async with self._recording_lock:  # one change of the recording at a time, in order
            try:
                should, producers = await self._call(
                    lambda: (self._records_now(), list(self.room.producers.values())))
            except LessonClosed:
                return
            if should == self.recorder.active:
                return
            if should:
                await self.recorder.start(producers)
            else:
                await self.recorder.stop()
        self.actor.post(lambda: self.broadcast(self._recording_message()))

    def _recording_message(self) -> dict[str, Any]:
        return {"type": "recording", "active": self.recording, "wanted": self.recording_wanted,
                "record_students": self.lesson.record_students}

    def _recording_may_change(self) -> None:
        """After a change of who is here (in an action): follow it outside."""
        if self.recorder is not None and self._records_now() != self.recorder.active:
            self._finish(self._follow_recording())

    def _end_at_schedule(self) -> None:
        """The recording runs until the lesson's room closes (at `closes_at`: the scheduled end plus
        the school's grace, or the teacher's extension), or the teacher ends the lesson: teaching
        past the scheduled end is part of the lesson. The moderation's timer closes the room."""
        self.moderation.arm()

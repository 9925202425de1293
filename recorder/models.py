"""The recording archive's index: every recorded track and every rendered lesson video, and who
watched what. Plain ids, no foreign keys: the archive outlives timetable changes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy import false as sql_false
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Base
from storage.types import UTCDateTime, utcnow


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_lesson", "lesson_id"), Index("ix_recordings_school_started", "school_id", "started_at"),
                      Index("ix_recordings_render_state", "render_state"))
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(Integer)
    class_id: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(Integer)
    teacher_id: Mapped[int] = mapped_column(Integer)
    school_year_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    """track (one producer, as published) or composite (the lesson as one video)."""
    source: Mapped[str] = mapped_column(String(16))
    """camera, mic, screen, screen-audio, or lesson for a composite."""
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Whose track (the teacher's, or a student's when the school records students)."""
    codec: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(300))
    """Relative to the data directory's recordings folder."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    """recording, complete, interrupted (a crash ended it), queued, rendering, failed, deleted."""
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    """Students see a lesson's recordings only once the teacher publishes them."""
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    render_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """A lesson video's next render: queued, rendering, or None. Separate from `status`, which is the
    state of the version at `path`: a published video stays complete (and playable) while the next
    version is rendered into another file."""
    render_again: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_false())
    """A stop came while a render ran: render once more when it is done (never drop the request)."""
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many versions of the lesson video were rendered; the newest is at `path`."""
    notes: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """What the last render had to leave out (damaged frames skipped), for the archive to show."""
    chapters: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON: the lesson video's chapters, [{start (s), kind (segment|screen|breakouts_start|breakouts_end),
    index, at (UTC), title}]."""
    breakout_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The breakout group (its name) whose recording this track is: recorded because the teacher
    turned that group's recording on. Kept in the archive, left out of the lesson video (groups
    talk at the same time; one mix of all of them would be noise). None for the lesson's own."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordingView(Base):
    __tablename__ = "recording_views"
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    """play or download."""
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonMark(Base):
    """A moment of a lesson worth a chapter of its video when it falls inside a recorded part:
    breakout groups starting (breakouts_start) and ending (breakouts_end)."""

    __tablename__ = "lesson_marks"
    __table_args__ = (Index("ix_lesson_marks_lesson_at", "lesson_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """What the moment was about (e.g. the groups' names), for the archive; the chapter's title is
    made from the kind and the time."""

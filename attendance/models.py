"""The attendance tables: an append-only log of joins and leaves, and the heartbeat of open presences.

Rows of `attendance_events` are never updated or deleted; they carry plain ids (no foreign keys)
so a cancelled lesson or a removed account never takes a participation record with it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Base
from storage.types import UTCDateTime


class AttendanceEvent(Base):
    __tablename__ = "attendance_events"
    __table_args__ = (Index("ix_attendance_events_lesson_at", "lesson_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    presence_id: Mapped[str] = mapped_column(String(36), index=True)
    """One continuous presence: a join, and the leave that ends it."""
    school_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(16))
    """browser, whip or whep."""
    room: Mapped[str] = mapped_column(String(64))
    """main, or a breakout room's name."""
    kind: Mapped[str] = mapped_column(String(8))
    """join or leave."""
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """For a leave: left, disconnected, removed, lesson_ended, server_restart."""
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    node_id: Mapped[str] = mapped_column(String(64))


class OpenPresence(Base):
    """A presence without its leave yet, with when its participant was last seen; the row goes
    when the leave is written (in the same transaction)."""

    __tablename__ = "attendance_open_presences"
    presence_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lesson_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(64), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    connected: Mapped[bool] = mapped_column(Boolean, default=True)

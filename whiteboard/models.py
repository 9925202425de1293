"""The board tables: one row per board (a lesson's main room or one of its groups), the op log (the
truth: append-only, one row per concrete op in the board's order) and the latest snapshot of each
board (so reading a board back folds at most a few hundred ops). Plain ids, no foreign keys to other
packages' tables, like the attendance log."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Base
from storage.types import UTCDateTime


class BoardRecord(Base):
    __tablename__ = "boards"
    __table_args__ = (UniqueConstraint("lesson_id", "room"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(40))
    """"main", or a breakout group's name."""
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    """Students of the class may read it after the lesson."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BoardOp(Base):
    __tablename__ = "board_ops"
    __table_args__ = (UniqueConstraint("board_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Who made it (None: the server, e.g. a board copied from another lesson)."""
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    op: Mapped[dict[str, Any]] = mapped_column(JSON)


class BoardSnapshot(Base):
    __tablename__ = "board_snapshots"
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    """The board after this op."""
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

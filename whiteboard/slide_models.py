"""The record of an uploaded slide file (its page images live on disk, see whiteboard.slides)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Base
from storage.types import UTCDateTime, utcnow

MAX_FILENAME = 200


class BoardSlide(Base):
    __tablename__ = "board_slides"
    __table_args__ = (Index("ix_board_slides_lesson_id", "lesson_id"), Index("ix_board_slides_status", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(MAX_FILENAME))
    """As the teacher's computer named it (plain text)."""
    kind: Mapped[str] = mapped_column(String(8))
    """pdf or image."""
    status: Mapped[str] = mapped_column(String(16))
    """processing, ready or failed."""
    pages: Mapped[int] = mapped_column(Integer, default=0)
    """Pages written so far (all of them once ready): pages 1..pages can be shown."""
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    """0..1 while converting; 1 when ready."""
    error: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """Why it failed: a code of whiteboard.slides.ERRORS."""
    width: Mapped[int] = mapped_column(Integer, default=0)
    """Of the page images (the board's page width once any page is written)."""
    height: Mapped[int] = mapped_column(Integer, default=0)
    """Of the first page image."""
    page_heights: Mapped[list[int]] = mapped_column(JSON, default=list)
    """Every written page's height, in order (pages of a PDF may differ)."""
    node: Mapped[str] = mapped_column(String(64), default="main")
    """The server process converting it: its restart fails what it left unfinished."""
    created_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

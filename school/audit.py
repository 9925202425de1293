"""The audit log: every change an administrator (or a teacher, to their own lessons) makes to the
school's records, with who, what, when, and the values before and after. An entry is written in
the same unit of work as the change, so there is never a change without its entry or the reverse."""
from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Base
from storage.types import UTCDateTime, utcnow

SUMMARY_LENGTH = 300
HIDDEN = frozenset({"password_hash", "password"})
"""Never copied into the log (a reset is logged as `reset_password`, without the secret)."""


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_school_at", "school_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    """Kept as written: the log still says who when the account is gone."""
    action: Mapped[str] = mapped_column(String(32))
    """create, update, delete, archive, restore, deactivate, activate, reset_password, import, ..."""
    entity: Mapped[str] = mapped_column(String(32))
    """user, class, class_student, subject, subject_team, assignment, school_year, lesson, school, ..."""
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    summary: Mapped[str] = mapped_column(String(SUMMARY_LENGTH), default="")
    """A short human label of the thing changed (a class's name, a user's full name)."""
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON of the changed values before (None for a creation)."""
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON of the changed values after (None for a deletion)."""
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def snapshot(row: Any, fields: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    """The values of a row's columns (or of `fields`) as JSON-safe data, secrets left out."""
    names = fields if fields is not None else [c.key for c in row.__table__.columns]
    return {name: _plain(getattr(row, name)) for name in names if name not in HIDDEN}


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, from both sides."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(session: AsyncSession, actor: Any, action: str, entity: str, entity_id: int | None, *,
           summary: str = "", before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           school_id: int | None = None) -> AuditEntry:
    """Add an entry to this unit of work (committed with the change it describes). `actor` is the
    acting User (None: the system)."""
    entry = AuditEntry(
        school_id=school_id if school_id is not None else actor.school_id,
        actor_id=getattr(actor, "id", None), actor_name=getattr(actor, "full_name", "") or "",
        action=action, entity=entity, entity_id=entity_id, summary=summary[:SUMMARY_LENGTH],
        before=None if before is None else json.dumps({k: _plain(v) for k, v in before.items() if k not in HIDDEN},
                                                      ensure_ascii=False, default=str),
        after=None if after is None else json.dumps({k: _plain(v) for k, v in after.items() if k not in HIDDEN},
                                                    ensure_ascii=False, default=str))
    session.add(entry)
    return entry

"""Reading the audit log ("Nhật ký thay đổi"): an administrator's school's entries, newest first,
a page at a time, filtered by what was changed, by whom and when."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access
from school.account_schemas import AuditEntryOut, AuditPage
from school.audit import AuditEntry
from school.models import User


@dataclass(frozen=True)
class AuditFilter:
    entity: str | None = None
    entity_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    start: datetime | None = None
    """UTC, inclusive"""
    end: datetime | None = None
    """UTC, exclusive"""
    before_id: int | None = None
    limit: int = 50


def _values(text: str | None) -> dict | None:  # type: ignore[type-arg]
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


async def list_entries(session: AsyncSession, actor: User, f: AuditFilter) -> AuditPage:
    access.require_admin(actor)
    query = select(AuditEntry).where(AuditEntry.school_id == actor.school_id)
    if f.entity is not None:
        query = query.where(AuditEntry.entity == f.entity)
    if f.entity_id is not None:
        query = query.where(AuditEntry.entity_id == f.entity_id)
    if f.actor_id is not None:
        query = query.where(AuditEntry.actor_id == f.actor_id)
    if f.action is not None:
        query = query.where(AuditEntry.action == f.action)
    if f.start is not None:
        query = query.where(AuditEntry.at >= f.start)
    if f.end is not None:
        query = query.where(AuditEntry.at < f.end)
    if f.before_id is not None:
        query = query.where(AuditEntry.id < f.before_id)
    rows = list(await session.scalars(query.order_by(AuditEntry.id.desc()).limit(f.limit + 1)))
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    items = [AuditEntryOut(id=r.id, at=r.at, actor_id=r.actor_id, actor_name=r.actor_name, action=r.action,
                           entity=r.entity, entity_id=r.entity_id, summary=r.summary, before=_values(r.before),
                           after=_values(r.after)) for r in rows]
    return AuditPage(items=items, next_before_id=rows[-1].id if more and rows else None)

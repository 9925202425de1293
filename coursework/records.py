"""Hồ sơ tiết học and lưu trữ: a lesson's records written as one ZIP file (in a worker thread, to a
temporary file the web layer streams), and the school's retention of each kind of record (chat,
board, materials' download log, test attempts: days or kept), applied by a daily job. Recordings
keep their own retention (recorder/jobs.py)."""
from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from school.models import School
from storage.database import Database
from storage.types import UTCDateTime

log = logging.getLogger(__name__)

RETENTION_FIELDS = ("chat_retention_days", "board_retention_days", "materials_retention_days",
                    "attempts_retention_days")
RETENTION_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Member:
    """One file of the bundle: its name inside the ZIP and either its bytes or a file to copy."""

    name: str
    data: bytes | None = None
    path: Path | None = None


def write_zip(members: Sequence[Member], directory: Path) -> Path:
    """The members as a ZIP file in `directory` (a temporary name the caller deletes). Files that
    are gone meanwhile are left out; media already compressed are stored, not deflated again."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="record-", suffix=".zip", dir=directory)
    os.close(fd)
    try:
        with zipfile.ZipFile(name, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for member in members:
                if member.data is not None:
                    bundle.writestr(member.name, member.data)
                elif member.path is not None and member.path.is_file():
                    stored = member.path.suffix.lower() in (".mp4", ".webm", ".mkv", ".ogg", ".jpg", ".png", ".pdf")
                    bundle.write(member.path, member.name,
                                 compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


# --- retention ---------------------------------------------------------------------------------------
TIMES = frozenset({"created_at", "at", "started_at"})


def _t(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, UTCDateTime()) if c in TIMES else sa.column(c) for c in columns))


CHAT = _t("chat_messages", "id", "school_id", "created_at")
BOARDS = _t("boards", "id", "school_id", "created_at")
BOARD_OPS = _t("board_ops", "board_id")
BOARD_SNAPSHOTS = _t("board_snapshots", "board_id")
MATERIALS = _t("materials", "id", "school_id")
DOWNLOADS = _t("material_downloads", "id", "material_id", "at")
TESTS = _t("online_tests", "id", "school_id")
ATTEMPTS = _t("test_attempts", "id", "test_id", "started_at")
ANSWERS = _t("attempt_answers", "attempt_id")
EVENTS = _t("attempt_events", "attempt_id")


async def _tables(session: AsyncSession) -> set[str]:
    return set(await session.run_sync(lambda s: sa.inspect(s.connection()).get_table_names()))


async def _prune(session: AsyncSession, school_id: int, kind: str, cutoff: datetime, tables: set[str]) -> int:
    """Delete one kind of record of one school older than `cutoff`; how many records went."""
    if kind == "chat_retention_days" and CHAT.name in tables:
        result = await session.execute(sa.delete(CHAT).where(CHAT.c.school_id == school_id, CHAT.c.created_at < cutoff))
        return result.rowcount or 0  # type: ignore[attr-defined]
    if kind == "board_retention_days" and BOARDS.name in tables:
        old = sa.select(BOARDS.c.id).where(BOARDS.c.school_id == school_id, BOARDS.c.created_at < cutoff)
        await session.execute(sa.delete(BOARD_OPS).where(BOARD_OPS.c.board_id.in_(old)))
        await session.execute(sa.delete(BOARD_SNAPSHOTS).where(BOARD_SNAPSHOTS.c.board_id.in_(old)))
        result = await session.execute(sa.delete(BOARDS).where(BOARDS.c.id.in_(old)))
        return result.rowcount or 0  # type: ignore[attr-defined]
    if kind == "materials_retention_days" and {MATERIALS.name, DOWNLOADS.name} <= tables:
        mine = sa.select(MATERIALS.c.id).where(MATERIALS.c.school_id == school_id)
        result = await session.execute(sa.delete(DOWNLOADS).where(DOWNLOADS.c.material_id.in_(mine),
                                                                  DOWNLOADS.c.at < cutoff))
        return result.rowcount or 0  # type: ignore[attr-defined]
    if kind == "attempts_retention_days" and {TESTS.name, ATTEMPTS.name} <= tables:
        old = sa.select(ATTEMPTS.c.id).where(ATTEMPTS.c.started_at < cutoff, ATTEMPTS.c.test_id.in_(
            sa.select(TESTS.c.id).where(TESTS.c.school_id == school_id)))
        for child in (ANSWERS, EVENTS):
            if child.name in tables:
                await session.execute(sa.delete(child).where(child.c.attempt_id.in_(old)))
        result = await session.execute(sa.delete(ATTEMPTS).where(ATTEMPTS.c.id.in_(old)))
        return result.rowcount or 0  # type: ignore[attr-defined]
    return 0


async def apply_retention(db: Database, now: datetime) -> dict[str, int]:
    """Every school's retention of each kind of record; how many records of each kind went."""
    deleted = dict.fromkeys(RETENTION_FIELDS, 0)
    async with db.session(immediate=True) as session:
        tables = await _tables(session)
        for school in list(await session.scalars(sa.select(School))):
            for kind in RETENTION_FIELDS:
                days = getattr(school, kind)
                if days is not None:
                    deleted[kind] += await _prune(session, school.id, kind, now - timedelta(days=days), tables)
    return deleted


async def retention_loop(db: Database, every: timedelta = RETENTION_EVERY) -> None:
    """Apply the retention now and then once a day, until cancelled; a failure is logged and retried."""
    while True:
        try:
            counts = await apply_retention(db, datetime.now(UTC))
            if any(counts.values()):
                log.info("records removed by the retention policy: %s", counts)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("records retention failed")
        await asyncio.sleep(every.total_seconds())

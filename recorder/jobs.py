"""Background work on the archive, off the media loop: rendering each lesson's MP4 in a separate
process (with progress in the index), finishing recordings a crash interrupted, and retention."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from collections.abc import Awaitable, Callable
from pathlib import Path

import av
from sqlalchemy import select

from recorder.models import Recording
from storage.database import Database

log = logging.getLogger(__name__)
RETENTION_EVERY = timedelta(hours=1)


def probe(path: Path) -> float:
    """Seconds of media in a file, read from its packets (a crashed file has no duration header)."""
    try:
        with av.open(str(path)) as container:
            last = 0.0
            for packet in container.demux():
                if packet.pts is not None and packet.time_base is not None:
                    last = max(last, float((packet.pts + (packet.duration or 0)) * packet.time_base))
            return last
    except (av.error.FFmpegError, OSError):
        return 0.0


class RecordingJobs:
    def __init__(self, db: Database, root: Path, policies: Callable[[], Awaitable[dict[int, int | None]]], *,
                 retention_every: timedelta = RETENTION_EVERY) -> None:
        self.db = db
        self.root = root
        self.policies = policies
        """school id -> days its recordings are kept (None: kept)."""
        self.retention_every = retention_every
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        await self.recover()
        self._tasks = [asyncio.create_task(self._render_loop()), asyncio.create_task(self._retention_loop())]

    async def recover(self) -> int:
        """Recordings a crash left open are kept as they are on disk: status interrupted, with the
        duration their file really holds; their lessons' videos are rendered again."""
        async with self.db.session(immediate=True) as session:
            open_rows = list(await session.scalars(select(Recording).where(Recording.status == "recording")))
            for row in await session.scalars(select(Recording).where(Recording.status == "rendering")):
                row.status = "queued"
        lessons = set()
        for row in open_rows:
            path = self.root / row.path
            duration = await asyncio.to_thread(probe, path)
            async with self.db.session(immediate=True) as session:
                fresh = await session.get(Recording, row.id)
                if fresh is None:
                    continue
                if duration <= 0:
                    fresh.status = "failed"
                    fresh.error = "no media was written before the server stopped"
                    continue
                fresh.status = "interrupted"
                fresh.duration_seconds = round(duration, 3)
                fresh.size_bytes = path.stat().st_size
                fresh.ended_at = fresh.started_at + timedelta(seconds=duration)
                lessons.add(fresh.lesson_id)
        for lesson_id in lessons:
            await self.enqueue(lesson_id)
        if open_rows:
            log.info("recordings: %d interrupted by a crash were recovered", len(open_rows))
        return len(open_rows)

    async def enqueue(self, lesson_id: int) -> None:
        """Queue (again) the rendering of this lesson's video from its tracks."""
        async with self.db.session(immediate=True) as session:
            tracks = list(await session.scalars(select(Recording).where(
                Recording.lesson_id == lesson_id, Recording.kind == "track",
                Recording.status.in_(("complete", "interrupted")))))
            if not tracks:
                return
            composite = await session.scalar(select(Recording).where(
                Recording.lesson_id == lesson_id, Recording.kind == "composite", Recording.status != "deleted"))
            first = min(tracks, key=lambda r: r.started_at)
            if composite is None:
                composite = Recording(school_id=first.school_id, lesson_id=lesson_id, class_id=first.class_id,
                                      subject_id=first.subject_id, teacher_id=first.teacher_id,
                                      school_year_id=first.school_year_id, kind="composite", source="lesson",
                                      user_id=None, codec="h264+aac", path=f"{lesson_id}/lesson-{lesson_id}.mp4",
                                      started_at=first.started_at, status="queued", duration_seconds=0.0,
                                      size_bytes=0, progress=0.0, published=False)
                session.add(composite)
            elif composite.status != "rendering":
                composite.status, composite.progress, composite.error = "queued", 0.0, None
        self._wake.set()

    async def _next_job(self) -> int | None:
        """Claim the oldest queued render. On PostgreSQL several processes may claim at once: each
        skips rows another has locked (SQLite's write lock already makes claims one at a time)."""
        async with self.db.session(immediate=True) as session:
            row = await session.scalar(select(Recording).where(
                Recording.kind == "composite", Recording.status == "queued").order_by(Recording.id).limit(1)
                .with_for_update(skip_locked=True))
            if row is None:
                return None
            row.status = "rendering"
            return row.id

    async def _render_loop(self) -> None:
        while True:
            job_id = await self._next_job()
            if job_id is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(30):  # not wait_for: it can swallow a cancellation (3.11)
                        await self._wake.wait()
                continue
            try:
                await self._render(job_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("rendering recording %s failed", job_id)
                await self._set(job_id, status="failed", error=str(exc)[:300])

    async def _set(self, job_id: int, **values: object) -> None:
        async with self.db.session(immediate=True) as session:
            row = await session.get(Recording, job_id)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)

    async def _render(self, job_id: int) -> None:
        async with self.db.session(immediate=True) as session:
            composite = await session.get(Recording, job_id)
            assert composite is not None
            tracks = list(await session.scalars(select(Recording).where(
                Recording.lesson_id == composite.lesson_id, Recording.kind == "track",
                Recording.status.in_(("complete", "interrupted")))))
        if not tracks:
            await self._set(job_id, status="failed", error="no recorded tracks")
            return
        zero = min(t.started_at for t in tracks)
        end = max(t.started_at + timedelta(seconds=t.duration_seconds) for t in tracks)
        kinds = {"camera": "video", "screen": "video", "mic": "audio", "screen-audio": "audio"}
        job = {"out": str(self.root / composite.path), "duration": max(0.1, (end - zero).total_seconds()),
               "tracks": [{"path": str(self.root / t.path), "kind": kinds.get(t.source, "audio"), "source": t.source,
                           "offset": (t.started_at - zero).total_seconds()} for t in tracks
                          if t.source in kinds and (t.source in ("mic", "screen-audio") or t.user_id == t.teacher_id)]}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(job, handle)
            job_file = Path(handle.name)
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "recorder.composite", str(job_file),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                cwd=str(Path(__file__).resolve().parent.parent))
            assert self._process.stdout is not None
            result: dict[str, float] = {}
            last_saved = 0.0
            async for raw in self._process.stdout:
                line = raw.decode(errors="replace").strip()
                if line.startswith("progress "):
                    progress = float(line.split()[1])
                    if progress - last_saved >= 0.02 or progress >= 1:
                        last_saved = progress
                        await self._set(job_id, progress=progress)
                elif line.startswith("done "):
                    result = json.loads(line[5:])
            stderr = await self._process.stderr.read() if self._process.stderr else b""
            code = await self._process.wait()
            if code != 0 or not result:
                await self._set(job_id, status="failed", error=stderr.decode(errors="replace")[-300:] or f"exit {code}")
                return
            await self._set(job_id, status="complete", progress=1.0, duration_seconds=round(result["duration"], 3),
                            size_bytes=int(result["size"]), started_at=zero, ended_at=end)
        finally:
            self._process = None
            job_file.unlink(missing_ok=True)

    async def _retention_loop(self) -> None:
        while True:
            try:
                await apply_retention(self.db, self.root, datetime.now(UTC), await self.policies())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention failed")
            await asyncio.sleep(self.retention_every.total_seconds())

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def apply_retention(db: Database, root: Path, now: datetime, policies: dict[int, int | None]) -> int:
    """Delete the files of recordings older than their school keeps them; the index keeps a row
    marked deleted (what existed, and when it went)."""
    deleted = 0
    async with db.session(immediate=True) as session:
        for school_id, days in policies.items():
            if days is None:
                continue
            old = await session.scalars(select(Recording).where(
                Recording.school_id == school_id, Recording.status != "deleted",
                Recording.status != "recording", Recording.started_at < now - timedelta(days=days)))
            for row in old:
                (root / row.path).unlink(missing_ok=True)
                row.status = "deleted"
                row.error = f"deleted by the retention policy ({days} days) on {now.date().isoformat()}"
                deleted += 1
    return deleted

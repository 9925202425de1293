"""Background work on the archive, off the media loop: rendering each lesson's MP4 in a separate
process (with progress in the index), finishing recordings a crash interrupted, and retention.

A lesson's recording is a list of segments (each start..stop of the recorder: the maximal unions
of overlapping track intervals). Every stop asks for a render of all segments so far; a request
that comes while a render runs is kept (`render_again`) and served right after it. Each render
writes a new version of the file; the row switches to it in one write when it is done (a
published video stays published and playable meanwhile) and the old file is deleted after."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import av
from sqlalchemy import select, text

from recorder.models import LessonMark, Recording
from storage.database import Database
from whiteboard.slide_models import BoardSlide
from whiteboard.store import MAIN, BoardStore

log = logging.getLogger(__name__)
RETENTION_EVERY = timedelta(hours=1)
FPS = 15
"""Frames per second of a lesson video."""
JOIN_GAP = timedelta(seconds=1)
"""Tracks closer than this belong to one segment: no cut, no chapter, for less than a second."""
CHAPTER_GAP = 1.0
"""A screen share starting within this many seconds of its segment's start gets no chapter of its own."""
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"
KINDS = {"camera": "video", "screen": "video", "mic": "audio", "screen-audio": "audio"}
SOURCE_VI = {"camera": "camera", "screen": "màn hình", "mic": "micro", "screen-audio": "âm thanh màn hình"}


def segments_of(intervals: Sequence[tuple[datetime, datetime]],
                join_gap: timedelta = JOIN_GAP) -> list[tuple[datetime, datetime]]:
    """The recorded segments: maximal unions of overlapping (or nearly touching) intervals, in order."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + join_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


MARK_TITLES = {"breakouts_start": "Thảo luận nhóm", "breakouts_end": "Hết thảo luận nhóm"}
"""The lesson's marks (recorder.models.LessonMark) that become chapters, and their titles."""


def chapter_title(kind: str, index: int, at: datetime, zone: ZoneInfo) -> str:
    """A chapter's label, in Vietnamese, at the school's local time: 'Phần 2 — 09:41',
    'Chia sẻ màn hình — 09:43', 'Thảo luận nhóm — 09:45', 'Hết thảo luận nhóm — 09:55'."""
    clock = at.astimezone(zone).strftime("%H:%M")
    if kind == "segment":
        return f"Phần {index} — {clock}"
    if kind in MARK_TITLES:
        return f"{MARK_TITLES[kind]} — {clock}"
    return f"Chia sẻ màn hình — {clock}"


def plan_video(tracks: Sequence[Any], zone: ZoneInfo, fps: int = FPS,
               marks: Sequence[Any] = ()) -> dict[str, Any]:
    """What a render does with these track rows: segments (lesson time of the start, frames), their
    chapters, each screen share's and each mark's (breakout groups starting and ending) that falls
    inside a segment, and each track's offset from the first segment's start. A mark within the
    first second of its segment shares the segment's chapter: 'Phần 2 — 09:45 · Thảo luận nhóm'."""
    spans = [(t.started_at, t.started_at + timedelta(seconds=max(0.0, t.duration_seconds))) for t in tracks]
    segments = segments_of(spans)
    zero = segments[0][0]
    planned, chapters, frames_done = [], [], 0
    for number, (start, end) in enumerate(segments, 1):
        frames = max(1, round((end - start).total_seconds() * fps))
        begins = frames_done / fps
        planned.append({"start": (start - zero).total_seconds(), "frames": frames})
        segment_chapter = {"start": round(begins, 3), "kind": "segment", "index": number, "at": start.isoformat(),
                           "title": chapter_title("segment", number, start, zone)}
        chapters.append(segment_chapter)
        shares = sorted(t.started_at for t in tracks if t.source == "screen" and start <= t.started_at <= end)
        for share_number, shared in enumerate(shares, 1):
            into = math.ceil((shared - start).total_seconds() * fps - 1e-6) / fps  # the first frame that shows it
            if into >= CHAPTER_GAP and into < frames / fps:
                chapters.append({"start": round(begins + into, 3), "kind": "screen", "index": share_number,
                                 "at": shared.isoformat(), "title": chapter_title("screen", share_number, shared, zone)})
        for mark in sorted((m for m in marks if m.kind in MARK_TITLES and start <= m.at <= end), key=lambda m: m.at):
            into = math.ceil((mark.at - start).total_seconds() * fps - 1e-6) / fps
            if into >= frames / fps:
                continue  # at the very end of the part: nothing of it is in the video
            if into < CHAPTER_GAP:
                segment_chapter["title"] += f" · {MARK_TITLES[mark.kind]}"
                continue
            chapters.append({"start": round(begins + into, 3), "kind": mark.kind, "index": number,
                             "at": mark.at.isoformat(), "title": chapter_title(mark.kind, number, mark.at, zone)})
        frames_done += frames
    chapters.sort(key=lambda c: c["start"])
    return {"segments": planned, "chapters": chapters, "zero": zero, "end": segments[-1][1],
            "duration": frames_done / fps,
            "tracks": [{"path": t.path, "kind": KINDS[t.source], "source": t.source,
                        "offset": (t.started_at - zero).total_seconds()} for t in tracks]}


def chapters_vtt(chapters: Sequence[dict[str, Any]], duration: float) -> str:
    """WebVTT chapters: each runs until the next one starts (the last one to the end of the video)."""
    def stamp(seconds: float) -> str:
        millis = int(round(max(0.0, seconds) * 1000))
        return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"

    lines = ["WEBVTT", ""]
    for i, chapter in enumerate(chapters):
        start = float(chapter["start"])
        end = float(chapters[i + 1]["start"]) if i + 1 < len(chapters) else max(duration, start + 0.001)
        lines += [f"chapter-{i + 1}", f"{stamp(start)} --> {stamp(max(end, start + 0.001))}",
                  str(chapter["title"]).replace("-->", "→"), ""]
    return "\n".join(lines)


def skipped_note(skipped: Sequence[dict[str, Any]], sources: Sequence[str]) -> str | None:
    """'bỏ qua 3 khung hình hỏng trong tệp màn hình' for what the renderer had to leave out."""
    parts = [f"bỏ qua {s['frames']} khung hình hỏng trong tệp {SOURCE_VI.get(sources[s['track']], sources[s['track']])}"
             for s in skipped if s["frames"]]
    return "; ".join(parts)[:500] or None


def slide_ids(values: Any) -> list[int]:
    """Every `slide_id` in these ops (slide backgrounds, images), however deep."""
    found: list[int] = []
    stack = [values]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if isinstance(value.get("slide_id"), int):
                found.append(value["slide_id"])
            stack.extend(value.values())
        elif isinstance(value, list | tuple) or hasattr(value, "__next__"):
            stack.extend(value)
    return found


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
            for row in await session.scalars(select(Recording).where(Recording.render_state == "rendering")):
                row.render_state = "queued"  # the render a stop cut short runs again
                if row.status == "rendering":
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
        """Queue (again) the rendering of this lesson's video from all its tracks so far. A render
        already running is followed by another one: the request is never dropped."""
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
                                      user_id=None, codec="h264+aac", path=f"{lesson_id}/lesson-{lesson_id}-v1.mp4",
                                      started_at=first.started_at, status="queued", duration_seconds=0.0,
                                      size_bytes=0, progress=0.0, published=False, render_state="queued",
                                      render_again=False, version=0)
                session.add(composite)
            elif composite.render_state == "rendering":
                composite.render_again = True
            elif composite.render_state is None:
                composite.render_state, composite.progress = "queued", 0.0
                if composite.status not in ("complete", "interrupted"):  # nothing playable yet
                    composite.status, composite.error = "queued", None
        self._wake.set()

    async def _next_job(self) -> int | None:
        """Claim the oldest queued render. On PostgreSQL several processes may claim at once: each
        skips rows another has locked (SQLite's write lock already makes claims one at a time)."""
        async with self.db.session(immediate=True) as session:
            row = await session.scalar(select(Recording).where(
                Recording.kind == "composite", Recording.render_state == "queued").order_by(Recording.id).limit(1)
                .with_for_update(skip_locked=True))
            if row is None:
                return None
            row.render_state, row.render_again, row.progress = "rendering", False, 0.0
            if row.status == "queued":
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
                await self._failed(job_id, str(exc)[:300])

    async def _set(self, job_id: int, **values: object) -> None:
        async with self.db.session(immediate=True) as session:
            row = await session.get(Recording, job_id)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)

    async def _failed(self, job_id: int, error: str) -> None:
        """A render failed: a lesson video that had a version keeps it (complete, playable), one that
        had none is failed. A request that came meanwhile is served."""
        async with self.db.session(immediate=True) as session:
            row = await session.get(Recording, job_id)
            if row is None:
                return
            row.error = error[:300]
            if row.status not in ("complete", "interrupted", "deleted"):
                row.status = "failed"
            row.render_state = "queued" if row.render_again and row.status != "deleted" else None
            row.render_again = False
        if row.render_state == "queued":
            self._wake.set()

    async def _zone(self, school_id: int) -> ZoneInfo:
        """The school's time zone, for chapter labels (read as plain SQL: recorder/ does not import school/)."""
        async with self.db.session() as session:
            name = await session.scalar(text("SELECT timezone FROM schools WHERE id = :id"), {"id": school_id})
        try:
            return ZoneInfo(name or DEFAULT_ZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_ZONE)

    async def _board(self, lesson_id: int, school_id: int, zero: datetime, end: datetime) -> dict[str, Any] | None:
        """The main board's op log up to the end of the recording, for the renderer to draw the board
        while it was on the stage; None when it never was. Slides are read from the data directory
        (the recordings folder's parent), only the school's own."""
        ops = await BoardStore(self.db).ops(lesson_id, MAIN, until=end)
        if not any(e["op"].get("kind") == "show" and e["op"].get("active") for e in ops):
            return None
        wanted = set(slide_ids(e["op"] for e in ops))
        allowed: list[int] = []
        if wanted:
            async with self.db.session() as session:
                allowed = sorted(await session.scalars(select(BoardSlide.id).where(
                    BoardSlide.id.in_(wanted), BoardSlide.school_id == school_id)))
        return {"zero": zero.isoformat(), "data_dir": str(self.root.parent), "slides": allowed,
                "ops": [{"seq": e["seq"], "at": e["at"].isoformat(), "op": e["op"]} for e in ops]}

    renderer: tuple[str, ...] = (sys.executable, "-m", "recorder.composite")
    """The renderer's command line; the job file is appended."""

    async def _render(self, job_id: int) -> None:
        async with self.db.session(immediate=True) as session:
            composite = await session.get(Recording, job_id)
            assert composite is not None
            tracks = list(await session.scalars(select(Recording).where(
                Recording.lesson_id == composite.lesson_id, Recording.kind == "track",
                Recording.status.in_(("complete", "interrupted"))).order_by(Recording.started_at, Recording.id)))
            marks = list(await session.scalars(select(LessonMark).where(
                LessonMark.lesson_id == composite.lesson_id).order_by(LessonMark.at, LessonMark.id)))
        # A breakout group's own recording stays in the archive as its tracks, out of the lesson video.
        tracks = [t for t in tracks if t.source in KINDS and t.duration_seconds > 0 and t.breakout_group is None
                  and (t.source in ("mic", "screen-audio") or t.user_id == t.teacher_id)]
        if not tracks:
            await self._failed(job_id, "no recorded tracks")
            return
        plan = plan_video(tracks, await self._zone(composite.school_id), marks=marks)
        version = composite.version + 1
        relative = f"{composite.lesson_id}/lesson-{composite.lesson_id}-v{version}.mp4"
        job = {"out": str(self.root / relative), "duration": plan["duration"], "layout": {"fps": FPS},
               "segments": plan["segments"], "chapters": plan["chapters"],
               "tracks": [{**t, "path": str(self.root / t["path"])} for t in plan["tracks"]]}
        board = await self._board(composite.lesson_id, composite.school_id, plan["zero"], plan["end"])
        if board is not None:
            job["board"] = board
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(job, handle)
            job_file = Path(handle.name)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.renderer, str(job_file),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                cwd=str(Path(__file__).resolve().parent.parent))
            assert self._process.stdout is not None and self._process.stderr is not None
            stderr_task = asyncio.ensure_future(self._process.stderr.read())  # never let a full pipe stall it
            result: dict[str, Any] = {}
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
            stderr = await stderr_task
            code = await self._process.wait()
            if code != 0 or not result:
                (self.root / relative).unlink(missing_ok=True)
                await self._failed(job_id, stderr.decode(errors="replace")[-300:] or f"exit {code}")
                return
            await self._swap(job_id, relative, version, plan, result, [t.source for t in tracks])
        finally:
            self._process = None
            job_file.unlink(missing_ok=True)

    async def _swap(self, job_id: int, relative: str, version: int, plan: dict[str, Any], result: dict[str, Any],
                    sources: list[str]) -> None:
        """Point the row at the new version in one write (published stays as it was), then delete
        the previous file. A lesson video deleted meanwhile loses the new file too."""
        old: str | None = None
        async with self.db.session(immediate=True) as session:
            row = await session.get(Recording, job_id)
            if row is None or row.status == "deleted":
                gone = True
            else:
                gone = False
                if row.path != relative and row.version > 0:
                    old = row.path
                row.path, row.version, row.status = relative, version, "complete"
                row.duration_seconds, row.size_bytes = round(float(result["duration"]), 3), int(result["size"])
                row.started_at, row.ended_at = plan["zero"], plan["end"]
                row.chapters = json.dumps(plan["chapters"], ensure_ascii=False)
                row.notes = skipped_note(result.get("skipped", []), sources)
                row.error = None
                if row.render_again:
                    row.render_state, row.render_again, row.progress = "queued", False, 0.0
                else:
                    row.render_state, row.progress = None, 1.0
                again = row.render_state == "queued"
        if gone:
            (self.root / relative).unlink(missing_ok=True)
            return
        if old is not None:
            (self.root / old).unlink(missing_ok=True)
        if again:
            self._wake.set()

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

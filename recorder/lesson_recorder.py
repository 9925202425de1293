"""The recorder of one lesson: a system participant that reads the room's producers in-process
(Galène's way: just another consumer) and writes each to its own file, indexed in the archive.
The forwarding call only queues a copy of each packet; each track's writer thread does the rest
(`recorder.track_queue`)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiortc.rtp import RtpPacket

from recorder.models import LessonMark, Recording
from recorder.track_queue import QueuedTrack
from recorder.track_writer import TrackWriter, file_suffix, open_file
from sfu.producer import Producer
from storage.database import Database

log = logging.getLogger(__name__)
SYNC_SECONDS = 2.0
"""How often files are fsynced and the index brought up to date: what a machine crash can lose."""


@dataclass(frozen=True)
class RecordingScope:
    school_id: int
    lesson_id: int
    class_id: int
    subject_id: int
    teacher_id: int
    school_year_id: int | None
    record_students: bool


@dataclass
class RecorderStats:
    dropped_packets: int = 0
    """Packets the taps dropped: a writer fell behind (its queue was full)."""
    lost_frames: int = 0
    """Video frames given up on (a packet never came, or was dropped)."""
    discarded_frames: int = 0
    """Frames not written: waiting for a keyframe after a loss, late, or refused by the muxer."""
    queue_depth: int = 0
    """Packets waiting for the writer threads now."""

    def add(self, track: QueuedTrack) -> None:
        self.dropped_packets += track.dropped
        self.lost_frames += track.writer.lost
        self.discarded_frames += track.writer.discarded


@dataclass
class _Track:
    producer: Producer
    queued: QueuedTrack
    recording_id: int
    tap: Callable[[RtpPacket, bool], None] = field(init=False)

    def __post_init__(self) -> None:
        self.tap = self.queued.tap

    @property
    def writer(self) -> TrackWriter:
        return self.queued.writer


class LessonRecorder:
    def __init__(self, db: Database, root: Path, scope: RecordingScope,
                 on_stopped: Callable[[int], None] | None = None) -> None:
        self.db = db
        self.root = root
        self.scope = scope
        self.active = False
        self._on_stopped = on_stopped
        self._tracks: dict[str, _Track] = {}
        self._sync_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._finishing: set[asyncio.Task[None]] = set()
        self._queues: list[QueuedTrack] = []
        """Every track this recorder wrote, closed ones too: their counters stay counted."""
        self.recorded_any = False
        self.open_file = open_file
        """How track files are opened (a test may put a slow disk here)."""
        self.queue_capacity: int | None = None
        """Packets a track may have waiting for its writer thread (None: the default per kind)."""
        self.also_record: Callable[[Producer], str | None] | None = None
        """Set by the lesson: the breakout group (its name) whose recording covers this producer now,
        or None. Such a producer is recorded too, while that holds (`reconsider`)."""

    def stats(self) -> RecorderStats:
        """Counters of every track this recorder wrote, and the packets queued now."""
        total = RecorderStats()
        for queued in list(self._queues):
            total.add(queued)
            total.queue_depth += queued.depth
        return total

    def wants(self, producer: Producer) -> bool:
        return self._lesson_wants(producer) or self._group_of(producer) is not None

    def _lesson_wants(self, producer: Producer) -> bool:
        """Recorded as part of the lesson itself: the teacher, and students when the school says so."""
        user_id = producer.app_data.get("user_id")
        if user_id == self.scope.teacher_id:
            return True
        return self.scope.record_students and producer.app_data.get("role") == "student"

    def _group_of(self, producer: Producer) -> str | None:
        return self.also_record(producer) if self.also_record is not None else None

    def recording_producer(self, producer_id: str) -> bool:
        """Whether this producer is being written now."""
        return producer_id in self._tracks

    def reconsider(self) -> None:
        """Stop writing what is no longer wanted (a group's recording turned off, a student out of
        the group): each such track's file is finished and indexed, as when its producer closes.
        Plain function: call it from anywhere on the loop (an action, too)."""
        for producer_id, track in list(self._tracks.items()):
            if not self.wants(track.producer):
                self._detach(producer_id)

    async def mark(self, kind: str, label: str | None = None, at: datetime | None = None) -> None:
        """Note a moment of the lesson (e.g. breakout groups starting): a chapter of the lesson video
        when it falls inside a recorded part. One short write, whether recording now or not."""
        mark = LessonMark(lesson_id=self.scope.lesson_id, kind=kind, at=at or datetime.now(UTC),
                          label=(label or None) and label[:200])
        async with self.db.session(immediate=True) as session:
            session.add(mark)

    async def start(self, producers: list[Producer]) -> None:
        async with self._lock:
            if self.active:
                return
            self.active = True
            for producer in producers:
                await self._attach(producer)
            self._sync_task = asyncio.create_task(self._sync_loop())

    async def producer_added(self, producer: Producer) -> None:
        async with self._lock:
            if self.active:
                await self._attach(producer)

    async def _attach(self, producer: Producer) -> None:
        if producer.id in self._tracks or producer.closed or not self.wants(producer):
            return
        source = str(producer.app_data.get("source", producer.kind))
        now = datetime.now(UTC)
        relative = Path(str(self.scope.lesson_id)) / (
            f"{now.strftime('%Y%m%dT%H%M%S%f')}-{source}-u{producer.app_data.get('user_id')}"
            f"{file_suffix(producer.codec.mimeType)}")
        loop = asyncio.get_running_loop()

        def need_keyframe() -> None:  # from the writer thread
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(producer.request_keyframe)

        writer = TrackWriter(self.root / relative, producer.codec, on_need_keyframe=need_keyframe,
                             opener=self.open_file)
        group = None if self._lesson_wants(producer) else self._group_of(producer)
        async with self.db.session(immediate=True) as session:
            row = Recording(school_id=self.scope.school_id, lesson_id=self.scope.lesson_id,
                            class_id=self.scope.class_id, subject_id=self.scope.subject_id,
                            teacher_id=self.scope.teacher_id, school_year_id=self.scope.school_year_id, kind="track",
                            source=source, user_id=producer.app_data.get("user_id"),
                            codec=producer.codec.mimeType.split("/")[1].lower(), path=str(relative), started_at=now,
                            status="recording", duration_seconds=0.0, size_bytes=0, progress=0.0, published=False,
                            breakout_group=group)
            session.add(row)
            await session.flush()
            recording_id = row.id

        track = _Track(producer, QueuedTrack(writer, capacity=self.queue_capacity,
                                                on_overflow=producer.request_keyframe), recording_id)
        self._queues.append(track.queued)
        self._tracks[producer.id] = track
        producer.add_tap(track.tap)
        if self._producer_closed not in producer.on_close:  # attached again after a detach: once is enough
            producer.on_close.append(self._producer_closed)
        self.recorded_any = True
        if producer.closed:  # it closed while the row was written: its writer thread ends now
            self._producer_closed(producer)
        elif not self.wants(producer):  # no longer wanted while the row was written
            self._detach(producer.id)

    def _producer_closed(self, producer: Producer) -> None:
        self._detach(producer.id)

    def _detach(self, producer_id: str) -> None:
        track = self._tracks.pop(producer_id, None)
        if track is not None:
            task = asyncio.ensure_future(self._finish(track))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
            task.add_done_callback(_log_failure)

    async def _finish(self, track: _Track) -> None:
        track.producer.remove_tap(track.tap)
        await asyncio.to_thread(track.queued.close)  # what is queued is written, then the file finished
        async with self.db.session(immediate=True) as session:
            row = await session.get(Recording, track.recording_id)
            if row is None:
                return
            if track.writer.frames == 0:
                await session.delete(row)  # nothing arrived: nothing to keep
                return
            self._update(row, track.writer)
            row.status = "complete"
            row.ended_at = datetime.now(UTC)

    @staticmethod
    def _update(row: Recording, writer: TrackWriter) -> None:
        if writer.started_wall is not None:
            row.started_at = datetime.fromtimestamp(writer.started_wall, UTC)
        row.duration_seconds = round(writer.duration, 3)
        row.size_bytes = writer.path.stat().st_size if writer.path.exists() else 0

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            try:
                tracks = list(self._tracks.values())
                await asyncio.to_thread(lambda: [t.writer.sync() for t in tracks])
                async with self.db.session(immediate=True) as session:
                    for track in tracks:
                        row = await session.get(Recording, track.recording_id)
                        if row is not None and track.writer.frames:
                            self._update(row, track.writer)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recording sync failed")

    async def stop(self) -> None:
        """Stop recording: every track file is closed and indexed; the lesson video is queued."""
        async with self._lock:
            if not self.active:
                return
            self.active = False
            if self._sync_task is not None:
                self._sync_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._sync_task
            tracks = list(self._tracks.values())
            self._tracks.clear()
            for track in tracks:
                await self._finish(track)
            if self._finishing:
                await asyncio.gather(*self._finishing, return_exceptions=True)
        if self.recorded_any and self._on_stopped is not None:
            self._on_stopped(self.scope.lesson_id)


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("finishing a recorded track failed", exc_info=task.exception())

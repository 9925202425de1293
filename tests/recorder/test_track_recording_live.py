"""Recording through a real server with real aiortc peers: a screen share whose track is replaced on
the same m-line (another size, RTP timestamps starting over) records both parts; a disk that
stalls never holds up forwarding, and what it cost is counted in /metrics."""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from aiohttp import web
from aiohttp.test_utils import TestClient

from recorder.models import Recording
from recorder.track_writer import open_file
from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from tests.recorder.test_recording import rows
from tests.recorder.track_media import close_to, decode
from tests.web.test_metrics_sfu import scrape
from web.keys import CONFIG, ROOMS

RED, BLUE = (255, 0, 0), (0, 0, 255)


async def finished_track(app: web.Application, lesson_id: int, source: str, timeout: float = 30.0) -> Recording:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for row in await rows(app, lesson_id):
            if row.kind == "track" and row.source == source and row.status == "complete":
                return row
        await asyncio.sleep(0.2)
    raise AssertionError(f"the {source} track was not finished")


async def teacher_of(live_server: LiveServer, demo: DemoSchool, login: Login) -> LessonClient:
    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    teacher = LessonClient(live_server.url, demo.lesson_id, token)
    await teacher.connect()
    assert teacher.joined["recording"]["active"] is True
    return teacher


async def test_a_screen_share_replaced_on_the_same_m_line_records_both_parts(
    live_server: LiveServer, demo: DemoSchool, login: Login, app: web.Application
) -> None:
    teacher = await teacher_of(live_server, demo, login)
    try:
        await teacher.publish({"screen": ColourTrack(RED, width=320, height=240)})
        await asyncio.sleep(2.5)
        # Another window shared on the same m-line: aiortc's sender keeps its sequence numbers, but the
        # new track's timestamps start over (a jump back) and the encoder restarts at another size.
        await teacher.publish({"screen": ColourTrack(BLUE, width=640, height=360)})
        await asyncio.sleep(2.5)
    finally:
        await teacher.close()
    row = await finished_track(app, demo.lesson_id, "screen")
    decoded = decode(app[CONFIG].data_dir / "recordings" / row.path)  # raises on a damaged frame
    red = [i for i, size in enumerate(decoded.sizes) if size == (320, 240)]
    blue = [i for i, size in enumerate(decoded.sizes) if size == (640, 360)]
    assert len(red) >= 30 and len(blue) >= 30, "both parts are there (the second used to be dropped)"
    assert max(red) < min(blue) and len(red) + len(blue) == len(decoded)
    assert all(close_to(decoded.colours[i], RED) for i in red)
    assert all(close_to(decoded.colours[i], BLUE) for i in blue)
    assert all(b > a for a, b in zip(decoded.seconds, decoded.seconds[1:], strict=False))
    assert abs(row.duration_seconds - decoded.seconds[-1]) < 0.1


class StuckDisk:
    """A file whose writes wait until `release` is set: a disk that stalls."""

    def __init__(self, raw: BinaryIO, release: threading.Event) -> None:
        self._raw = raw
        self._release = release
        self.waited = threading.Event()

    def write(self, data: bytes) -> int | None:
        if not self._release.is_set():
            self.waited.set()
            self._release.wait()
        return self._raw.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


async def test_a_stuck_disk_never_holds_up_forwarding_and_drops_are_counted(
    live_server: LiveServer, demo: DemoSchool, login: Login, app: web.Application, client: TestClient
) -> None:
    release = threading.Event()
    disks: list[StuckDisk] = []

    def stuck(path: Path) -> BinaryIO:
        disk = StuckDisk(open_file(path), release)
        disks.append(disk)
        return disk  # type: ignore[return-value]

    before = await scrape(client)
    teacher = await teacher_of(live_server, demo, login)
    student: LessonClient | None = None
    try:
        recorder = app[ROOMS].rooms[demo.lesson_id].recorder
        assert recorder is not None
        recorder.open_file = stuck
        recorder.queue_capacity = 40  # packets: fills in about a second
        published = await teacher.publish({"camera": ColourTrack(RED), "mic": ToneTrack()})
        camera_id = next(p["producer_id"] for p in published["producers"] if p["source"] == "camera")
        camera = app[ROOMS].rooms[demo.lesson_id].room.producers[camera_id]

        token = (await login(demo.students[0]))["Authorization"].removeprefix("Bearer ")
        student = LessonClient(live_server.url, demo.lesson_id, token)
        await student.connect()
        track = await student.track_of(camera_id)
        await asyncio.wait_for(track.recv(), 15)

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stalled = await scrape(client)
            if stalled[("lophoc_recorder_dropped_packets_total", ())] > before.get(
                    ("lophoc_recorder_dropped_packets_total", ()), 0):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("no drop was counted")
        assert disks and all(d.waited.is_set() for d in disks), "every writer thread is stuck in a write"
        assert stalled[("lophoc_recorder_queue_depth", ())] > 0
        # Forwarding goes on while the writers are stuck: the student keeps getting frames.
        sent_before = camera.stats.packets_out
        for _ in range(30):
            await asyncio.wait_for(track.recv(), 5)
        assert camera.stats.packets_out > sent_before
        assert all(not d._release.is_set() for d in disks), "still stuck"
        later = await scrape(client)
        assert later[("lophoc_recorder_dropped_packets_total", ())] > stalled[("lophoc_recorder_dropped_packets_total", ())]

        release.set()  # the disk comes back: recording resumes from a keyframe
        await asyncio.sleep(3)
    finally:
        release.set()
        if student is not None:
            await student.close()
        await teacher.close()
    row = await finished_track(app, demo.lesson_id, "camera")
    decoded = decode(app[CONFIG].data_dir / "recordings" / row.path)  # raises on a damaged frame
    assert len(decoded) >= 30 and all(close_to(c, RED) for c in decoded.colours)
    after = await scrape(client)
    assert after[("lophoc_recorder_queue_depth", ())] == 0
    assert after[("lophoc_recorder_dropped_packets_total", ())] >= later[("lophoc_recorder_dropped_packets_total", ())]

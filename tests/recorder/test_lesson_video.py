"""The lesson video over several starts and stops of the recorder, with real parts: tracks recorded
from real aiortc peers by the real recorder (or VP8 WebM files written with PyAV the way the
recorder writes them), a real database, the real renderer process.

The renderer is started through a gate (a small script that waits for the test's go-ahead, then
runs `recorder.composite`) so the test decides when a render is running: the second stop comes
while the first render runs, and the new version is checked while the previous one is still served."""
from __future__ import annotations

import asyncio
import fractions
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import av
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import migrations
from recorder.jobs import RecordingJobs, segments_of
from recorder.models import Recording
from school.demo import DemoSchool
from school.models import Lesson
from signaling.client import LessonClient
from storage.database import Database
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from tests.recorder.test_recording import mean_bgr, rows
from tests.servers import postgres_cluster, postgres_url  # noqa: F401
from tests.waiting import until
from web.keys import CONFIG, DATABASE, RECORDING_JOBS

RED, BLUE = (255, 0, 0), (0, 0, 255)
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$")

GATE = '''
import os, sys, time
from pathlib import Path
gate, job = Path(sys.argv[1]), sys.argv[2]
k = 1
while True:
    try:
        os.close(os.open(gate / f"started-{k}", os.O_CREAT | os.O_EXCL))
        break
    except FileExistsError:
        k += 1
while not (gate / f"go-{k}").exists():
    time.sleep(0.05)
sys.path.insert(0, os.getcwd())
from recorder.composite import main
sys.exit(main([job]))
'''


def gate_renders(app: web.Application, tmp_path: Path) -> Path:
    """Every render of the app's jobs now waits for `go-<n>` in the returned folder (n counts renders)."""
    gate = tmp_path / "gate"
    gate.mkdir()
    script = tmp_path / "gated_renderer.py"
    script.write_text(GATE)
    app[RECORDING_JOBS].renderer = (sys.executable, str(script), str(gate))
    return gate


async def composite_of(app: web.Application, lesson_id: int) -> Recording | None:
    return next((r for r in await rows(app, lesson_id) if r.kind == "composite"), None)


def cues(vtt: str) -> list[tuple[float, float, str]]:
    lines = vtt.splitlines()
    assert lines[0] == "WEBVTT"
    found = []
    for i, line in enumerate(lines):
        m = CUE.match(line)
        if m:
            h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, m.groups())
            found.append((h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000, lines[i + 1]))
    return found


def frames_of(path: Path) -> tuple[float, list[np.ndarray]]:
    with av.open(str(path)) as container:
        duration = float(container.duration) / av.time_base
        return duration, [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


@pytest.mark.timeout(240)
async def test_stop_start_stop_during_a_render_gives_one_video_of_both_parts_without_the_gap_with_chapters(
    live_server: LiveServer, demo: DemoSchool, login: Login, app: web.Application, client: TestClient,
    tmp_path: Path
) -> None:
    gate = gate_renders(app, tmp_path)
    root = app[CONFIG].data_dir / "recordings"
    teacher_headers = await login(demo.teacher)
    student_headers = await login(demo.students[0])
    control = f"/api/lessons/{demo.lesson_id}/recording"
    teacher = LessonClient(live_server.url, demo.lesson_id, teacher_headers["Authorization"].removeprefix("Bearer "))
    await teacher.connect()
    try:
        assert teacher.joined["recording"]["active"] is True
        # Part 1: the camera (red, full frame) and the microphone.
        await teacher.publish({"camera": ColourTrack(RED), "mic": ToneTrack()})
        await asyncio.sleep(4)
        stopped = await client.post(control, json={"active": False}, headers=teacher_headers)
        assert stopped.status == 200 and (await stopped.json())["recording"] is False

        async def first_render_running() -> bool:
            row = await composite_of(app, demo.lesson_id)
            return (row is not None and row.render_state == "rendering" and (gate / "started-1").exists())

        await until("the first render to start", first_render_running, timeout=60)
        await asyncio.sleep(3)  # not recorded: this must not be in the video

        # Part 2: recording again; a screen share (blue) starts a moment later.
        started = await client.post(control, json={"active": True}, headers=teacher_headers)
        assert (await started.json())["recording"] is True
        await asyncio.sleep(1.5)
        await teacher.publish({"screen": ColourTrack(BLUE, width=640, height=360)})
        await asyncio.sleep(3.5)
        # The second stop comes while the first render runs: it is kept, not dropped.
        await client.post(control, json={"active": False}, headers=teacher_headers)

        async def asked_again() -> bool:  # the stop queues its render in the background
            row = await composite_of(app, demo.lesson_id)
            return row is not None and row.render_state == "rendering" and row.render_again and row.version == 0

        await until("the second stop's request to be kept", asked_again, timeout=60)
    finally:
        await teacher.close()

    tracks = [r for r in await rows(app, demo.lesson_id) if r.kind == "track"]
    assert sorted(r.source for r in tracks) == ["camera", "camera", "mic", "mic", "screen"]
    assert all(r.status == "complete" for r in tracks)
    segments = segments_of([(r.started_at, r.started_at + timedelta(seconds=r.duration_seconds)) for r in tracks])
    assert len(segments) == 2, segments
    lengths = [(end - start).total_seconds() for start, end in segments]
    assert (segments[1][0] - segments[0][1]).total_seconds() > 2.0, "the pause is between the parts"

    # The first render (part 1 only) finishes; the second one is claimed at once and waits at the gate.
    (gate / "go-1").touch()

    async def first_version_and_second_render() -> Recording | None:
        row = await composite_of(app, demo.lesson_id)
        ok = row is not None and row.version == 1 and row.render_state == "rendering" and (gate / "started-2").exists()
        return row if ok else None

    first = await until("the first version, and the second render running", first_version_and_second_render, timeout=60)
    assert isinstance(first, Recording) and first.status == "complete" and first.render_again is False
    first_file = root / first.path
    duration, _frames = frames_of(first_file)
    assert abs(duration - lengths[0]) < 0.4, (duration, lengths)
    # Publish the first version while the next one renders: students watch it meanwhile.
    published = await client.patch(f"/api/recordings/{first.id}", json={"published": True}, headers=teacher_headers)
    assert published.status == 200
    listed = (await (await client.get(f"/api/lessons/{demo.lesson_id}/recordings", headers=student_headers)).json())
    [video] = listed["items"]
    assert video["status"] == "complete" and video["render_state"] == "rendering" and video["published"] is True
    assert [c["title"].split(" — ")[0] for c in video["chapters"]] == ["Phần 1"]
    playing = await client.get(video["media_url"], headers=student_headers)
    assert playing.status == 200 and (await playing.read()) == first_file.read_bytes()

    (gate / "go-2").touch()

    async def second_version() -> Recording | None:
        row = await composite_of(app, demo.lesson_id)
        return row if row is not None and row.version == 2 and row.render_state is None else None

    second = await until("the second version", second_version, timeout=120)
    assert isinstance(second, Recording)
    assert second.status == "complete" and second.published is True and second.id == first.id
    assert second.path != first.path and not first_file.exists(), "the previous version's file is deleted after"
    assert second.notes is None

    # Both parts, one after the other, without the pause: duration = sum of the segments.
    duration, frames = frames_of(root / second.path)
    assert abs(duration - sum(lengths)) < 0.4, (duration, lengths)
    assert abs(second.duration_seconds - sum(lengths)) < 0.4
    fps = 15
    part_one = frames[int(lengths[0] / 2 * fps)]
    centre = mean_bgr(part_one[200:520, 500:780])
    assert centre[2] > 180 and centre[0] < 60, f"part 1 shows the red camera: {centre}"
    part_two = frames[int((lengths[0] + lengths[1] - 1.0) * fps)]
    screen_area = mean_bgr(part_two[100:600, 100:800])
    camera_area = mean_bgr(part_two[20:200, 1000:1260])
    assert screen_area[0] > 180 and screen_area[2] < 60, f"part 2 shows the blue screen share: {screen_area}"
    assert camera_area[2] > 180 and camera_area[0] < 60, f"and the camera at the top right: {camera_area}"
    black = [i for i, f in enumerate(frames) if f.mean() < 8]
    assert len(black) <= fps, f"no black stretch (only the moment before a part's first camera frame): {black}"

    # Chapters: each part, then the screen share, in order; served as WebVTT to whoever may watch.
    vtt = await client.get(f"/api/recordings/{second.id}/chapters.vtt", headers=student_headers)
    assert vtt.status == 200 and vtt.content_type == "text/vtt"
    found = cues(await vtt.text())
    assert [title.split(" — ")[0] for _s, _e, title in found] == ["Phần 1", "Phần 2", "Chia sẻ màn hình"]
    for _s, _e, title in found:
        assert re.fullmatch(r"(Phần \d|Chia sẻ màn hình) — \d\d:\d\d", title), title
    starts = [s for s, _e, _t in found]
    assert starts[0] == 0.0 and starts == sorted(starts)
    assert abs(starts[1] - lengths[0]) < 0.2, (starts, lengths)
    assert 1.0 <= starts[2] - starts[1] <= lengths[1], starts
    assert all(found[i][1] == found[i + 1][0] for i in range(len(found) - 1))
    assert abs(found[-1][1] - duration) < 0.2
    with av.open(str(root / second.path)) as container:
        embedded = container.chapters()
    assert [c["metadata"]["title"] for c in embedded] == [t for _s, _e, t in found], "the MP4 has the same chapters"
    assert (await client.get(f"/api/recordings/{second.id}/chapters.vtt",
                             headers=await login(demo.admin))).status == 200
    async with aiohttp.ClientSession() as nobody:  # no session cookie, no token
        async with nobody.get(f"{live_server.url}/api/recordings/{second.id}/chapters.vtt") as other:
            assert other.status == 401


def write_vp8_webm(path: Path, frames: int, colour_at: Callable[[int], tuple[int, int, int]], damaged: int,
                   fps: int = 30, keyframe_every: int = 30) -> None:
    """A VP8 WebM like the recorder's (ms time base, live clusters), one packet's payload destroyed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base, encoder.framerate, encoder.gop_size = fractions.Fraction(1, fps), fps, keyframe_every
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "keyint_min": str(keyframe_every)}
    out = av.open(str(path), "w", format="webm", options={"flush_packets": "1", "live": "1",
                                                           "cluster_time_limit": "1000"})
    stream = out.add_stream("libvpx", rate=fps)
    stream.width, stream.height = 320, 240
    stream.time_base = fractions.Fraction(1, 1000)
    noise = np.random.default_rng(7)

    def mux(packet: av.Packet) -> None:
        data = bytes(packet)
        if packet.pts == damaged:
            data = data[:3] + noise.integers(0, 256, len(data) - 3, dtype=np.uint8).tobytes()
        copy = av.Packet(data)
        copy.stream, copy.time_base = stream, fractions.Fraction(1, fps)
        copy.pts = copy.dts = packet.pts
        copy.is_keyframe = packet.is_keyframe
        out.mux(copy)

    for i in range(frames):
        image = np.zeros((240, 320, 3), dtype=np.uint8)
        image[:, :] = colour_at(i)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = i, fractions.Fraction(1, fps)
        for packet in encoder.encode(frame):
            mux(packet)
    for packet in encoder.encode(None):
        mux(packet)
    out.close()


@pytest.mark.timeout(120)
async def test_a_damaged_frame_skips_to_the_next_keyframe_and_the_archive_says_so(
    demo: DemoSchool, app: web.Application, client: TestClient, login: Login
) -> None:
    root: Path = app[CONFIG].data_dir / "recordings"
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        school_id, class_id, subject_id, teacher_id = lesson.school_id, lesson.class_id, lesson.subject_id, lesson.teacher_id
    # 3 s of screen share: blue for 2 s, then green; keyframes at 0, 1 and 2 s; frame 45 (1.5 s) destroyed.
    relative = f"{demo.lesson_id}/20260101T000000000000-screen-u{teacher_id}.webm"
    write_vp8_webm(root / relative, 90, lambda i: BLUE if i < 60 else (0, 255, 0), damaged=45)
    with av.open(str(root / relative)) as container:
        keyframes = [p.pts for p in container.demux(video=0) if p.size and p.is_keyframe]
    assert keyframes == [0, 1000, 2000]
    started = datetime.now(UTC) - timedelta(minutes=5)
    async with app[DATABASE].session() as session:
        session.add(Recording(school_id=school_id, lesson_id=demo.lesson_id, class_id=class_id, subject_id=subject_id,
                              teacher_id=teacher_id, kind="track", source="screen", user_id=teacher_id, codec="vp8",
                              path=relative, started_at=started, ended_at=started + timedelta(seconds=3),
                              status="complete", duration_seconds=2.967, size_bytes=(root / relative).stat().st_size,
                              progress=0.0, published=False))
    await app[RECORDING_JOBS].enqueue(demo.lesson_id)

    async def rendered() -> Recording | None:
        row = await composite_of(app, demo.lesson_id)
        assert row is None or row.status != "failed", row.error
        return row if row is not None and row.status == "complete" and row.render_state is None else None

    video = await until("the lesson video", rendered, timeout=60)
    assert isinstance(video, Recording)
    assert video.notes == "bỏ qua 15 khung hình hỏng trong tệp màn hình", video.notes
    duration, frames = frames_of(root / video.path)
    assert abs(duration - 2.967) < 0.2
    fps = 15
    before = mean_bgr(frames[int(1.2 * fps)][200:520, 400:880])
    after = mean_bgr(frames[int(2.5 * fps)][200:520, 400:880])
    assert before[0] > 180 and before[1] < 60, f"blue before the damage: {before}"
    assert after[1] > 180 and after[0] < 60 and after[2] < 60, f"green frames after the next keyframe: {after}"
    assert mean_bgr(frames[-1][200:520, 400:880])[1] > 180, "the screen is there to the end"

    listed = await (await client.get(f"/api/lessons/{demo.lesson_id}/recordings", headers=await login(demo.teacher))).json()
    [composite] = [r for r in listed["items"] if r["kind"] == "composite"]
    assert composite["notes"] == "bỏ qua 15 khung hình hỏng trong tệp màn hình"
    assert [c["title"].split(" — ")[0] for c in composite["chapters"]] == ["Phần 1"]


@pytest.fixture(params=["sqlite", "postgresql"])
async def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    url = str(request.getfixturevalue("postgres_url")) if request.param == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    database = Database(url, strict=True)
    await migrations.upgrade(database)
    yield database  # type: ignore[misc]
    await database.close()


async def test_a_render_asked_for_during_a_render_follows_it_on_sqlite_and_postgresql(
    migrated: Database, tmp_path: Path
) -> None:
    """The queue itself, on both databases: claim, a stop during the render, the swap re-queues."""
    async def policies() -> dict[int, int | None]:
        return {}

    jobs = RecordingJobs(migrated, tmp_path, policies)
    now = datetime.now(UTC)
    async with migrated.session() as session:
        session.add(Recording(school_id=1, lesson_id=5, class_id=1, subject_id=1, teacher_id=2, kind="track",
                              source="camera", user_id=2, codec="vp8", path="5/a.webm", started_at=now,
                              status="complete", duration_seconds=3.0, size_bytes=1, progress=0.0, published=False))
    await jobs.enqueue(5)
    job = await jobs._next_job()
    assert job is not None and await jobs._next_job() is None, "one claim per queued render"
    await jobs.enqueue(5)  # a stop while it renders
    async with migrated.session() as session:
        row = await session.get(Recording, job)
        assert row is not None and (row.render_state, row.render_again, row.status) == ("rendering", True, "rendering")
    (tmp_path / "5").mkdir()
    (tmp_path / "5" / "lesson-5-v1.mp4").write_bytes(b"v1")
    plan = {"zero": now, "end": now + timedelta(seconds=3), "chapters": [{"start": 0.0, "kind": "segment", "index": 1,
                                                                          "at": now.isoformat(), "title": "Phần 1"}]}
    await jobs._swap(job, "5/lesson-5-v1.mp4", 1, plan, {"duration": 3.0, "size": 2, "skipped": []}, ["camera"])
    async with migrated.session() as session:
        row = await session.get(Recording, job)
        assert row is not None
        assert (row.status, row.version, row.render_state, row.render_again) == ("complete", 1, "queued", False)
        assert json.loads(row.chapters or "[]")[0]["title"] == "Phần 1"
    assert await jobs._next_job() == job, "the kept request is served next"
    async with migrated.session() as session:
        row = await session.get(Recording, job)
        assert row is not None and (row.status, row.render_state) == ("complete", "rendering"), "v1 stays playable"

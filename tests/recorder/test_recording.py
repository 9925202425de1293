"""Recording a live lesson with real aiortc peers: tracks as published, the lesson video, the archive."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path


import av
import numpy as np
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from recorder.models import Recording
from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from web.keys import CONFIG, DATABASE

RED, BLUE = (255, 0, 0), (0, 0, 255)
SECONDS = 10.0


async def rows(app: web.Application, lesson_id: int) -> list[Recording]:
    async with app[DATABASE].session() as session:
        return list(await session.scalars(select(Recording).where(Recording.lesson_id == lesson_id)
                                          .order_by(Recording.id)))


async def wait_for_video(app: web.Application, lesson_id: int, timeout: float = 100.0) -> Recording:
    deadline = time.monotonic() + timeout
    seen_progress: set[float] = set()
    while time.monotonic() < deadline:
        for row in await rows(app, lesson_id):
            if row.kind == "composite":
                seen_progress.add(row.progress)
                if row.status == "complete":
                    return row
                assert row.status in ("queued", "rendering"), (row.status, row.error)
        await asyncio.sleep(0.5)
    raise AssertionError(f"the lesson video was not rendered in time (progress seen: {sorted(seen_progress)})")


def mean_bgr(image: np.ndarray) -> np.ndarray:
    return image.reshape(-1, 3).mean(axis=0)


async def record_a_lesson(live_server: LiveServer, demo: DemoSchool, login: Login) -> float:
    headers = await login(demo.teacher)
    teacher = LessonClient(live_server.url, demo.lesson_id, headers["Authorization"].removeprefix("Bearer "))
    await teacher.connect()
    assert teacher.joined["recording"]["active"] is True, "recording starts with the lesson"
    started = time.monotonic()
    await teacher.publish({"camera": ColourTrack(RED), "screen": ColourTrack(BLUE, width=640, height=360),
                           "mic": ToneTrack()})
    await asyncio.sleep(SECONDS)
    await teacher.close()  # the room empties: the recording ends
    return time.monotonic() - started


async def test_a_lesson_is_recorded_as_published_and_rendered_into_one_video(
    live_server: LiveServer, demo: DemoSchool, login: Login, app: web.Application, client: TestClient
) -> None:
    published_for = await record_a_lesson(live_server, demo, login)
    video = await wait_for_video(app, demo.lesson_id)
    tracks = {r.source: r for r in await rows(app, demo.lesson_id) if r.kind == "track"}
    assert set(tracks) == {"camera", "screen", "mic"}
    root = app[CONFIG].data_dir / "recordings"
    for source, codec in (("camera", "vp8"), ("screen", "vp8"), ("mic", "opus")):
        row = tracks[source]
        assert row.status == "complete" and row.codec == codec
        assert abs(row.duration_seconds - published_for) < 0.5 + 0.2, (source, row.duration_seconds, published_for)
        with av.open(str(root / row.path)) as container:
            stream = container.streams[0]
            assert stream.codec_context.name == codec, "the recording holds the codec as published: no transcoding"
            decoded = list(container.decode(stream))
        assert decoded, source
        if source == "camera":
            assert len(decoded) >= SECONDS * 30 * 0.9
            red = mean_bgr(decoded[-1].to_ndarray(format="bgr24"))
            assert red[2] > 200 and red[0] < 60, red

    assert video.codec == "h264+aac" and video.progress == 1.0
    with av.open(str(root / video.path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio, "the lesson video has sound"
        duration = float(container.duration) / av.time_base
        assert abs(duration - max(r.duration_seconds for r in tracks.values())) < 0.5
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with av.open(str(root / video.path)) as container:
        sound = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    middle = frames[len(frames) // 2]
    screen_area = mean_bgr(middle[100:600, 100:800])
    camera_area = mean_bgr(middle[20:200, 1000:1260])
    assert screen_area[0] > 180 and screen_area[2] < 60, f"the screen share fills the left: {screen_area}"
    assert camera_area[2] > 180 and camera_area[0] < 60, f"the camera sits at the top right: {camera_area}"
    assert float(np.sqrt(np.mean(sound.astype(np.float64) ** 2))) > 0.05, "the tone is in the mix"


async def test_the_archive_lists_plays_with_seeking_and_students_see_only_what_is_published(
    live_server: LiveServer, demo: DemoSchool, login: Login, app: web.Application, client: TestClient,
    admin: dict[str, str]
) -> None:
    await record_a_lesson(live_server, demo, login)
    video = await wait_for_video(app, demo.lesson_id)
    teacher = await login(demo.teacher)
    listed = await (await client.get(f"/api/lessons/{demo.lesson_id}/recordings", headers=teacher)).json()
    assert {(r["kind"], r["source"]) for r in listed["items"]} == {
        ("track", "camera"), ("track", "screen"), ("track", "mic"), ("composite", "lesson")}
    archive = await (await client.get(f"/api/recordings?class_id={demo.class_id}&kind=composite", headers=admin)).json()
    assert [r["id"] for r in archive["items"]] == [video.id]
    assert archive["items"][0]["class_name"] == demo.class_name

    student = await login(demo.students[0])
    assert (await (await client.get(f"/api/lessons/{demo.lesson_id}/recordings", headers=student)).json())["items"] == []
    assert (await client.get(f"/api/recordings/{video.id}/media", headers=student)).status == 403
    assert (await client.patch(f"/api/recordings/{video.id}", json={"published": True}, headers=student)).status == 403
    published = await client.patch(f"/api/recordings/{video.id}", json={"published": True}, headers=teacher)
    assert published.status == 200 and (await published.json())["published"] is True
    seen = await (await client.get(f"/api/lessons/{demo.lesson_id}/recordings", headers=student)).json()
    assert [r["id"] for r in seen["items"]] == [video.id]

    whole = await client.get(f"/api/recordings/{video.id}/media", headers=student)
    assert whole.status == 200 and whole.content_type == "video/mp4"
    body = await whole.read()
    assert body[4:8] == b"ftyp"
    part = await client.get(f"/api/recordings/{video.id}/media", headers={**student, "Range": "bytes=1000-1999"})
    assert part.status == 206
    assert await part.read() == body[1000:2000]
    assert (await client.get(f"/api/recordings/{video.id}/media?download=true", headers=student)).status == 403
    download = await client.get(f"/api/recordings/{video.id}/media?download=true", headers=teacher)
    assert download.status == 200 and "attachment" in download.headers["Content-Disposition"]

    views = await (await client.get(f"/api/recordings/{video.id}/views", headers=teacher)).json()
    assert [(v["full_name"], v["action"]) for v in views["items"]] == [
        (demo.students[0].full_name, "play"), (demo.teacher.full_name, "download")], "seeking is not a new view"
    assert (await client.get(f"/api/recordings/{video.id}/views", headers=student)).status == 403


async def test_retention_deletes_old_recordings_and_keeps_a_trace(
    demo: DemoSchool, app: web.Application, client: TestClient, admin: dict[str, str], login: Login
) -> None:
    from datetime import UTC, datetime, timedelta

    from recorder.jobs import apply_retention

    root: Path = app[CONFIG].data_dir / "recordings"
    (root / "9").mkdir(parents=True, exist_ok=True)
    old, recent = root / "9" / "old.webm", root / "9" / "recent.webm"
    old.write_bytes(b"x" * 10)
    recent.write_bytes(b"y" * 10)
    now = datetime.now(UTC)
    async with app[DATABASE].session() as session:
        for path, age in ((old, 40), (recent, 2)):
            session.add(Recording(school_id=1, lesson_id=demo.lesson_id, class_id=demo.class_id, subject_id=1,
                                  teacher_id=2, kind="track", source="camera", codec="vp8",
                                  path=str(path.relative_to(root)), started_at=now - timedelta(days=age),
                                  status="complete", duration_seconds=1.0, size_bytes=10, progress=0.0,
                                  published=True))
    assert (await client.put("/api/school/recording-retention", json={"retention_days": 30},
                             headers=await login(demo.teacher))).status == 403
    assert (await client.put("/api/school/recording-retention", json={"retention_days": 0},
                             headers=admin)).status == 422
    assert (await client.put("/api/school/recording-retention", json={"retention_days": 30},
                             headers=admin)).status == 200
    logged = (await (await client.get("/api/audit", params={"entity": "school"}, headers=admin)).json())["items"]
    assert [(e["action"], e["before"], e["after"]) for e in logged] == [
        ("settings", {"recording_retention_days": None}, {"recording_retention_days": 30})]
    assert await apply_retention(app[DATABASE], root, now, {1: 30}) == 1
    assert not old.exists() and recent.exists()
    listed = await (await client.get(f"/api/lessons/{demo.lesson_id}/recordings", headers=admin)).json()
    assert [r["source"] for r in listed["items"]] == ["camera"], "the deleted one is gone from the archive"
    async with app[DATABASE].session() as session:
        gone = await session.scalar(select(Recording).where(Recording.status == "deleted"))
        assert gone is not None and "retention" in (gone.error or "")
    assert await apply_retention(app[DATABASE], root, now, {1: 30}) == 0



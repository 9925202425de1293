"""The archive page plays a lesson video recorded in two parts with a screen share: the chapters
are listed under the player (and loaded as a <track kind="chapters">), a click seeks to one, the
unrecorded time is not in the video, and the note of a damaged frame the renderer skipped shows.

The tracks are VP8 WebM files written with PyAV the way the recorder writes them, indexed in the
real database; the app's own jobs render them with the real renderer process."""
from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import expect

from recorder.models import Recording
from school.demo import DemoSchool
from school.models import Lesson
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.recorder.test_lesson_video import composite_of, write_vp8_webm
from tests.web.test_pages_browser import SCHOOL_ZONE, SHOTS, sign_in
from web.keys import CONFIG, DATABASE, RECORDING_JOBS

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
FPS = 30


@pytest.mark.timeout(180)
async def test_the_archive_lists_a_lesson_videos_chapters_and_a_click_seeks_there(
    live_server: LiveServer, demo: DemoSchool, app: web.Application, browser_page: BrowserPage
) -> None:
    root: Path = app[CONFIG].data_dir / "recordings"
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        scope = {"school_id": lesson.school_id, "lesson_id": demo.lesson_id, "class_id": lesson.class_id,
                 "subject_id": lesson.subject_id, "teacher_id": lesson.teacher_id}
    teacher_id = lesson.teacher_id
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    # Part 1: 3 s of camera (red). Two minutes not recorded. Part 2: 4 s of camera (green), and from
    # 1.5 s into it a screen share (blue) with one damaged frame (skipped to the next keyframe).
    parts = [("camera", t0, 90, RED, -1), ("camera", t0 + timedelta(minutes=2), 120, GREEN, -1),
             ("screen", t0 + timedelta(minutes=2, seconds=1.5), 75, BLUE, 40)]
    async with app[DATABASE].session() as session:
        for n, (source, start, frames, colour, damaged) in enumerate(parts):
            relative = f"{demo.lesson_id}/part{n}-{source}-u{teacher_id}.webm"
            write_vp8_webm(root / relative, frames, lambda _i, c=colour: c, damaged=damaged)
            seconds = (frames - 1) / FPS
            session.add(Recording(**scope, kind="track", source=source, user_id=teacher_id, codec="vp8", path=relative,
                                  started_at=start, ended_at=start + timedelta(seconds=seconds), status="complete",
                                  duration_seconds=seconds, size_bytes=(root / relative).stat().st_size,
                                  progress=0.0, published=False))
    await app[RECORDING_JOBS].enqueue(demo.lesson_id)
    deadline = time.monotonic() + 90
    while True:
        video = await composite_of(app, demo.lesson_id)
        if video is not None and video.status == "complete" and video.render_state is None:
            break
        assert video is None or video.status != "failed", video.error
        assert time.monotonic() < deadline, "the lesson video was not rendered in time"
        await asyncio.sleep(0.2)
    part_one = 89 / FPS
    expected_starts = [0.0, round(part_one * 15) / 15, round(part_one * 15) / 15 + 1.5]
    hm = [t.astimezone(SCHOOL_ZONE).strftime("%H:%M") for t in (parts[0][1], parts[1][1], parts[2][1])]

    page = browser_page.page
    await sign_in(page, live_server, demo.teacher)
    await page.goto(f"{live_server.url}/recordings")
    block = page.locator(f".lesson-video[data-recording-id='{video.id}']")
    await expect(block).to_have_attribute("data-status", "complete")
    await expect(block.locator(".part-count")).to_have_text("Ghi thành 2 phần; thời gian không ghi đã được cắt bỏ.")
    await expect(block.locator(".render-notes")).to_have_text(
        "Ghi chú khi dựng video: bỏ qua 20 khung hình hỏng trong tệp màn hình")
    await expect(block.locator(".fact-duration dd")).to_have_text("0:07")  # 3 s + 4 s: not the two minutes between
    await block.locator("button.play").click()

    chapters = page.locator("#player-chapters button.chapter")
    await expect(page.locator("#player-chapters-title")).to_have_text("Các phần của video")
    await expect(chapters.locator(".chapter-title")).to_have_text(
        [f"Phần 1 — {hm[0]}", f"Phần 2 — {hm[1]}", f"Chia sẻ màn hình — {hm[2]}"])
    track = page.locator("#player track")
    await expect(track).to_have_attribute("kind", "chapters")
    await expect(track).to_have_attribute("src", f"/api/recordings/{video.id}/chapters.vtt?v=1")
    cues = await page.evaluate(
        """async () => {
            const v = document.getElementById('player');
            const end = Date.now() + 10000;
            while (Date.now() < end && !(v.textTracks[0] && v.textTracks[0].cues && v.textTracks[0].cues.length))
                await new Promise((r) => setTimeout(r, 100));
            const t = v.textTracks[0];
            return { kind: t.kind, cues: [...(t.cues || [])].map((c) => [c.startTime, c.text]) };
        }"""
    )
    assert cues["kind"] == "chapters"
    assert [text for _s, text in cues["cues"]] == [f"Phần 1 — {hm[0]}", f"Phần 2 — {hm[1]}", f"Chia sẻ màn hình — {hm[2]}"]
    for (start, _text), expected in zip(cues["cues"], expected_starts, strict=True):
        assert abs(start - expected) < 0.1, (cues, expected_starts)  # to a frame of the video (1/15 s)

    # A click on the screen share's chapter seeks there: the picture is the blue screen with the green camera.
    await page.evaluate("document.getElementById('player').muted = true")
    await chapters.nth(2).click()
    await expect(chapters.nth(2)).to_have_attribute("aria-current", "true")
    seen = await page.evaluate(
        """async () => {
            const v = document.getElementById('player');
            const end = Date.now() + 10000;
            while (Date.now() < end && (v.seeking || v.readyState < 2)) await new Promise((r) => setTimeout(r, 50));
            v.pause();
            await new Promise((r) => setTimeout(r, 200));
            const canvas = document.createElement('canvas');
            canvas.width = v.videoWidth; canvas.height = v.videoHeight;
            const g = canvas.getContext('2d');
            g.drawImage(v, 0, 0);
            const at = (x, y) => [...g.getImageData(x, y, 1, 1).data].slice(0, 3);
            return { time: v.currentTime, screen: at(300, 360), camera: at(1130, 100), size: [v.videoWidth, v.videoHeight] };
        }"""
    )
    assert expected_starts[2] - 0.1 <= seen["time"] < expected_starts[2] + 1.0, (seen, expected_starts)
    assert seen["size"] == [1280, 720]
    assert seen["screen"][2] > 180 and seen["screen"][0] < 70, seen
    assert seen["camera"][1] > 180 and seen["camera"][0] < 70, seen
    # And back to the first part: the red camera alone.
    await chapters.nth(0).click()
    await expect(chapters.nth(0)).to_have_attribute("aria-current", "true")
    assert await page.evaluate("document.getElementById('player').currentTime") < 0.5
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "recordings-chapters.png"), full_page=True)

    await page.click(".lang-switch button[data-lang='en']")
    await expect(page.locator("#player-chapters-title")).to_have_text("Chapters")
    await expect(chapters.locator(".chapter-title")).to_have_text(
        [f"Part 1 — {hm[0]}", f"Part 2 — {hm[1]}", f"Screen share — {hm[2]}"])
    await expect(block.locator(".part-count")).to_have_text("Recorded in 2 parts; the time in between is left out.")
    browser_page.assert_no_errors()

"""From the live page to the archive: the teacher, in Chromium, shares the screen (fake capture)
while the lesson records; the lesson video shows the screen beside the camera from the chapter
where the share starts, and the archive page plays it with its chapters."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import av
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from recorder.models import Recording
from school.demo import DemoSchool
from tests.browser import open_browser_page
from tests.conftest import LiveServer, Login
from tests.recorder.test_lesson_video import composite_of, cues
from tests.waiting import until
from tests.web.test_live_lesson_browser import WAIT_MS, enter_room, is_blue, is_red, write_y4m
from tests.web.test_pages_browser import sign_in
from web.keys import CONFIG, ROOMS

SHARE_SECONDS = 4.0


def frame_at(path: Path, seconds: float) -> np.ndarray:
    """The lesson video's picture at `seconds`, as RGB."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        best = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time <= seconds:
                best = frame
            elif best is not None:
                break
        assert best is not None, f"no frame at {seconds} s"
        return best.to_ndarray(format="rgb24")


def mean(region: np.ndarray) -> list[int]:
    return [int(v) for v in region.reshape(-1, 3).mean(axis=0)]


@pytest.mark.timeout(240)
async def test_a_screen_share_recorded_from_the_live_page_is_in_the_lesson_video_with_a_chapter(
    live_server: LiveServer, demo: DemoSchool, login: Login, app: web.Application, client: TestClient, tmp_path: Path,
) -> None:
    clip = write_y4m(tmp_path / "clip.y4m")  # the camera: red on the left, blue on the right
    async with open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as browser:
        page = browser.page
        await sign_in(page, live_server, demo.teacher)
        await enter_room(page, live_server, demo)
        await expect(page.locator("#rec-indicator")).to_contain_text("Đang ghi hình", timeout=WAIT_MS)
        await asyncio.sleep(2.0)  # the camera alone first

        def teacher_sources() -> set[str]:
            room = app[ROOMS].rooms.get(demo.lesson_id)
            return set() if room is None else {p.app_data["source"] for p in room.room.producers.values()}

        await page.click("#btn-screen")
        deadline = time.monotonic() + 20
        while "screen" not in teacher_sources():
            assert time.monotonic() < deadline, f"the screen share never reached the server: {teacher_sources()}"
            await asyncio.sleep(0.2)
        await asyncio.sleep(SHARE_SECONDS)
        await page.click("#btn-leave")
        browser.assert_no_errors()

    async def rendered() -> Recording | None:
        found = await composite_of(app, demo.lesson_id)
        assert found is None or found.status != "failed", found.error
        return found if found is not None and found.status == "complete" and found.render_state is None else None

    video = await until("the lesson video", rendered, timeout=120)
    assert isinstance(video, Recording)

    teacher = await login(demo.teacher)
    vtt = await client.get(f"/api/recordings/{video.id}/chapters.vtt", headers=teacher)
    assert vtt.status == 200
    chapters = cues(await vtt.text())
    shares = [start for start, _end, title in chapters if "màn hình" in title]
    assert len(shares) == 1, chapters
    path = app[CONFIG].data_dir / "recordings" / video.path

    # Before the share: the camera fills the picture. During it: the screen fills the left three
    # quarters and the camera sits in the top right corner.
    before = frame_at(path, max(0.0, shares[0] - 1.0))
    h, w = before.shape[:2]
    assert is_red(mean(before[h // 4: h * 3 // 4, w // 10: w * 4 // 10])), mean(before[h // 4: h * 3 // 4, w // 10: w * 4 // 10])
    during = frame_at(path, shares[0] + SHARE_SECONDS / 2)
    side = w // 4
    corner = during[: side * 3 // 4, w - side:]
    ch, cw = corner.shape[:2]
    assert is_red(mean(corner[ch // 4: ch * 3 // 4, cw // 10: cw * 4 // 10])), "the camera, small, top right"
    assert is_blue(mean(corner[ch // 4: ch * 3 // 4, cw * 6 // 10: cw * 9 // 10]))
    screen = during[:, : w - side]
    r, g, b = mean(screen[h // 4: h * 3 // 4, (w - side) // 10: (w - side) * 9 // 10])
    assert g > 100 and r < 80 and b < 80, ("Chromium's captured screen (green), not the camera, fills the left", r, g, b)

    # The archive page plays it, with the share among the chapters.
    async with open_browser_page() as browser:
        page = browser.page
        await sign_in(page, live_server, demo.teacher)
        await page.goto(f"{live_server.url}/recordings")
        block = page.locator(f".lesson-video[data-recording-id='{video.id}']")
        await expect(block).to_have_attribute("data-status", "complete", timeout=WAIT_MS)
        await block.locator("button.play").click()
        listed = page.locator("#player-chapters button.chapter")
        await expect(listed).to_have_count(len(chapters), timeout=WAIT_MS)
        await expect(listed.filter(has_text="màn hình")).to_have_count(1)
        await listed.filter(has_text="màn hình").click()
        await page.wait_for_function(
            f"() => {{ const v = document.querySelector('video'); return v && v.currentTime >= {shares[0] - 0.1} }}",
            timeout=WAIT_MS)
        browser.assert_no_errors()

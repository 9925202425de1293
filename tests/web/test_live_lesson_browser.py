"""The live lesson page in real browsers: a teacher's Chromium publishes a known camera clip through
the lophoc SFU, a student's Chromium decodes it, and the test checks the pixels the student sees.

Two browser processes (separate profiles) against one live server; the server announces only
127.0.0.1 (Config.ice_addresses), and Chromium gathers loopback candidates thanks to
--allow-loopback-in-peer-connection (shared/BROWSER-TESTS.md).
"""
from __future__ import annotations

from datetime import timedelta

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.async_api import Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from school.demo import DemoSchool
from tests.browser import open_browser_page
from tests.conftest import ADMIN_PASSWORD, LiveServer
from tests.web.test_pages_browser import SHOTS, sign_in
from web.config import Config

CLIP_SIZE = (320, 240)
CLIP_FRAMES = 30
# BT.601 limited-range YUV of pure red and pure blue: the clip's left half is red, its right half blue,
# so a student seeing the right colours in the right places sees the teacher's camera, unmirrored.
RED_YUV = (81, 90, 240)
BLUE_YUV = (41, 240, 110)
WAIT_MS = 20_000


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The shared config, but announcing loopback only, so browsers on this machine reach the SFU."""
    return Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=("127.0.0.1",),
                  room_linger=timedelta(0))


def write_y4m(path: Path, size: tuple[int, int] = CLIP_SIZE, frames: int = CLIP_FRAMES) -> Path:
    """A YUV4MPEG2 clip (I420): left half red, right half blue, with a small moving white square
    (so the encoder sees motion, as from a real camera) kept away from the sampled areas."""
    width, height = size
    y = np.empty((height, width), np.uint8)
    u = np.empty((height // 2, width // 2), np.uint8)
    v = np.empty((height // 2, width // 2), np.uint8)
    half, chroma_half = width // 2, width // 4
    y[:, :half], y[:, half:] = RED_YUV[0], BLUE_YUV[0]
    u[:, :chroma_half], u[:, chroma_half:] = RED_YUV[1], BLUE_YUV[1]
    v[:, :chroma_half], v[:, chroma_half:] = RED_YUV[2], BLUE_YUV[2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            frame_y = y.copy()
            frame_u, frame_v = u.copy(), v.copy()
            x = (i * 8) % (width - 16)
            frame_y[:16, x : x + 16] = 235  # white square in the top band (rows 0-15)
            frame_u[:8, x // 2 : x // 2 + 8] = 128
            frame_v[:8, x // 2 : x // 2 + 8] = 128
            out.write(b"FRAME\n")
            out.write(frame_y.tobytes())
            out.write(frame_u.tobytes())
            out.write(frame_v.tobytes())
    return path


async def poll(page: Page, expression: str, *, arg: Any = None, timeout_ms: int = WAIT_MS) -> Any:
    """Wait until `expression` (a JS function) returns something truthy in the page; return it."""
    handle = await page.wait_for_function(expression, arg=arg, polling=250, timeout=timeout_ms)
    return await handle.json_value()


async def enter_room(page: Page, server: LiveServer, demo: DemoSchool, *, stats: bool = False) -> None:
    """Open the lesson page and join. `stats`: open it with `?stats`, so the page publishes its
    getStats() figures on `window.lophocStats` for the test to read (nothing polls them otherwise)."""
    await page.goto(f"{server.url}/lessons/{demo.lesson_id}" + ("?stats" if stats else ""))
    join = page.locator("#join")
    await expect(join).to_be_enabled()
    await join.click()
    await expect(page.locator("#room")).to_be_visible()
    await expect(page.locator("#conn-state")).to_have_text("Đã kết nối", timeout=WAIT_MS)


# Average colour of the left and right halves (inner areas, below the moving square) of what a
# <video> shows, drawn to a canvas the way a student's screen shows it.
SAMPLE_VIDEO = """(id) => {
    const video = document.getElementById(id);
    if (!video || !video.videoWidth || !video.videoHeight) return null;
    const w = video.videoWidth, h = video.videoHeight;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    const average = (x0, x1) => {
        const data = ctx.getImageData(Math.round(x0 * w), Math.round(0.25 * h),
                                      Math.round((x1 - x0) * w), Math.round(0.6 * h)).data;
        const sum = [0, 0, 0];
        for (let i = 0; i < data.length; i += 4) { sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2]; }
        const n = data.length / 4;
        return sum.map((s) => Math.round(s / n));
    };
    return { width: w, height: h, left: average(0.08, 0.42), right: average(0.58, 0.92) };
}"""


DIAGNOSE = """() => {
    const video = document.getElementById('stage-camera');
    const track = video?.srcObject?.getVideoTracks?.()[0] ?? null;
    return {
        video: video && { width: video.videoWidth, height: video.videoHeight, paused: video.paused, readyState: video.readyState,
                          track: track && { id: track.id, muted: track.muted, readyState: track.readyState } },
        stats: window.lophocStats,
        roster: [...document.querySelectorAll('#roster li')].map((li) => [li.dataset.participantId, li.dataset.role, li.textContent]),
        message: document.getElementById('room-message')?.textContent,
    };
}"""


async def wait_for_clip_colours(page: Page, publisher: Page) -> dict[str, Any]:
    """Wait until the page's #stage-camera shows the clip (red left, blue right); fail with what it
    shows, and what the publisher's page says it sends."""
    try:
        return await poll(
            page,
            f"""() => {{
                const s = ({SAMPLE_VIDEO})('stage-camera');
                if (!s) return null;
                const red = s.left[0] > 170 && s.left[1] < 80 && s.left[2] < 80;
                const blue = s.right[2] > 170 && s.right[0] < 80 && s.right[1] < 90;
                return red && blue ? s : null;
            }}""",
        )
    except PlaywrightTimeout:
        sample = await page.evaluate(SAMPLE_VIDEO, "stage-camera")
        raise AssertionError(
            f"#stage-camera does not show the clip: {sample}\nviewer: {await page.evaluate(DIAGNOSE)}\n"
            f"publisher: {await publisher.evaluate('() => window.lophocStats')}"
        ) from None


def is_red(rgb: list[int]) -> bool:
    r, g, b = rgb
    return r > 170 and g < 80 and b < 80


def is_blue(rgb: list[int]) -> bool:
    r, g, b = rgb
    return b > 170 and r < 80 and g < 90


async def test_a_student_sees_the_teachers_camera_and_the_roster_and_may_share_only_when_allowed(
    live_server: LiveServer, demo: DemoSchool, tmp_path: Path
) -> None:
    clip = write_y4m(tmp_path / "teacher-camera.y4m")
    student_account = demo.students[0]
    async with (
        open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as teacher,
        open_browser_page() as student,
    ):
        # The teacher enters and publishes microphone and camera.
        await sign_in(teacher.page, live_server, demo.teacher)
        await enter_room(teacher.page, live_server, demo, stats=True)
        await poll(teacher.page, "() => (window.lophocStats?.outbound ?? []).some((s) => s.source === 'camera' && s.framesEncoded > 0)")
        await expect(teacher.page.locator("#btn-screen")).to_be_enabled()
        await expect(teacher.page.locator("#btn-mic")).to_have_text("Tắt micro")

        # The student enters, muted, and decodes the teacher's camera.
        await sign_in(student.page, live_server, student_account)
        await enter_room(student.page, live_server, demo, stats=True)
        inbound = await poll(
            student.page,
            """() => (window.lophocStats?.inbound ?? []).find(
                (s) => s.source === 'camera' && s.kind === 'video' && s.framesDecoded > 0)""",
        )
        assert inbound["frameWidth"] > 0 and inbound["frameHeight"] > 0, inbound
        assert inbound["codec"] in ("video/VP8", "video/H264"), inbound

        # The roster lists the teacher (the one whose camera we decode) and the student, both live.
        roster = student.page.locator("#roster li[data-participant-id]")
        teacher_entry = roster.filter(has_text=demo.teacher.full_name)
        await expect(teacher_entry).to_have_count(1)
        await expect(teacher_entry.locator(".role-badge")).to_have_text("Giáo viên")
        await expect(teacher_entry.locator(".live-dot")).to_have_count(1)
        assert await teacher_entry.get_attribute("data-role") == "teacher"
        assert await teacher_entry.get_attribute("data-participant-id") == inbound["participant_id"]
        me = roster.filter(has_text=student_account.full_name)
        await expect(me.locator(".role-badge")).to_have_text("Học sinh")
        await expect(roster).to_have_count(2)

        # The pixels on the student's stage are the clip's: red on the left, blue on the right.
        sample = await wait_for_clip_colours(student.page, teacher.page)
        assert is_red(sample["left"]) and is_blue(sample["right"]), sample
        assert sample["width"] * 3 == sample["height"] * 4, sample  # 4:3, as the clip

        # A student joins muted, without the camera, and may not share the screen.
        await expect(student.page.locator("#btn-mic")).to_have_text("Bật micro")
        await expect(student.page.locator("#btn-camera")).to_be_disabled()
        await expect(student.page.locator("#btn-screen")).to_be_disabled()
        outbound = await poll(student.page, "() => window.lophocStats?.outbound?.length ? window.lophocStats.outbound : null")
        assert {s["source"] for s in outbound} == {"mic"}, outbound

        # The teacher sees the student in the roster (with permission toggles) and as a muted tile.
        student_entry = teacher.page.locator("#roster li[data-participant-id]", has_text=student_account.full_name)
        await expect(student_entry).to_have_count(1)
        student_id = await student_entry.get_attribute("data-participant-id")
        tile = teacher.page.locator(f"#tiles .tile[data-participant-id='{student_id}']")
        await expect(tile).to_be_visible(timeout=WAIT_MS)
        await expect(tile.locator(".tile-name")).to_have_text(student_account.full_name)
        await expect(tile.locator(".media-state[data-source='mic']")).to_have_attribute("data-on", "false")
        screen_toggle = student_entry.get_by_role("checkbox", name=f"Cho phép {student_account.full_name} chia sẻ màn hình")
        await expect(screen_toggle).not_to_be_checked()

        # The teacher allows screen sharing: the student's button comes alive, and what the student
        # shares reaches the teacher's stage, beside the teacher's own camera.
        await screen_toggle.check()
        share = student.page.locator("#btn-screen")
        await expect(share).to_be_enabled(timeout=WAIT_MS)
        await expect(screen_toggle).to_be_checked()
        await share.click()
        await expect(share).to_have_text("Dừng chia sẻ màn hình", timeout=WAIT_MS)
        screen = await poll(
            teacher.page,
            """() => (window.lophocStats?.inbound ?? []).find(
                (s) => s.source === 'screen' && s.kind === 'video' && s.framesDecoded > 0)""",
        )
        assert screen["participant_id"] == student_id, screen
        await poll(teacher.page, "() => document.getElementById('stage-screen').videoWidth > 0")
        await expect(teacher.page.locator("#stage")).to_have_attribute("data-layout", "both")
        await expect(teacher.page.locator("#stage-screen")).to_be_visible()
        await expect(teacher.page.locator("#stage-camera")).to_be_visible()
        await expect(tile.locator(".media-state[data-source='screen']")).to_have_attribute("data-on", "true")

        # Revoking stops the share on the student's side and empties the teacher's screen view.
        await screen_toggle.uncheck()
        await expect(share).to_be_disabled(timeout=WAIT_MS)
        await expect(share).to_have_text("Chia sẻ màn hình")
        await expect(student.page.locator("#room-message")).to_have_text("Giáo viên đã dừng phần chia sẻ màn hình của bạn.")
        await expect(teacher.page.locator("#stage-screen")).to_be_hidden(timeout=WAIT_MS)
        await expect(teacher.page.locator("#stage")).to_have_attribute("data-layout", "camera")
        await screen_toggle.check()  # allowed again, for the screenshots below
        await expect(share).to_be_enabled(timeout=WAIT_MS)

        SHOTS.mkdir(parents=True, exist_ok=True)
        await teacher.page.screenshot(path=str(SHOTS / "live-teacher.png"), full_page=True)
        await student.page.screenshot(path=str(SHOTS / "live-student.png"), full_page=True)

        # In English too.
        await student.page.click(".lang-switch button[data-lang='en']")
        await expect(student.page.locator("#conn-state")).to_have_text("Connected")
        await expect(student.page.locator("#btn-leave")).to_have_text("Leave")
        await expect(teacher_entry.locator(".role-badge")).to_have_text("Teacher")

        # Leaving returns to the lesson page and the teacher's roster forgets the student.
        await student.page.click("#btn-leave")
        await expect(student.page.locator("#room")).to_have_count(0)
        await expect(student.page.locator("#join")).to_be_visible()
        await expect(student_entry).to_have_count(0, timeout=WAIT_MS)

        teacher.assert_no_errors()
        student.assert_no_errors()


# Keeps every WebSocket the page opens on window.__lophocSockets, so a test can cut one (as a
# network drop would) without any hook in the page's own code.
RECORD_SOCKETS = """(() => {
    const Native = window.WebSocket;
    window.__lophocSockets = [];
    window.WebSocket = class extends Native {
        constructor(...args) {
            super(...args);
            window.__lophocSockets.push(this);
        }
    };
})();"""

CAMERA_DECODED = """(after) => (window.lophocStats?.inbound ?? []).find(
    (s) => s.source === 'camera' && s.kind === 'video' && s.framesDecoded > 0 && s.producer_id && s.producer_id !== after)"""


async def test_the_teacher_rejoins_after_losing_the_connection_and_students_see_the_camera_again(
    live_server: LiveServer, demo: DemoSchool, tmp_path: Path
) -> None:
    clip = write_y4m(tmp_path / "teacher-camera.y4m")
    async with (
        open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as teacher,
        open_browser_page() as student,
    ):
        await teacher.context.add_init_script(RECORD_SOCKETS)
        await sign_in(teacher.page, live_server, demo.teacher)
        await enter_room(teacher.page, live_server, demo, stats=True)
        await sign_in(student.page, live_server, demo.students[1])
        await enter_room(student.page, live_server, demo, stats=True)
        first = await poll(student.page, CAMERA_DECODED, arg=None)

        # The signaling socket drops: the page says so, joins again and publishes the camera again.
        state = teacher.page.locator("#conn-state")
        await teacher.page.evaluate("() => window.__lophocSockets.at(-1).close()")
        await expect(state).to_have_text("Mất kết nối, đang kết nối lại…")
        await expect(state).to_have_attribute("data-state", "reconnecting")
        await expect(state).to_have_text("Đã kết nối", timeout=WAIT_MS)
        assert await teacher.page.evaluate("() => window.__lophocSockets.length") == 2

        again = await poll(student.page, CAMERA_DECODED, arg=first["producer_id"])
        assert again["producer_id"] != first["producer_id"]
        sample = await wait_for_clip_colours(student.page, teacher.page)
        assert is_red(sample["left"]) and is_blue(sample["right"]), sample
        # One teacher in the student's roster, not a ghost of the first session beside the new one.
        roster = student.page.locator("#roster li[data-participant-id][data-role='teacher']")
        await expect(roster).to_have_count(1)
        await expect(teacher.page.locator("#btn-camera")).to_have_text("Tắt camera")
        teacher.assert_no_errors()
        student.assert_no_errors()


COUNT_GET_STATS = """(() => {
    window.__getStatsCalls = 0;
    for (const type of [RTCPeerConnection, RTCRtpSender, RTCRtpReceiver]) {
        const original = type.prototype.getStats;
        type.prototype.getStats = function (...args) {
            window.__getStatsCalls += 1;
            return original.apply(this, args);
        };
    }
})();"""

STAGE_CAMERA_PLAYS = """() => {
    const video = document.getElementById('stage-camera');
    return Boolean(video && video.videoWidth > 0 && video.currentTime > 0);
}"""


async def test_the_lesson_page_polls_no_stats_unless_asked_and_a_test_asking_gets_them(
    live_server: LiveServer, demo: DemoSchool, tmp_path: Path
) -> None:
    """Reading getStats() every 250 ms costs every pupil's phone: the page does it only when opened
    with ?stats (tests, diagnostics)."""
    clip = write_y4m(tmp_path / "teacher-camera.y4m")
    async with (
        open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as teacher,
        open_browser_page() as student,
    ):
        for browser in (teacher, student):
            await browser.context.add_init_script(COUNT_GET_STATS)
        await sign_in(teacher.page, live_server, demo.teacher)
        await enter_room(teacher.page, live_server, demo)
        await sign_in(student.page, live_server, demo.students[0])
        await enter_room(student.page, live_server, demo)
        await poll(student.page, STAGE_CAMERA_PLAYS)  # a live lesson, with media both ways

        await student.page.wait_for_timeout(3_000)
        for page in (teacher.page, student.page):
            assert await page.evaluate("() => window.__getStatsCalls") == 0
            assert await page.evaluate("() => window.lophocStats") is None

        # Asked for, the figures come, from the same page.
        await enter_room(student.page, live_server, demo, stats=True)
        inbound = await poll(student.page, CAMERA_DECODED, arg=None)
        assert inbound["frameWidth"] > 0, inbound
        assert await student.page.evaluate("() => window.__getStatsCalls") > 0
        assert await teacher.page.evaluate("() => window.__getStatsCalls") == 0
        teacher.assert_no_errors()
        student.assert_no_errors()


async def test_the_join_button_follows_the_lesson_status_and_role(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    """An ended lesson cannot be entered; the live demo lesson can, by its teacher and its students."""
    async with open_browser_page() as browser:
        page = browser.page
        await sign_in(page, live_server, demo.students[0])
        await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}")
        await expect(page.locator("#join")).to_be_enabled()
        await expect(page.locator("#join-note")).to_have_text("Tiết học đang diễn ra.")
        rules = await page.evaluate(
            """async () => {
                const { joinState } = await import('/static/js/pages/lesson.js');
                const now = Date.parse('2026-03-02T08:00:00Z');
                const at = (minutes) => new Date(now + minutes * 60000).toISOString();
                const lesson = (status, startsIn) => ({ status, starts_at: at(startsIn), ends_at: at(startsIn + 45), teacher_id: 7 });
                const student = { id: 9, role: 'student' }, teacher = { id: 7, role: 'teacher' };
                return {
                    ended: joinState(lesson('ended', -60), teacher, now).enabled,
                    soon: joinState(lesson('upcoming', 10), student, now).enabled,
                    later: joinState(lesson('upcoming', 60), student, now).enabled,
                    teacherLater: joinState(lesson('upcoming', 600), teacher, now).enabled,
                    otherTeacherLater: joinState(lesson('upcoming', 600), { id: 8, role: 'teacher' }, now).enabled,
                };
            }"""
        )
        assert rules == {"ended": False, "soon": True, "later": False, "teacherLater": True, "otherTeacherLater": False}
        browser.assert_no_errors()


def test_the_clip_is_valid_y4m(tmp_path: Path) -> None:
    clip = write_y4m(tmp_path / "clip.y4m")
    data = clip.read_bytes()
    header, _, rest = data.partition(b"\n")
    assert header.startswith(b"YUV4MPEG2 W320 H240 F30:1")
    frame = 320 * 240 * 3 // 2
    assert len(rest) == CLIP_FRAMES * (len(b"FRAME\n") + frame)
    assert re.fullmatch(rb"(FRAME\n.{%d})+" % frame, rest, re.DOTALL)

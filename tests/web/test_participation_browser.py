"""Participation and the replayed chat in a real browser (headless Chromium against a live server):
the lesson's attendance page shows each student's participation table and its picture (bars of
speaking and camera time) in Vietnamese, then English; a student sees only their own row. The
archive's player shows the lesson's chat beside a lesson video recorded in two parts: the messages
sent up to the moment the video shows, following playback and seeking (a message sent while
nothing was recorded appears when the next part starts), typed markup shown as text."""
from __future__ import annotations

import fractions
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from aiohttp import web
from playwright.async_api import Page, expect
from sqlalchemy import select

from classroom.chat import ChatMessage
from recorder.models import Recording
from school.demo import DemoSchool
from school.models import Lesson, User
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import SHOTS, sign_in
from tests.web.test_participation_api import seed
from web.keys import CONFIG, DATABASE

FPS = 15


async def test_the_attendance_page_shows_each_students_participation_and_its_picture(
    live_server: LiveServer, app: web.Application, demo: DemoSchool, browser_page: BrowserPage,
) -> None:
    ids = await seed(app, demo)
    page = browser_page.page
    await sign_in(page, live_server, demo.teacher)
    await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}/attendance")
    section = page.locator("#participation-section")
    await expect(section.locator("h2")).to_have_text("Mức độ tham gia của học sinh")
    headers = section.locator("#participation-table thead th")
    await expect(headers).to_have_text(["Họ và tên", "Có mặt (phút)", "Phát biểu (phút)", "Bật camera (phút)",
                                        "Tin nhắn", "Câu hỏi", "Giơ tay", "Cảm nhận", "Trả lời thăm dò",
                                        "Điểm kiểm tra nhanh"])
    rows = section.locator("#participation-table tbody tr")
    await expect(rows).to_have_count(len(demo.students))  # no-shows too
    an = section.locator(f"#participation-table tr[data-user-id='{ids['an']}']")
    await expect(an.locator("th")).to_have_text(demo.students[0].full_name)
    await expect(an.locator(".part-present-min")).to_have_text("10")
    await expect(an.locator(".part-speaking-min")).to_have_text("1")
    await expect(an.locator(".part-camera-min")).to_have_text("2")
    await expect(an.locator(".part-messages")).to_have_text("2")
    await expect(an.locator(".part-hands")).to_have_text("2")
    await expect(an.locator(".part-quiz")).to_have_text("5/5")

    chart = section.locator("svg#participation-chart")
    await expect(chart.locator(".part-row")).to_have_count(len(demo.students))
    bar = chart.locator(f".part-row[data-user-id='{ids['an']}'] .part-bar.part-speaking")
    camera = chart.locator(f".part-row[data-user-id='{ids['an']}'] .part-bar.part-camera")
    speaking_w = float(await bar.get_attribute("width") or "nan")
    camera_w = float(await camera.get_attribute("width") or "nan")
    assert 0 < speaking_w < camera_w, (speaking_w, camera_w)  # 61 s speaking, 120 s on camera: same scale
    await expect(chart.locator(f".part-row[data-user-id='{ids['binh']}'] .part-bar.part-speaking")).to_have_attribute(
        "width", "0")
    await expect(chart.locator(f".part-row[data-user-id='{ids['an']}'] .part-value-speaking")).to_have_text(
        "Phát biểu: 1 phút")
    await expect(section.locator(".part-legend")).to_contain_text("Bật camera")
    assert await page.locator("#participation-csv").get_attribute("href") == \
        f"/api/lessons/{demo.lesson_id}/participation?format=csv"
    await expect(page.locator("#participation-exports")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "participation.png"), full_page=True)

    await page.click(".lang-switch button[data-lang='en']")
    await expect(section.locator("h2")).to_have_text("Student participation")
    await expect(headers.nth(2)).to_have_text("Speaking (min)")
    await expect(chart.locator(f".part-row[data-user-id='{ids['an']}'] .part-value-camera")).to_have_text(
        "Camera on: 2 min")
    browser_page.assert_no_errors()

    # A student: their own row only, without the downloads.
    await page.context.clear_cookies()
    await sign_in(page, live_server, demo.students[1])
    await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}/attendance")
    await expect(section.locator("#participation-table tbody tr")).to_have_count(1)
    binh = section.locator(f"#participation-table tr[data-user-id='{ids['binh']}']")
    await expect(binh.locator(".part-messages")).to_have_text("1")
    await expect(page.locator("#participation-exports")).to_be_hidden()
    browser_page.assert_no_errors()


def write_webm(path: Path, seconds: int) -> None:
    """A seekable VP8 WebM (with cues) of `seconds` at FPS, a keyframe every second."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.gop_size = FPS
        stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8"}
        for i in range(seconds * FPS):
            image = np.zeros((240, 320, 3), dtype=np.uint8)
            image[:, :] = (40 * (i // FPS) % 256, 120, 200)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, fractions.Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


async def shown(page: Page) -> list[str]:
    return await page.locator("#replay-messages .replay-text").all_text_contents()


async def seek(page: Page, seconds: float) -> None:
    await page.evaluate(
        """async (to) => {
            const v = document.getElementById('player');
            v.pause();
            const done = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
            v.currentTime = to;
            await done;
        }""", seconds)


@pytest.mark.timeout(90)
async def test_the_archive_player_shows_the_lessons_chat_up_to_the_moment_the_video_shows(
    live_server: LiveServer, app: web.Application, demo: DemoSchool, browser_page: BrowserPage,
) -> None:
    root: Path = app[CONFIG].data_dir / "recordings"
    relative = f"{demo.lesson_id}/lesson-{demo.lesson_id}-v1.webm"
    write_webm(root / relative, 6)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    second = t0 + timedelta(minutes=1)  # part 2 began a minute later: the minute between was not recorded
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        users = {u.username: u.id for u in await session.scalars(select(User))}
        chapters = [{"start": 0.0, "kind": "segment", "index": 1, "at": t0.isoformat(), "title": "Phần 1"},
                    {"start": 3.0, "kind": "segment", "index": 2, "at": second.isoformat(), "title": "Phần 2"}]
        session.add(Recording(school_id=lesson.school_id, lesson_id=lesson.id, class_id=lesson.class_id,
                              subject_id=lesson.subject_id, teacher_id=lesson.teacher_id, kind="composite",
                              source="lesson", codec="vp8", path=relative, started_at=t0,
                              ended_at=second + timedelta(seconds=3), status="complete", duration_seconds=6.0,
                              size_bytes=(root / relative).stat().st_size, progress=1.0, published=True,
                              version=1, chapters=json.dumps(chapters)))
        an, teacher = users[demo.students[0].username], users[demo.teacher.username]
        for sender, text, at in ((teacher, "Chào các em, mở sách trang 12", t0 + timedelta(seconds=0.5)),
                                 (an, "<img src=x onerror=alert(1)> Em chào cô", t0 + timedelta(seconds=2)),
                                 (an, "Trong lúc nghỉ: https://vi.wikipedia.org/wiki/Hàm_số",
                                  t0 + timedelta(seconds=30)),
                                 (teacher, "Phần hai bắt đầu", second + timedelta(seconds=1.5))):
            session.add(ChatMessage(school_id=lesson.school_id, lesson_id=lesson.id, sender_id=sender,
                                    recipient_id=None, room="main", text=text, created_at=at))
    texts = ["Chào các em, mở sách trang 12", "<img src=x onerror=alert(1)> Em chào cô",
             "Trong lúc nghỉ: https://vi.wikipedia.org/wiki/Hàm_số", "Phần hai bắt đầu"]

    page = browser_page.page
    await sign_in(page, live_server, demo.teacher)
    await page.goto(f"{live_server.url}/recordings")
    await page.locator(".lesson-video button.play").click()
    chat = page.locator("#replay-chat")
    await expect(chat).to_be_visible()
    await expect(chat.locator("h3")).to_have_text("Trò chuyện trong giờ học")
    await expect(chat).to_have_attribute("data-loaded", "true")
    await page.wait_for_function("document.getElementById('player').readyState >= 1")
    # Beside the video, not under it.
    video_box = await page.locator("#player").bounding_box()
    chat_box = await chat.bounding_box()
    assert video_box and chat_box and chat_box["x"] >= video_box["x"] + video_box["width"] - 1, (video_box, chat_box)

    await seek(page, 0.2)
    await expect(chat.locator(".replay-status")).to_have_text("Chưa có tin nhắn nào đến thời điểm này.")
    await seek(page, 1.0)
    await expect(chat.locator(".replay-text")).to_have_text(texts[:1])
    await seek(page, 2.5)
    await expect(chat.locator(".replay-text")).to_have_text(texts[:2])
    assert await chat.locator("img").count() == 0  # typed markup stays text
    await seek(page, 3.2)  # part 2: what was said while nothing was recorded is there now
    await expect(chat.locator(".replay-text")).to_have_text(texts[:3])
    link = chat.locator(".replay-text a")
    await expect(link).to_have_attribute("href", "https://vi.wikipedia.org/wiki/Hàm_số")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await seek(page, 5.5)
    await expect(chat.locator(".replay-text")).to_have_text(texts)
    await expect(chat.locator(".replay-status")).to_have_text("4/4 tin nhắn")
    await seek(page, 1.0)  # seeking back takes the later ones away
    await expect(chat.locator(".replay-text")).to_have_text(texts[:1])
    await expect(chat.locator(".replay-message[data-message-id] .replay-from").first).to_have_text(
        demo.teacher.full_name)

    # Playing: the chat follows the video as it plays into part 2.
    await page.evaluate("""() => { const v = document.getElementById('player'); v.muted = true; v.currentTime = 2.6;
                                   v.play(); }""")
    await expect(chat.locator(".replay-text")).to_have_text(texts, timeout=15_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "recordings-chat.png"), full_page=True)

    await page.click(".lang-switch button[data-lang='en']")
    await expect(chat.locator("h3")).to_have_text("Chat during the lesson")
    await expect(chat.locator(".replay-status")).to_have_text("4/4 messages")
    browser_page.assert_no_errors()

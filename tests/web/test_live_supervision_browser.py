"""The teacher supervises the class in the live lesson (Chromium): the whole class's roster shows
a student joining (mic state, time present) and leaving, and absentees; everyone sees the
recording indicator and the teacher stops and starts the recording."""
from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.browser import open_browser_page
from tests.conftest import LiveServer, Login
from tests.media import ToneTrack
from tests.web.test_live_lesson_browser import WAIT_MS, enter_room, write_y4m
from tests.web.test_pages_browser import sign_in


async def test_the_teachers_class_roster_shows_a_student_join_and_leave_and_the_recording_state(
    live_server: LiveServer, demo: DemoSchool, login: Login, tmp_path: Path
) -> None:
    clip = write_y4m(tmp_path / "clip.y4m")
    async with open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as browser:
        page = browser.page
        await sign_in(page, live_server, demo.teacher)
        await enter_room(page, live_server, demo)

        roster = page.locator("#class-roster")
        student = demo.students[0]
        row = roster.locator("li", has_text=student.full_name)
        await expect(roster.locator("li")).to_have_count(len(demo.students), timeout=WAIT_MS)
        await expect(row).to_have_attribute("data-state", "never", timeout=WAIT_MS)
        await expect(row).to_contain_text("Chưa vào lớp")
        await expect(page.locator("#class-roster-heading")).to_contain_text(f"0/{len(demo.students)}")

        # Everyone is told the lesson is recorded; the teacher can stop and restart it.
        indicator = page.locator("#rec-indicator")
        await expect(indicator).to_be_visible(timeout=WAIT_MS)
        await expect(indicator).to_contain_text("Đang ghi hình")
        await page.click("#btn-record")
        await expect(indicator).to_be_hidden(timeout=WAIT_MS)
        await expect(page.locator("#btn-record")).to_have_text("Bắt đầu ghi hình")

        token = (await login(student))["Authorization"].removeprefix("Bearer ")
        client = LessonClient(live_server.url, demo.lesson_id, token)
        try:
            await client.connect()
            assert client.joined["recording"]["active"] is False
            await client.publish({"mic": ToneTrack()})
            await expect(row).to_have_attribute("data-state", "here", timeout=WAIT_MS)
            await expect(row).to_contain_text("Đang trong lớp")
            await expect(row.locator("[data-media=mic]")).to_have_text("Mic bật", timeout=WAIT_MS)
            await expect(row).to_contain_text("Đã học 00:0", timeout=WAIT_MS)
            await expect(page.locator("#class-roster-heading")).to_contain_text(f"1/{len(demo.students)}")

            await page.click("#btn-record")
            await expect(indicator).to_be_visible(timeout=WAIT_MS)
            recording = await client.next_event("recording")
            assert recording["active"] is True, "the student is told too"
        finally:
            await client.close()
        await expect(row).to_have_attribute("data-state", "left", timeout=WAIT_MS)
        await expect(row).to_contain_text("Đã rời lớp")
        browser.assert_no_errors()

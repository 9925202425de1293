"""The attendance page tells the truth in Chromium: before the teacher opens the room every student
is 'Chưa diễn ra' (nobody absent) with a note saying why; once the teacher and a student are in, the
student's status, late/left-early flags, minutes and share bar match the API, and the rest are 'Vắng'."""
from __future__ import annotations

import asyncio

from playwright.async_api import expect

from school.demo import Credentials, DemoSchool
from signaling.client import LessonClient
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer, Login
from tests.web.test_pages_browser import SHOTS, api_get, sign_in

STATUS_VI = {"present": "Có mặt", "late": "Đi muộn", "absent": "Vắng", "left_early": "Về sớm",
             "late_left_early": "Đi muộn, về sớm", "not_yet": "Chưa diễn ra"}


async def token_of(login: Login, who: Credentials) -> str:
    return (await login(who))["Authorization"].removeprefix("Bearer ")


async def test_not_yet_until_the_room_opens_then_flags_minutes_and_share(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    path = f"/lessons/{demo.lesson_id}/attendance"
    await sign_in(page, live_server, demo.teacher, next_path=path)
    table = page.locator("#attendance-table")
    await expect(table.locator("tbody tr")).to_have_count(len(demo.students))
    await expect(table.locator("tbody .att-badge")).to_have_text(["Chưa diễn ra"] * len(demo.students))
    await expect(page.locator("#not-held-note")).to_be_visible()
    await expect(page.locator("#summary-list [data-key='not_yet'] dd")).to_have_text(str(len(demo.students)))
    await expect(page.locator("#summary-list [data-key='absent'] dd")).to_have_text("0")
    await expect(page.locator("svg#attendance-timeline .timeline-status")).to_have_text(
        ["Chưa diễn ra"] * len(demo.students))

    teacher = LessonClient(live_server.url, demo.lesson_id, await token_of(login, demo.teacher))
    student = LessonClient(live_server.url, demo.lesson_id, await token_of(login, demo.students[0]))
    await teacher.connect()  # the room opens: the lesson is held
    await student.connect()
    try:
        await asyncio.sleep(1.0)
        await page.reload()
        report = await api_get(page, live_server, f"/api/lessons/{demo.lesson_id}/attendance")
        assert report["held"] is True
        an = next(s for s in report["students"] if s["username"] == demo.students[0].username)
        assert an["status"] in ("present", "late"), "here now, with the rest of the lesson ahead"
        row = table.locator(f"tr[data-user-id='{an['user_id']}']")
        await expect(row.locator(".att-badge")).to_have_text(STATUS_VI[an["status"]])
        flags = row.locator(".att-flag")
        await expect(flags).to_have_text(["Đi muộn"] if an["late"] else [])
        await expect(row.locator(".in-class")).to_have_text("Đang trong lớp")
        await expect(row.locator("meter")).to_have_count(1)
        assert 0 < float(await row.locator("meter").evaluate("m => m.value")) <= an["share"], "grows while here"
        await expect(page.locator("#not-held-note")).to_have_count(0)
        await expect(table.locator("tbody tr[data-status='absent'] .att-badge")).to_have_text(
            ["Vắng"] * (len(demo.students) - 1))
        await expect(page.locator("#attendance-rules")).to_contain_text("ít nhất 50% thời lượng tiết học")
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "lesson-attendance-truth.png"), full_page=True)

        await page.click(".lang-switch button[data-lang='en']")
        await expect(table.locator("tbody tr[data-status='absent'] .att-badge").first).to_have_text("Absent")
        await expect(table.locator("thead")).to_contain_text("Share of the lesson present")
    finally:
        await student.close()
        await teacher.close()
    browser_page.assert_no_errors()

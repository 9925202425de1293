"""'Đang diễn ra' in Chromium: the administrator lands on the lessons happening now after signing
in, sees the demo lesson with its teacher in, "2/4" students present and the recording, on a
phone's width too, observes it from the card's link; English; the empty state; teachers refused."""
from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import expect

from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer, Login
from tests.waiting import until
from tests.web.test_live_lesson_browser import WAIT_MS
from tests.web.test_pages_browser import SHOTS, sign_in


async def live_item(server: LiveServer, admin: dict[str, str], lesson_id: int) -> dict[str, Any]:
    response = await server.client.get("/api/supervision/live", headers=admin)
    assert response.status == 200, await response.text()
    (item,) = [i for i in (await response.json())["items"] if i["id"] == lesson_id]
    return item


async def test_the_admin_lands_on_the_live_lessons_and_observes_one(
    live_server: LiveServer, demo: DemoSchool, login: Login, admin: dict[str, str], browser_page: BrowserPage,
) -> None:
    people = [demo.teacher, demo.students[0], demo.students[1]]
    tokens = [(await login(who))["Authorization"].removeprefix("Bearer ") for who in people]
    peers = [LessonClient(live_server.url, demo.lesson_id, token) for token in tokens]
    page = browser_page.page
    try:
        await asyncio.gather(*(peer.connect(auto_subscribe=False) for peer in peers))

        async def recording() -> bool:
            return bool((await live_item(live_server, admin, demo.lesson_id))["recording"])

        await until("the lesson records with its teacher present", recording)

        await sign_in(page, live_server, demo.admin)
        assert page.url == f"{live_server.url}/supervision"
        await expect(page.locator("h1")).to_have_text("Đang diễn ra")
        nav_link = page.locator(".main-nav a[href='/supervision']")
        await expect(nav_link).to_have_text("Giám sát tiết học")
        await expect(nav_link).to_have_attribute("aria-current", "page")

        card = page.locator(f".sup-card[data-lesson-id='{demo.lesson_id}']")
        await expect(card).to_have_count(1)
        await expect(card.locator(".lesson-title")).to_have_text(demo.lesson_title)
        await expect(card.locator(".badge")).to_have_text("Đang diễn ra")
        await expect(card.locator(".fact-class dd")).to_have_text(demo.class_name)
        await expect(card.locator(".sup-teacher-name")).to_have_text(demo.teacher.full_name)
        await expect(card.locator(".sup-presence")).to_have_text("Đã vào lớp")
        await expect(card.locator(".fact-present dt")).to_have_text("Có mặt")
        await expect(card.locator(".sup-present")).to_have_text("2/4")
        await expect(card.locator(".sup-rec")).to_have_text("Đang ghi hình")
        await expect(page.locator("#sup-status")).to_contain_text("1 tiết học đang diễn ra")

        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "supervision.png"), full_page=True)

        # The next refresh (every 10 s) follows a student leaving.
        await peers[2].close()
        await expect(card.locator(".sup-present")).to_have_text("1/4", timeout=WAIT_MS)

        # A phone's width: one column, nothing wider than the screen, the way in still in reach.
        await page.set_viewport_size({"width": 360, "height": 740})
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        observe = card.get_by_role("link", name="Vào quan sát")
        box = await observe.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        await page.screenshot(path=str(SHOTS / "supervision-360.png"), full_page=True)

        await page.click(".lang-switch button[data-lang='en']")
        await expect(page.locator("h1")).to_have_text("Happening now")
        await expect(card.locator(".fact-present dt")).to_have_text("Present")
        await expect(card.locator(".sup-rec")).to_have_text("Recording")
        await expect(card.get_by_role("link", name="Observe")).to_be_visible()
        await page.click(".lang-switch button[data-lang='vi']")
        await expect(observe).to_be_visible()

        await observe.click()
        await page.wait_for_url(f"{live_server.url}/lessons/{demo.lesson_id}")
        await page.locator("#join").click()
        await expect(page.locator("#conn-state")).to_have_text("Đã kết nối", timeout=WAIT_MS)

        async def observed() -> bool:
            item = await live_item(live_server, admin, demo.lesson_id)
            return item["observers"] == 1 and item["students_present"] == 1

        await until("the administrator observing, not counted as a student", observed)
    finally:
        await asyncio.gather(*(peer.close() for peer in peers))
    browser_page.assert_no_errors()


async def test_the_empty_state_and_a_teacher_refused(
    live_server: LiveServer, demo: DemoSchool, admin: dict[str, str], browser_page: BrowserPage,
) -> None:
    response = await live_server.client.post(f"/api/lessons/{demo.lesson_id}/end", headers=admin)
    assert response.status == 200, await response.text()
    page = browser_page.page
    await sign_in(page, live_server, demo.admin)
    await page.wait_for_url(re.compile(r"/supervision$"))
    await expect(page.locator(".sup-empty")).to_contain_text("Hiện không có tiết học nào đang diễn ra.")
    await expect(page.locator(".sup-empty a")).to_have_attribute("href", "/admin/timetable")
    await expect(page.locator(".sup-card")).to_have_count(0)

    await page.click("#logout")
    await page.wait_for_url(f"{live_server.url}/login")
    await sign_in(page, live_server, demo.teacher)
    assert page.url == f"{live_server.url}/lessons"
    await expect(page.locator(".main-nav a[href='/supervision']")).to_have_count(0)
    await page.goto(f"{live_server.url}/supervision")
    await expect(page.get_by_role("alert")).to_contain_text("Bạn không có quyền truy cập trang này.")
    await expect(page.locator(".sup-card, .sup-empty")).to_have_count(0)
    browser_page.assert_no_errors()

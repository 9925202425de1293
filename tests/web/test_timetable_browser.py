"""The timetable in Chromium: the administrator generates weekly lessons from a row of the generator
(previewed first), moves one lesson from its block, and the teacher sees the moved lesson, with the
old and new time, on 'Tiết học của tôi'."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import api_get, sign_in

SCHOOL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def monday_after(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


async def test_admin_generates_weekly_lessons_moves_one_and_the_teacher_sees_it(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin)
    today = datetime.now(SCHOOL_ZONE).date()
    first = monday_after(today)
    last = first + timedelta(days=13)  # two Mondays
    tomorrow = today + timedelta(days=1)

    await page.goto(f"{live_server.url}/admin/timetable")
    await expect(page.locator("#week-grid .tt")).to_be_visible()
    await expect(page.locator("#period-rows tr")).to_have_count(10)
    await expect(page.locator("#period-6-starts")).to_have_value("13:30")

    # One row: 10A1, Ngữ văn, its assigned teacher filled in, Mondays, tiết 6–7 (13:30–15:05).
    await page.fill("#gen-from", first.isoformat())
    await page.fill("#gen-to", last.isoformat())
    await page.select_option("#gen-0-class_id", label="10A1")
    await page.select_option("#gen-0-subject_id", label="Ngữ văn")
    await expect(page.locator("#gen-0-teacher_id option:checked")).to_have_text(demo.teacher.full_name)
    await page.select_option("#gen-0-weekday", "1")
    # Periods across the midday break are refused next to the row's field, in Vietnamese.
    await page.select_option("#gen-0-period_from", "5")
    await page.select_option("#gen-0-period_to", "6")
    await page.click("#gen-preview")
    await expect(page.locator("#gen-0-period_to")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#gen-form .field-error")).to_have_text("Các tiết 5–6 phải cùng một buổi.")
    await page.select_option("#gen-0-period_from", "6")
    await page.select_option("#gen-0-period_to", "7")
    await page.click("#gen-preview")
    result = page.locator("#gen-result")
    await expect(result).to_contain_text("Sẽ tạo 2 tiết học từ 1 dòng.")
    await expect(result).to_contain_text("Không có tiết nào bị trùng.")
    await page.click("#gen-submit")
    await expect(result).to_contain_text("Đã tạo 2 tiết học.")

    week = await api_get(page, live_server, f"/api/timetable/week?date={first}&class_id={demo.class_id}")
    generated = [b for b in week["blocks"] if b["subject_name"] == "Ngữ văn" and b["series_id"]]
    assert len(generated) == 1
    lesson = generated[0]
    block = page.locator(f"#week-grid .tt-day[data-date='{first}'] .tt-lesson[data-lesson-id='{lesson['id']}']")
    await expect(block).to_be_visible()
    await expect(block.locator(".tt-time")).to_have_text("13:30–15:05")
    await expect(block.locator(".tt-period")).to_have_text("Tiết 6–7")

    # Move it to tomorrow, tiết 8–9 (15:15–16:50), from its block.
    await block.click()
    dialog = page.locator("#lesson-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#dialog-title")).to_have_text(f"{lesson['title']} · 10A1")
    await expect(page.locator("#makeup-form")).to_be_hidden()
    await page.fill("#move-date", tomorrow.isoformat())
    await page.select_option("#move-from", "8")
    await page.select_option("#move-to", "9")
    await page.fill("#move-note", "Họp hội đồng")
    await page.click("#move-form button[type=submit]")
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#week-status")).to_have_text("Đã đổi lịch tiết học.")
    moved = page.locator(f"#week-grid .tt-day[data-date='{tomorrow}'] .tt-lesson[data-lesson-id='{lesson['id']}']")
    await expect(moved.locator(".tt-time")).to_have_text("15:15–16:50")
    await expect(moved.locator("[data-change='move']")).to_have_text("Đã đổi lịch")
    stored = await api_get(page, live_server, f"/api/lessons/{lesson['id']}")
    assert datetime.fromisoformat(stored["starts_at"]).astimezone(SCHOOL_ZONE).strftime("%Y-%m-%d %H:%M") == (
        f"{tomorrow} 15:15")
    browser_page.assert_no_errors("422")

    # The teacher sees the moved lesson tomorrow, with the old and the new time.
    async with open_browser_page() as teacher:
        await sign_in(teacher.page, live_server, demo.teacher)
        await teacher.page.goto(f"{live_server.url}/lessons")
        card = teacher.page.locator(f"#upcoming-list .lesson-card[data-lesson-id='{lesson['id']}']")
        await expect(card).to_be_visible()
        await expect(card.locator(".fact-time dd")).to_have_text("15:15–16:50")
        await expect(card.locator("[data-change='move']").first).to_have_text("Đã đổi lịch")
        notice = card.locator(".tt-notice[data-change='move']")
        await expect(notice).to_contain_text("Đã đổi lịch: 13:30")
        await expect(notice).to_contain_text(f"{first:%d/%m} → 15:15")
        await expect(notice).to_have_text(re.compile(rf"{tomorrow:%d/%m}$"))
        teacher.assert_no_errors()

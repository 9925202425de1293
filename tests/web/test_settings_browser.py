"""'Cài đặt nhà trường' in Chromium: an administrator changes an attendance threshold and sees it
saved (and used by the attendance page's rules); a wrong time zone is refused in Vietnamese next to
its field, and nothing is saved; how long each kind of record is kept is set there too."""
from __future__ import annotations

from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import SHOTS, api_get, sign_in


async def test_the_settings_page_is_served_like_the_others(client: TestClient) -> None:
    response = await client.get("/admin/settings")
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    html = await response.text()
    assert '<script type="module" src="/static/js/pages/admin-settings.js"></script>' in html
    assert 'data-schema="SchoolSettingsPatch"' in html
    assert "style=" not in html and "onclick" not in html.lower()


async def test_an_admin_changes_a_threshold_and_a_wrong_time_zone_is_refused_by_its_field(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin)
    await page.goto(f"{live_server.url}/admin/settings")
    await expect(page.locator("h1")).to_have_text("Cài đặt nhà trường")
    form = page.locator("#settings-form")
    await expect(form).not_to_have_attribute("aria-busy", "true")
    await expect(page.locator("#set-timezone")).to_have_value("Asia/Ho_Chi_Minh")
    await expect(page.locator("#set-min-presence")).to_have_value("50")
    await expect(page.locator("#set-periods-link")).to_have_attribute("href", "/admin/timetable")

    await page.fill("#set-min-presence", "75")
    await page.fill("#set-late", "12")
    await page.click("#settings-form button[type=submit]")
    await expect(page.locator("#settings-status")).to_contain_text("Đã lưu cài đặt")
    saved = await api_get(page, live_server, "/api/school/settings")
    assert (saved["min_presence_percent"], saved["late_after_minutes"]) == (75, 12)
    await page.reload()
    await expect(page.locator("#set-min-presence")).to_have_value("75")
    await expect(page.locator("#set-late")).to_have_value("12")

    # The attendance page states the rule it now uses.
    await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}/attendance")
    await expect(page.locator("#attendance-rules")).to_contain_text("ít nhất 75% thời lượng tiết học")
    await expect(page.locator("#attendance-rules")).to_contain_text("hơn 12 phút")

    # A time zone that does not exist: the server's Vietnamese sentence next to the field.
    await page.goto(f"{live_server.url}/admin/settings")
    await expect(page.locator("#set-timezone")).to_have_value("Asia/Ho_Chi_Minh")
    await page.fill("#set-timezone", "Asia/Ha_Noi")
    await page.fill("#set-early", "8")
    await page.click("#settings-form button[type=submit]")
    zone_field = page.locator("#set-timezone").locator("xpath=ancestor::div[contains(@class,'field')][1]")
    await expect(zone_field.locator(".field-error")).to_have_text(
        "Múi giờ không hợp lệ. Hãy chọn một múi giờ IANA, ví dụ Asia/Ho_Chi_Minh.")
    await expect(page.locator("#set-timezone")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#set-timezone")).to_be_focused()
    unchanged = await api_get(page, live_server, "/api/school/settings")
    assert (unchanged["timezone"], unchanged["left_early_minutes"]) == ("Asia/Ho_Chi_Minh", saved["left_early_minutes"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "admin-settings-refused.png"), full_page=True)

    # In English, at phone width.
    await page.set_viewport_size({"width": 360, "height": 760})
    await page.goto(f"{live_server.url}/admin/settings")
    await page.click(".lang-switch button[data-lang='en']")
    await expect(page.locator("h1")).to_have_text("School settings")
    await expect(page.locator("label[for='set-min-presence']")).to_have_text("Minimum share present (%)")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    browser_page.assert_no_errors("422 (Unprocessable")


async def test_an_admin_sets_how_long_each_kind_of_record_is_kept(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin)
    await page.goto(f"{live_server.url}/admin/settings")
    form = page.locator("#settings-form")
    await expect(form).not_to_have_attribute("aria-busy", "true")
    await expect(page.locator("#set-keep-heading")).to_have_text("Lưu trữ hồ sơ dạy học trực tuyến")
    chat = form.locator("[name=chat_retention_days]")
    await expect(chat).to_have_attribute("placeholder", "Lưu mãi")
    await expect(chat).to_have_value("")
    await chat.fill("0")
    await page.click("#settings-form button[type=submit]")
    await expect(chat).to_have_attribute("aria-invalid", "true")
    await chat.fill("30")
    await form.locator("[name=attempts_retention_days]").fill("365")
    await page.click("#settings-form button[type=submit]")
    await expect(page.locator("#settings-status")).to_contain_text("Đã lưu cài đặt")
    settings = await api_get(page, live_server, "/api/school/settings")
    assert (settings["chat_retention_days"], settings["attempts_retention_days"]) == (30, 365)
    assert settings["board_retention_days"] is None and settings["recording_retention_days"] is None
    await page.reload()
    await expect(form.locator("[name=attempts_retention_days]")).to_have_value("365")
    browser_page.assert_no_errors("422 (Unprocessable")


async def test_a_teacher_cannot_use_the_settings_page(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.teacher, next_path="/admin/settings")
    await expect(page.locator(".page-message h1")).to_be_visible()
    await expect(page.locator("#settings-form")).to_have_count(0)
    browser_page.assert_no_errors()

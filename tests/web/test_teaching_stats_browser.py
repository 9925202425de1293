"""'Thống kê dạy học trực tuyến' in Chromium: an administrator reads the figures of a seeded period
(totals, the subject table, the bar chart), switches to English, and downloads a lesson's records
(hồ sơ tiết học) from the page, read back as a ZIP; at 360 px nothing is wider than the screen."""
from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

from aiohttp import web
from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import sign_in
from tests.web.test_teaching_stats_api import seed


async def test_an_admin_reads_the_statistics_and_downloads_a_lesson_record(
    live_server: LiveServer, app: web.Application, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    await seed(app, demo)
    page = browser_page.page
    today = datetime.now(UTC).date()
    await sign_in(page, live_server, demo.admin)
    await page.goto(f"{live_server.url}/reports/teaching?from={today - timedelta(days=3)}&to={today + timedelta(days=1)}")
    await expect(page.locator("h1")).to_have_text("Thống kê dạy học trực tuyến")
    await expect(page.locator("#site-header a[href='/reports/teaching']")).to_have_text("Thống kê dạy học trực tuyến")
    held = page.locator("#teaching-summary [data-key='teach.total.held'] dd")
    await expect(held).to_have_text("1")
    await expect(page.locator("#teaching-summary [data-key='teach.total.scheduled'] dd")).to_have_text("2")
    toan = page.locator("#by-subject tr[data-name='Toán']")
    await expect(toan.locator("td").nth(1)).to_have_text("1")
    await expect(toan.locator("td").nth(7)).to_have_text("2,5")
    await expect(page.locator("#by-subject tr[data-name='Ngữ văn'] td").nth(7)).to_have_text("—")
    await expect(page.locator("#teaching-bars .teaching-bar")).to_have_count(2)
    assert await page.locator("#teaching-bars .teaching-bar[data-held='1'] title").text_content() == "Toán: 1/1 tiết đã dạy"

    # A lesson's records from the page's list, as the browser downloads them.
    row = page.locator(f"#teaching-lessons tr[data-lesson-id='{demo.lesson_id}']")
    async with page.expect_download() as info:
        await row.get_by_role("link").click()
    download = await info.value
    path = await download.path()
    assert path is not None
    with open(path, "rb") as handle:
        names = zipfile.ZipFile(io.BytesIO(handle.read())).namelist()
    assert names[:5] == ["lesson.json", "attendance.csv", "participation.csv", "chat.csv", "results.csv"]

    await page.locator(".lang-switch button[data-lang='en']").first.click()
    await expect(page.locator("h1")).to_have_text("Online teaching statistics")
    await expect(page.locator("#by-subject thead th").nth(2)).to_have_text("Taught")

    await page.set_viewport_size({"width": 360, "height": 760})
    await expect(held).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360

"""Results and the gradebook in Chromium: a student reads what is due, their grades by subject with
the average and their attendance on a phone; the teacher opens the class's gradebook (sổ điểm) with
the averages and downloads it as XLSX, read back with openpyxl."""
from __future__ import annotations

import io

from aiohttp import web
from openpyxl import load_workbook
from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_gradebook_api import seed
from tests.web.test_pages_browser import sign_in


async def test_a_student_reads_their_results_and_the_teacher_the_gradebook(
    live_server: LiveServer, app: web.Application, demo: DemoSchool, browser_page: BrowserPage,
) -> None:
    ids = await seed(app, demo)
    page = browser_page.page
    await page.set_viewport_size({"width": 360, "height": 760})
    await sign_in(page, live_server, demo.students[0], next_path="/my-results")
    await expect(page.locator("#due-heading")).to_have_text("Cần làm")
    due = page.locator("#due-list .due-item")
    await expect(due).to_have_count(2)
    await expect(due.nth(0)).to_have_attribute("data-done", "false")
    await expect(due.nth(0).locator(".due-title")).to_have_text("Kiểm tra giữa kỳ")
    await expect(due.nth(1).locator(".due-title")).to_have_text("Bài tập lượng giác")
    await expect(page.locator("#grades-heading")).to_have_text("Kết quả học tập")
    maths = page.locator(f"#grades .grades-subject[data-subject-id='{ids['subject']}']")
    await expect(maths.locator("h3")).to_contain_text("Toán")
    await expect(maths.locator(".grades-average")).to_have_text("Điểm trung bình: 7,88")
    graded = maths.locator(f"tr[data-kind='assignment'][data-id='{ids['done']}']")
    await expect(graded.locator(".grade-score")).to_have_text("8,5")
    await expect(graded.locator(".col-status")).to_have_text("Đã chấm")
    await expect(page.locator("#attendance-summary [data-key='present'] dd")).to_have_text("1")
    await expect(page.locator("#attendance-summary [data-key='rate'] dd")).to_have_text("100%")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await page.click(".lang-switch button[data-lang='en']")
    await expect(page.locator("#due-heading")).to_have_text("To do")
    await expect(page.locator("#grades-heading")).to_have_text("Learning results")
    await expect(maths.locator(".grades-average")).to_have_text("Average: 7.88")
    await page.click(".lang-switch button[data-lang='vi']")
    await expect(page.locator("#due-heading")).to_have_text("Cần làm")

    await page.context.clear_cookies()
    await page.set_viewport_size({"width": 1280, "height": 900})
    await sign_in(page, live_server, demo.teacher, next_path="/gradebook")
    await expect(page.locator("#site-header a[href='/gradebook']")).to_have_count(1)
    await page.select_option("#gradebook-pick", label=f"{demo.class_name} · Toán")
    table = page.locator("#gradebook-table")
    await expect(table.locator("caption")).to_have_text(f"Sổ điểm lớp {demo.class_name}, môn Toán")
    await expect(table.locator("tbody tr")).to_have_count(4)
    an = table.locator(f"tbody tr[data-student-id='{ids['an']}']")
    await expect(an.locator(".gb-score")).to_have_text(["7,25", "8,5", "—", "—"])
    await expect(an.locator(".gb-average")).to_have_text("7,88")
    await expect(page.locator("#gradebook-class-average")).to_have_text("7,88")  # the students' averages given
    link = page.locator("#gradebook-xlsx")
    await expect(link).to_be_visible()
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    path = await download.path()
    sheet = load_workbook(io.BytesIO(path.read_bytes())).active
    rows = {row[1]: row for row in sheet.iter_rows(values_only=True)}
    assert rows["Lê Văn An"][-1] == 7.88

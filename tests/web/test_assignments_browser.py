"""Assignments in Chromium: a teacher sets one for the class with the form, a student on a phone
hands in text and a file, the teacher grades it with a comment, and the student sees the grade."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import api_get, sign_in

SCHOOL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_assignment_pages_are_served(client: TestClient) -> None:
    for path, script in (("/assignments", "assignments.js"), ("/assignments/7", "assignment.js")):
        response = await client.get(path)
        assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
        html = await response.text()
        assert f'src="/static/js/pages/{script}"' in html and "style=" not in html


async def test_a_student_hands_in_the_teacher_grades_the_student_sees_the_grade(
        live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.teacher)
    await page.goto(f"{live_server.url}/assignments")
    await expect(page.locator("h1")).to_have_text("Bài tập")
    await expect(page.locator("#main-nav a[href='/assignments']")).to_have_text("Bài tập")
    form = page.locator("#new-form")
    await form.locator("select[name=class_id]").select_option(label=demo.class_name)
    await form.locator("select[name=subject_id]").select_option(label="Toán")
    title = "Bài tập về hàm số <b>bậc hai</b>"
    await form.locator("input[name=title]").fill(title)
    await form.locator("textarea[name=instructions]").fill("Làm bài 1, 2, 3 trang 45.\nNộp ảnh chụp bài làm.")
    due = (datetime.now(SCHOOL_ZONE) + timedelta(days=3)).replace(hour=21, minute=0)
    await form.locator("input[name=due_at]").fill(due.strftime("%Y-%m-%dT%H:%M"))
    await form.get_by_role("button", name="Giao bài tập").click()
    await page.wait_for_url(f"{live_server.url}/assignments/*")
    aid = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator("#assignment-title")).to_have_text(title)
    await expect(page.locator("#due-line")).to_contain_text("Hạn nộp: 21:00")
    stored = await api_get(page, live_server, f"/api/coursework/assignments/{aid}")
    assert datetime.fromisoformat(stored["due_at"]).astimezone(SCHOOL_ZONE).strftime("%H:%M") == "21:00"

    async with open_browser_page() as phone:
        student = phone.page
        await student.set_viewport_size({"width": 360, "height": 760})
        await sign_in(student, live_server, demo.students[0])
        await student.goto(f"{live_server.url}/assignments")
        row = student.locator(f"tr[data-assignment-id='{aid}']")
        await expect(row.locator(".status-badge")).to_have_text("Chưa nộp")
        await row.get_by_role("link").click()
        await expect(student.locator("#instructions")).to_have_text("Làm bài 1, 2, 3 trang 45.\nNộp ảnh chụp bài làm.")
        await student.locator("#submit-text").fill("Bài 1: x = 2.\nBài 2: y = -1.")
        await student.locator("#submit-files").set_input_files(
            files=[{"name": "bài làm.txt", "mimeType": "text/plain", "buffer": "Bài 3: đồ thị parabol".encode()}])
        await student.get_by_role("button", name="Nộp bài").click()
        await expect(student.locator("#handed-in")).to_have_text("Đã nộp bài.")
        await expect(student.locator("#my-text")).to_have_text("Bài 1: x = 2.\nBài 2: y = -1.")
        await expect(student.locator("#my-files a")).to_have_text("bài làm.txt")
        await expect(student.get_by_role("button", name="Nộp lại")).to_be_visible()
        assert await student.evaluate("document.documentElement.scrollWidth") <= 360

        await page.reload()
        an = page.locator("#roster tr[data-status='submitted']")
        await expect(an).to_have_count(1)
        await expect(an.locator("th")).to_have_text(demo.students[0].full_name)
        await an.locator("input[name=score10]").fill("9")
        await an.locator("textarea[name=comment]").fill("Bài làm tốt, trình bày rõ ràng.")
        await an.get_by_role("button", name="Chấm điểm").click()
        graded = page.locator("#roster tr[data-status='graded']")
        await expect(graded).to_have_count(1)
        await expect(graded.locator(".status-badge")).to_have_text("Đã chấm điểm")
        await page.goto(f"{live_server.url}/assignments")
        sheet = page.locator("#class-sheets a")
        await expect(sheet).to_have_text(f"Tải bảng bài nộp của lớp {demo.class_name} (XLSX)")
        download = await page.request.get(f"{live_server.url}{await sheet.get_attribute('href')}")
        assert download.status == 200 and (await download.body())[:2] == b"PK"

        await student.reload()
        await expect(student.locator("#my-score")).to_have_text("Điểm: 9/10")
        await expect(student.locator("#my-comment")).to_have_text("Bài làm tốt, trình bày rõ ràng.")
        await expect(student.locator("#submit-form")).to_have_count(0)
        phone.assert_no_errors()
    browser_page.assert_no_errors()

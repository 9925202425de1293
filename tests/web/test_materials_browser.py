"""'Học liệu' in Chromium: a teacher uploads a PDF and submits it, an administrator approves (duyệt)
it, the teacher publishes (phát hành) it to 10A1, and a student of 10A1 finds it and opens it; on a
phone-sized screen, with hostile text shown as text."""
from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import api_get, sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 2000 + b"\n%%EOF\n"
TITLE = "Bài 3: Hàm số <img src=x onerror=alert(1)>"


async def card(page: Page, title: str):  # type: ignore[no-untyped-def]
    return page.locator(".material-card").filter(has_text=title)


async def test_page_is_served(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/materials", "/materials/review"):
        response = await client.get(path)
        assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
        html = await response.text()
        assert '<script type="module" src="/static/js/pages/materials.js"></script>' in html
        assert "style=" not in html and "onclick" not in html.lower()


async def test_teacher_uploads_admin_approves_student_opens(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage, tmp_path: Path
) -> None:
    page = browser_page.page
    pdf = tmp_path / "bai-3.pdf"
    pdf.write_bytes(PDF)
    async with open_browser_page() as admin_tab, open_browser_page() as student_tab:
        # The teacher adds a material and submits it.
        await sign_in(page, live_server, demo.teacher, next_path="/materials")
        await page.wait_for_url(f"{live_server.url}/materials")
        await expect(page.locator("h1")).to_have_text("Học liệu")
        await expect(page.locator("#main-nav a[aria-current=page]")).to_have_text("Học liệu")
        await page.fill("#mat-title", TITLE)
        await page.select_option("#mat-subject", label="Toán")
        await page.fill("#mat-description", "Đọc trước\ntrang 12")
        await page.set_input_files("#mat-file", str(pdf))
        # The upload's progress bar: shown while the file goes, gone once it is stored.
        await page.evaluate("""() => {
          window.seenProgress = [];
          const box = document.getElementById('mat-progress-box');
          new MutationObserver(() => window.seenProgress.push(box.hidden ? 'hidden' : 'shown'))
            .observe(box, { attributes: true, attributeFilter: ['hidden'] });
        }""")
        await page.click("#upload-form button[type=submit]")
        await expect(page.locator("#upload-form .form-status")).to_have_text(f"Đã lưu bản nháp “{TITLE}”.")
        assert await page.evaluate("window.seenProgress") == ["shown", "hidden"]
        await expect(page.locator("#mat-progress-box")).to_be_hidden()
        mine = await card(page, TITLE)
        await expect(mine.locator(".mat-title")).to_have_text(TITLE)  # as text, no image element
        await expect(mine.locator("img")).to_have_count(0)
        await expect(mine.locator(".mat-status")).to_have_text("Bản nháp")
        await mine.get_by_role("button", name="Gửi duyệt").click()
        await expect(page.locator("#mat-status")).to_have_text(f"Đã gửi duyệt “{TITLE}”.")
        await expect((await card(page, TITLE)).locator(".mat-status")).to_have_text("Chờ duyệt")

        # The student sees nothing yet.
        await sign_in(student_tab.page, live_server, demo.students[0], next_path="/materials")
        await expect(student_tab.page.locator("#materials-list .empty")).to_have_text(
            "Thầy cô chưa phát hành học liệu nào cho lớp em.")

        # The administrator reviews it on /materials/review and approves it.
        await sign_in(admin_tab.page, live_server, demo.admin, next_path="/materials/review")
        await expect(admin_tab.page.locator("h1")).to_have_text("Duyệt học liệu")
        waiting = await card(admin_tab.page, TITLE)
        await waiting.get_by_role("button", name="Duyệt", exact=True).click()
        await expect(admin_tab.page.locator("#mat-status")).to_have_text(f"Đã duyệt “{TITLE}”.")

        # The teacher publishes it to 10A1.
        await page.reload()
        approved = await card(page, TITLE)
        await expect(approved.locator(".mat-status")).to_have_text("Đã duyệt")
        await approved.locator("select.publish-class").select_option(label=demo.class_name)
        await approved.get_by_role("button", name="Phát hành").click()
        await expect(page.locator("#mat-status")).to_have_text(f"Đã phát hành “{TITLE}” cho lớp {demo.class_name}.")

        # The student, on a phone, finds it and opens it: the PDF itself, from the server.
        student = student_tab.page
        await student.set_viewport_size({"width": 360, "height": 760})
        await student.reload()
        found = await card(student, TITLE)
        await expect(found.locator(".mat-title")).to_have_text(TITLE)
        await expect(found.locator(".mat-description")).to_have_text("Đọc trước\ntrang 12")
        await expect(found.locator(".mat-status")).to_have_count(0)
        assert await student.evaluate("document.documentElement.scrollWidth") <= 360
        link = found.get_by_role("link", name=f"Mở “{TITLE}”")
        href = await link.get_attribute("href")
        assert href and href.endswith("/file")
        response = await student.request.get(f"{live_server.url}{href}")
        assert response.status == 200 and await response.body() == PDF
        async with student.context.expect_page() as opened:
            await link.click()
        tab = await opened.value
        assert tab.url == f"{live_server.url}{href}"
        await tab.close()
        material_id = await found.get_attribute("data-material-id")
        log = await api_get(page, live_server, f"/api/materials/{material_id}/downloads")
        assert log["total"] >= 1 and demo.students[0].full_name in {i["user_name"] for i in log["items"]}

        # The teacher attaches it to today's lesson; the lesson page lists it for the student.
        await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}")
        panel = page.locator("#lesson-materials")
        await expect(panel.locator("h2")).to_have_text("Học liệu của tiết học")
        await expect(panel.locator(".muted")).to_have_text("Tiết học chưa có học liệu.")
        await panel.locator("#attach-material").select_option(material_id)
        await panel.get_by_role("button", name="Gắn vào tiết học").click()
        await expect(panel.locator(".lesson-material a")).to_have_text(TITLE)
        await student.goto(f"{live_server.url}/lessons/{demo.lesson_id}")
        listed = student.locator("#lesson-materials .lesson-material a")
        await expect(listed).to_have_text(TITLE)
        assert await listed.get_attribute("href") == href
        await expect(student.locator("#lesson-materials .detach")).to_have_count(0)

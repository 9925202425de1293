"""A parent in Chromium: joins with the school's invitation code (mã mời), signs in, lands on their
children's page and sees their child's absence (vắng) from a lesson that is over, with the notices
bell counting it until it is read; the page follows the language switch."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from playwright.async_api import expect

from school.demo import Credentials, DemoSchool
from signaling.client import LessonClient
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer, Login
from tests.web.test_pages_browser import SHOTS, sign_in
from tests.web.test_parents_api import PARENT_PASSWORD, student_ids
from web.api.notices import sweep_absences
from web.keys import DATABASE


async def test_a_parent_joins_signs_in_and_sees_their_childs_absence(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    client, page = live_server.client, browser_page.page
    admin = await login(demo.admin)
    ids = await student_ids(client, admin)
    invite = await (await client.post(f"/api/students/{ids['hs.an']}/parent-invites", headers=admin)).json()

    await page.goto(f"{live_server.url}/parent/join?code={invite['code']}")
    await expect(page.locator("#code")).to_have_value(invite["code"])
    await page.fill("#full_name", "Lê Thị Hoa")
    await page.fill("#username", "ph.an")
    await page.fill("#password", PARENT_PASSWORD)
    await page.click("#join-form button[type=submit]")
    await expect(page.locator("#join-done")).to_be_visible()

    # The lesson is held (the teacher opens the room, Bình comes for a moment) and ended: An was absent.
    teacher_headers = await login(demo.teacher)
    teacher = LessonClient(live_server.url, demo.lesson_id, teacher_headers["Authorization"].removeprefix("Bearer "))
    binh = LessonClient(live_server.url, demo.lesson_id,
                        (await login(demo.students[1]))["Authorization"].removeprefix("Bearer "))
    await asyncio.gather(teacher.connect(), binh.connect())
    ended = await client.post(f"/api/lessons/{demo.lesson_id}/end", headers=teacher_headers)
    assert ended.status == 200
    await asyncio.gather(binh.close(), teacher.close())
    assert await sweep_absences(live_server.app[DATABASE], datetime.now(UTC)) == 1  # only An has a parent

    await sign_in(page, live_server, Credentials("ph.an", PARENT_PASSWORD, "Lê Thị Hoa"))
    await page.wait_for_url(f"{live_server.url}/parent")
    card = page.locator(f"#child-{ids['hs.an']}")
    await expect(card.locator("h2")).to_have_text("Lê Văn An")
    await expect(card).to_contain_text("Lớp 10A1")
    row = card.locator(f"tr[data-lesson-id='{demo.lesson_id}']")
    await expect(row.locator(".att")).to_have_text("Vắng")
    await expect(card.locator(".child-absences")).to_have_text("Số buổi vắng (30 ngày qua): 1")
    await expect(page.locator("#me-role")).to_have_text("Phụ huynh")
    await expect(page.locator("#main-nav a")).to_have_text(["Con của tôi"])
    # No other child of the class appears anywhere on the page.
    for other in ("Phạm Thị Bình", "Hoàng Minh Chi", "Vũ Tiến Dũng"):
        await expect(page.locator("main")).not_to_contain_text(other)

    count = page.locator("#notices-count")
    await expect(count).to_have_text("1")
    await page.click("#notices-bell")
    item = page.locator("#notices-panel .bell-item")
    await expect(item).to_have_count(1)
    await expect(item.locator(".bell-title")).to_contain_text("Vắng học: Lê Văn An")
    await page.click("#notices-read-all")
    await expect(count).to_be_hidden()

    await page.set_viewport_size({"width": 360, "height": 760})  # a parent's phone
    await expect(row.locator(".att")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "parent-child-absent-360.png"), full_page=True)

    await page.click(".lang-switch button[data-lang='en']")
    await expect(row.locator(".att")).to_have_text("Absent")
    await expect(page.locator("#main-nav a")).to_have_text(["My children"])
    browser_page.assert_no_errors()


async def test_the_school_makes_a_parent_account_a_code_and_its_mail_settings(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin, next_path="/admin/parents")
    await expect(page.locator("#main-nav a[href='/admin/parents']")).to_have_text("Phụ huynh")
    await page.select_option("#p-student", label="Phạm Thị Bình (10A1)")
    await page.fill("#p-full-name", "<b>Phạm Văn Hải</b>")
    await page.fill("#p-username", "ph.binh")
    await page.fill("#p-password", PARENT_PASSWORD)
    await page.click("#parent-form button[type=submit]")
    await expect(page.locator("#parent-status")).to_have_text("Đã tạo tài khoản phụ huynh.")
    row = page.locator("#parents-table tbody tr")
    await expect(row).to_have_count(1)
    await expect(row.locator("td").first).to_have_text("<b>Phạm Văn Hải</b>")  # text, never markup
    await expect(row).to_contain_text("Phạm Thị Bình (10A1)")

    await page.click("#invite-button")
    await expect(page.locator("#parent-status")).to_contain_text("Mã mời cho phụ huynh của Phạm Thị Bình: ")

    await page.check("#smtp-enabled")
    await page.fill("#smtp-host", "smtp.example.edu.vn")
    await page.fill("#smtp-port", "587")
    await page.fill("#smtp-user", "thongbao")
    await page.fill("#smtp-password", "mat-khau-thu")
    await page.fill("#smtp-from", "thongbao@example.edu.vn")
    await page.click("#smtp-form button[type=submit]")
    await expect(page.locator("#smtp-status")).to_have_text("Đã lưu.")
    await expect(page.locator("#smtp-password")).to_have_value("")
    await expect(page.locator("#smtp-password")).to_have_attribute("placeholder", "Đã lưu mật khẩu")
    await page.reload()
    await expect(page.locator("#smtp-host")).to_have_value("smtp.example.edu.vn")
    assert "mat-khau-thu" not in await page.content()
    browser_page.assert_no_errors()

"""The school's people in Chromium: an administrator edits a student's name (a Vietnamese refusal
by the field first), the change log shows it; a reset password shown once and its owner made to
choose their own; every admin page at 360 px with the header's nav folded behind "Menu"."""
from __future__ import annotations

import re

from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import api_get, sign_in

ADMIN_PAGES = ["/admin/timetable", "/admin/classes", "/admin/users", "/admin/subjects", "/admin/import",
               "/admin/settings", "/admin/audit", "/supervision"]

WIDEST = """() => {
  const out = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > 361
    && ![...el.querySelectorAll('*')].some((c) => c.getBoundingClientRect().right > 361));
  return out.slice(0, 3)
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`).join(', ');
}"""


async def test_admin_edits_a_students_name_and_the_change_log_shows_it(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin, next_path="/admin/users?role=student")
    await expect(page.locator("h1")).to_have_text("Giáo viên và học sinh")
    rows = page.locator("#users-table tbody tr")
    await expect(rows).to_have_count(4)
    # Search without accents finds "Lê Văn An".
    await page.fill("#user-search", "le van an")
    await expect(rows).to_have_count(1)
    row = rows.first
    await expect(row.locator(".people-full-name")).to_have_text("Lê Văn An")
    await expect(row.locator(".status-active")).to_have_text("Đang hoạt động")
    await row.get_by_role("button", name="Sửa tài khoản Lê Văn An").click()

    dialog = page.locator("#edit-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("h2")).to_have_text("Sửa tài khoản")
    await expect(dialog.locator("[name=full_name]")).to_have_value("Lê Văn An")
    await expect(dialog.locator("[name=class_id]")).to_have_value(str(demo.class_id))
    # A taken username: refused in Vietnamese next to its field, nothing saved.
    await dialog.locator("[name=username]").fill(demo.teacher.username)
    await dialog.locator("[name=full_name]").fill("Lê Văn Ân")
    await dialog.get_by_role("button", name="Lưu thay đổi").click()
    error = dialog.locator("#edit-form-username-error")
    await expect(error).to_have_text(f"Tên đăng nhập “{demo.teacher.username}” đã có người dùng. "
                                     "Vui lòng chọn tên khác.")
    await expect(dialog.locator("[name=username]")).to_have_attribute("aria-invalid", "true")
    await expect(dialog).to_be_visible()
    await dialog.locator("[name=username]").fill("hs.an")
    await dialog.get_by_role("button", name="Lưu thay đổi").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#users-status")).to_have_text("Đã lưu thay đổi của Lê Văn Ân.")
    await page.fill("#user-search", "")
    await expect(page.locator("#users-table tbody tr th", has_text="Lê Văn Ân")).to_have_count(1)
    students = (await api_get(page, live_server, "/api/users?role=student"))["items"]
    assert {u["username"]: u["full_name"] for u in students}["hs.an"] == "Lê Văn Ân"

    # The change log, reached from the nav.
    await page.locator(".main-nav a[href='/admin/audit']").click()
    await page.wait_for_url(f"{live_server.url}/admin/audit")
    await expect(page.locator("h1")).to_have_text("Nhật ký thay đổi")
    entry = page.locator("#audit-list tbody tr[data-entity='user'][data-action='update']").first
    await expect(entry.locator(".audit-action")).to_have_text("Sửa")
    await expect(entry.locator(".audit-entity")).to_have_text("Tài khoản · Lê Văn Ân")
    change = entry.locator("li[data-field='full_name']")
    await expect(change).to_have_text("Họ và tên: Lê Văn An → Lê Văn Ân")
    await expect(entry.locator("td").first).to_have_text(demo.admin.full_name)
    # Filtered to deletions: none.
    await page.select_option("#audit-action", "delete")
    await page.get_by_role("button", name="Lọc", exact=True).click()
    await expect(page.locator("#audit-list .empty")).to_have_text("Không có thay đổi nào.")
    assert "action=delete" in page.url
    # In English.
    await page.get_by_role("button", name="Bỏ lọc").click()
    await page.locator(".lang-button[data-lang='en']").click()
    await expect(page.locator("h1")).to_have_text("Change log")
    await expect(change).to_have_text("Full name: Lê Văn An → Lê Văn Ân")


async def test_a_reset_password_is_shown_once_and_its_owner_chooses_their_own(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    student = demo.students[1]
    await sign_in(page, live_server, demo.admin, next_path="/admin/users?role=student")
    row = page.locator("#users-table tbody tr", has_text=student.full_name)
    await row.get_by_role("button", name=f"Đặt lại mật khẩu cho {student.full_name}").click()
    confirm = page.locator("#confirm-dialog")
    await expect(confirm.locator("h2")).to_have_text(f"Đặt lại mật khẩu cho {student.full_name}?")
    await expect(confirm.locator("#confirm-text")).to_contain_text("chỉ hiện một lần")
    await confirm.get_by_role("button", name="Đặt lại mật khẩu").click()
    slip = page.locator("#password-dialog")
    await expect(slip).to_be_visible()
    await expect(slip.locator("#slip-username")).to_have_text(student.username)
    password = (await slip.locator("#slip-password").text_content() or "").strip()
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", password)
    await slip.get_by_role("button", name="Đóng").click()
    await expect(slip.locator("#slip-password")).to_have_text("")  # shown once
    await expect(row.locator(".status-must-change")).to_have_text("Chờ đổi mật khẩu")

    async with open_browser_page() as other:
        await other.page.goto(f"{live_server.url}/login")
        await other.page.fill("#username", student.username)
        await other.page.fill("#password", password)
        await other.page.click("#login-form button[type=submit]")
        await other.page.wait_for_url(f"{live_server.url}/account?change=1")
        await expect(other.page.locator("#forced-change h3")).to_have_text("Vui lòng đổi mật khẩu")
        # Any other page sends them back here.
        await other.page.goto(f"{live_server.url}/lessons")
        await other.page.wait_for_url(f"{live_server.url}/account?change=1")
        await other.page.fill("#current-password", password)
        await other.page.fill("#new-password", "mat-khau-cua-rieng-em")
        await other.page.fill("#repeat-password", "mat-khau-cua-rieng-em")
        await other.page.click("#password-form button[type=submit]")
        await other.page.wait_for_url(f"{live_server.url}/lessons")
        await expect(other.page.locator("h1")).to_have_text("Tiết học của tôi")


async def test_deleting_a_teacher_with_lessons_offers_locking_instead(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    teacher = demo.teacher
    await sign_in(page, live_server, demo.admin, next_path="/admin/users?role=teacher")
    row = page.locator("#users-table tbody tr", has_text=teacher.full_name)
    await row.get_by_role("button", name=f"Xóa tài khoản {teacher.full_name}").click()
    dialog = page.locator("#confirm-dialog")
    await expect(dialog.locator("h2")).to_have_text(f"Xóa tài khoản {teacher.full_name}?")
    await expect(dialog.locator("#confirm-text")).to_contain_text("Chỉ xóa được tài khoản chưa có dữ liệu nào")
    await dialog.get_by_role("button", name="Xóa", exact=True).click()
    await expect(dialog.locator(".form-error")).to_contain_text(
        f"Không thể xóa tài khoản {teacher.full_name} vì đã có dữ liệu: ")
    await expect(dialog.locator(".form-error")).to_contain_text("tiết học")
    await expect(dialog.get_by_role("button", name="Xóa", exact=True)).to_be_hidden()
    await dialog.get_by_role("button", name="Khóa tài khoản").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#users-status")).to_have_text(f"Đã khóa tài khoản {teacher.full_name}.")
    await expect(row.locator(".status-inactive")).to_have_text("Đã khóa")
    await expect(row.get_by_role("button", name=f"Mở khóa tài khoản {teacher.full_name}")).to_be_visible()
    refused = await page.request.post(f"{live_server.url}/api/auth/login",
                                      data={"username": teacher.username, "password": teacher.password})
    assert refused.status == 401


async def test_every_admin_page_fits_360_px_with_the_nav_behind_menu(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await page.set_viewport_size({"width": 360, "height": 760})
    await sign_in(page, live_server, demo.admin)
    checked = 0
    too_wide: list[str] = []
    for path in ADMIN_PAGES:
        response = await page.goto(f"{live_server.url}{path}")
        assert response is not None
        if response.status == 404:
            continue  # a page not built yet
        checked += 1
        button = page.get_by_role("button", name="Menu")
        nav = page.locator("#main-nav")
        await expect(button).to_be_visible()
        await expect(button).to_have_attribute("aria-expanded", "false")
        await expect(nav).to_be_hidden()
        await expect(page.locator("h1").first).to_be_visible()
        await page.wait_for_load_state("networkidle")
        width = await page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            too_wide.append(f"{path} is {width} px wide at 360 px ({await page.evaluate(WIDEST)})")
        # Keyboard: open, the links are there, Escape closes and gives the focus back.
        await button.focus()
        await page.keyboard.press("Enter")
        await expect(button).to_have_attribute("aria-expanded", "true")
        await expect(nav.locator(f"a[href='{path}']")).to_be_visible()
        await expect(nav.locator(f"a[href='{path}']")).to_have_attribute("aria-current", "page")
        assert await page.evaluate("document.documentElement.scrollWidth") <= max(width, 360)  # the open menu fits
        await page.keyboard.press("Escape")
        await expect(button).to_have_attribute("aria-expanded", "false")
        await expect(nav).to_be_hidden()
        await expect(button).to_be_focused()
    assert checked >= 4
    assert not too_wide, too_wide
    # Following a link closes the menu and lands on that page.
    await page.get_by_role("button", name="Menu").click()
    await page.locator("#main-nav a[href='/admin/users']").click()
    await page.wait_for_url(f"{live_server.url}/admin/users")
    await expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    # Wider than 480 px: no Menu button, the nav shown.
    await page.set_viewport_size({"width": 800, "height": 760})
    await expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    await expect(page.locator("#main-nav")).to_be_visible()

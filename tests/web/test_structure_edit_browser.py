"""Editing the school's structure in Chromium: an administrator renames a class, reads the
server's Vietnamese refusal next to the field it concerns, archives a class that has lessons (the
dialog says what happens to its records) and restores it; a duplicate subject is refused by name."""
from __future__ import annotations

from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import api_get, sign_in


async def test_admin_renames_a_class_and_reads_a_refusal_by_its_field(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin, next_path="/admin/classes")
    await page.wait_for_url(f"{live_server.url}/admin/classes")
    row = page.locator(f"#classes-table tr[data-class-id='{demo.class_id}']")
    await expect(row.locator("th")).to_have_text("10A1")

    await row.get_by_role("button", name="Sửa 10A1").click()
    dialog = page.locator("#class-edit-dialog")
    await expect(dialog).to_be_visible()
    name = dialog.locator("input[name=name]")
    await expect(name).to_have_value("10A1")
    await expect(dialog.locator("select[name=grade]")).to_have_value("10")

    # A name whose number is not the grade: the server's sentence, in Vietnamese, under the name.
    await name.fill("12A1")
    await dialog.get_by_role("button", name="Lưu thay đổi").click()
    error = dialog.locator("#class-edit-form-name-error")
    await expect(error).to_have_text(
        "Tên lớp 12A1 bắt đầu bằng 12 nhưng lớp thuộc khối 10: tên lớp phải bắt đầu bằng số khối.")
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(dialog).to_be_visible()

    # A 48-character name is kept whole and not sent: the counter gives the server's limit.
    long_name = "10A1 " + "chuyên toán " * 3 + "x" * 7
    assert len(long_name) == 48
    await name.fill(long_name)
    assert await name.input_value() == long_name
    await expect(page.locator("#class-edit-form-name-count")).to_have_text("48/32 · Tối đa 32 ký tự.")

    await name.fill("10A1 Chuyên Toán")
    await dialog.get_by_role("button", name="Lưu thay đổi").click()
    await expect(dialog).to_be_hidden()
    await expect(row.locator("th")).to_have_text("10A1 Chuyên Toán")
    await expect(page.locator("#classes-status")).to_have_text("Đã lưu lớp 10A1 Chuyên Toán.")
    detail = await api_get(page, live_server, f"/api/classes/{demo.class_id}")
    assert detail["name"] == "10A1 Chuyên Toán"

    # The class has lessons: it can only be archived, and the dialog says what happens.
    lessons = detail["lesson_count"]
    assert lessons >= 1
    await row.get_by_role("button", name="Xóa 10A1 Chuyên Toán").click()
    confirm = page.locator("dialog.structure-confirm")
    await expect(confirm.locator("h2")).to_have_text("Lưu trữ lớp 10A1 Chuyên Toán?")
    await expect(confirm.locator("p")).to_contain_text(
        f"đã có {lessons} tiết học nên không thể xóa. Khi lưu trữ, lớp rời khỏi các danh sách")
    await confirm.get_by_role("button", name="Lưu trữ lớp").click()
    await expect(confirm).to_have_count(0)
    await expect(row).to_have_count(0)
    await page.locator("#archived-details summary").click()
    archived = page.locator(f"#archived-table tr[data-class-id='{demo.class_id}']")
    await expect(archived.locator("th")).to_have_text("10A1 Chuyên Toán")
    await archived.get_by_role("button", name="Khôi phục lớp 10A1 Chuyên Toán").click()
    await expect(page.locator("#classes-status")).to_have_text("Đã khôi phục lớp 10A1 Chuyên Toán.")
    await expect(row.locator("th")).to_have_text("10A1 Chuyên Toán")
    await expect(archived).to_have_count(0)

    # A subject that exists under another spelling is refused next to its name.
    await page.goto(f"{live_server.url}/admin/subjects")
    lesson = await api_get(page, live_server, f"/api/lessons/{demo.lesson_id}")
    form = page.locator("#subject-form")
    await form.locator("input[name=name]").fill(lesson["subject_name"].upper())
    await form.get_by_role("button", name="Thêm môn học").click()
    await expect(page.locator("#subject-form-name-error")).to_have_text(
        f"Trường đã có môn {lesson['subject_name']} (không phân biệt chữ hoa, chữ thường và dấu).")
    browser_page.assert_no_errors("422", "409")

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

    # In English the same table reads in English.
    await page.get_by_role("button", name="EN").click()
    await expect(row.get_by_role("button", name="Edit 10A1 Chuyên Toán")).to_have_text("Edit")
    await expect(row.get_by_role("button", name="Delete 10A1 Chuyên Toán")).to_have_text("Archive class")
    await page.get_by_role("button", name="VI").click()

    # A subject that exists under another spelling is refused next to its name.
    await page.goto(f"{live_server.url}/admin/subjects")
    lesson = await api_get(page, live_server, f"/api/lessons/{demo.lesson_id}")
    form = page.locator("#subject-form")
    await form.locator("input[name=name]").fill(lesson["subject_name"].upper())
    await form.get_by_role("button", name="Thêm môn học").click()
    await expect(page.locator("#subject-form-name-error")).to_have_text(
        f"Trường đã có môn {lesson['subject_name']} (không phân biệt chữ hoa, chữ thường và dấu).")
    browser_page.assert_no_errors("422", "409")


async def test_class_page_moves_a_student_in_and_subjects_page_edits_and_deletes(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin, next_path="/admin/classes")
    await page.wait_for_url(f"{live_server.url}/admin/classes")
    # A second class of the year, made in the page's form.
    await page.fill("#class-name", "10A2")
    await page.select_option("#class-grade", "10")
    await page.locator("#class-form").get_by_role("button", name="Tạo lớp").click()
    new_row = page.locator("#classes-table tr", has_text="10A2")
    await expect(new_row).to_have_count(1)
    class_id = int(await new_row.get_attribute("data-class-id") or 0)

    await page.goto(f"{live_server.url}/admin/classes/{class_id}")
    await expect(page.locator("#class-title")).to_have_text("Lớp 10A2")
    await expect(page.locator("#class-remove")).to_have_text("Xóa lớp")
    # Move a student of 10A1 here: the dialog names the old class.
    an = next(s for s in (await api_get(page, live_server, f"/api/classes/{demo.class_id}"))["students"])
    await page.locator("#elsewhere label", has_text=an["full_name"]).click()
    await page.locator("#move-form").get_by_role("button", name="Chuyển sang lớp này").click()
    confirm = page.locator("dialog.structure-confirm")
    await expect(confirm.locator("h2")).to_have_text("Chuyển 1 học sinh sang lớp 10A2?")
    await expect(confirm.locator("p")).to_contain_text(f"{an['full_name']} (10A1)")
    await confirm.get_by_role("button", name="Chuyển sang lớp này").click()
    await expect(page.locator(f"#students-table tr[data-user-id='{an['id']}']")).to_have_count(1)
    await expect(page.locator("#move-form .form-status")).to_have_text("Đã chuyển 1 học sinh sang lớp.")
    old = await api_get(page, live_server, f"/api/classes/{demo.class_id}")
    assert an["id"] not in {s["id"] for s in old["students"]}

    # The inline form: a clash with 10A1's name is said under the name.
    await page.fill("#edit-name", "10a1")
    await page.locator("#edit-form").get_by_role("button", name="Lưu thay đổi").click()
    year = old["school_year"]
    await expect(page.locator("#edit-form-name-error")).to_have_text(f"Năm học {year} đã có lớp 10A1.")
    await page.set_viewport_size({"width": 360, "height": 760})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await page.screenshot(path="/tmp/shots/admin-class-360.png", full_page=True)

    # Without lessons the class is deleted, and the page goes back to the list.
    await page.locator("#class-remove").click()
    await expect(confirm.locator("p")).to_contain_text(
        "Lớp 10A2 chưa có tiết học nào. Xóa lớp sẽ đưa 1 học sinh ra khỏi lớp")
    await confirm.get_by_role("button", name="Xóa lớp").click()
    await page.wait_for_url(f"{live_server.url}/admin/classes")
    await expect(page.locator("#classes-table tr", has_text="10A2")).to_have_count(0)

    # Subjects: edit a subject's code, and a subject in use is refused in the dialog with what uses it.
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{live_server.url}/admin/subjects")
    lesson = await api_get(page, live_server, f"/api/lessons/{demo.lesson_id}")
    subject = lesson["subject_name"]
    srow = page.locator(f"#subjects-table tr[data-id='{lesson['subject_id']}']")
    await srow.get_by_role("button", name=f"Sửa {subject}").click()
    sdialog = page.locator("#subject-edit-dialog")
    await sdialog.locator("input[name=code]").fill("NV-1")
    await sdialog.get_by_role("button", name="Lưu thay đổi").click()
    await expect(sdialog).to_be_hidden()
    await expect(srow.locator("td").first).to_have_text("NV-1")
    await srow.get_by_role("button", name=f"Xóa {subject}").click()
    await confirm.get_by_role("button", name="Xóa").click()
    await expect(confirm.locator(".form-error")).to_contain_text(f"Không xóa được môn {subject}: môn đang có")
    await confirm.get_by_role("button", name="Hủy").click()
    await expect(confirm).to_have_count(0)
    await page.screenshot(path="/tmp/shots/admin-subjects.png", full_page=True)
    # On a phone the pages with their new action columns do not scroll sideways.
    await page.set_viewport_size({"width": 360, "height": 760})
    for path in ("/admin/subjects", "/admin/classes"):
        await page.goto(f"{live_server.url}{path}")
        await expect(page.get_by_role("button", name="Sửa").first).to_be_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360, path
    await page.get_by_role("button", name="Sửa").first.click()
    await expect(page.locator("#class-edit-dialog")).to_be_visible()
    box = await page.locator("#class-edit-dialog").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    await page.screenshot(path="/tmp/shots/admin-classes-dialog-360.png")
    browser_page.assert_no_errors("409", "422")

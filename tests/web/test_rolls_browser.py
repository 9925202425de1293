"""/admin/import in Chromium: an administrator uploads a class's roll with one bad row, reads the
row's problem in Vietnamese, fixes the file, imports it and gets the class's account slips."""
from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import Workbook, load_workbook
from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import sign_in

SHOTS = Path("/tmp/shots")
SLOW = 20_000
"""ms for a step that uploads and waits for the server (on a busy machine)."""


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


async def test_admin_imports_a_class_fixing_a_bad_row_and_gets_the_slips(
        live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage, tmp_path: Path) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin, next_path="/admin/import")
    await page.wait_for_url(f"{live_server.url}/admin/import")
    await expect(page.locator("h1")).to_have_text("Nhập danh sách")
    await expect(page.locator("#imp-columns")).to_contain_text("Họ và tên | Lớp | Tên đăng nhập (không bắt buộc)")

    header = ["Họ và tên", "Lớp", "Tên đăng nhập", "Ngày sinh"]
    bad = write_xlsx(tmp_path / "lop-10A1.xlsx", [header, ["Nguyễn Văn An", "10A1", "", "05/09/2010"],
                                                  ["Đỗ Thị Hoa", "10A9", "", ""],
                                                  ["Trần Minh Khôi", "10A1", "", ""]])
    await page.set_input_files("#imp-file", str(bad))
    broken = page.locator("#imp-preview tr[data-row='3']")
    await expect(broken).to_have_class("has-problems", timeout=SLOW)
    await expect(broken.locator(".imp-problems li")).to_have_text(re.compile(r"^Không có lớp 10A9 trong năm học \d{4}-\d{4}\.$"))
    await expect(broken.locator("td.cell-problem")).to_have_attribute("data-column", "class_name")
    await expect(page.locator("#imp-summary")).to_have_text(
        "1 trên 3 hàng có lỗi. Hãy sửa tệp rồi chọn lại tệp để kiểm tra.")
    await expect(page.locator("#imp-import")).to_be_disabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "import-preview.png"), full_page=True)
    await expect(page.locator("#imp-preview tr[data-row='2'] .imp-generated")).to_have_text("sẽ tạo: an.nv")

    fixed = write_xlsx(tmp_path / "lop-10A1-sua.xlsx", [header, ["Nguyễn Văn An", "10A1", "", "05/09/2010"],
                                                        ["Đỗ Thị Hoa", "10A1", "", ""],
                                                        ["Trần Minh Khôi", "10A1", "", ""]])
    await page.set_input_files("#imp-file", str(fixed))
    await expect(page.locator("#imp-preview tr.has-problems")).to_have_count(0)
    await expect(page.locator("#imp-import")).to_be_enabled(timeout=SLOW)
    await expect(page.locator("#imp-import")).to_have_text("Nhập 3 mục mới")
    await page.locator("#imp-import").click()

    sheet = page.locator(".imp-sheet[data-class-name='10A1']")
    await expect(sheet.locator("h3")).to_have_text("Lớp 10A1", timeout=SLOW)
    await expect(sheet.locator("tbody tr")).to_have_count(3)
    await expect(page.locator("#imp-done")).to_have_text("Đã nhập xong: tạo mới 3, bỏ qua 0.")
    await page.screenshot(path=str(SHOTS / "import-slips.png"), full_page=True)
    first = sheet.locator("tbody tr").nth(0)
    await expect(first.locator("th")).to_have_text("Đỗ Thị Hoa")
    username = await first.locator("td").nth(0).text_content()
    password = await first.locator("td").nth(1).text_content()
    assert username == "hoa.dt" and password

    # The slip's password signs in (and the new student must choose their own next).
    signed = await live_server.client.post("/api/auth/login", json={"username": username, "password": password})
    assert signed.status == 200

    # The workbook of the slips comes from the server.
    async with page.expect_download() as info:
        await page.locator("#imp-download").click()
    download = await info.value
    rows = list(load_workbook(io.BytesIO(Path(await download.path()).read_bytes())).active.values)
    assert rows[0] == ("Lớp", "Họ và tên", "Tên đăng nhập", "Mật khẩu")
    assert ("10A1", "Đỗ Thị Hoa", "hoa.dt", password) in rows

    # Printed: only the slips, one class per page.
    await page.evaluate("document.body.classList.add('imp-printing')")
    await page.emulate_media(media="print")
    await expect(page.locator(".imp-upload")).to_be_hidden()
    await expect(page.locator("#imp-download")).to_be_hidden()
    await expect(sheet).to_be_visible()
    await page.emulate_media(media="screen")

    # Usable on a phone.
    await page.set_viewport_size({"width": 360, "height": 760})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert browser_page.console_errors == []

"""The web UI in a real browser: headless Chromium against a live lophoc server."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from playwright.async_api import Page, expect

from school.demo import Credentials, DemoSchool
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer

SCHOOL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SHOTS = Path("/tmp/shots")


async def sign_in(page: Page, server: LiveServer, who: Credentials, *, next_path: str | None = None) -> None:
    url = f"{server.url}/login" + (f"?next={quote(next_path, safe='')}" if next_path else "")
    await page.goto(url)
    await page.fill("#username", who.username)
    await page.fill("#password", who.password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


async def api_get(page: Page, server: LiveServer, path: str) -> Any:
    """Ask the API with the browser's own session cookie."""
    response = await page.request.get(f"{server.url}{path}")
    assert response.status == 200, await response.text()
    return await response.json()


def school_time_range(lesson: dict[str, Any]) -> str:
    def hm(value: str) -> str:
        return datetime.fromisoformat(value).astimezone(SCHOOL_ZONE).strftime("%H:%M")

    return f"{hm(lesson['starts_at'])}–{hm(lesson['ends_at'])}"


def free_slot_today(busy_from: datetime, busy_to: datetime) -> tuple[time, time]:
    """A 45-minute slot today (school time) inside the grid's 6:00–22:00 that misses [busy_from, busy_to)."""
    today = datetime.now(SCHOOL_ZONE).date()
    for start in (time(6, 0), time(12, 0), time(20, 30)):
        begins = datetime.combine(today, start, tzinfo=SCHOOL_ZONE)
        ends = begins + timedelta(minutes=45)
        if ends <= busy_from or begins >= busy_to:
            return start, ends.time()
    raise AssertionError("no free slot today")  # the three slots cannot all meet one 45-minute lesson


async def test_pages_are_no_store_html_and_the_root_redirects_to_lessons(client: TestClient) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/lessons"
    response = await client.get("/admin", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/admin/timetable"
    for path in ("/login", "/lessons", "/lessons/12", "/admin/classes", "/admin/classes/3", "/admin/users",
                 "/admin/subjects", "/admin/timetable"):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-store"
        html = await response.text()
        assert '<script type="module" src="/static/js/pages/' in html
        assert "style=" not in html and "onclick" not in html.lower()
    favicon = await client.get("/favicon.ico")
    assert favicon.status == 200 and favicon.headers["Content-Type"] == "image/svg+xml"


async def test_a_student_signs_in_and_sees_the_live_demo_lesson_under_today_with_join_enabled(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    student = demo.students[0]
    await sign_in(page, live_server, student)
    assert page.url == f"{live_server.url}/lessons"
    await expect(page.locator("h1")).to_have_text("Tiết học của tôi")
    await expect(page.locator("#user-name")).to_have_text(student.full_name)
    await expect(page.locator("#me-role")).to_have_text("Học sinh")
    await expect(page.locator("#admin-hint")).to_be_hidden()

    card = page.locator(f"#today-list .lesson-card[data-lesson-id='{demo.lesson_id}']")
    await expect(card).to_be_visible()
    await expect(card.locator(".lesson-title")).to_have_text(demo.lesson_title)
    await expect(card.locator(".badge")).to_have_text("Đang diễn ra")
    await expect(card.locator(".fact-class dd")).to_have_text(demo.class_name)
    await expect(card.locator(".fact-teacher dd")).to_have_text(demo.teacher.full_name)
    lesson = await api_get(page, live_server, f"/api/lessons/{demo.lesson_id}")
    # Shown in the school's time zone although the browser runs on New York time.
    await expect(card.locator(".fact-time dd")).to_have_text(school_time_range(lesson))
    join = card.get_by_role("link", name="Vào lớp")
    await expect(join).to_be_enabled()
    await expect(join).to_have_class(re.compile(r"\bprimary\b"))
    await expect(join).to_have_attribute("href", f"/lessons/{demo.lesson_id}")
    # The next days' demo lessons are listed as upcoming, with a secondary "Vào lớp".
    upcoming = page.locator("#upcoming-list .lesson-card")
    await expect(upcoming.first).to_be_visible()
    await expect(upcoming.first.locator(".join")).to_have_class(re.compile(r"\bsecondary\b"))

    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "lessons.png"), full_page=True)

    await join.click()
    await page.wait_for_url(f"{live_server.url}/lessons/{demo.lesson_id}")
    await expect(page.locator("#lesson-title")).to_have_text(demo.lesson_title)
    await expect(page.locator("#join")).to_have_text("Vào lớp")
    await expect(page.locator("#join")).to_be_enabled()
    browser_page.assert_no_errors()


async def test_a_wrong_password_shows_the_vietnamese_error_and_stays_on_login(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await page.goto(f"{live_server.url}/login")
    await page.fill("#username", demo.students[0].username)
    await page.fill("#password", "not-the-password")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#login-form .form-error")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    assert page.url == f"{live_server.url}/login"
    await expect(page.locator("#password")).to_have_value("")
    await expect(page.locator("#username")).to_have_value(demo.students[0].username)
    assert not browser_page.page_errors


async def test_signing_in_returns_to_the_page_asked_for_but_never_to_another_site(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await page.goto(f"{live_server.url}/admin/timetable")
    await page.wait_for_url(f"{live_server.url}/login?next=%2Fadmin%2Ftimetable")
    await page.fill("#username", demo.admin.username)
    await page.fill("#password", demo.admin.password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(f"{live_server.url}/admin/timetable")
    await expect(page.locator("h1")).to_have_text("Thời khóa biểu")

    await page.click("#logout")
    await page.wait_for_url(f"{live_server.url}/login")
    await sign_in(page, live_server, demo.admin, next_path="//evil.example/steal")
    assert page.url == f"{live_server.url}/lessons"
    assert not browser_page.page_errors


async def test_the_language_switch_turns_the_page_into_english_and_persists_after_reload(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.students[0])
    card = page.locator(f".lesson-card[data-lesson-id='{demo.lesson_id}']")
    await expect(card.locator(".badge")).to_have_text("Đang diễn ra")

    await page.click(".lang-switch button[data-lang='en']")
    await expect(page.locator("h1")).to_have_text("My lessons")
    await expect(page.locator("#today-heading")).to_have_text("Today")
    await expect(page.locator("#upcoming-heading")).to_have_text("Upcoming")
    await expect(card.locator(".badge")).to_have_text("In progress")
    await expect(card.locator(".join")).to_have_text("Join class")
    await expect(page.locator("#logout")).to_have_text("Sign out")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    assert await page.title() == "My lessons · lophoc"

    await page.reload()
    await expect(page.locator("h1")).to_have_text("My lessons")
    await expect(card.locator(".badge")).to_have_text("In progress")
    await expect(page.locator(".lang-switch button[data-lang='en']")).to_have_attribute("aria-pressed", "true")

    await page.click(".lang-switch button[data-lang='vi']")
    await expect(page.locator("h1")).to_have_text("Tiết học của tôi")
    await expect(card.locator(".join")).to_have_text("Vào lớp")
    # Both languages translate the same keys.
    missing = await page.evaluate(
        """async () => {
            const { DICTIONARY } = await import('/static/js/i18n.js');
            const vi = Object.keys(DICTIONARY.vi), en = Object.keys(DICTIONARY.en);
            return [...vi.filter((k) => !en.includes(k)), ...en.filter((k) => !vi.includes(k))];
        }"""
    )
    assert missing == []
    browser_page.assert_no_errors()


async def test_the_admin_creates_a_class_then_schedules_a_lesson_for_it_today_in_the_week_grid(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin)

    await page.goto(f"{live_server.url}/admin/classes")
    await expect(page.locator("#classes-table tbody tr").first).to_be_visible()
    await page.fill("#class-name", "11B2")
    await page.select_option("#class-grade", "11")
    await page.select_option("#class-homeroom", label=demo.teacher.full_name)
    await page.click("#class-form button[type=submit]")
    row = page.locator("#classes-table tbody tr", has_text="11B2")
    await expect(row).to_have_count(1)
    await expect(row.locator("td").nth(0)).to_have_text("11")
    await expect(row.locator("td").nth(2)).to_have_text(demo.teacher.full_name)
    await expect(row.locator("td").nth(3)).to_have_text("0")
    await expect(page.locator("#class-form .form-status")).to_have_text("Đã tạo lớp 11B2.")
    class_id = int(await row.get_attribute("data-class-id") or 0)
    assert class_id > 0

    # A lesson is taught by the teacher assigned its class and subject (phân công giảng dạy).
    signed = await live_server.client.post("/api/auth/login", json={
        "username": demo.admin.username, "password": demo.admin.password})
    bearer = {"Authorization": f"Bearer {(await signed.json())['token']}"}
    math = next(s for s in (await (await live_server.client.get("/api/subjects", headers=bearer)).json())["items"]
                if s["name"] == "Toán")
    teacher_id = next(u["id"] for u in (await (await live_server.client.get(
        "/api/users?role=teacher", headers=bearer)).json())["items"] if u["full_name"] == demo.teacher.full_name)
    assigned = await live_server.client.post("/api/assignments", headers=bearer, json={
        "class_id": class_id, "subject_id": math["id"], "teacher_id": teacher_id})
    assert assigned.status == 201, await assigned.text()

    demo_lesson = await api_get(page, live_server, f"/api/lessons/{demo.lesson_id}")
    start, end = free_slot_today(
        datetime.fromisoformat(demo_lesson["starts_at"]), datetime.fromisoformat(demo_lesson["ends_at"])
    )
    today = datetime.now(SCHOOL_ZONE).date()

    await page.goto(f"{live_server.url}/admin/timetable")
    await expect(page.locator("#week-grid .tt")).to_be_visible()
    await page.select_option("#lesson-class", label="11B2")
    await page.select_option("#lesson-subject", label="Toán")
    await page.select_option("#lesson-teacher", label=demo.teacher.full_name)
    await page.fill("#lesson-title", "Ôn tập chương 1")
    await page.fill("#lesson-date", today.isoformat())
    await page.fill("#lesson-start", start.strftime("%H:%M"))
    await page.fill("#lesson-end", end.strftime("%H:%M"))
    await page.click("#lesson-form button[type=submit]")

    block = page.locator(f"#week-grid .tt-day[data-date='{today.isoformat()}'] .tt-lesson", has_text="Ôn tập chương 1")
    await expect(block).to_have_count(1)
    await expect(block.locator(".tt-time")).to_have_text(f"{start:%H:%M}–{end:%H:%M}")
    await expect(block.locator(".tt-meta").first).to_have_text("11B2 · Toán")
    # With every class shown, the block says whose lesson it is without being opened: its first line.
    assert await block.evaluate("""b => {
      const who = b.querySelector('.tt-who').getBoundingClientRect(), box = b.getBoundingClientRect();
      return who.top >= box.top && who.bottom <= box.bottom + 0.5;
    }""")
    await expect(page.locator("#lesson-form .form-status")).to_have_text(
        "Đã thêm tiết học “Ôn tập chương 1” vào thời khóa biểu."
    )
    # The block sits at its time: its top edge is (start - 6:00) down the day column.
    day_box = await page.locator(f"#week-grid .tt-day[data-date='{today.isoformat()}']").bounding_box()
    block_box = await block.bounding_box()
    assert day_box and block_box
    expected = (start.hour * 60 + start.minute - 6 * 60) / (16 * 60) * day_box["height"]
    assert abs((block_box["y"] - day_box["y"]) - expected) < 3

    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "admin-timetable.png"), full_page=True)

    stored = await api_get(page, live_server, f"/api/lessons?class_id={class_id}&from={today}&to={today}")
    assert [lesson["title"] for lesson in stored["items"]] == ["Ôn tập chương 1"]
    lesson = stored["items"][0]
    assert datetime.fromisoformat(lesson["starts_at"]) == datetime.combine(today, start, SCHOOL_ZONE).astimezone(UTC)
    assert datetime.fromisoformat(lesson["ends_at"]) == datetime.combine(today, end, SCHOOL_ZONE).astimezone(UTC)
    assert (lesson["class_name"], lesson["subject_name"], lesson["teacher_name"]) == (
        "11B2", "Toán", demo.teacher.full_name
    )

    # The class filter keeps only that class's lessons in the grid.
    await page.select_option("#class-filter", label="11B2")
    await expect(page.locator("#week-grid .tt-lesson")).to_have_count(1)
    browser_page.assert_no_errors()


async def test_a_student_opening_admin_classes_sees_the_no_permission_message(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.students[0])
    await page.goto(f"{live_server.url}/admin/classes")
    await expect(page.get_by_role("alert")).to_contain_text("Bạn không có quyền truy cập trang này.")
    await expect(page.locator("#class-form")).to_have_count(0)
    await expect(page.locator("nav a[href='/admin/classes']")).to_have_count(0)
    browser_page.assert_no_errors()


async def test_the_admin_creates_a_student_and_adds_them_to_a_class(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.admin)

    await page.goto(f"{live_server.url}/admin/users")
    await expect(page.locator("#users-table tbody tr", has_text=demo.teacher.full_name)).to_have_count(1)
    await page.select_option("#user-role", "student")
    await page.fill("#user-full-name", "Đỗ Thị Mai")
    await page.fill("#user-username", "hs.mai")
    await page.fill("#user-password", "mat-khau-mai-2026")
    await page.click("#user-form button[type=submit]")
    await expect(page.locator("#user-form .form-status")).to_have_text("Đã tạo tài khoản cho Đỗ Thị Mai.")
    row = page.locator("#users-table tbody tr", has_text="Đỗ Thị Mai")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Chưa xếp lớp")
    await expect(page.locator("#role-filter button[data-role='student']")).to_have_attribute("aria-pressed", "true")

    # The same username again: the server's answer shows on the form, nothing is created twice.
    await page.fill("#user-full-name", "Đỗ Thị Mai")
    await page.fill("#user-username", "hs.mai")
    await page.fill("#user-password", "mat-khau-mai-2026")
    await page.click("#user-form button[type=submit]")
    await expect(page.locator("#user-form-username-error")).to_have_text(
        "Tên đăng nhập “hs.mai” đã có người dùng. Vui lòng chọn tên khác.")

    await page.goto(f"{live_server.url}/admin/classes/{demo.class_id}")
    await expect(page.locator("#class-title")).to_have_text(f"Lớp {demo.class_name}")
    await page.get_by_role("checkbox", name=re.compile("Đỗ Thị Mai")).check()
    await page.click("#add-form button[type=submit]")
    await expect(page.locator("#add-form .form-status")).to_have_text("Đã thêm 1 học sinh vào lớp.")
    await expect(page.locator("#students-table tbody tr", has_text="Đỗ Thị Mai")).to_have_count(1)
    await expect(page.get_by_role("checkbox", name=re.compile("Đỗ Thị Mai"))).to_have_count(0)

    detail = await api_get(page, live_server, f"/api/classes/{demo.class_id}")
    assert "hs.mai" in {student["username"] for student in detail["students"]}
    assert detail["student_count"] == len(demo.students) + 1
    browser_page.assert_no_errors("409 (Conflict)")  # the duplicate username, refused on purpose


async def test_the_admin_removes_a_student_from_a_class_after_confirming(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    leaving = demo.students[-1]
    await sign_in(page, live_server, demo.admin)
    await page.goto(f"{live_server.url}/admin/classes/{demo.class_id}")
    row = page.locator("#students-table tbody tr", has_text=leaving.full_name)
    await expect(row).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.accept())
    await row.get_by_role("button").click()
    await expect(page.locator("#students-status")).to_have_text(f"Đã xóa {leaving.full_name} khỏi lớp.")
    await expect(row).to_have_count(0)
    await expect(page.get_by_role("checkbox", name=re.compile(leaving.full_name))).to_have_count(1)

    detail = await api_get(page, live_server, f"/api/classes/{demo.class_id}")
    assert leaving.username not in {student["username"] for student in detail["students"]}
    browser_page.assert_no_errors()

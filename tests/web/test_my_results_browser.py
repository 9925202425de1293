"""'Kết quả của tôi' in headless Chromium on a phone-sized screen: a student who joined the live
lesson (a real WebSocket peer) and answered its quick quizzes (made, opened, answered and published
through the polls API) sees each lesson newest first with their score, the bars of their quiz
score, their answers, in Vietnamese and in English; a classmate's answers never appear; a student
with nothing yet sees the empty state; a teacher is refused."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.async_api import expect
from sqlalchemy import select

from attendance.models import AttendanceEvent
from school.demo import DemoSchool
from school.models import Lesson, Subject, User
from signaling.client import LessonClient
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer, Login
from tests.web.test_pages_browser import SCHOOL_ZONE, SHOTS, sign_in
from web.keys import DATABASE

PHONE = {"width": 360, "height": 740}
CAPITAL = {"question": "Thủ đô của Việt Nam?", "kind": "single", "options": ["Huế", "Hà Nội", "Đà Nẵng"],
           "correct": [1], "points": 2, "draft": True}
SUM = {"question": "2 + 3 = ?", "kind": "number", "correct": 5, "points": 1, "draft": True}
POEM = {"question": "Tác giả Truyện Kiều?", "kind": "short", "correct": "Nguyễn Du", "points": 4, "draft": True}


async def call(client: TestClient, path: str, headers: dict[str, str], body: Any = None, status: int = 200) -> Any:
    response = await client.post(path, headers=headers, json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def quiz(client: TestClient, teacher: dict[str, str], lesson_id: int, spec: dict[str, Any]) -> int:
    """A prepared quiz, opened: students may answer it now."""
    poll = await call(client, f"/api/lessons/{lesson_id}/polls", teacher, spec, 201)
    await call(client, f"/api/polls/{poll['id']}/open", teacher)
    return int(poll["id"])


async def yesterdays_lesson(app: web.Application, demo: DemoSchool) -> int:
    """Yesterday's literature lesson of the class, which An attended for ten minutes."""
    async with app[DATABASE].session() as session:
        today = await session.get(Lesson, demo.lesson_id)
        assert today is not None
        literature = await session.scalar(select(Subject).where(Subject.school_id == today.school_id,
                                                                Subject.name == "Ngữ văn"))
        an = await session.scalar(select(User).where(User.username == demo.students[0].username))
        assert literature is not None and an is not None
        lesson = Lesson(school_id=today.school_id, class_id=today.class_id, subject_id=literature.id,
                        teacher_id=today.teacher_id, title="Truyện Kiều", starts_at=today.starts_at - timedelta(days=1),
                        ends_at=today.ends_at - timedelta(days=1), created_by=today.created_by)
        session.add(lesson)
        await session.flush()
        for kind, minute in (("join", 0), ("leave", 10)):
            session.add(AttendanceEvent(presence_id="yesterday", school_id=lesson.school_id, lesson_id=lesson.id,
                                        user_id=an.id, role="student", via="browser", room="main", kind=kind,
                                        reason="left" if kind == "leave" else None,
                                        at=lesson.starts_at + timedelta(minutes=minute), node_id="n"))
        return lesson.id


def school_day(value: datetime) -> str:
    return value.astimezone(SCHOOL_ZONE).strftime("%d/%m/%Y")


async def test_the_page_is_a_no_store_html_shell_without_inline_styles(client: TestClient) -> None:
    response = await client.get("/my-results")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    html = await response.text()
    assert '<script type="module" src="/static/js/pages/my-results.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/css/results.css">' in html
    assert "style=" not in html and "onclick" not in html.lower()
    for asset in ("/static/js/pages/my-results.js", "/static/js/i18n-results.js", "/static/css/results.css"):
        assert (await client.get(asset)).status == 200, asset


async def test_a_student_follows_their_quiz_scores_lesson_by_lesson_on_a_phone(
    live_server: LiveServer, client: TestClient, app: web.Application, demo: DemoSchool, login: Login,
    browser_page: BrowserPage,
) -> None:
    teacher = await login(demo.teacher)
    an, binh = await login(demo.students[0]), await login(demo.students[1])
    yesterday = await yesterdays_lesson(app, demo)

    # Today: An and Bình join the live lesson (real peers) and answer its quizzes while they are open.
    peers = [LessonClient(live_server.url, demo.lesson_id, headers["Authorization"].removeprefix("Bearer "))
             for headers in (an, binh)]
    await asyncio.gather(*(peer.connect() for peer in peers))
    try:
        capital = await quiz(client, teacher, demo.lesson_id, CAPITAL)
        total = await quiz(client, teacher, demo.lesson_id, SUM)
        await call(client, f"/api/polls/{capital}/answers", an, {"choices": [1]}, 201)
        await call(client, f"/api/polls/{capital}/answers", binh, {"choices": [0]}, 201)
        await call(client, f"/api/polls/{total}/answers", an, {"number": 5}, 201)
        await call(client, f"/api/polls/{capital}/publish", teacher)  # the sum's results stay unpublished
        await call(client, f"/api/polls/{total}/close", teacher)
        await asyncio.sleep(1.0)  # time present
    finally:
        await asyncio.gather(*(peer.close() for peer in peers))
    # Yesterday's quiz: An answered it wrong; published.
    poem = await quiz(client, teacher, yesterday, POEM)
    await call(client, f"/api/polls/{poem}/answers", an, {"text": "Hồ Xuân Hương"}, 201)
    await call(client, f"/api/polls/{poem}/publish", teacher)

    page = browser_page.page
    await page.set_viewport_size(PHONE)
    await sign_in(page, live_server, demo.students[0])
    link = page.locator(".main-nav a[href='/my-results']")
    await expect(link).to_have_text("Kết quả của tôi")
    await page.get_by_role("button", name="Menu").click()  # a phone: the nav is behind "Menu"
    await link.click()
    await page.wait_for_url(f"{live_server.url}/my-results")
    await expect(page.locator("h1")).to_have_text("Kết quả của tôi")
    await expect(page).to_have_title("Kết quả của tôi · lophoc")
    await expect(link).to_have_attribute("aria-current", "page")

    # One row per lesson, newest first.
    rows = page.locator("#results-table tbody tr")
    await expect(rows).to_have_count(2)
    assert [await rows.nth(i).get_attribute("data-lesson-id") for i in range(2)] == [str(demo.lesson_id),
                                                                                     str(yesterday)]
    async with app[DATABASE].session() as session:
        starts = {lid: (await session.get(Lesson, lid)).starts_at for lid in (demo.lesson_id, yesterday)}  # type: ignore[union-attr]
    today_row, yesterday_row = rows.nth(0), rows.nth(1)
    await expect(today_row.locator(".res-day")).to_have_text(school_day(starts[demo.lesson_id]))
    await expect(yesterday_row.locator(".res-day")).to_have_text(school_day(starts[yesterday]))
    await expect(today_row.locator(".col-subject")).to_have_text("Toán")
    await expect(today_row.locator(".col-class")).to_have_text(demo.class_name)
    await expect(today_row.locator(".col-title a")).to_have_text(demo.lesson_title)
    await expect(today_row.locator(".col-title a")).to_have_attribute("href", f"/lessons/{demo.lesson_id}")
    await expect(today_row.locator(".res-score")).to_have_text("2/2")  # the published quiz only
    await expect(today_row.locator(".res-pending")).to_have_text("1 câu chờ công bố")
    await expect(yesterday_row.locator(".res-score")).to_have_text("0/4")
    await expect(yesterday_row.locator(".col-present")).to_contain_text("10 phút")

    # The answers behind the score, shown as text.
    details = today_row.locator(".res-quizzes")
    await details.locator("summary").click()
    answered = details.locator("li")
    await expect(answered).to_have_count(2)
    capital_item = details.locator(f"li[data-poll-id='{capital}']")
    await expect(capital_item.locator(".res-question")).to_have_text(CAPITAL["question"])
    await expect(capital_item.locator(".res-answer")).to_have_text("Em trả lời: Hà Nội")
    await expect(capital_item.locator(".res-verdict")).to_have_text("Đúng · 2/2 điểm")
    await expect(details.locator(f"li[data-poll-id='{total}'] .res-verdict")).to_have_text(
        "Chờ giáo viên công bố kết quả")

    # The bars: today full, yesterday empty; the summary adds them up.
    bars = page.locator("svg#results-chart .res-bar-row")
    await expect(bars).to_have_count(2)
    assert [await bars.nth(i).get_attribute("data-rate") for i in range(2)] == ["1", "0"]
    await expect(bars.nth(0).locator(".res-bar-value")).to_have_text("100%")
    await expect(page.locator("#results-summary [data-key='lessons'] dd")).to_have_text("2")
    await expect(page.locator("#results-summary [data-key='quiz'] dd")).to_have_text("2/6")
    await expect(page.locator("#results-summary [data-key='quiz_rate'] dd")).to_have_text("33%")

    # A classmate's answer is nowhere; nothing runs off the side of a 360 px screen.
    body = await page.locator("main").inner_text()
    assert "Huế" not in body and demo.students[1].full_name not in body
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
    box = await today_row.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "my-results-phone.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})  # a desktop: the table's columns side by side
    await expect(page.locator("#results-table thead")).to_be_visible()
    await page.screenshot(path=str(SHOTS / "my-results-desktop.png"), full_page=True)

    # In English.
    await page.click(".lang-switch button[data-lang='en']")
    await expect(page.locator("h1")).to_have_text("My results")
    await expect(capital_item.locator(".res-verdict")).to_have_text("Correct · 2/2 points")
    await expect(capital_item).to_be_visible()  # the answers the student opened stay open
    await expect(page.locator("#results-table tbody tr").nth(0).locator(".res-pending")).to_have_text(
        "1 awaiting results")
    await expect(link).to_have_text("My results")

    # Bình, on the same page after signing out, sees his own wrong answer and not An's.
    await page.click(".lang-switch button[data-lang='vi']")
    await page.click("#logout")
    await page.wait_for_url(f"{live_server.url}/login")
    await sign_in(page, live_server, demo.students[1], next_path="/my-results")
    await page.wait_for_url(f"{live_server.url}/my-results")
    rows = page.locator("#results-table tbody tr")
    await expect(rows).to_have_count(1)  # he was not in yesterday's lesson
    await expect(rows.nth(0).locator(".res-score")).to_have_text("0/2")
    await rows.nth(0).locator(".res-quizzes summary").click()
    await expect(rows.nth(0).locator(".res-answer")).to_have_text(["Em trả lời: Huế"])
    await expect(rows.nth(0).locator(".res-verdict")).to_have_text(["Chưa đúng · 0/2 điểm"])
    body = await page.locator("main").inner_text()
    assert "Hà Nội" not in body and POEM["question"] not in body and demo.students[0].full_name not in body
    browser_page.assert_no_errors()


async def test_nothing_yet_shows_the_empty_state_and_a_teacher_is_refused(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage,
) -> None:
    page = browser_page.page
    await page.set_viewport_size(PHONE)
    await sign_in(page, live_server, demo.students[2], next_path="/my-results")
    await page.wait_for_url(f"{live_server.url}/my-results")
    await expect(page.locator("#results-empty")).to_have_text(
        "Em chưa tham gia tiết học trực tuyến nào. Khi em vào lớp và trả lời câu hỏi kiểm tra nhanh, "
        "kết quả sẽ hiện ở đây.")
    await expect(page.locator("#results-table")).to_have_count(0)
    await page.click("#logout")
    await page.wait_for_url(f"{live_server.url}/login")

    await sign_in(page, live_server, demo.teacher)
    await expect(page.locator(".main-nav a[href='/my-results']")).to_have_count(0)  # students only
    await page.goto(f"{live_server.url}/my-results")
    await expect(page.locator(".page-message h1")).to_have_text("Không có quyền truy cập")
    await expect(page.locator("#results-table")).to_have_count(0)
    browser_page.assert_no_errors()

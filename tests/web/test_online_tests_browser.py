"""Online tests in Chromium: a student takes a test on a 360 px phone (each answer saved as it is
given, the time left shown, a reload resumes the same paper, 'Nộp bài'), and the teacher grades
the essay on the grading page ('Chấm bài tự luận'); the student sees the score once published."""
from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from PIL import Image
from playwright.async_api import expect

from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_online_tests_api import CAPITALS, ok, subject_of
from tests.web.test_pages_browser import sign_in
from web.keys import ROOMS

ESSAY = "Em hãy tả ngôi trường của em."


async def _make_test(client: TestClient, teacher: dict[str, str], app: web.Application, demo: DemoSchool) -> int:
    subject_id = await subject_of(app, demo.lesson_id)
    bank = await ok(await client.post("/api/question-banks", json={"subject_id": subject_id, "title": "Địa lí"},
                                      headers=teacher), 201)
    questions: list[dict[str, Any]] = [{"kind": "single", "text": text, "options": options, "correct": [right]}
                                       for text, options, right in CAPITALS[:3]]
    questions.append({"kind": "essay", "text": ESSAY, "points": 2.0})
    added = await ok(await client.post(f"/api/question-banks/{bank['id']}/questions", json={"questions": questions},
                                       headers=teacher), 201)
    now = datetime.now(UTC)
    test = await ok(await client.post("/api/online-tests", json={
        "class_id": demo.class_id, "subject_id": subject_id, "title": "Kiểm tra Địa lí 15 phút",
        "question_ids": [q["id"] for q in added["items"]], "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(hours=1)).isoformat(), "time_limit_minutes": 15}, headers=teacher), 201)
    return int(test["id"])


async def test_a_student_takes_a_test_on_a_phone_and_the_teacher_grades_the_essay(
    live_server: LiveServer, client: TestClient, app: web.Application, demo: DemoSchool, login: Any,
    browser_page: BrowserPage,
) -> None:
    teacher = await login(demo.teacher)
    test_id = await _make_test(client, teacher, app, demo)
    page = browser_page.page
    await page.set_viewport_size({"width": 360, "height": 760})
    await sign_in(page, live_server, demo.students[0], next_path="/tests")
    await expect(page.locator("h1")).to_have_text("Bài kiểm tra trực tuyến")
    row = page.locator(f"#tests-list tr[data-test-id='{test_id}']")
    await expect(row).to_contain_text("Kiểm tra Địa lí 15 phút")
    await row.get_by_role("link", name="Làm bài").click()
    await page.wait_for_url(f"{live_server.url}/tests/{test_id}/take")
    await expect(page.locator("#timer-bar")).to_contain_text("Thời gian còn lại")
    await expect(page.locator("#timer")).to_have_text(re.compile(r"^1[45]:\d\d$"))
    questions = page.locator("#paper fieldset.question")
    await expect(questions).to_have_count(4)

    choices_given = 0
    for n in range(4):
        question = questions.nth(n)
        text = await question.locator(".question-text").text_content()
        if text == ESSAY:
            await question.locator("textarea").fill("Trường em có <b>hàng cây</b> phượng vĩ.")
        else:
            options = next(o for t, o, _ in CAPITALS if t == text)
            right = options[next(r for t, _, r in CAPITALS if t == text)]
            # The first two choice questions right, the third wrong.
            choose = right if choices_given < 2 else next(o for o in options if o != right)
            choices_given += 1
            await question.get_by_label(choose, exact=True).check()
        await expect(question.locator(".save-status")).to_have_text("Đã lưu")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360

    # A reload (a lost connection, another tab) resumes the same attempt with the answers kept.
    await page.reload()
    await expect(questions).to_have_count(4)
    essay = page.locator("#paper fieldset[data-kind='essay'] textarea")
    await expect(essay).to_have_value("Trường em có <b>hàng cây</b> phượng vĩ.")
    await expect(page.locator("#paper input:checked")).to_have_count(3)

    await page.get_by_role("button", name="Nộp bài").first.click()
    await expect(page.locator("#submit-confirm")).to_be_visible()
    await page.locator("#submit-yes").click()
    await expect(page.locator("#done-text")).to_have_text("Em đã nộp bài.")
    await expect(page.locator("#done-score")).to_have_text("Giáo viên sẽ công bố kết quả sau.")
    await expect(page.locator("#paper textarea")).to_be_disabled()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360

    async with open_browser_page() as teacher_browser:
        tpage = teacher_browser.page
        await sign_in(tpage, live_server, demo.teacher, next_path=f"/tests/{test_id}/grade")
        await expect(tpage.locator("h1")).to_have_text("Chấm bài tự luận")
        attempt_row = tpage.locator("#attempts-list tbody tr")
        await expect(attempt_row).to_have_count(1)
        await expect(attempt_row).to_contain_text(demo.students[0].full_name)
        await expect(attempt_row).to_contain_text("Chờ chấm tự luận")
        await attempt_row.get_by_role("button", name="Xem bài").click()
        essay_item = tpage.locator("#attempt-items article[data-kind='essay']")
        # The student's text is shown as typed (plain text, never markup).
        await expect(essay_item.locator(".answer")).to_have_text("Trường em có <b>hàng cây</b> phượng vĩ.")
        await expect(essay_item.locator("b")).to_have_count(0)
        await essay_item.get_by_label("Điểm (tối đa 2)").fill("1.5")
        await essay_item.get_by_label("Nhận xét").fill("Bài tả sinh động.")
        await essay_item.get_by_role("button", name="Lưu điểm").click()
        await expect(essay_item.locator(".form-status")).to_have_text("Đã lưu điểm.")
        # 2 of 3 choices right (2 points) + 1.5 of 2 for the essay: 3.5 / 5 -> 7 on the 10-point scale.
        await expect(attempt_row).to_contain_text("Đã chấm")
        await expect(attempt_row.locator("td").nth(1)).to_have_text("7")
        # The results as a sheet, from the page's link.
        async with tpage.expect_download() as info:
            await tpage.get_by_role("link", name="Tải kết quả (Excel)").click()
        sheet = load_workbook(io.BytesIO((await (await info.value).path()).read_bytes())).active
        results = list(sheet.iter_rows(values_only=True))
        assert results[1][1] == demo.students[0].full_name and results[1][9] == 7
        teacher_browser.assert_no_errors()

    await ok(await client.post(f"/api/online-tests/{test_id}/publish", json={"published": True}, headers=teacher))
    await page.goto(f"{live_server.url}/tests")
    await expect(page.locator(f"#tests-list tr[data-test-id='{test_id}']")).to_contain_text("7 điểm")
    browser_page.assert_no_errors()


async def test_a_test_that_requires_the_camera_shares_it_into_the_live_lesson(
    live_server: LiveServer, client: TestClient, app: web.Application, demo: DemoSchool, login: Any,
    browser_page: BrowserPage,
) -> None:
    teacher = await login(demo.teacher)
    subject_id = await subject_of(app, demo.lesson_id)
    bank = await ok(await client.post("/api/question-banks", json={"subject_id": subject_id, "title": "Camera"},
                                      headers=teacher), 201)
    text, options, right = CAPITALS[0]
    added = await ok(await client.post(f"/api/question-banks/{bank['id']}/questions", json={"questions": [
        {"kind": "single", "text": text, "options": options, "correct": [right]}]}, headers=teacher), 201)
    now = datetime.now(UTC)
    test = await ok(await client.post("/api/online-tests", json={
        "class_id": demo.class_id, "subject_id": subject_id, "title": "Kiểm tra có camera",
        "question_ids": [added["items"][0]["id"]], "camera_required": True, "lesson_id": demo.lesson_id,
        "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(hours=1)).isoformat(),
        "time_limit_minutes": 10}, headers=teacher), 201)
    # The teacher is in the live lesson (the room is open).
    room_client = LessonClient(live_server.url, demo.lesson_id, teacher["Authorization"].removeprefix("Bearer "))
    await room_client.connect(auto_subscribe=False)
    try:
        page = browser_page.page
        await page.set_viewport_size({"width": 360, "height": 760})
        await sign_in(page, live_server, demo.students[0], next_path=f"/tests/{test['id']}/take")
        await expect(page.locator("#camera-status")).to_have_text("Camera của em đang được chia sẻ với giáo viên.")
        room = app[ROOMS].rooms[demo.lesson_id]
        loop = asyncio.get_running_loop()
        until = loop.time() + 15
        while not any(p.via == "whip" and p.role == "student" and "camera" in p.producers
                      for p in room.participants.values()):
            assert loop.time() < until, "the student's camera did not reach the lesson"
            await asyncio.sleep(0.1)
        (publisher,) = [p for p in room.participants.values() if p.via == "whip"]
        assert publisher.full_name == demo.students[0].full_name
        # Submitting ends the camera's session.
        await page.locator("#submit").click()
        await page.locator("#submit-yes").click()
        await expect(page.locator("#done-text")).to_have_text("Em đã nộp bài.")
        until = loop.time() + 15
        while any(p.via == "whip" for p in room.participants.values()):
            assert loop.time() < until, "the camera's session stayed after submitting"
            await asyncio.sleep(0.1)
        browser_page.assert_no_errors()
    finally:
        await room_client.close()


async def test_a_teacher_makes_a_bank_a_question_and_a_test_on_the_tests_page(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage, tmp_path: Path,
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.teacher, next_path="/tests")
    await expect(page.locator("#staff-tools")).to_be_visible()
    await page.locator("#bank-title").fill("Toán 10: hàm số")
    await page.locator("#bank-form button[type=submit]").click()
    await expect(page.locator("#banks-list li")).to_have_count(1)
    await expect(page.locator("#banks-list li")).to_contain_text("Toán 10: hàm số")
    await page.locator("#q-kind").select_option("single")
    await page.locator("#q-text").fill("Đồ thị hàm số y = x² là?")
    await page.locator("#q-options").fill("Đường thẳng\nParabol\nĐường tròn")
    await page.locator("#q-correct").fill("2")
    picture = tmp_path / "parabol.png"
    Image.new("RGB", (40, 30), (20, 120, 200)).save(picture)
    await page.set_input_files("#q-image", str(picture))
    await page.locator("#question-form button[type=submit]").click()
    await expect(page.locator("#question-form .form-status")).to_have_text("Đã thêm câu hỏi.")
    await expect(page.locator("#banks-list li")).to_contain_text("1 câu hỏi")
    assert await page.locator("#q-image").input_value() == "", "the form is cleared for the next question"
    (bank,) = (await (await page.request.get(f"{live_server.url}/api/question-banks")).json())["items"]
    (question,) = (await (await page.request.get(
        f"{live_server.url}/api/question-banks/{bank['id']}/questions")).json())["items"]
    assert question["has_image"] is True
    stored = await page.request.get(f"{live_server.url}/api/questions/{question['id']}/image")
    assert stored.status == 200 and await stored.body() == picture.read_bytes()
    # A wrong correct answer is refused by the server, next to the form.
    await page.locator("#q-text").fill("Câu sai đáp án")
    await page.locator("#q-options").fill("A\nB")
    await page.locator("#q-correct").fill("7")
    await page.locator("#question-form button[type=submit]").click()
    await expect(page.locator("#question-form .form-error, #question-form .field-error").first).to_be_visible()
    await expect(page.locator("#banks-list li")).to_contain_text("1 câu hỏi")

    await page.locator("#t-title").fill("Kiểm tra 15 phút: hàm số")
    await page.locator("#t-opens").fill("2026-01-01T07:00")
    await page.locator("#t-closes").fill("2036-01-01T07:00")
    await page.locator("#t-count").fill("1")
    await page.locator("#test-form button[type=submit]").click()
    await expect(page.locator("#test-form .form-status")).to_have_text("Đã tạo bài kiểm tra.")
    row = page.locator("#tests-list tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Kiểm tra 15 phút: hàm số")
    await expect(row.get_by_role("link", name="Chấm bài")).to_be_visible()
    browser_page.assert_no_errors("422")

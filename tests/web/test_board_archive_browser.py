"""A lesson's board kept for later, in real browsers. In the live room the teacher starts the empty
board from an earlier lesson's ("Dùng lại bảng của tiết trước") and the student in the room (a 360
px phone) gets the copied board at once. On the lesson page ("Bảng của tiết học") a student sees
no links until the teacher lets the class see the board; then the student's PDF link gives a PDF
and the page links give PNGs."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiohttp import web
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from school.demo import DemoSchool
from school.models import Lesson
from tests.browser import open_browser_page
from tests.conftest import LiveServer, Login
from tests.web.test_board_browser import PHONE, wait_for_colour
from tests.web.test_live_lesson_browser import WAIT_MS, config, enter_room
from tests.web.test_pages_browser import sign_in
from web.keys import DATABASE

__all__ = ["config"]  # the loopback-only server config of the live lesson tests

GREEN = (0x15, 0x80, 0x3D)


async def earlier_lesson(app: web.Application, demo: DemoSchool, title: str) -> int:
    """A lesson a week before the demo lesson: same class, subject and teacher."""
    db = app[DATABASE]
    async with db.session() as session:
        now = await session.get(Lesson, demo.lesson_id)
        assert now is not None
        fields = {"school_id": now.school_id, "class_id": now.class_id, "subject_id": now.subject_id,
                  "teacher_id": now.teacher_id, "starts_at": now.starts_at - timedelta(days=7),
                  "ends_at": now.ends_at - timedelta(days=7)}

    async def write(session: AsyncSession) -> int:
        lesson = Lesson(title=title, **fields)
        session.add(lesson)
        await session.flush()
        return lesson.id

    return await db.writer.write(write)


async def change(live_server: LiveServer, lesson_id: int, headers: dict[str, str], op: dict[str, Any]) -> None:
    response = await live_server.client.post(f"/api/lessons/{lesson_id}/board/ops", headers=headers, json={"op": op})
    assert response.status == 201, await response.text()


RECT = {"kind": "add", "page": "p1", "object": {"id": "r1", "type": "rect", "x1": 600, "y1": 300, "x2": 1000,
                                                "y2": 600, "color": "#15803d", "width": 8, "fill": "#15803d"}}


async def test_the_teacher_starts_the_live_board_from_an_earlier_lessons_and_the_class_gets_it(
    live_server: LiveServer, demo: DemoSchool, login: Login
) -> None:
    teacher_headers = await login(demo.teacher)
    earlier = await earlier_lesson(live_server.app, demo, "Hàm số bậc hai: luyện tập")
    await change(live_server, earlier, teacher_headers, RECT)
    async with open_browser_page() as teacher_browser, open_browser_page() as student_browser:
        teacher, student = teacher_browser.page, student_browser.page
        await student.set_viewport_size(PHONE)
        await asyncio.gather(sign_in(teacher, live_server, demo.teacher), sign_in(student, live_server, demo.students[0]))
        await asyncio.gather(enter_room(teacher, live_server, demo), enter_room(student, live_server, demo))
        await student.locator("#drawer-btn-board").click()
        await expect(student.locator("#board-panel #board-canvas")).to_be_visible()
        await expect(student.locator("#board-reuse")).to_be_hidden()  # the teacher's

        # The teacher's board is empty: the earlier lessons of the subject are offered.
        await teacher.locator("#drawer-btn-board").click()
        reuse = teacher.locator("#board-reuse")
        await expect(reuse).to_be_visible(timeout=WAIT_MS)
        await reuse.get_by_text("Dùng lại bảng của tiết trước").click()
        choice = reuse.get_by_role("button", name="Hàm số bậc hai: luyện tập")
        await expect(choice).to_be_visible(timeout=WAIT_MS)
        await expect(choice).to_contain_text("lớp 10A1 · 1 trang")
        await choice.click()

        # Copied: both boards show the earlier lesson's green rectangle; nothing more is offered.
        await wait_for_colour(teacher, (800, 450), GREEN)
        await wait_for_colour(student, (800, 450), GREEN)
        await expect(reuse).to_be_hidden(timeout=WAIT_MS)
        assert await student.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

        teacher_browser.assert_no_errors()
        student_browser.assert_no_errors()


async def test_students_download_the_board_once_the_teacher_lets_them(
    live_server: LiveServer, demo: DemoSchool, login: Login
) -> None:
    lesson = demo.lesson_id
    await change(live_server, lesson, await login(demo.teacher), RECT)
    await change(live_server, lesson, await login(demo.teacher),
                 {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}})
    async with open_browser_page() as teacher_browser, open_browser_page() as student_browser:
        teacher, student = teacher_browser.page, student_browser.page
        await student.set_viewport_size(PHONE)
        await asyncio.gather(sign_in(teacher, live_server, demo.teacher), sign_in(student, live_server, demo.students[0]))
        url = f"{live_server.url}/lessons/{lesson}"
        await asyncio.gather(teacher.goto(url), student.goto(url))

        # Not shared yet: the student is told so, with nothing to download.
        section = student.get_by_role("region", name="Bảng của tiết học")
        await expect(section).to_be_visible(timeout=WAIT_MS)
        await expect(student.locator("#lesson-board-note")).to_have_text("Giáo viên chưa chia sẻ bảng của tiết học này.")
        await expect(student.locator("#lesson-board-pdf")).to_have_count(0)
        await expect(student.locator("#lesson-board-publish")).to_be_hidden()

        # The teacher has the links and lets the class see the board.
        await expect(teacher.locator("#lesson-board-pdf")).to_have_text("Tải bảng (PDF)", timeout=WAIT_MS)
        await expect(teacher.locator(".lesson-board-png")).to_have_text(["Trang 1", "Trang 2"])
        toggle = teacher.get_by_role("checkbox", name="Cho học sinh xem và tải bảng")
        await expect(toggle).not_to_be_checked()
        await toggle.check()
        await expect(teacher.locator("#lesson-board-note")).to_have_text("Học sinh của lớp xem và tải được bảng này.",
                                                                        timeout=WAIT_MS)

        # The student's page now has the links: the PDF is a PDF, a page is a PNG.
        await student.reload()
        pdf = student.get_by_role("link", name="Tải bảng (PDF)")
        await expect(pdf).to_be_visible(timeout=WAIT_MS)
        await expect(student.locator("#lesson-board-note")).to_be_hidden()
        response = await student.request.get(f"{live_server.url}{await pdf.get_attribute('href')}")
        assert response.status == 200 and (await response.body())[:4] == b"%PDF"
        png = student.get_by_role("link", name="Tải trang 2 (ảnh PNG)")
        response = await student.request.get(f"{live_server.url}{await png.get_attribute('href')}")
        assert response.status == 200 and (await response.body())[:4] == b"\x89PNG"
        assert await student.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

        # Taken back: the links go again.
        await teacher.reload()
        await expect(toggle).to_be_checked(timeout=WAIT_MS)
        await toggle.uncheck()
        await expect(teacher.locator("#lesson-board-note")).to_have_text("Chỉ giáo viên xem được bảng này.", timeout=WAIT_MS)
        await student.reload()
        await expect(student.locator("#lesson-board-note")).to_have_text("Giáo viên chưa chia sẻ bảng của tiết học này.",
                                                                        timeout=WAIT_MS)
        await expect(student.locator("#lesson-board-pdf")).to_have_count(0)

        teacher_browser.assert_no_errors()
        student_browser.assert_no_errors()

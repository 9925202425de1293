"""The teacher at a breakout group's board, in real browsers: while groups run, the teacher (a
desktop screen) picks "Nhóm 1" in the board panel, draws on that group's board from the main
room, and the group's student (a 360 px phone) sees the stroke on their canvas; the main board
("Bảng chung") stays as it was, and the picker goes once the groups end."""
from __future__ import annotations

import asyncio

from playwright.async_api import expect

from school.demo import DemoSchool
from tests.browser import open_browser_page
from tests.conftest import LiveServer
from tests.web.test_board_browser import PHONE, SAMPLE, choose_style, draw, near, wait_for_colour
from tests.web.test_live_lesson_browser import WAIT_MS, config, enter_room
from tests.web.test_pages_browser import sign_in

__all__ = ["config"]  # the loopback-only server config of the live lesson tests

RED = (0xD6, 0x28, 0x28)
WHITE = (255, 255, 255)


async def test_the_teacher_draws_on_a_groups_board_and_the_group_sees_it(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    an = demo.students[0]
    async with open_browser_page() as teacher_browser, open_browser_page() as student_browser:
        teacher, student = teacher_browser.page, student_browser.page
        await student.set_viewport_size(PHONE)
        await asyncio.gather(sign_in(teacher, live_server, demo.teacher), sign_in(student, live_server, an))
        await asyncio.gather(enter_room(teacher, live_server, demo), enter_room(student, live_server, demo))

        # No groups: no picker.
        await teacher.locator("#drawer-btn-board").click()
        await expect(teacher.locator("#board-panel #board-canvas")).to_be_visible()
        await expect(teacher.locator("#board-pick")).to_be_hidden()

        # Groups by hand: An in Nhóm 1, the others in Nhóm 2.
        await teacher.locator("#drawer-btn-groups").click()
        panel = teacher.get_by_role("region", name="Thảo luận nhóm")
        await expect(panel).to_be_visible(timeout=WAIT_MS)
        for one in demo.students:
            group = "Nhóm 1" if one is an else "Nhóm 2"
            await panel.get_by_role("combobox", name=f"Nhóm của {one.full_name}").select_option(label=group)
        await panel.get_by_role("button", name="Bắt đầu thảo luận nhóm").click()
        await expect(student.locator("#group-heading")).to_have_text("Bạn đang ở Nhóm 1", timeout=WAIT_MS)

        # The student looks at their group's board (empty).
        await student.locator("#drawer-btn-board").click()
        await expect(student.locator("#board-heading")).to_have_text("Bảng của nhóm", timeout=WAIT_MS)
        await wait_for_colour(student, (800, 450), WHITE, tolerance=5)

        # The teacher picks Nhóm 1's board in the board panel and draws on it.
        await teacher.locator("#drawer-btn-board").click()
        pick = teacher.get_by_role("combobox", name="Bảng đang xem")
        await expect(pick).to_be_visible(timeout=WAIT_MS)
        await expect(pick.locator("option")).to_have_text(["Bảng chung", "Nhóm 1", "Nhóm 2"])
        await pick.select_option(label="Nhóm 1")
        await expect(teacher.locator("#board-heading")).to_have_text("Bảng của Nhóm 1", timeout=WAIT_MS)
        await expect(teacher.locator("#board-show")).to_be_hidden()  # a group's board is not for the stage
        await choose_style(teacher, "#d62828", 16)
        await draw(teacher, (400, 450), (1200, 450))
        await wait_for_colour(teacher, (800, 450), RED)
        await wait_for_colour(student, (800, 450), RED)

        # The boards as the server keeps them: the stroke on Nhóm 1's, nothing on the main board.
        async def objects(room: str) -> list[str]:
            response = await teacher.request.get(f"{live_server.url}/api/lessons/{demo.lesson_id}/board",
                                                 params={"room": room})
            assert response.status == 200, await response.text()
            return [o["type"] for page in (await response.json())["pages"] for o in page["objects"]]

        assert await objects("Nhóm 1") == ["stroke"]
        assert await objects("main") == []

        # Back to the main board: blank where the group's stroke is.
        await pick.select_option(label="Bảng chung")
        await expect(teacher.locator("#board-heading")).to_have_text("Bảng trắng", timeout=WAIT_MS)
        for _ in range(30):
            pixels = await teacher.evaluate(SAMPLE, [800, 450])
            if pixels and all(near(p, WHITE, 5) for p in pixels):
                break
            await asyncio.sleep(0.1)
        assert pixels and all(near(p, WHITE, 5) for p in pixels), pixels

        # Looking at Nhóm 1's again, then the groups end: back on the main board, no picker.
        await pick.select_option(label="Nhóm 1")
        await wait_for_colour(teacher, (800, 450), RED)
        await teacher.locator("#drawer-btn-groups").click()
        await panel.get_by_role("button", name="Kết thúc thảo luận nhóm").click()
        await teacher.locator("#drawer-btn-board").click()
        await expect(teacher.locator("#board-pick")).to_be_hidden(timeout=WAIT_MS)
        await expect(teacher.locator("#board-heading")).to_have_text("Bảng trắng")
        await expect(student.locator("#group-box")).to_be_hidden(timeout=WAIT_MS)

        teacher_browser.assert_no_errors()
        student_browser.assert_no_errors()

"""The board in the live room, in real browsers: the teacher (a desktop screen) and a student (a
360 × 740 phone, in Vietnamese). The teacher uploads a one-page PDF, shows the board and draws a
stroke on the slide with the mouse; the student's board (on the stage, scaled to the phone) has the
stroke's colour where it was drawn and the slide's colour elsewhere, read from the canvas's pixels.
A student not allowed has no drawing tools; once the teacher lets everyone draw, the student draws
and the teacher's board shows it. The teacher alone writes text in place, draws a rectangle,
moves it with the select tool and adds a squared page."""
from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page, expect

from school.demo import DemoSchool
from tests.browser import open_browser_page
from tests.conftest import LiveServer
from tests.web.test_live_lesson_browser import WAIT_MS, config, enter_room
from tests.web.test_pages_browser import sign_in
from tests.whiteboard.slide_files import PdfPage, make_pdf

__all__ = ["config"]  # the loopback-only server config of the live lesson tests

PHONE = {"width": 360, "height": 740}
SLIDE_RGB = (0.2, 0.6, 0.9)
SLIDE = tuple(round(c * 255) for c in SLIDE_RGB)
TEACHER_INK = (0x1F, 0x29, 0x33)  # the first colour, the pen's
STUDENT_INK = (0xD6, 0x28, 0x28)  # red

# The pixels of the board page at page point (x, y) (page units, 1600 wide): a 5 × 5 square.
SAMPLE = """([x, y]) => {
    const canvas = document.querySelector('#board-canvas .board-base');
    if (!canvas || !canvas.width) return null;
    const k = canvas.width / 1600;
    const data = canvas.getContext('2d').getImageData(Math.round(x * k) - 2, Math.round(y * k) - 2, 5, 5).data;
    const out = [];
    for (let i = 0; i < data.length; i += 4) out.push([data[i], data[i + 1], data[i + 2]]);
    return out;
}"""

# How many pixels of the page's box (x0, y0, x1, y1 in page units) are blue-ish.
SAMPLE_AREA = """([x0, y0, x1, y1]) => {
    const canvas = document.querySelector('#board-canvas .board-base');
    const k = canvas.width / 1600;
    const data = canvas.getContext('2d').getImageData(Math.round(x0 * k), Math.round(y0 * k),
        Math.round((x1 - x0) * k), Math.round((y1 - y0) * k)).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 2] > 150 && data[i] < 120) n += 1;
    return n;
}"""


def near(pixel: list[int], colour: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


async def wait_for_colour(page: Page, point: tuple[float, float], colour: tuple[int, ...], tolerance: int = 40) -> None:
    """Some pixel around `point` of the page's board has `colour` (waits for it)."""
    pixels: Any = None
    for _ in range(int(WAIT_MS / 100)):
        pixels = await page.evaluate(SAMPLE, list(point))
        if pixels and any(near(p, colour, tolerance) for p in pixels):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {colour} at {point} of the board: {pixels}")


async def draw(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 24) -> None:
    """A mouse stroke between two page points (page units) on this page's board."""
    layer = page.locator("#board-canvas .board-draw")
    await layer.scroll_into_view_if_needed()
    box = await layer.bounding_box()
    assert box is not None
    k = box["width"] / 1600
    x0, y0 = box["x"] + start[0] * k, box["y"] + start[1] * k
    x1, y1 = box["x"] + end[0] * k, box["y"] + end[1] * k
    await page.mouse.move(x0, y0)
    await page.mouse.down()
    for i in range(1, steps + 1):
        await page.mouse.move(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
        await asyncio.sleep(0.01)
    await page.mouse.up()


async def choose_style(page: Page, colour: str, width: int) -> None:
    await page.locator("#board-tool-style").click()
    await page.locator(f"#board-tray button[data-color='{colour}']").click()
    await page.locator(f"#board-tray button[data-width='{width}']").click()
    await page.locator("#board-tool-style").click()  # the tray closes


async def test_the_teacher_teaches_from_slides_and_a_student_follows_then_draws(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    an = demo.students[0]
    pdf = make_pdf([PdfPage(800, 450, SLIDE_RGB, (0, 0, 10, 10), SLIDE_RGB)])
    async with open_browser_page() as teacher_browser, open_browser_page() as student_browser:
        teacher, student = teacher_browser.page, student_browser.page
        await student.set_viewport_size(PHONE)
        await sign_in(teacher, live_server, demo.teacher)
        await sign_in(student, live_server, an)
        await asyncio.gather(enter_room(teacher, live_server, demo), enter_room(student, live_server, demo))

        # The teacher uploads the slides from the board's panel ("Bảng"): one board page per slide
        # page, after the blank first page, shown at once.
        await expect(teacher.locator("#drawer-btn-board")).to_have_attribute("aria-label", "Bảng")
        await teacher.locator("#drawer-btn-board").click()
        await expect(teacher.locator("#board-panel")).to_be_visible()
        await teacher.locator("#board-slides-file").set_input_files(
            files=[{"name": "Bài giảng.pdf", "mimeType": "application/pdf", "buffer": pdf}])
        await expect(teacher.locator("#board-slides-status")).to_have_text(
            "Đã thêm 1 trang bài giảng vào bảng.", timeout=WAIT_MS)
        await expect(teacher.locator("#board-page-label")).to_have_text("Trang 2/2")

        # Shown: the board takes the stage for everyone; the student's follows it on the phone.
        await teacher.locator("#board-show").click()
        for page in (teacher, student):
            await expect(page.locator("#stage")).to_have_attribute("data-board", "on", timeout=WAIT_MS)
            await expect(page.locator("#stage-board #board-canvas")).to_be_visible()
        await expect(student.locator("#board-page-label")).to_have_text("Trang 2/2")
        width = await student.locator("#board-canvas").evaluate("(el) => el.getBoundingClientRect().width")
        assert 300 <= width <= PHONE["width"], width  # scaled to the phone's width
        assert await student.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        await wait_for_colour(student, (800, 200), SLIDE)

        # Not allowed to draw: no drawing tools, and a finger scrolls the page.
        await expect(student.locator("#board-tool-pen")).to_be_hidden()
        await expect(student.locator("#board-wrap")).not_to_have_class("board-wrap is-drawing")

        # The teacher draws across the slide with the mouse; the student sees the stroke.
        await choose_style(teacher, "#1f2933", 16)
        await draw(teacher, (400, 450), (1200, 450))
        await wait_for_colour(teacher, (800, 450), TEACHER_INK)
        await wait_for_colour(student, (800, 450), TEACHER_INK)
        await wait_for_colour(student, (800, 200), SLIDE)  # the slide elsewhere

        # The teacher lets everyone draw; the student gets the tools, draws in red, the teacher sees it.
        await teacher.locator("#board-allow-all").check()
        await expect(student.locator("#board-tool-pen")).to_be_visible(timeout=WAIT_MS)
        await student.locator("#board-tool-pen").click()
        await expect(student.locator("#board-wrap")).to_have_class("board-wrap is-drawing")
        await choose_style(student, "#d62828", 16)
        await draw(student, (300, 150), (300, 750))
        await wait_for_colour(student, (300, 300), STUDENT_INK)
        await wait_for_colour(teacher, (300, 300), STUDENT_INK)
        await wait_for_colour(teacher, (800, 450), TEACHER_INK)  # the teacher's stroke is still there

        # Undo: the student's stroke goes, on both boards.
        await student.locator("#board-undo").click()
        await wait_for_colour(teacher, (300, 300), SLIDE)
        await wait_for_colour(student, (300, 300), SLIDE)

        teacher_browser.assert_no_errors()
        student_browser.assert_no_errors()


async def test_the_teacher_writes_text_draws_a_rectangle_moves_it_and_adds_a_squared_page(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    async with open_browser_page() as browser:
        teacher = browser.page
        await sign_in(teacher, live_server, demo.teacher)
        await enter_room(teacher, live_server, demo)
        await teacher.locator("#drawer-btn-board").click()
        await expect(teacher.locator("#board-panel #board-canvas")).to_be_visible()  # not shown: in the panel
        await expect(teacher.locator("#stage")).not_to_have_attribute("data-board", "on")

        # Text typed in place, committed with Enter.
        await teacher.locator("#board-tool-text").click()
        await choose_style(teacher, "#1d4ed8", 16)
        layer = teacher.locator("#board-canvas .board-draw")
        box = await layer.bounding_box()
        assert box is not None
        k = box["width"] / 1600
        await teacher.mouse.click(box["x"] + 200 * k, box["y"] + 100 * k)
        text_box = teacher.get_by_role("textbox", name="Nội dung chữ trên bảng")
        await expect(text_box).to_be_focused()
        await text_box.press_sequentially("Định lý Py-ta-go")
        await text_box.press("Enter")
        await expect(text_box).to_have_count(0)
        blue = 0
        for _ in range(50):
            blue = await teacher.evaluate(SAMPLE_AREA, [200, 100, 500, 180])
            if blue > 20:
                break
            await asyncio.sleep(0.1)
        assert blue > 20, "no blue text where it was typed"

        # A rectangle, then selected and moved to the right.
        await teacher.locator("#board-tool-shapes").click()
        await teacher.locator("#board-tray #board-tool-rect").click()
        await choose_style(teacher, "#15803d", 16)
        await draw(teacher, (300, 400), (600, 700))
        green = (0x15, 0x80, 0x3D)
        await wait_for_colour(teacher, (300, 550), green)
        await teacher.locator("#board-tool-select").click()
        await draw(teacher, (300, 550), (1000, 550))
        await wait_for_colour(teacher, (1000, 550), green)
        await wait_for_colour(teacher, (300, 550), (255, 255, 255))

        # A squared page after this one, shown; then back.
        await teacher.locator("#board-add-page").click()
        await teacher.locator("#board-tray button[data-background='grid']").click()
        await expect(teacher.locator("#board-page-label")).to_have_text("Trang 2/2", timeout=WAIT_MS)
        await wait_for_colour(teacher, (50, 300), (0xD5, 0xDD, 0xE6), tolerance=20)
        await teacher.locator("#board-prev").click()
        await expect(teacher.locator("#board-page-label")).to_have_text("Trang 1/2", timeout=WAIT_MS)
        await wait_for_colour(teacher, (1000, 550), green)
        browser.assert_no_errors()


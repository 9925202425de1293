"""The live room on a phone first (Chromium): on entering, the teacher's video is inside the screen
with nothing over it, in portrait and in landscape, and goes full screen; on a desktop no control
covers the stage and the open panel sits beside it; a class of 12 pages its tiles; an English page
shows the room's messages in English."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.browser import BrowserPage, open_browser_page
from tests.conftest import LiveServer, Login
from tests.media import ToneTrack
from tests.web.test_live_lesson_browser import WAIT_MS, config, enter_room, poll, write_y4m
from tests.web.test_pages_browser import SHOTS, sign_in

__all__ = ["config"]  # the loopback-only server config of the live lesson tests

# Where the stage's video is on screen, and what the page shows at its centre and corners.
STAGE_GEOMETRY = """() => {
    const video = document.getElementById('stage-camera');
    const r = video.getBoundingClientRect();
    const inset = 4;
    const points = {
        centre: [r.left + r.width / 2, r.top + r.height / 2],
        topLeft: [r.left + inset, r.top + inset],
        topRight: [r.right - inset, r.top + inset],
        bottomLeft: [r.left + inset, r.bottom - inset],
        bottomRight: [r.right - inset, r.bottom - inset],
    };
    const view = video.closest('.stage-view');
    const hits = {};
    for (const [name, [x, y]] of Object.entries(points)) {
        const el = document.elementFromPoint(x, y);
        hits[name] = el === video || el === view ? 'stage' : (el ? `${el.tagName.toLowerCase()}#${el.id}.${el.className}` : null);
    }
    return {
        rect: { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height },
        viewport: { width: window.innerWidth, height: window.innerHeight },
        hits,
    };
}"""

# Rectangles of the visible controls and of the stage's view, to check none overlaps it.
CONTROLS_OVER_STAGE = """() => {
    const view = document.querySelector('#stage .stage-camera-view').getBoundingClientRect();
    const overlaps = (r) => r.left < view.right && r.right > view.left && r.top < view.bottom && r.bottom > view.top;
    return [...document.querySelectorAll('#room-controls button, #room-drawer, .tiles-box, #room-message')]
        .filter((el) => el.offsetParent !== null || getComputedStyle(el).position === 'fixed')
        .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && overlaps(r); })
        .map((el) => el.id || el.className);
}"""


def assert_stage_first(geometry: dict[str, Any]) -> None:
    rect, viewport = geometry["rect"], geometry["viewport"]
    assert rect["width"] > 0 and rect["height"] > 0, geometry
    assert rect["left"] >= -0.5 and rect["top"] >= -0.5, geometry  # sub-pixel scrolling
    assert rect["right"] <= viewport["width"] + 0.5 and rect["bottom"] <= viewport["height"] + 0.5, geometry
    assert set(geometry["hits"].values()) == {"stage"}, geometry


async def teacher_in_room(browser: BrowserPage, server: LiveServer, demo: DemoSchool, size: tuple[int, int]) -> Page:
    page = browser.page
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    await sign_in(page, server, demo.teacher)
    await enter_room(page, server, demo)
    await poll(page, "() => document.getElementById('stage-camera')?.videoWidth > 0")
    return page


@pytest.mark.parametrize("size", [(360, 740), (740, 360)], ids=["portrait", "landscape"])
async def test_on_a_phone_the_teachers_video_is_what_the_room_shows_first_and_goes_full_screen(
    live_server: LiveServer, demo: DemoSchool, tmp_path: Path, size: tuple[int, int]
) -> None:
    clip = write_y4m(tmp_path / "clip.y4m")
    async with open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as browser:
        page = await teacher_in_room(browser, live_server, demo, size)
        geometry = await page.evaluate(STAGE_GEOMETRY)
        assert_stage_first(geometry)
        assert await page.evaluate(CONTROLS_OVER_STAGE) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"live-phone-{size[0]}x{size[1]}.png"))

        # The controls are compact named icons, the device pickers behind the settings button.
        mic = page.locator("#btn-mic")
        await expect(mic).to_be_visible()
        await expect(mic).to_have_attribute("title", "Tắt micro")
        assert (await mic.bounding_box())["width"] <= 48
        await expect(page.locator("#mic-select")).to_be_hidden()
        await page.click("#btn-settings")
        await expect(page.locator("#settings-dialog")).to_be_visible()
        await expect(page.locator("#camera-select")).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(page.locator("#settings-dialog")).to_be_hidden()

        # A panel opens without covering the stage: under it in portrait, beside it in landscape.
        await page.click("#drawer-btn-people")
        sheet = page.locator("#drawer-people")
        await expect(sheet).to_be_visible()
        await expect(page.locator("#drawer-btn-people")).to_have_attribute("aria-expanded", "true")
        drawer = await sheet.bounding_box()
        stage_box = await page.locator("#stage .stage-camera-view").bounding_box()
        if size[0] < size[1]:
            assert drawer["y"] >= stage_box["y"] + stage_box["height"] - 0.5, (drawer, stage_box)
        else:
            assert drawer["x"] >= stage_box["x"] + stage_box["width"] - 0.5, (drawer, stage_box)
        assert await page.evaluate(CONTROLS_OVER_STAGE) == []
        await page.screenshot(path=str(SHOTS / f"live-phone-{size[0]}x{size[1]}-panel.png"))
        await page.keyboard.press("Escape")
        await expect(sheet).to_be_hidden()

        # Full screen: the stage alone; the button again leaves it.
        await page.click("#btn-fullscreen")
        await poll(page, "() => document.fullscreenElement?.id === 'stage'")
        await expect(page.locator("#btn-fullscreen")).to_have_attribute("aria-pressed", "true")
        await page.click("#btn-fullscreen")
        await poll(page, "() => document.fullscreenElement === null")
        await expect(page.locator("#btn-fullscreen")).to_have_attribute("aria-pressed", "false")
        browser.assert_no_errors()


async def test_on_a_desktop_no_control_covers_the_stage_and_the_open_panel_is_beside_it(
    live_server: LiveServer, demo: DemoSchool, tmp_path: Path
) -> None:
    clip = write_y4m(tmp_path / "clip.y4m")
    async with open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as browser:
        page = await teacher_in_room(browser, live_server, demo, (1280, 800))
        geometry = await page.evaluate(STAGE_GEOMETRY)
        assert_stage_first(geometry)
        assert geometry["rect"]["height"] >= 400, geometry  # a large stage
        assert await page.evaluate(CONTROLS_OVER_STAGE) == []
        controls = await page.locator("#room-controls").bounding_box()
        assert controls["y"] + controls["height"] <= 800, controls  # below the stage, on screen

        # Who is here is open beside the stage; one panel at a time.
        people = page.locator("#drawer-people")
        await expect(people).to_be_visible()
        stage_box = await page.locator("#stage").bounding_box()
        assert (await people.bounding_box())["x"] >= stage_box["x"] + stage_box["width"]
        await page.click("#drawer-btn-class")
        await expect(page.locator("#drawer-class")).to_be_visible()
        await expect(people).to_be_hidden()
        await expect(page.locator("#drawer-btn-class")).to_contain_text(f"/{len(demo.students)}", timeout=WAIT_MS)
        await page.click("#drawer-class .drawer-close")
        await expect(page.locator("#drawer-class")).to_be_hidden()
        await expect(page.locator("#drawer-btn-class")).to_be_focused()

        # The lesson's materials are a panel of the room, not a box above the stage.
        await page.click("#drawer-btn-materials")
        materials = page.locator("#drawer-materials #lesson-materials")
        await expect(materials.locator("h2")).to_have_text("Học liệu của tiết học")
        await expect(materials.locator("#attach-material")).to_have_count(0)  # nothing approved yet
        await page.click("#drawer-materials .drawer-close")
        assert_stage_first(await page.evaluate(STAGE_GEOMETRY))

        # Ending the lesson asks first; cancelling keeps everyone in.
        await page.click("#btn-end")
        await expect(page.locator("#end-dialog")).to_be_visible()
        await expect(page.locator("#end-title")).to_have_text("Kết thúc tiết học cho cả lớp?")
        await page.click("#end-cancel")
        await expect(page.locator("#end-dialog")).to_be_hidden()
        await expect(page.locator("#conn-state")).to_have_text("Đã kết nối")
        await page.screenshot(path=str(SHOTS / "live-desktop-1280x800.png"))
        browser.assert_no_errors()


async def test_a_class_of_twelve_pages_its_tiles(
    live_server: LiveServer, demo: DemoSchool, admin: dict[str, str], login: Login, tmp_path: Path
) -> None:
    extra = []
    for i in range(8):
        username = f"hs.them{i}"
        response = await live_server.client.post("/api/users", headers=admin, json={
            "username": username, "password": "mat-khau-123", "full_name": f"Học Sinh Thêm {i}",
            "role": "student", "class_id": demo.class_id})
        assert response.status == 201, await response.text()
        extra.append((username, "mat-khau-123"))
    tokens = [(await login(who))["Authorization"].removeprefix("Bearer ") for who in [*demo.students, *extra]]
    clients = [LessonClient(live_server.url, demo.lesson_id, token) for token in tokens]
    clip = write_y4m(tmp_path / "clip.y4m")
    try:
        await asyncio.gather(*(c.connect(auto_subscribe=False) for c in clients))
        await asyncio.gather(*(c.publish({"mic": ToneTrack()}) for c in clients))
        async with open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as browser:
            page = await teacher_in_room(browser, live_server, demo, (360, 740))
            tiles = page.locator("#tiles .tile")
            await expect(page.locator("#tiles-page")).to_have_text("Trang 1/2", timeout=WAIT_MS)
            await expect(tiles).to_have_count(8)
            # Small tiles, two a row on a phone (measured together, once the speakers' order settles:
            # students who speak move to the front, and the tiles are drawn again).
            await poll(page, """() => {
                const [a, b] = [...document.querySelectorAll('#tiles .tile')].map((t) => t.getBoundingClientRect());
                return a && b && a.top === b.top && a.height < 160 && b.left > a.right - 1;
            }""")
            await expect(page.locator("#tiles-prev")).to_be_disabled()
            await page.click("#tiles-next")
            await expect(page.locator("#tiles-page")).to_have_text("Trang 2/2")
            await expect(tiles).to_have_count(4)
            await expect(page.locator("#tiles-next")).to_be_disabled()
            await page.screenshot(path=str(SHOTS / "live-phone-tiles.png"), full_page=True)
            students = {c.joined["participant_id"] for c in clients}
            shown = await page.evaluate("() => [...document.querySelectorAll('#tiles .tile')].map((t) => t.dataset.participantId)")
            assert set(shown) <= students and len(set(shown)) == 4, shown
            await page.click("#tiles-prev")
            await expect(tiles).to_have_count(8)
            await expect(page.locator("#tiles-page")).to_have_text("Trang 1/2")

            # Who spoke lately comes first, then the others in order, a page at a time.
            order = await page.evaluate(
                """async () => {
                    const { tilePage } = await import('/static/js/live-tiles.js');
                    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
                    return [tilePage(ids, ['f', 'x'], 1, 3), tilePage(ids, ['f'], 3, 3), tilePage(ids, [], 9, 3), tilePage([], [], 1, 4)];
                }"""
            )
            assert order[0] == {"ids": ["f", "a", "b"], "page": 1, "pages": 3, "total": 7}
            assert order[1] == {"ids": ["g"], "page": 3, "pages": 3, "total": 7}
            assert order[2]["page"] == 3 and order[2]["ids"] == ["g"]
            assert order[3] == {"ids": [], "page": 1, "pages": 1, "total": 0}
            browser.assert_no_errors()
    finally:
        await asyncio.gather(*(c.close() for c in clients))


VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịĩọỏốồổỗộớờởỡợụủũứừửữựỳỵỷỹàáèéìíòóùúýõã]", re.IGNORECASE)

# The text, names and titles of the room's own parts (the classroom panels and their slot in the
# controls have tests of their own), without the lesson's and people's names (data, not UI).
ROOM_TEXT = """(data) => {
    const own = '.room-head, #stage, #room-message, #tiles-box, #drawer-people, #drawer-class, #drawer-groups';
    const parts = [...document.querySelectorAll(own)].map((el) => el.innerText);
    const named = [...document.querySelectorAll(`${own}, #room-controls`)].flatMap((el) => [el, ...el.querySelectorAll('[aria-label], [title]')]);
    for (const el of named) {
        if (el.offsetParent === null || el.closest('.control-slot')) continue;
        parts.push(el.getAttribute('aria-label') ?? '', el.getAttribute('title') ?? '');
    }
    for (const el of document.querySelectorAll('#room-controls > button, #room-controls .drawer-buttons > button')) {
        if (!el.hidden && ['people', 'class', 'groups', undefined].includes(el.dataset.panel)) parts.push(el.textContent);
    }
    let text = parts.join('\\n');
    for (const d of data) text = text.split(d).join('');
    return text;
}"""


async def test_an_english_page_shows_the_rooms_messages_in_english(
    live_server: LiveServer, demo: DemoSchool, login: Login
) -> None:
    student = demo.students[0]
    async with open_browser_page() as browser:
        page = browser.page
        await page.set_viewport_size({"width": 360, "height": 740})
        await sign_in(page, live_server, student)
        await enter_room(page, live_server, demo)
        message = page.locator("#room-message")
        await expect(message).to_contain_text("micro đang tắt", timeout=WAIT_MS)
        await expect(page.locator("#btn-end")).to_be_hidden()  # students do not end lessons

        await page.click(".lang-switch button[data-lang='en']")
        await expect(message).to_have_text("You joined with your microphone off. Press “Unmute” when you want to speak.")
        await expect(page.locator("#btn-hand-quick")).to_have_text("✋Raise hand")  # in the controls too
        lesson = await (await live_server.client.get(f"/api/lessons/{demo.lesson_id}", headers=await login(student))).json()
        data = [lesson["title"], lesson["subject_name"], lesson["class_name"], lesson["teacher_name"], student.full_name]
        text = await page.evaluate(ROOM_TEXT, data)
        found = VIETNAMESE.search(text)
        assert not found, text[max(0, found.start() - 120) : found.start() + 60]
        browser.assert_no_errors()



# How wide the page is, and the deepest elements of the room reaching past the screen's right edge.
PAGE_WIDTH = """() => {
    const width = window.innerWidth;
    const right = (el) => el.getBoundingClientRect().right + window.scrollX;
    const wide = [...document.querySelectorAll('#room *')]
        .filter((el) => right(el) > width + 0.5)
        .filter((el) => ![...el.children].some((c) => right(c) > width + 0.5))
        .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className} ${Math.round(right(el))}`);
    return { scroll: document.documentElement.scrollWidth, width, wide };
}"""


async def assert_no_sideways_scrolling(page: Page, where: str) -> None:
    width = await page.evaluate(PAGE_WIDTH)
    assert width["scroll"] <= width["width"], f"{where}: the page scrolls sideways: {width}"


@pytest.mark.parametrize("who", ["teacher", "student", "admin"])
async def test_on_a_360_pixel_phone_nothing_in_the_room_is_wider_than_the_screen_with_any_panel_open(
    live_server: LiveServer, demo: DemoSchool, who: str
) -> None:
    async with open_browser_page() as browser:
        page = browser.page
        await page.set_viewport_size({"width": 360, "height": 740})
        await sign_in(page, live_server, demo.students[0] if who == "student" else getattr(demo, who))
        await enter_room(page, live_server, demo)
        if who == "teacher":
            await expect(page.locator("#btn-record")).to_be_visible()
        await assert_no_sideways_scrolling(page, "closed")
        buttons = page.locator("#room-controls .drawer-buttons > button:visible")
        panels = [await b.get_attribute("data-panel") for b in await buttons.all()]
        assert {"people", "chat", "hands"} <= set(panels), panels
        for panel in panels:
            await page.click(f"#drawer-btn-{panel}")
            await expect(page.locator(f"#drawer-{panel}")).to_be_visible()
            await assert_no_sideways_scrolling(page, panel)
        browser.assert_no_errors()

"""Entering a live lesson when the server is full: the lesson page is told `overloaded`, says so in
Vietnamese with a countdown, keeps trying on its own (backoff with jitter, never sooner than the
server asked) and enters once there is room. Refusals that waiting cannot fix are not retried.

Real Chromium against a live server (shared/BROWSER-TESTS.md); the server's join gate
(signaling/gate.py) is closed by setting its capacity to 0.
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from playwright.async_api import Route, expect

from school.demo import DemoSchool
from signaling.gate import JoinGate
from tests.browser import open_browser_page
from tests.conftest import LiveServer
from tests.web.test_live_lesson_browser import WAIT_MS
from tests.web.test_pages_browser import api_get, sign_in
from web.keys import ROOMS

OVERLOADED_VI = re.compile(r"^Lớp học đang có nhiều người vào cùng lúc\. Đang thử vào lại sau \d+ giây…$")
OVERLOADED_EN = re.compile(r"^Many people are entering the class at once\. Trying again in \d+ s…$")
RETRYING_VI = re.compile(r"^Chưa vào được lớp\. Đang thử lại sau \d+ giây…$")
OVERLOADED_ANY = re.compile(r"nhiều người vào cùng lúc|entering the class at once")


def join_gate(server: LiveServer) -> JoinGate:
    from web import keys  # JOIN_GATE is new: looked up here, a tree without it fails these tests, not collection

    gate = server.app[keys.JOIN_GATE]
    assert isinstance(gate, JoinGate)
    return gate


async def refused_again(gate: JoinGate, *, after: int, timeout: float = WAIT_MS / 1000) -> None:
    """Wait until the gate has refused another join than the `after` it had refused so far."""
    async with asyncio.timeout(timeout):
        while gate.refused <= after:
            await asyncio.sleep(0.05)


def sessions_of(server: LiveServer, lesson_id: int, user_id: int) -> list[Any]:
    room = server.app[ROOMS].rooms.get(lesson_id)
    return [p for p in room.participants.values() if p.user_id == user_id] if room else []


async def test_a_student_who_finds_the_class_full_is_told_so_waits_and_enters_by_itself(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    gate = join_gate(live_server)
    capacity = gate.capacity
    gate.wait = 0.2  # a refused join is answered after 0.2 s instead of the production queue wait
    gate.retry_after = 0.5  # and told to come back in 0.5 to 1 s
    await gate.set_capacity(0)
    student_account = demo.students[2]
    async with open_browser_page() as student:
        page = student.page
        await sign_in(page, live_server, student_account)
        me = (await api_get(page, live_server, "/api/me"))["user"]
        await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}")
        await page.locator("#join").click()
        await expect(page.locator("#room")).to_be_visible()

        # Told, in Vietnamese, that the class is busy and when the page tries again; not in yet.
        message = page.locator("#room-message")
        await expect(message).to_have_text(OVERLOADED_VI, timeout=WAIT_MS)
        await expect(message).to_be_visible()
        await expect(page.locator("#conn-state")).to_have_attribute("data-state", "connecting")
        await expect(page.locator("#btn-mic")).to_be_disabled()
        assert gate.refused >= 1
        # In English when the page is in English, still counting down.
        await page.click(".lang-switch button[data-lang='en']")
        await expect(message).to_have_text(OVERLOADED_EN)
        await page.click(".lang-switch button[data-lang='vi']")
        await expect(message).to_have_text(OVERLOADED_VI)

        # Still full: the page keeps trying by itself, and keeps waiting between tries.
        await refused_again(gate, after=gate.refused)
        assert sessions_of(live_server, demo.lesson_id, me["id"]) == []
        await expect(message).to_have_text(OVERLOADED_ANY)

        # Room again: the page enters without the student doing anything.
        await gate.set_capacity(capacity)
        await expect(page.locator("#conn-state")).to_have_text("Đã kết nối", timeout=WAIT_MS)
        await expect(message).not_to_have_text(OVERLOADED_ANY)
        mine = page.locator("#roster li.is-me")
        await expect(mine).to_have_count(1)
        await expect(mine.locator(".role-badge")).to_have_text("Học sinh")
        await expect(page.locator("#btn-mic")).to_be_enabled(timeout=WAIT_MS)

        # The server has the student in the lesson, once.
        participants = sessions_of(live_server, demo.lesson_id, me["id"])
        assert len(participants) == 1, participants
        assert await mine.get_attribute("data-participant-id") == participants[0].id
        student.assert_no_errors()


async def test_a_503_on_the_media_token_is_waited_out_like_an_overloaded_join(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    """The HTTP side: `503` with `Retry-After` on `POST .../media-token`, first `overloaded`, then
    another 503 (a server stopping), played by the browser's router; the third request reaches
    the server."""
    token_requests: list[str] = []

    async def busy_twice(route: Route) -> None:
        token_requests.append(route.request.method)
        if len(token_requests) > 2:
            await route.continue_()
            return
        code = "overloaded" if len(token_requests) == 1 else "unavailable"
        await route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json",
                            body=json.dumps({"error": {"code": code, "message": "try again shortly"}}))

    async with open_browser_page() as student:
        page = student.page
        await sign_in(page, live_server, demo.students[3])
        me = (await api_get(page, live_server, "/api/me"))["user"]
        await page.route(f"**/api/lessons/{demo.lesson_id}/media-token", busy_twice)
        await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}")
        await page.locator("#join").click()
        message = page.locator("#room-message")
        await expect(message).to_have_text(OVERLOADED_VI, timeout=WAIT_MS)
        await expect(message).to_have_text(RETRYING_VI, timeout=WAIT_MS)
        await expect(page.locator("#conn-state")).to_have_text("Đã kết nối", timeout=WAIT_MS)
        await expect(message).not_to_have_text(re.compile("Đang thử"))
        assert token_requests == ["POST", "POST", "POST"]
        assert len(sessions_of(live_server, demo.lesson_id, me["id"])) == 1
        # The browser logs the two 503 answers as failed loads; nothing else may go wrong.
        student.assert_no_errors("503")


# The rules of backoff.js, checked in the page with a fixed random source.
BACKOFF_RULES = """async () => {
    const { backoffDelay, parseRetryAfter } = await import('/static/js/backoff.js');
    const at = (random) => (failures, floorMs = 0) =>
        backoffDelay(failures, { baseMs: 1000, capMs: 30000, floorMs, random: () => random });
    const low = at(0), high = at(0.999999);
    return {
        windows: [0, 1, 2, 3, 4, 5, 6, 40].map((n) => high(n)),
        lowest: [0, 3, 40].map((n) => low(n)),
        floored: [0, 1, 4, 10].map((n) => [low(n, 2500), high(n, 2500)]),
        floorAboveCap: [low(0, 45000), high(5, 45000)],
        defaults: backoffDelay(0),
        retryAfter: [parseRetryAfter('2'), parseRetryAfter('1.5'), parseRetryAfter(null), parseRetryAfter('soon'),
                     parseRetryAfter(new Date(Date.parse('2026-03-02T08:00:10Z')).toUTCString(), Date.parse('2026-03-02T08:00:00Z'))],
    };
}"""

# A LessonClient whose token the server refuses for good: it must not try again.
FATAL_JOIN = """async () => {
    const { LessonClient } = await import('/static/js/protocol.js');
    const opened = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
        constructor(...args) { super(...args); opened.push(this); }
    };
    const client = new LessonClient(LESSON_ID, { getToken: async () => 'not-a-token', statsKey: null, backoffBaseMs: 10 });
    const retries = [];
    client.on('retry', (r) => retries.push(r));
    let code = null;
    try {
        await client.connect();
    } catch (err) {
        code = err.code;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));  // time enough for a (wrong) retry at 10 ms
    window.WebSocket = Native;
    return { code, state: client.state, sockets: opened.length, retries: retries.length };
}"""


async def test_backoff_grows_with_full_jitter_respects_the_servers_wait_and_fatal_refusals_are_not_retried(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    async with open_browser_page() as browser:
        page = browser.page
        await sign_in(page, live_server, demo.students[0])
        await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}")
        rules = await page.evaluate(BACKOFF_RULES)
        # Full jitter: the window doubles from 1 s per failure in a row, up to 30 s; it may be 0.
        assert rules["windows"] == [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000], rules
        assert rules["lowest"] == [0, 0, 0], rules
        # Never sooner than the server asked; the jittered part comes on top, within the cap.
        assert rules["floored"] == [[2500, 3500], [2500, 4500], [2500, 18500], [2500, 30000]], rules
        assert rules["floorAboveCap"] == [45000, 45000], rules
        assert 0 <= rules["defaults"] <= 1000, rules
        assert rules["retryAfter"] == [2, 1.5, None, None, 10], rules

        refused = await page.evaluate(FATAL_JOIN.replace("LESSON_ID", str(demo.lesson_id)))
        assert refused == {"code": "not_authenticated", "state": "closed", "sockets": 1, "retries": 0}, refused
        browser.assert_no_errors()

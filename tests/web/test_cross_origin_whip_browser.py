"""A page on another site publishes into a lesson over WHIP with a WHIP client library.

The page (tests/web/static_whip/: whip.js is medooze's whip-whep from npm, unchanged) is served by
a second web server on another port, a different origin. The lophoc server is started with
`--cors-origin` naming that origin: the page publishes Chromium's camera (a known clip) with a
teacher's token, and an aiortc WHEP player receives its pixels. The same page from an origin the
server does not name is refused by the browser (CORS), and the page reports the failed fetch.
whip.js trickles its candidates with PATCH, sending the 201's ETag as If-Match (RFC 9725 4.3.1).
"""
from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiortc import RTCSessionDescription

from run_server import config_from, parse_args
from school.demo import DemoSchool
from sfu.aiortc_adapter import AnnouncingPeerConnection
from tests.browser import BrowserPage, open_browser_page
from tests.conftest import ADMIN_PASSWORD, LiveServer, Login
from tests.web.test_live_lesson_browser import WAIT_MS, is_blue, is_red, poll, write_y4m
from web.config import Config
from web.keys import ROOMS

STATIC = Path(__file__).parent / "static_whip"
SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
async def player_site(aiohttp_server: Any) -> TestServer:
    """Another site (another port: another origin) serving the WHIP player page."""
    site = web.Application()
    site.router.add_static("/", STATIC)
    return await aiohttp_server(site, host="127.0.0.1")


def origin_of(site: TestServer, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{site.port}"


@pytest.fixture
def config(tmp_path: Path, player_site: TestServer) -> Config:
    """The server as `run_server.py --cors-origin http://127.0.0.1:<player port>` starts it."""
    args = parse_args(["--data-dir", str(tmp_path / "data"), "--ice-address", "127.0.0.1",
                       "--cors-origin", origin_of(player_site)])
    return dataclasses.replace(config_from(args), admin_password=ADMIN_PASSWORD, db_strict=True)


async def open_player(browser: BrowserPage, site_origin: str) -> None:
    await browser.page.goto(f"{site_origin}/index.html")
    await poll(browser.page, "() => window.whipResult?.state === 'ready'")


def halves_rgb(frame: Any) -> tuple[list[int], list[int]]:
    """Average colour of the left and right halves' inner areas of a decoded frame."""
    image = frame.to_ndarray(format="rgb24")
    height, width, _ = image.shape
    rows = slice(int(0.25 * height), int(0.85 * height))

    def mean(x0: float, x1: float) -> list[int]:
        return [int(c) for c in image[rows, int(x0 * width):int(x1 * width)].reshape(-1, 3).mean(axis=0)]

    return mean(0.08, 0.42), mean(0.58, 0.92)


async def first_clip_frame(track: Any, timeout: float) -> Any:
    """The first frame showing the clip (red left, blue right); the last frame seen if none does."""
    last = None

    async def wait() -> Any:
        nonlocal last
        while True:
            last = await track.recv()
            left, right = halves_rgb(last)
            if is_red(left) and is_blue(right):
                return last

    try:
        return await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"no frame of the clip reached the player; the last: "
                             f"{None if last is None else (last.width, last.height, halves_rgb(last))}") from None


@dataclasses.dataclass
class Published:
    """What the player page did and was answered while it published, was watched and ended."""

    to_lophoc: list[tuple[str, int]]
    """(method, status) of the page's requests to the lesson's server."""
    etag: str | None
    """The ETag whip.js read from the 201 (it sends it as If-Match when trickling candidates)."""
    errors: list[str]


async def publish_from_player(server: LiveServer, demo: DemoSchool, login: Login, site: TestServer,
                              clip: Path) -> Published:
    """The player page publishes the clip over WHIP with a teacher's token, a WHEP player sees the
    clip's pixels, and the page ends its session with DELETE: everything cross-origin."""
    endpoint = f"{server.url}/api/lessons/{demo.lesson_id}/whip"
    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    viewer = AnnouncingPeerConnection(announced=("127.0.0.1",))
    async with open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as browser:
        to_lophoc: list[tuple[str, int]] = []
        browser.page.on("response", lambda r: to_lophoc.append((r.request.method, r.status))
                        if r.url.startswith(server.url) else None)
        try:
            await open_player(browser, origin_of(site))
            result = await browser.page.evaluate("([url, token]) => window.publish(url, token)", [endpoint, token])
            assert result["state"] == "published", result
            assert result["resource"].startswith(f"{endpoint}/"), result  # Location, read cross-origin
            sent = await poll(browser.page, """() => window.whipStats?.connectionState === 'connected'
                && window.whipStats.outbound.find((s) => s.kind === 'video' && s.framesEncoded > 0)""")
            assert sent["packetsSent"] > 0

            # The lesson has the page's camera as the teacher's, published over WHIP.
            room = server.app[ROOMS].rooms[demo.lesson_id]
            (publisher,) = [p for p in room.participants.values() if p.via == "whip"]
            assert publisher.role == "teacher"

            # A WHEP player receives it: the clip's colours, where they are in the clip.
            viewer.addTransceiver("video", direction="recvonly")
            await viewer.setLocalDescription(await viewer.createOffer())
            watched = await server.client.post(f"/api/lessons/{demo.lesson_id}/whep", data=viewer.localDescription.sdp,
                                               headers={**await login(demo.students[0]), **SDP})
            assert watched.status == 201, await watched.text()
            await viewer.setRemoteDescription(RTCSessionDescription(await watched.text(), "answer"))
            frame = await first_clip_frame(viewer.getTransceivers()[0].receiver.track, WAIT_MS / 1000)
            assert (frame.width, frame.height) == (320, 240)

            # The page ends its session with DELETE on the resource URL, cross-origin too.
            etag = await browser.page.evaluate("() => window.whip.etag")
            assert await browser.page.evaluate("() => window.unpublish()") == 204
            assert not any(p.via == "whip" for p in room.participants.values())
            assert ("POST", 201) in to_lophoc and ("DELETE", 204) in to_lophoc, to_lophoc
            return Published(to_lophoc=to_lophoc, etag=etag, errors=browser.errors)
        finally:
            await viewer.close()


async def test_a_page_on_an_allowed_site_publishes_over_whip_and_a_whep_player_sees_it(
    live_server: LiveServer, demo: DemoSchool, login: Login, player_site: TestServer, tmp_path: Path
) -> None:
    published = await publish_from_player(live_server, demo, login, player_site, write_y4m(tmp_path / "camera.y4m"))
    # whip.js trickles its candidates with PATCH, If-Match the ETag it read from the 201: taken.
    assert published.etag, "whip.js found no ETag on the 201"
    patches = {status for method, status in published.to_lophoc if method == "PATCH"}
    assert patches == {204}, published.to_lophoc
    assert not published.errors, published.errors


async def test_the_same_page_on_a_site_not_allowed_is_refused_by_the_browser(
    live_server: LiveServer, demo: DemoSchool, login: Login, player_site: TestServer
) -> None:
    other_origin = origin_of(player_site, host="localhost")  # the same page, another origin
    endpoint = f"{live_server.url}/api/lessons/{demo.lesson_id}/whip"
    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    async with open_browser_page() as browser:
        await open_player(browser, other_origin)
        result = await browser.page.evaluate("([url, token]) => window.publish(url, token)", [endpoint, token])
        assert result == {"state": "failed", "name": "TypeError", "message": "Failed to fetch"}, result
        assert await browser.page.text_content("#status") == "failed: Failed to fetch"
        # The browser refused it for CORS, before the offer was ever sent: no one entered the lesson.
        refused = [e for e in browser.console_errors if "blocked by CORS policy" in e]
        assert refused and other_origin in refused[0], browser.console_errors
        room = live_server.app[ROOMS].rooms.get(demo.lesson_id)
        assert room is None or not room.participants
        browser.assert_no_errors("blocked by CORS policy", "net::ERR_FAILED")

"""A student's Chromium as it comes out of the box watches the lesson: its host candidates hidden
behind mDNS names (`<uuid>.local`), no camera or microphone permission, the student only watches.

The server offers on the page's receive transport, so the student's answer carries those names.
The server does not resolve them (sfu/aiortc_adapter.py, "Remote mDNS candidates"): the student's
connectivity checks reach it and teach it the student's address as a peer-reflexive candidate.
Run with the server announcing loopback (the tests' usual setting, remote candidates elsewhere
ignored) and announcing this machine's own network address (as a school's server on its LAN).
"""
from __future__ import annotations

from datetime import timedelta

import asyncio
import re
import socket
from pathlib import Path

import aioice
import pytest
from aiortc import RTCSessionDescription
from playwright.async_api import expect

from school.demo import DemoSchool
from sfu.aiortc_adapter import AnnouncedConnection, AnnouncingPeerConnection
from tests.browser import open_browser_page
from tests.conftest import ADMIN_PASSWORD, LiveServer, Login
from tests.media import ColourTrack
from tests.web.test_live_lesson_browser import SAMPLE_VIDEO, WAIT_MS, poll
from tests.web.test_pages_browser import sign_in
from web.config import Config
from web.keys import ROOMS

SDP = {"Content-Type": "application/sdp"}
GREEN = (0, 255, 0)
SIZE = (640, 360)

# Keeps the SDP answers the page sends over its WebSocket, as the server receives them.
RECORD_ANSWERS = """(() => {
    window.__lophocAnswers = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
        try {
            const message = JSON.parse(data);
            if (message.type === 'answer') window.__lophocAnswers.push(message.sdp);
        } catch (error) { /* not JSON: not an answer */ }
        return send.call(this, data);
    };
})();"""

CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ (\w+)", re.MULTILINE)


def own_network_address() -> str:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError as exc:
            pytest.skip(f"this machine has no network address besides loopback ({exc})")
        return probe.getsockname()[0]


@pytest.fixture(params=["loopback", "network"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    address = "127.0.0.1" if request.param == "loopback" else own_network_address()
    return Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=(address,), db_strict=True,
                  room_linger=timedelta(0))


async def test_a_student_with_default_privacy_watches_the_teachers_camera(
    live_server: LiveServer, demo: DemoSchool, login: Login, config: Config
) -> None:
    teacher = AnnouncingPeerConnection(announced=config.ice_addresses)
    try:
        # The teacher publishes a green camera over WHIP.
        teacher.addTransceiver(ColourTrack(GREEN, *SIZE), direction="sendonly")
        await teacher.setLocalDescription(await teacher.createOffer())
        response = await live_server.client.post(f"/api/lessons/{demo.lesson_id}/whip",
                                                 data=teacher.localDescription.sdp,
                                                 headers={**await login(demo.teacher), **SDP})
        assert response.status == 201, await response.text()
        await teacher.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))

        async with open_browser_page(default_privacy=True) as student:
            page = student.page
            await student.context.add_init_script(RECORD_ANSWERS)
            await sign_in(page, live_server, demo.students[0])
            await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}?stats")  # publishes window.lophocStats
            await page.click("#join")
            await expect(page.locator("#conn-state")).to_have_text("Đã kết nối", timeout=WAIT_MS)

            # The student decodes the teacher's camera at its size and the page plays it.
            inbound = await poll(page, """() => (window.lophocStats?.inbound ?? []).find(
                (s) => s.source === 'camera' && s.kind === 'video' && s.framesDecoded > 0)""")
            assert (inbound["frameWidth"], inbound["frameHeight"]) == SIZE, inbound
            playing = await poll(page, f"""() => {{
                const video = document.getElementById('stage-camera');
                const sample = ({SAMPLE_VIDEO})('stage-camera');
                return sample && !video.paused && video.readyState >= 2 ? sample : null;
            }}""")
            assert (playing["width"], playing["height"]) == SIZE, playing
            for half in (playing["left"], playing["right"]):
                assert half[1] > 180 and half[0] < 70 and half[2] < 70, playing  # green
            more = await poll(page, """(before) => (window.lophocStats?.inbound ?? []).find(
                (s) => s.source === 'camera' && s.framesDecoded > before)""", arg=inbound["framesDecoded"])
            assert more["framesDecoded"] > inbound["framesDecoded"]

            # The browser kept its addresses to itself: its answer names its host candidates by mDNS.
            answers = await page.evaluate("() => window.__lophocAnswers")
            offered = [c for sdp in answers for c in CANDIDATE.findall(sdp)]
            hosts = [c for c in offered if c[2] == "host"]
            assert hosts and all(aioice.mdns.is_mdns_hostname(name) for name, _, _ in hosts), offered
            # ... and with no microphone permission, it sends nothing.
            assert (await page.evaluate("() => window.lophocStats.outbound")) == []

            # The server reached it at the address its checks came from (peer-reflexive), on the
            # port of one of those named candidates; no name was kept or resolved.
            room = live_server.app[ROOMS].rooms[demo.lesson_id]
            watching = room.participants[await page.evaluate("() => window.lophocStats.participant_id")]
            connection = watching.recv_transport.pc.getTransceivers()[0].receiver.transport.transport._connection
            pair = connection._nominated[1]
            assert pair.remote_candidate.type == "prflx", pair
            assert str(pair.remote_candidate.port) in {port for _, port, _ in hosts}, (pair, hosts)
            assert pair.remote_candidate.host in (*config.ice_addresses, "127.0.0.1")
            assert not any(aioice.mdns.is_mdns_hostname(c.host) for c in connection.remote_candidates)

            await expect(page.locator("#room-message")).to_contain_text("Không mở được micro")
            student.assert_no_errors()
    finally:
        await teacher.close()


async def test_a_remote_mdns_candidate_is_ignored_at_once_and_never_resolved() -> None:
    """aioice would query the name by multicast and wait up to a second before ICE could start."""
    connection = AnnouncedConnection(ice_controlling=True)
    connection.announced = ()
    named = aioice.Candidate(foundation="1", component=1, transport="udp", priority=2113937151,
                             host="53ca2f37-ca98-4f33-97ae-d003edc98a4b.local", port=40987, type="host")
    adding = asyncio.ensure_future(connection.add_remote_candidate(named))
    await asyncio.sleep(0)
    assert adding.done()
    await adding
    assert connection.remote_candidates == []
    assert getattr(aioice.ice._mdns, "protocol", None) is None, "an mDNS socket was opened"
    await connection.add_remote_candidate(aioice.Candidate(foundation="2", component=1, transport="udp",
                                                           priority=2113937151, host="192.0.2.7", port=5000,
                                                           type="host"))
    assert [c.host for c in connection.remote_candidates] == ["192.0.2.7"]
    await connection.close()

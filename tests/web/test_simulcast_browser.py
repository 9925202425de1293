"""Simulcast from a real Chromium publisher: three encodings of a 960x540 camera, listed low first
(240x135, 480x270, 960x540) and published over WHIP from a page script; a student's aiortc client
receives the teacher's camera and decodes the highest layer's frames."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np

from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.browser import open_browser_page
from tests.conftest import LiveServer, Login
from tests.web.test_live_lesson_browser import config, is_blue, is_red, write_y4m  # noqa: F401 (loopback config)
from web.keys import ROOMS

WIDTH, HEIGHT = 960, 540
"""Chrome sends three encodings from 960x540 up (from 640x360 two: libwebrtc's own limit)."""

PUBLISH = """async ({url, token}) => {
    const stream = await navigator.mediaDevices.getUserMedia({video: true});
    const pc = new RTCPeerConnection({iceServers: []});
    window.publisher = pc;
    pc.addTransceiver(stream.getVideoTracks()[0], {direction: 'sendonly', sendEncodings: [
        {rid: 'q', scaleResolutionDownBy: 4}, {rid: 'h', scaleResolutionDownBy: 2}, {rid: 'f'}]});
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => {
        if (pc.iceGatheringState === 'complete') done();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
        setTimeout(done, 3000);
    });
    const response = await fetch(url, {method: 'POST', body: pc.localDescription.sdp,
        headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}});
    const answer = await response.text();
    if (response.status !== 201) throw new Error(`WHIP ${response.status}: ${answer}`);
    await pc.setRemoteDescription({type: 'answer', sdp: answer});
    return {offer: pc.localDescription.sdp, answer};
}"""

OUTBOUND = """async () => {
    const found = [];
    (await window.publisher.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp') found.push({rid: s.rid, width: s.frameWidth, height: s.frameHeight,
                                                    frames: s.framesEncoded, active: s.active,
                                                    limited: s.qualityLimitationReason, kbps: s.targetBitrate / 1000});
        if (s.type === 'candidate-pair' && s.nominated) found.push({available: s.availableOutgoingBitrate});
    });
    return found;
}"""


def halves(frame: Any) -> tuple[list[int], list[int]]:
    rgb = frame.to_ndarray(format="rgb24")
    h, w = rgb.shape[:2]
    band = rgb[int(0.25 * h):int(0.85 * h)]
    left = band[:, int(0.08 * w):int(0.42 * w)].reshape(-1, 3).mean(axis=0)
    right = band[:, int(0.58 * w):int(0.92 * w)].reshape(-1, 3).mean(axis=0)
    return [round(float(x)) for x in left], [round(float(x)) for x in right]


async def test_a_chromium_publisher_sends_three_layers_and_a_viewer_decodes_the_largest(
    live_server: LiveServer, demo: DemoSchool, login: Login, tmp_path: Path
) -> None:
    clip = write_y4m(tmp_path / "camera.y4m", size=(WIDTH, HEIGHT))
    teacher_token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    student = LessonClient(live_server.url, demo.lesson_id,
                           (await login(demo.students[0]))["Authorization"].removeprefix("Bearer "))
    async with open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={clip}"]) as browser:
        page = browser.page
        try:
            await page.goto(f"{live_server.url}/healthz")  # a page of the server's origin that stays put
            sdp = await page.evaluate(PUBLISH, {"url": f"{live_server.url}/api/lessons/{demo.lesson_id}/whip",
                                                "token": teacher_token})
            # The answer accepts the three encodings, in the publisher's order, with their rid extension.
            answer = sdp["answer"]
            assert "a=simulcast:recv q;h;f" in answer, answer
            for rid in "qhf":
                assert f"a=rid:{rid} recv" in answer, answer
            assert "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" in answer, answer

            await student.connect()
            camera = next(p for p in student.joined["producers"] if p["source"] == "camera")
            track = await student.track_of(camera["producer_id"])

            # Frames of the largest layer arrive (the smaller ones may come first, while the
            # publisher's bandwidth estimate grows), and they show the teacher's camera.
            sizes: list[tuple[int, int]] = []
            deadline = time.monotonic() + 90  # the top layer waits for the bandwidth estimate (REMB) to grow
            largest = None
            while time.monotonic() < deadline:
                frame = await asyncio.wait_for(track.recv(), 10)
                size = (frame.width, frame.height)
                if not sizes or sizes[-1] != size:
                    sizes.append(size)
                if size == (WIDTH, HEIGHT):
                    largest = frame
                    break
            outbound = await page.evaluate(OUTBOUND)
            room = live_server.app[ROOMS]
            assert largest is not None, f"sizes decoded: {sizes}; publisher sends: {outbound}"
            left, right = halves(largest)
            assert is_red(left) and is_blue(right), (left, right)

            # The publisher did send three encodings, and the server keeps each as a layer.
            assert sorted(s["rid"] for s in outbound if "rid" in s) == ["f", "h", "q"], outbound
            producer = room.rooms[demo.lesson_id].room.producers[camera["producer_id"]]
            layers = {layer["rid"]: layer for layer in producer.dump()["layers"]}
            assert set(layers) == {"q", "h", "f"}, layers
            assert (layers["q"]["width"], layers["h"]["width"]) == (WIDTH // 4, WIDTH // 2), layers
            assert (layers["f"]["width"], layers["f"]["height"], layers["f"]["consumers"]) == (WIDTH, HEIGHT, 1), layers

            # Frames keep coming at that size: the viewer stays on the largest layer.
            later = [await asyncio.wait_for(track.recv(), 10) for _ in range(30)]
            assert all((f.width, f.height) == (WIDTH, HEIGHT) for f in later[-10:]), [(f.width, f.height) for f in later]
            browser.assert_no_errors()
        finally:
            await student.close()

"""WHIP (RFC 9725) into a lesson and WHEP out of it, with real aiortc peers."""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from aiortc import RTCSessionDescription

from school.demo import DemoSchool
from sfu.aiortc_adapter import AnnouncingPeerConnection
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack, close_to, mean_rgb

GREEN = (0, 255, 0)
SDP = {"Content-Type": "application/sdp"}


async def whip_publish(client: TestClient, lesson_id: int, headers: dict[str, str], pc: AnnouncingPeerConnection) -> Any:
    await pc.setLocalDescription(await pc.createOffer())
    return await client.post(f"/api/lessons/{lesson_id}/whip", data=pc.localDescription.sdp, headers={**headers, **SDP})


async def test_obs_style_whip_publishes_and_a_whep_player_watches(
    client: TestClient, demo: DemoSchool, login: Login, live_server: LiveServer
) -> None:
    teacher = await login(demo.teacher)
    publisher = AnnouncingPeerConnection(announced=("127.0.0.1",))
    viewer = AnnouncingPeerConnection(announced=("127.0.0.1",))
    student = LessonClient(live_server.url, demo.lesson_id,
                           (await login(demo.students[0]))["Authorization"].removeprefix("Bearer "))
    try:
        publisher.addTransceiver(ColourTrack(GREEN), direction="sendonly")
        publisher.addTransceiver(ToneTrack(), direction="sendonly")
        response = await whip_publish(client, demo.lesson_id, teacher, publisher)
        assert response.status == 201, await response.text()
        assert response.content_type == "application/sdp"
        location = response.headers["Location"]
        assert location.startswith(f"/api/lessons/{demo.lesson_id}/whip/")
        await publisher.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))

        # A WHEP player receives the stage.
        viewer.addTransceiver("video", direction="recvonly")
        viewer.addTransceiver("audio", direction="recvonly")
        await viewer.setLocalDescription(await viewer.createOffer())
        watched = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data=viewer.localDescription.sdp,
                                    headers={**await login(demo.students[1]), **SDP})
        assert watched.status == 201, await watched.text()
        answer = await watched.text()
        assert "goog-remb" not in answer and "abs-send-time" not in answer, "a player is not asked for estimates"
        assert "goog-remb" in (await response.text()), "the publisher still gets REMB from the server"
        await viewer.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        tracks = {t.kind: t.receiver.track for t in viewer.getTransceivers()}
        frame = await asyncio.wait_for(tracks["video"].recv(), 15)
        assert close_to(mean_rgb(frame), GREEN), mean_rgb(frame)
        assert (await asyncio.wait_for(tracks["audio"].recv(), 15)).sample_rate == 48000

        # The lesson page sees the WHIP publisher as the teacher's camera and microphone.
        await student.connect()
        sources = {p["source"] for p in student.joined["producers"]}
        assert sources == {"camera", "mic"}
        whip_participant = next(p for p in student.joined["participants"] if p["via"] == "whip")
        assert whip_participant["role"] == "teacher"

        # Someone else may not end the teacher's session; the teacher may.
        assert (await client.delete(location, headers=await login(demo.students[1]))).status == 403
        assert (await client.delete(location, headers=teacher)).status == 204
        left = await student.next_event("participant_left", participant_id=whip_participant["participant_id"])
        assert left["reason"] == "left"
        assert (await client.delete(location, headers=teacher)).status == 404
    finally:
        await student.close()
        await publisher.close()
        await viewer.close()


async def test_whip_refusals(client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str]) -> None:
    pc = AnnouncingPeerConnection(announced=("127.0.0.1",))
    try:
        pc.addTransceiver(ColourTrack(GREEN), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        url = f"/api/lessons/{demo.lesson_id}/whip"
        student = await login(demo.students[0])
        # A student's camera needs the teacher's permission; WHIP has the same rules as the page.
        refused = await client.post(url, data=offer, headers={**student, **SDP})
        assert refused.status == 403
        assert (await refused.json())["error"]["code"] == "forbidden"
        observer = await client.post(url, data=offer, headers={**admin, **SDP})
        assert observer.status == 403
        client.session.cookie_jar.clear()  # the sign-ins above left a cookie session behind
        assert (await client.post(url, data=offer, headers=SDP)).status == 401
        teacher = await login(demo.teacher)
        assert (await client.post(url, data=offer, headers={**teacher, "Content-Type": "text/plain"})).status == 415
        garbage = await client.post(url, data="hello", headers={**teacher, **SDP})
        assert garbage.status == 400
        assert (await garbage.json())["error"]["code"] == "bad_sdp"
        assert (await client.post("/api/lessons/99999/whip", data=offer, headers={**teacher, **SDP})).status == 404
        assert (await client.post(f"/api/lessons/{demo.lesson_id}/whep", data="v=0\r\n",
                                  headers={**teacher, **SDP})).status == 400
    finally:
        await pc.close()

"""Hostile SDP and messages get a typed refusal and leave nothing behind: no participant, no
presence in the attendance log, no transport; over WHIP, WHEP and the lesson's WebSocket."""
from __future__ import annotations

import re

import aiohttp

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from attendance.models import AttendanceEvent, OpenPresence
from school.demo import Credentials, DemoSchool
from school.models import User
from sfu.aiortc_adapter import AnnouncingPeerConnection
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from web.keys import DATABASE, ROOMS

SDP = {"Content-Type": "application/sdp"}


async def real_offer(direction: str) -> str:
    """An aiortc offer with a video and an audio section (send or receive only)."""
    pc = AnnouncingPeerConnection(announced=("127.0.0.1",))
    try:
        if direction == "sendonly":
            pc.addTransceiver(ColourTrack((0, 255, 0)), direction="sendonly")
            pc.addTransceiver(ToneTrack(), direction="sendonly")
        else:
            pc.addTransceiver("video", direction="recvonly")
            pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)
    finally:
        await pc.close()


def hostile(offer: str) -> dict[str, str]:
    """Offers a peer connection here cannot take, by name."""
    return {
        "videx": offer.replace("m=video", "m=videx"),
        "text": offer.replace("m=audio", "m=text"),
        "application_rtp": re.sub(r"m=video (\d+) ", r"m=application \1 ", offer),
        "bare": "v=0\r\n",
        "session_only": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
        "no_mid": re.sub(r"a=mid:[^\r\n]*\r\n", "", offer),
    }


async def user_id(app: web.Application, who: Credentials) -> int:
    async with app[DATABASE].session() as session:
        return int(await session.scalar(select(User.id).where(User.username == who.username)))


async def attendance_rows(app: web.Application, uid: int) -> int:
    async with app[DATABASE].session() as session:
        events = await session.scalar(select(func.count()).select_from(AttendanceEvent)
                                      .where(AttendanceEvent.user_id == uid))
        open_ = await session.scalar(select(func.count()).select_from(OpenPresence).where(OpenPresence.user_id == uid))
        return int(events or 0) + int(open_ or 0)


async def token(login: Login, who: Credentials) -> str:
    return (await login(who))["Authorization"].removeprefix("Bearer ")


async def test_hostile_offers_over_whip_and_whep_are_bad_sdp_and_leave_nothing(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, live_server: LiveServer
) -> None:
    # A student on the lesson page keeps the room open, so whatever a refused offer left would show.
    watcher = LessonClient(live_server.url, demo.lesson_id, await token(login, demo.students[0]))
    teacher, viewer = await login(demo.teacher), await login(demo.students[1])
    teacher_id, viewer_id = await user_id(app, demo.teacher), await user_id(app, demo.students[1])
    try:
        await watcher.connect()
        room = app[ROOMS].rooms[demo.lesson_id]
        for via, headers, uid, offer in (("whip", teacher, teacher_id, await real_offer("sendonly")),
                                         ("whep", viewer, viewer_id, await real_offer("recvonly"))):
            transports = set(room._transports)  # (an earlier session's may still be closing)
            for name, sdp in hostile(offer).items():
                response = await client.post(f"/api/lessons/{demo.lesson_id}/{via}", data=sdp,
                                             headers={**headers, **SDP})
                assert response.status == 400, (via, name, await response.text())
                assert (await response.json())["error"]["code"] == "bad_sdp", (via, name)
            assert not [p for p in room.participants.values() if p.user_id == uid], via
            assert room.resources == {}
            assert room._transports <= transports, f"{via}: a refused offer left a transport"
            assert await attendance_rows(app, uid) == 0, f"{via}: a refused offer left a presence"
            # The same peer with its real offer is answered: the refusals were about the SDP.
            answered = await client.post(f"/api/lessons/{demo.lesson_id}/{via}", data=offer, headers={**headers, **SDP})
            assert answered.status == 201, await answered.text()
            assert (await client.delete(answered.headers["Location"], headers=headers)).status == 204
        assert [p.user_id for p in room.participants.values()] == [await user_id(app, demo.students[0])]
        assert (await watcher.request({"type": "ping"}))["type"] == "pong"
    finally:
        await watcher.close()


async def test_hostile_publish_over_the_websocket_is_bad_sdp_and_the_session_goes_on(
    app: web.Application, demo: DemoSchool, login: Login, live_server: LiveServer
) -> None:
    teacher = LessonClient(live_server.url, demo.lesson_id, await token(login, demo.teacher))
    try:
        joined = await teacher.connect()
        room = app[ROOMS].rooms[demo.lesson_id]
        me = room.participants[joined["participant_id"]]
        transports = set(room._transports)
        for name, sdp in hostile(await real_offer("sendonly")).items():
            try:
                await teacher.request({"type": "publish", "sdp": sdp, "tracks": [{"mid": "0", "source": "camera"}]})
                raise AssertionError(f"{name}: published")
            except ProtocolError as exc:
                assert exc.code == "bad_sdp", (name, exc.code, str(exc))
        assert me.send_transport is None and not me.producers and room._transports <= transports
        assert list(room.participants) == [me.id]
        # The session goes on: it still publishes what it may.
        published = await teacher.publish({"camera": ColourTrack((0, 0, 255))})
        assert [p["source"] for p in published["producers"]] == ["camera"]
    finally:
        await teacher.close()


async def test_json_nested_a_thousand_levels_is_bad_message_and_the_session_goes_on(
    app: web.Application, demo: DemoSchool, login: Login, live_server: LiveServer
) -> None:
    student = LessonClient(live_server.url, demo.lesson_id, await token(login, demo.students[0]))
    try:
        joined = await student.connect()
        for depth in (1_000, 5_000, 30_000):
            for text in ('{"type": "ping", "id": 9, "x": ' + "[" * depth + "]" * depth + "}",
                         '{"type": "ping", "x": ' + '{"a":' * min(depth, 10_000) + "1" + "}" * min(depth, 10_000) + "}",
                         "[" * depth + "]" * depth):
                assert len(text.encode()) < 64 * 1024
                await student.send_raw(text)
                error = await student.next_event("error")
                assert error["code"] == "bad_message", (depth, error)
                assert (await student.request({"type": "ping"}))["type"] == "pong"
        assert joined["participant_id"] in app[ROOMS].rooms[demo.lesson_id].participants
        assert (await student.request({"type": "ping"}))["type"] == "pong"
    finally:
        await student.close()


async def test_nested_json_as_the_first_message_is_bad_message(demo: DemoSchool, live_server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(
            live_server.url.replace("http", "ws", 1) + f"/api/lessons/{demo.lesson_id}/ws") as ws:
        await ws.send_str('{"type": "join", "token": ' + "[" * 2_000 + "]" * 2_000 + "}")
        reply = await ws.receive_json(timeout=10)
        assert reply["type"] == "error" and reply["code"] == "bad_message", reply


def test_the_offer_check_names_the_problem() -> None:
    from signaling.errors import BadSdp
    from signaling.sdp import check_offer

    for sdp, words in (("hello", "v=0"), ("v=0\r\nm=videx 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n", "unknown kind"),
                       ("v=0\r\nm=application 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n", "data channel"),
                       ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF x\r\na=mid:0\r\n", "not RTP media"),
                       ("v=0\r\nm=video 9\r\n", "not an m-line"),
                       ("v=0\r\n" + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\n" * 2, "used twice"),
                       ("v=0\r\n" + "".join(f"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:{i}\r\n" for i in range(40)),
                        "at most")):
        try:
            check_offer(sdp)
            raise AssertionError(f"accepted: {sdp!r}")
        except BadSdp as exc:
            assert words in exc.message, (sdp, exc.message)
    data_channel = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    assert [s.kind for s in check_offer(data_channel)] == ["audio", "application"]

"""Trickle ICE and ICE restart over PATCH on WHIP and WHEP session URLs (RFC 9725 section 4.3),
with real aiortc peers: offers without candidates that connect only through their PATCHes, the
refusals (412, 428, 415, 405, 403, 404, 400), and restarts on fresh sockets after which the media
goes on in the same session."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from aioice import Candidate
from aiortc import RTCSessionDescription
from sqlalchemy import select

from attendance.models import AttendanceEvent
from school.demo import DemoSchool
from sfu.aiortc_adapter import AnnouncingPeerConnection, begin_ice_restart, finish_ice_restart
from sfu.sdpfrag import parse_sdpfrag
from signaling.lesson_ice import answer_etag, session_transport
from tests.conftest import Login
from tests.media import ColourTrack, ToneTrack, close_to, mean_rgb
from web.keys import DATABASE, ROOMS

GREEN = (0, 255, 0)
SDP = {"Content-Type": "application/sdp"}
SDPFRAG = {"Content-Type": "application/trickle-ice-sdpfrag"}


def without_candidates(sdp: str) -> str:
    return "\r\n".join(line for line in sdp.split("\r\n")
                       if not line.startswith(("a=candidate:", "a=end-of-candidates")))


def fragment(sdp: str, *, ufrag: str | None = None, pwd: str | None = None,
             candidates: list[Candidate] | None = None, credentials: bool = True) -> str:
    """A client's sdpfrag: its ICE credentials and candidates on the bundle's first m-line."""
    lines = sdp.splitlines()
    first = next(line for line in lines if line.startswith("m="))
    mid = next(line for line in lines if line.startswith("a=mid:"))
    found = [line for line in lines if line.startswith("a=candidate:")] if candidates is None else \
        [f"a=candidate:{c.to_sdp()}" for c in candidates]
    head = [f"a=ice-ufrag:{ufrag or value(sdp, 'a=ice-ufrag:')}", f"a=ice-pwd:{pwd or value(sdp, 'a=ice-pwd:')}"]
    return "\r\n".join([*(head if credentials else []), first, mid, *found, "a=end-of-candidates"]) + "\r\n"


def value(sdp: str, prefix: str) -> str:
    return next(line[len(prefix):] for line in sdp.splitlines() if line.startswith(prefix))


async def until(condition: Callable[[], bool], timeout: float = 20) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


def server_ice(app: web.Application, lesson_id: int, location: str) -> Any:
    """The aioice connection of the session at `location`, as the server holds it."""
    found = app[ROOMS].session(lesson_id, location.rsplit("/", 1)[1])
    assert found is not None
    transport = session_transport(found[1])
    assert transport is not None
    return transport._ice_dtls().transport._connection


def client_ice(pc: AnnouncingPeerConnection) -> Any:
    return pc.getTransceivers()[0].receiver.transport.transport._connection


async def publisher_and_viewer(client: TestClient, demo: DemoSchool, login: Login, *, trickle: bool) -> dict[str, Any]:
    """A WHIP publisher (green camera, tone) and a WHEP viewer, connected; with `trickle`, their
    offers and the answers they are given carry no candidates, which go over PATCH instead."""
    teacher, student = await login(demo.teacher), await login(demo.students[0])
    publisher = AnnouncingPeerConnection(announced=("127.0.0.1",))
    viewer = AnnouncingPeerConnection(announced=("127.0.0.1",))
    publisher.addTransceiver(ColourTrack(GREEN), direction="sendonly")
    publisher.addTransceiver(ToneTrack(), direction="sendonly")
    viewer.addTransceiver("video", direction="recvonly")
    viewer.addTransceiver("audio", direction="recvonly")
    sessions = {}
    for via, pc, headers in (("whip", publisher, teacher), ("whep", viewer, student)):
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        assert "a=candidate:" in offer
        response = await client.post(f"/api/lessons/{demo.lesson_id}/{via}",
                                     data=without_candidates(offer) if trickle else offer, headers={**headers, **SDP})
        assert response.status == 201, await response.text()
        answer = await response.text()
        location = response.headers["Location"]
        etag = answer_etag(answer)
        await pc.setRemoteDescription(RTCSessionDescription(without_candidates(answer) if trickle else answer,
                                                            "answer"))
        if trickle and via == "whip":  # nothing to restart before ICE ever connected
            early = await client.patch(location, data=fragment(offer, ufrag="fresh", pwd="p" * 22),
                                       headers={**headers, **SDPFRAG, "If-Match": "*"})
            assert early.status == 409, await early.text()
        if trickle:
            patched = await client.patch(location, data=fragment(offer), headers={**headers, **SDPFRAG,
                                                                                  "If-Match": etag})
            assert patched.status == 204, await patched.text()
            assert patched.headers["ETag"] == etag
            # The server pairs the client's candidates as signalled, not learned from its checks.
            remote = server_ice(client.app, demo.lesson_id, location).remote_candidates
            assert {(c.host, c.port, c.type) for c in remote} >= {
                (c.host, c.port, "host") for c in client_ice(pc).local_candidates}
        sessions[via] = {"pc": pc, "location": location, "etag": etag, "headers": headers, "offer": offer}
    return sessions


async def green_frames(viewer: AnnouncingPeerConnection, count: int = 5) -> None:
    track = next(t.receiver.track for t in viewer.getTransceivers() if t.kind == "video")
    while not track._queue.empty():  # frames decoded before now do not count
        track._queue.get_nowait()
    for _ in range(count):
        frame = await asyncio.wait_for(track.recv(), 15)
        assert close_to(mean_rgb(frame), GREEN), mean_rgb(frame)


async def test_trickling_clients_connect_through_patch(client: TestClient, demo: DemoSchool, login: Login) -> None:
    sessions = await publisher_and_viewer(client, demo, login, trickle=True)
    try:
        await green_frames(sessions["whep"]["pc"])
    finally:
        await asyncio.gather(*(s["pc"].close() for s in sessions.values()))


async def test_patch_refusals(client: TestClient, demo: DemoSchool, login: Login) -> None:
    sessions = await publisher_and_viewer(client, demo, login, trickle=False)
    whip = sessions["whip"]
    url, teacher, etag = whip["location"], whip["headers"], whip["etag"]
    body = fragment(whip["offer"])
    try:
        stale = await client.patch(url, data=body, headers={**teacher, **SDPFRAG, "If-Match": '"0123456789"'})
        assert stale.status == 412, await stale.text()
        assert (await stale.json())["error"]["code"] == "precondition_failed"
        missing = await client.patch(url, data=body, headers={**teacher, **SDPFRAG})
        assert missing.status == 428 and (await missing.json())["error"]["code"] == "precondition_required"
        wrong_type = await client.patch(url, data=body, headers={**teacher, **SDP, "If-Match": etag})
        assert wrong_type.status == 415
        # Someone else's token: refused, whatever they know of the session.
        other = await client.patch(url, data=body, headers={**await login(demo.students[1]), **SDPFRAG,
                                                            "If-Match": etag})
        assert other.status == 403
        not_there = await client.patch(f"/api/lessons/{demo.lesson_id}/whip/nosuchsession", data=body,
                                       headers={**teacher, **SDPFRAG, "If-Match": etag})
        assert not_there.status == 404
        # A WHIP session is not at the WHEP URL of the same name.
        crossed = await client.patch(url.replace("/whip/", "/whep/"), data=body,
                                     headers={**teacher, **SDPFRAG, "If-Match": etag})
        assert crossed.status == 404
        for bad in ("a=candidate:nonsense\r\n", "a=ice-ufrag:abcd\r\n", "<script>alert(1)</script>\r\n",
                    "a=ice-ufrag:a b\r\na=ice-pwd:0123456789012345678901\r\n",
                    "".join(f"a=candidate:{i} 1 udp 1 127.0.0.1 {1000 + i} typ host\r\n" for i in range(65))):
            refused = await client.patch(url, data=bad, headers={**teacher, **SDPFRAG, "If-Match": etag})
            assert refused.status == 400, (bad[:40], await refused.text())
            assert (await refused.json())["error"]["code"] == "bad_sdp"
        assert (await client.put(url, data=body, headers={**teacher, **SDPFRAG})).status == 405
        # A trickle of the current session is still taken: candidates already known, end-of-candidates again.
        again = await client.patch(url, data=body, headers={**teacher, **SDPFRAG, "If-Match": etag})
        assert again.status == 204 and again.headers["ETag"] == etag
        without_credentials = fragment(whip["offer"], credentials=False)
        assert (await client.patch(url, data=without_credentials,
                                   headers={**teacher, **SDPFRAG, "If-Match": f'"x", {etag}'})).status == 204
        await green_frames(sessions["whep"]["pc"])
        assert (await client.delete(url, headers=teacher)).status == 204
        assert (await client.patch(url, data=body, headers={**teacher, **SDPFRAG, "If-Match": etag})).status == 404
    finally:
        await asyncio.gather(*(s["pc"].close() for s in sessions.values()))


async def presences(app: web.Application, lesson_id: int) -> list[tuple[str, str, str]]:
    async with app[DATABASE].session() as session:
        rows = await session.scalars(select(AttendanceEvent).where(AttendanceEvent.lesson_id == lesson_id)
                                     .order_by(AttendanceEvent.id))
        return [(row.presence_id, row.via, row.kind) for row in rows]


async def test_ice_restart_keeps_the_session_and_its_media(client: TestClient, demo: DemoSchool,
                                                           login: Login) -> None:
    sessions = await publisher_and_viewer(client, demo, login, trickle=False)
    app = client.app
    try:
        await green_frames(sessions["whep"]["pc"])
        joined: list[tuple[str, str, str]] = []

        async def both_joined() -> None:
            nonlocal joined
            while len(joined) < 2:
                joined = await presences(app, demo.lesson_id)
                await asyncio.sleep(0.05)

        await asyncio.wait_for(both_joined(), 15)
        assert sorted((via, kind) for _, via, kind in joined) == [("whep", "join"), ("whip", "join")]

        for via in ("whip", "whep"):  # the publisher's path, then the one the server forwards on
            session = sessions[via]
            pc, url, headers = session["pc"], session["location"], session["headers"]
            server = server_ice(app, demo.lesson_id, url)
            old_server_pair = server._nominated[1]
            dtls = pc.getTransceivers()[0].receiver.transport
            old_ports = {c.port for c in client_ice(pc).local_candidates} | {old_server_pair.local_candidate.port}
            ufrag, pwd, candidates = await begin_ice_restart(dtls)
            # A restart with the session's ETag gone stale (someone else's ICE session) is refused.
            new_session = fragment(session["offer"], ufrag=ufrag, pwd=pwd, candidates=candidates)
            assert (await client.patch(url, data=new_session,
                                       headers={**headers, **SDPFRAG, "If-Match": '"stale"'})).status == 412
            restarted = await client.patch(url, data=new_session, headers={**headers, **SDPFRAG, "If-Match": "*"})
            assert restarted.status == 200, await restarted.text()
            assert restarted.content_type == "application/trickle-ice-sdpfrag"
            answer = parse_sdpfrag(await restarted.text())
            assert answer.ufrag and answer.pwd and answer.candidates and answer.end
            assert restarted.headers["ETag"] not in (session["etag"], "") and restarted.headers["ETag"].startswith('"')
            assert answer.ufrag != value(session["offer"], "a=ice-ufrag:")
            connection = client_ice(pc)
            for candidate in answer.candidates:
                await connection.add_remote_candidate(candidate)
            await connection.add_remote_candidate(None)
            finish_ice_restart(dtls, answer.ufrag, answer.pwd)

            # Both sides move to a pair of fresh sockets; the old ones close.
            def moved() -> bool:
                pair = server._nominated.get(1)
                return (pair is not None and pair is not old_server_pair
                        and pair.local_candidate.port in {c.port for c in answer.candidates}
                        and pair.remote_candidate.port in {c.port for c in candidates}
                        and connection._lophoc_checks.done() and server._lophoc_checks.done())

            await until(moved)
            assert not old_ports & {c.port for c in candidates + answer.candidates}
            assert server.remote_username == ufrag and server.local_username == answer.ufrag
            # The same session goes on: its URL takes a trickle with the new ETag, not the old one.
            assert (await client.patch(url, data=fragment(session["offer"], credentials=False, candidates=[]),
                                       headers={**headers, **SDPFRAG, "If-Match": session["etag"]})).status == 412
            session["etag"] = restarted.headers["ETag"]
            trickled = await client.patch(url, data=fragment(session["offer"], credentials=False, candidates=[]),
                                          headers={**headers, **SDPFRAG, "If-Match": session["etag"]})
            assert trickled.status == 204 and trickled.headers["ETag"] == session["etag"]
            # The media goes on over the new pair: the viewer decodes the publisher's green again.
            await green_frames(sessions["whep"]["pc"], 10)

        assert await presences(app, demo.lesson_id) == joined, "a restart neither left nor joined again"
        room = app[ROOMS].rooms[demo.lesson_id]
        assert sorted(p.via for p in room.participants.values()) == ["whep", "whip"]
        assert all(p.producers or p.consumers for p in room.participants.values())
    finally:
        await asyncio.gather(*(s["pc"].close() for s in sessions.values()))


async def test_the_201_carries_the_ice_sessions_etag(client: TestClient, demo: DemoSchool, login: Login) -> None:
    viewer = AnnouncingPeerConnection(announced=("127.0.0.1",))
    try:
        viewer.addTransceiver("video", direction="recvonly")
        await viewer.setLocalDescription(await viewer.createOffer())
        response = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data=viewer.localDescription.sdp,
                                     headers={**await login(demo.students[0]), **SDP})
        assert response.status == 201
        assert response.headers.get("ETag") == answer_etag(await response.text())
    finally:
        await viewer.close()

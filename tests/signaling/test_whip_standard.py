"""WHIP and WHEP as RFC 9725 clients on other sites expect them: CORS for the configured origins,
OPTIONS, ICE servers in Link headers with TURN credentials made per user (coturn's REST API
scheme, checked against a real coturn), and offers that share no codec with the lesson refused."""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import logging
import random
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aioice.stun import TransactionFailed
from aioice.turn import create_turn_endpoint
from sqlalchemy import select

from school.demo import Credentials, DemoSchool
from school.models import User
from sfu.aiortc_adapter import AnnouncingPeerConnection
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from web.app import create_app
from web.config import Config
from web.ice_servers import parse_ice_server, turn_credentials
from web.keys import DATABASE, ROOMS

SDP = {"Content-Type": "application/sdp"}
PLAYER = "https://player.example.vn"
SECRET = "a shared secret of the school's coturn"
LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="ice-server"(?:; username="(?P<username>[^"]*)"; '
                  r'credential="(?P<credential>[^"]*)"; credential-type="password")?$')


@pytest.fixture
def turn_server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """coturn on loopback (Debian's package, installed by `make test`) with the REST API's shared secret."""
    exe = shutil.which("turnserver")
    assert exe is not None, "coturn is missing: `make test` installs it"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    relay_base = random.randrange(40000, 59000, 200)
    proc = subprocess.Popen(
        [exe, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
         f"--min-port={relay_base}", f"--max-port={relay_base + 199}", "--use-auth-secret",
         f"--static-auth-secret={SECRET}", "--realm=lophoc.test", "--allow-loopback-peers", "--no-cli", "--no-tls",
         "--no-dtls", "--no-tcp", f"--userdb={tmp_path / 'turndb'}", f"--pidfile={tmp_path / 'turn.pid'}",
         f"--log-file={tmp_path / 'turn.log'}", "--simple-log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        assert proc.poll() is None, (tmp_path / "turn.log").read_text() if (tmp_path / "turn.log").exists() else ""
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, cors_origins=(PLAYER,), turn_secret=SECRET,
                               ice_servers=("stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"))


def links(response: Any) -> list[dict[str, str | None]]:
    found = []
    for value in response.headers.getall("Link", []):
        match = LINK.match(value)
        assert match is not None, value
        found.append(match.groupdict())
    return found


def assert_fresh_turn(link: dict[str, str | None], user_id: int) -> None:
    """A TURN link with credentials in coturn's REST API scheme, for this user, not yet expired."""
    assert link["username"] is not None and link["credential"] is not None, link
    expiry, _, user = link["username"].partition(":")
    assert user == str(user_id)
    assert int(expiry) > time.time()
    expected = base64.b64encode(hmac.new(SECRET.encode(), link["username"].encode(), hashlib.sha1).digest()).decode()
    assert link["credential"] == expected


async def user_id(app: web.Application, who: Credentials) -> int:
    async with app[DATABASE].session() as session:
        return int(await session.scalar(select(User.id).where(User.username == who.username)))


async def offer(direction: str, *, edit: Any = None) -> str:
    pc = AnnouncingPeerConnection(announced=("127.0.0.1",))
    try:
        if direction == "sendonly":
            pc.addTransceiver(ColourTrack((0, 255, 0)), direction="sendonly")
            pc.addTransceiver(ToneTrack(), direction="sendonly")
        else:
            pc.addTransceiver("video", direction="recvonly")
            pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = str(pc.localDescription.sdp)
        return edit(sdp) if edit else sdp
    finally:
        await pc.close()


def without_video_codecs(sdp: str) -> str:
    """The offer as a player that decodes only VP9 and H.265 would make it."""
    return sdp.replace("VP8/90000", "VP9/90000").replace("H264/90000", "H265/90000")


def without_audio_codecs(sdp: str) -> str:
    return sdp.replace("opus/48000/2", "G722/8000").replace("opus/48000", "G722/8000")


async def test_preflight_and_options(client: TestClient, demo: DemoSchool, login: Login) -> None:
    teacher = await login(demo.teacher)
    for via in ("whip", "whep"):
        url = f"/api/lessons/{demo.lesson_id}/{via}"
        preflight = await client.options(url, headers={"Origin": PLAYER, "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status == 204
        headers = preflight.headers
        assert headers["Accept-Post"] == "application/sdp"
        assert headers["Access-Control-Allow-Origin"] == PLAYER
        assert headers["Access-Control-Allow-Methods"] == "POST, PATCH, DELETE, OPTIONS"
        assert headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, If-Match"
        assert headers["Access-Control-Expose-Headers"] == "Location, Link, ETag"
        assert int(headers["Access-Control-Max-Age"]) > 0
        assert "Access-Control-Allow-Credentials" not in headers
        assert not links(preflight), "a preflight carries no ICE servers (RFC 9725 section 4.6)"
        # Another site's page is not let in.
        other = await client.options(url, headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST"})
        assert other.status == 204 and "Access-Control-Allow-Origin" not in other.headers
        assert "Access-Control-Allow-Methods" not in other.headers
        # A session URL: no Accept-Post; no token needed either.
        session = await client.options(f"{url}/abcdef", headers={"Origin": PLAYER,
                                                                 "Access-Control-Request-Method": "DELETE"})
        assert session.status == 204 and "Accept-Post" not in session.headers
        assert session.headers["Access-Control-Allow-Origin"] == PLAYER
        assert "DELETE" in session.headers["Access-Control-Allow-Methods"]
        patch = await client.patch(f"{url}/abcdef", data="a=candidate:1 1 udp 1 127.0.0.1 9 typ host",
                                   headers={"Origin": PLAYER, "Content-Type": "application/trickle-ice-sdpfrag",
                                            "If-Match": "*", **teacher})
        assert patch.status == 404, "no such session"
        assert patch.headers["Access-Control-Allow-Origin"] == PLAYER

    # A plain OPTIONS (not a preflight) gives the ICE servers: STUN to anyone, TURN for a valid token only.
    url = f"/api/lessons/{demo.lesson_id}/whip"
    anonymous = links(await client.options(url))
    assert [link["url"] for link in anonymous] == ["stun:127.0.0.1:3478"]
    assert anonymous[0]["username"] is None
    assert [link["url"] for link in links(await client.options(url, headers={"Authorization": "Bearer forged"}))] \
        == ["stun:127.0.0.1:3478"]
    teacher = await login(demo.teacher)
    signed_in = links(await client.options(url, headers=teacher))
    assert [link["url"] for link in signed_in] == ["stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"]
    assert_fresh_turn(signed_in[1], await user_id(client.app, demo.teacher))

    # The rest of the API is as it was: no CORS, cookie sessions keep their CSRF rules.
    media = await client.post(f"/api/lessons/{demo.lesson_id}/media-token", headers={**teacher, "Origin": PLAYER})
    assert media.status == 200 and "Access-Control-Allow-Origin" not in media.headers
    assert (await client.options("/api/auth/login", headers={"Origin": PLAYER,
                                                              "Access-Control-Request-Method": "POST"})).status == 405


async def test_whip_and_whep_replies_are_readable_cross_origin_with_ice_servers(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="web.api.live")
    teacher, student = await login(demo.teacher), await login(demo.students[0])
    teacher_id = await user_id(app, demo.teacher)
    published = await client.post(f"/api/lessons/{demo.lesson_id}/whip", data=await offer("sendonly"),
                                  headers={**teacher, **SDP, "Origin": PLAYER})
    assert published.status == 201, await published.text()
    assert published.headers["Access-Control-Allow-Origin"] == PLAYER
    assert published.headers["Access-Control-Expose-Headers"] == "Location, Link, ETag"
    found = links(published)
    assert [link["url"] for link in found] == ["stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"]
    assert found[0]["username"] is None
    assert_fresh_turn(found[1], teacher_id)

    watched = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data=await offer("recvonly"),
                                headers={**student, **SDP, "Origin": PLAYER})
    assert watched.status == 201, await watched.text()
    assert watched.headers["Access-Control-Allow-Origin"] == PLAYER
    assert_fresh_turn(links(watched)[1], await user_id(app, demo.students[0]))

    # Errors are readable too (the player shows why), and other origins read nothing.
    refused = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data="v=0\r\n",
                                headers={**student, **SDP, "Origin": PLAYER})
    assert refused.status == 400 and refused.headers["Access-Control-Allow-Origin"] == PLAYER
    unauthenticated = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data="v=0\r\n",
                                        headers={**SDP, "Origin": PLAYER, "Authorization": "Bearer forged"})
    assert unauthenticated.status == 401 and unauthenticated.headers["Access-Control-Allow-Origin"] == PLAYER
    elsewhere = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data="v=0\r\n",
                                  headers={**student, **SDP, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in elsewhere.headers

    ended = await client.delete(published.headers["Location"], headers={**teacher, "Origin": PLAYER})
    assert ended.status == 204 and ended.headers["Access-Control-Allow-Origin"] == PLAYER
    assert (await client.delete(watched.headers["Location"], headers=student)).status == 204
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    lesson = f"lesson {demo.lesson_id}:"
    assert any(m.startswith(lesson) and "whip session" in m and f"user {teacher_id}" in m and "created" in m
               for m in logged), logged
    assert any(m.startswith(lesson) and "whip session" in m and f"user {teacher_id}" in m and "ended" in m
               for m in logged), logged
    assert any(m.startswith(lesson) and "whep offer" in m and "refused" in m for m in logged), logged


async def test_same_origin_only_by_default(aiohttp_client: Any, config: Config, demo: DemoSchool) -> None:
    plain = await aiohttp_client(create_app(dataclasses.replace(config, cors_origins=())))
    preflight = await plain.options(f"/api/lessons/{demo.lesson_id}/whip",
                                    headers={"Origin": PLAYER, "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204 and preflight.headers["Accept-Post"] == "application/sdp"
    assert "Access-Control-Allow-Origin" not in preflight.headers
    anyone = await aiohttp_client(create_app(dataclasses.replace(config, cors_origins=("*",))))
    preflight = await anyone.options(f"/api/lessons/{demo.lesson_id}/whep",
                                     headers={"Origin": "https://any.example", "Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


async def test_the_lesson_page_gets_fresh_turn_credentials(
    app: web.Application, demo: DemoSchool, login: Login, live_server: LiveServer
) -> None:
    tokens = [(await login(who))["Authorization"].removeprefix("Bearer ") for who in (demo.teacher, demo.students[0])]
    clients = [LessonClient(live_server.url, demo.lesson_id, token) for token in tokens]
    try:
        joined = await asyncio.gather(*(c.connect() for c in clients))
        for reply, who in zip(joined, (demo.teacher, demo.students[0]), strict=True):
            stun, turn = reply["ice_servers"]
            assert stun == {"urls": ["stun:127.0.0.1:3478"]}
            assert turn["urls"] == ["turn:127.0.0.1:3478?transport=udp"]
            assert_fresh_turn({"username": turn["username"], "credential": turn["credential"]},
                              await user_id(app, who))
        # The server's own peer connections are given credentials the same way.
        room = app[ROOMS].rooms[demo.lesson_id]
        servers = room.media.servers_for(7)
        assert servers[1].username.endswith(":7") and servers[1].credential
    finally:
        await asyncio.gather(*(c.close() for c in clients))


async def test_offers_sharing_no_codec_with_the_lesson_are_406(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login
) -> None:
    student, teacher = await login(demo.students[0]), await login(demo.teacher)
    cases = (("whep", student, await offer("recvonly", edit=without_video_codecs), "video"),
             ("whep", student, await offer("recvonly", edit=without_audio_codecs), "audio"),
             ("whip", teacher, await offer("sendonly", edit=without_video_codecs), "video"))
    for via, headers, sdp, kind in cases:
        response = await client.post(f"/api/lessons/{demo.lesson_id}/{via}", data=sdp,
                                     headers={**headers, **SDP, "Origin": PLAYER})
        assert response.status == 406, (via, kind, await response.text())
        error = (await response.json())["error"]
        assert error["code"] == "no_common_codec" and f"{kind} (mid" in error["message"], error
        assert response.headers["Access-Control-Allow-Origin"] == PLAYER
    room = app[ROOMS].rooms.get(demo.lesson_id)
    assert room is None or not room.participants, "a refused offer left a participant"
    # A player that takes VP8 or H.264 and Opus is answered.
    answered = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data=await offer("recvonly"),
                                 headers={**student, **SDP})
    assert answered.status == 201


def test_turn_credentials_in_coturns_scheme() -> None:
    username, credential = turn_credentials("s3cret", "42", timedelta(seconds=3600), now=1_700_000_000)
    assert username == "1700003600:42"
    # RFC 2104 HMAC-SHA1, base64: what coturn computes from its static-auth-secret.
    assert credential == base64.b64encode(hmac.new(b"s3cret", b"1700003600:42", hashlib.sha1).digest()).decode()
    assert parse_ice_server("turn:user:pa:ss@turn.school.vn:3478?transport=tcp").url == \
        "turn:turn.school.vn:3478?transport=tcp"


async def test_coturn_accepts_the_credentials(turn_server: tuple[str, int]) -> None:
    class Quiet:
        def connection_made(self, transport: Any) -> None: ...
        def datagram_received(self, data: bytes, addr: Any) -> None: ...
        def error_received(self, exc: Exception) -> None: ...
        def connection_lost(self, exc: Exception | None) -> None: ...

    username, credential = turn_credentials(SECRET, "42", timedelta(seconds=600))
    transport, _ = await create_turn_endpoint(Quiet, turn_server, username, credential)
    try:
        relayed = transport.get_extra_info("sockname")
        assert relayed[0] == "127.0.0.1" and relayed[1] > 0, relayed
    finally:
        transport.close()
    for bad_user, bad_credential in ((username, turn_credentials("another secret", "42", timedelta(seconds=600))[1]),
                                     *[turn_credentials(SECRET, "42", timedelta(seconds=-600))]):
        with pytest.raises(TransactionFailed):
            refused, _ = await create_turn_endpoint(Quiet, turn_server, bad_user, bad_credential)
            refused.close()

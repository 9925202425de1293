"""A live lesson with real aiortc peers over loopback, through the WebSocket protocol."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from school.demo import DemoSchool
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack, close_to, mean_rgb
from web.keys import ROOMS

RED = (255, 0, 0)
BLUE = (0, 0, 255)


async def token_of(login: Login, who: Any) -> str:
    return (await login(who))["Authorization"].removeprefix("Bearer ")


async def joined(live_server: LiveServer, demo: DemoSchool, token: str, **kwargs: Any) -> LessonClient:
    client = LessonClient(live_server.url, demo.lesson_id, token)
    await client.connect(**kwargs)
    return client


async def first_frame(track: Any, timeout: float = 15.0) -> Any:
    return await asyncio.wait_for(track.recv(), timeout)


@pytest.fixture
async def clients() -> Any:
    made: list[LessonClient] = []
    yield made
    for client in made:
        await client.close()


async def test_a_student_decodes_the_teachers_camera_and_microphone(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient]
) -> None:
    teacher = await joined(live_server, demo, await token_of(login, demo.teacher))
    clients.append(teacher)
    assert teacher.joined["role"] == "teacher"
    published = await teacher.publish({"camera": ColourTrack(RED), "mic": ToneTrack()})
    sources = {p["source"]: p["producer_id"] for p in published["producers"]}
    assert set(sources) == {"camera", "mic"}

    student = await joined(live_server, demo, await token_of(login, demo.students[0]))
    clients.append(student)
    assert student.joined["role"] == "student"
    assert {p["source"] for p in student.joined["producers"]} == {"camera", "mic"}
    assert any(p["role"] == "teacher" for p in student.joined["participants"])

    video = await student.track_of(sources["camera"])
    frame = await first_frame(video)
    assert (frame.width, frame.height) == (320, 240)
    assert close_to(mean_rgb(frame), RED), mean_rgb(frame)
    audio = await student.track_of(sources["mic"])
    sound = await first_frame(audio)
    assert sound.sample_rate == 48000

    event = await teacher.next_event("participant_joined")
    assert event["participant"]["role"] == "student"


async def test_a_late_joiner_gets_a_keyframe_at_once(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient], app: web.Application
) -> None:
    teacher = await joined(live_server, demo, await token_of(login, demo.teacher))
    clients.append(teacher)
    published = await teacher.publish({"camera": ColourTrack(BLUE)})
    camera = published["producers"][0]["producer_id"]
    early = await joined(live_server, demo, await token_of(login, demo.students[0]))
    clients.append(early)
    await first_frame(await early.track_of(camera))
    await asyncio.sleep(2.0)  # the publisher's keyframe is long past

    producer = app[ROOMS].rooms[demo.lesson_id].room.producers[camera]
    requests_before = producer.stats.keyframe_requests
    late = await joined(live_server, demo, await token_of(login, demo.students[1]))
    clients.append(late)
    started = time.monotonic()
    frame = await first_frame(await late.track_of(camera), timeout=10.0)
    waited = time.monotonic() - started
    print(f"late joiner decoded its first frame {waited * 1000:.0f} ms after subscribing")
    assert close_to(mean_rgb(frame), BLUE)
    assert producer.stats.keyframe_requests > requests_before, "the server asked the publisher for a keyframe"


async def test_a_subscriber_losing_packets_gets_them_retransmitted(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient], app: web.Application
) -> None:
    teacher = await joined(live_server, demo, await token_of(login, demo.teacher))
    clients.append(teacher)
    published = await teacher.publish({"camera": ColourTrack(RED, width=640, height=480)})
    camera = published["producers"][0]["producer_id"]
    student = await joined(live_server, demo, await token_of(login, demo.students[0]))
    clients.append(student)
    track = await student.track_of(camera)

    # Loss injected on the subscriber's side: every 7th SRTP media packet it receives is dropped.
    transceiver = student.transceivers[camera]
    ice = transceiver.receiver.transport.transport
    original, seen, dropped = ice._recv, [0], [0]

    async def lossy_recv() -> bytes:
        while True:
            data = await original()
            if 128 <= data[0] < 192 and not (192 <= data[1] <= 223):
                seen[0] += 1
                if seen[0] % 7 == 0:
                    dropped[0] += 1
                    continue
            return data

    ice._recv = lossy_recv
    decoded = 0
    deadline = time.monotonic() + 30
    while decoded < 60 and time.monotonic() < deadline:
        frame = await first_frame(track)
        decoded += 1
    consumer = app[ROOMS].rooms[demo.lesson_id].room.consumers_of(camera)[0]
    print(f"dropped {dropped[0]} packets, server retransmitted {consumer.retransmitted}")
    assert dropped[0] > 0
    assert consumer.retransmitted > 0
    assert decoded == 60
    assert close_to(mean_rgb(frame), RED)


async def test_students_publish_only_what_the_teacher_allows(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient]
) -> None:
    teacher = await joined(live_server, demo, await token_of(login, demo.teacher))
    clients.append(teacher)
    student = await joined(live_server, demo, await token_of(login, demo.students[0]))
    clients.append(student)
    assert student.joined["permissions"] == {"mic": True, "camera": False, "screen": False, "screen-audio": False}

    with pytest.raises(ProtocolError) as refused:
        await student.publish({"screen": ColourTrack(BLUE)})
    assert refused.value.code == "forbidden"
    assert student.send_pc is not None
    await student.send_pc.close()  # the refused offer changed nothing on the server; start a fresh transport
    student.send_pc = None
    student._sending.clear()

    with pytest.raises(ProtocolError) as not_teacher:
        await student.request({"type": "permit", "participant_id": student.joined["participant_id"],
                               "source": "screen", "allowed": True})
    assert not_teacher.value.code == "forbidden"

    reply = await teacher.request({"type": "permit", "participant_id": student.joined["participant_id"],
                                   "source": "screen", "allowed": True})
    assert reply["permissions"]["screen"] is True
    assert (await student.next_event("permissions"))["permissions"]["screen"] is True
    published = await student.publish({"screen": ColourTrack(BLUE)})
    screen = published["producers"][0]["producer_id"]
    frame = await first_frame(await teacher.track_of(screen))
    assert close_to(mean_rgb(frame), BLUE)

    await teacher.request({"type": "permit", "participant_id": student.joined["participant_id"],
                           "source": "screen", "allowed": False})
    removed = await teacher.next_event("producer_removed", producer_id=screen)
    assert removed["participant_id"] == student.joined["participant_id"]


async def test_observers_and_outsiders(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient], admin: dict[str, str],
    client: TestClient
) -> None:
    observer = await joined(live_server, demo, admin["Authorization"].removeprefix("Bearer "))
    clients.append(observer)
    assert observer.joined["role"] == "observer"
    with pytest.raises(ProtocolError) as refused:
        await observer.publish({"mic": ToneTrack()})
    assert refused.value.code == "forbidden"

    # A student of another class may not enter.
    other_class = await client.post("/api/classes", json={"name": "11B2", "grade": 11}, headers=admin)
    assert other_class.status == 201
    outsider = await client.post("/api/users", headers=admin, json={
        "username": "hs.ngoai", "password": "mat-khau-ngoai-1", "full_name": "Người Ngoài", "role": "student",
        "class_id": (await other_class.json())["id"]})
    assert outsider.status == 201
    stranger = LessonClient(live_server.url, demo.lesson_id, await token_of(login, ("hs.ngoai", "mat-khau-ngoai-1")))
    clients.append(stranger)
    with pytest.raises(ProtocolError) as not_member:
        await stranger.connect()
    assert not_member.value.code == "forbidden"
    assert (await client.post(f"/api/lessons/{demo.lesson_id}/media-token",
                              headers=await login(("hs.ngoai", "mat-khau-ngoai-1")))).status == 403


async def test_an_expired_or_forged_token_is_refused(
    live_server: LiveServer, demo: DemoSchool, app: web.Application, clients: list[LessonClient]
) -> None:
    from datetime import timedelta

    from web.keys import SIGNER

    expired, _ = app[SIGNER].issue(2, "media", timedelta(seconds=-5))
    for token in (expired, "not-a-token"):
        client = LessonClient(live_server.url, demo.lesson_id, token)
        clients.append(client)
        with pytest.raises(ProtocolError) as refused:
            await client.connect()
        assert refused.value.code == "not_authenticated"


async def test_bad_messages_get_typed_errors_and_the_session_goes_on(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient]
) -> None:
    student = await joined(live_server, demo, await token_of(login, demo.students[0]))
    clients.append(student)
    for raw, code in [("{", "bad_message"), ("[1,2]", "bad_message"), ('{"type": "fly", "id": 5}', "bad_message"),
                      ('{"type": "mute", "id": 6, "source": "nose", "muted": true}', "bad_message"),
                      ('{"type": "publish", "id": 7, "sdp": "hello", "tracks": []}', "bad_sdp"),
                      ('{"type": "answer", "id": 8, "revision": 99, "sdp": "v=0"}', "conflict"),
                      ('{"type": "mute", "id": 9, "source": "camera", "muted": true}', "not_found"),
                      ('{"type": "join", "id": 10, "token": "x"}', "bad_message")]:
        await student.send_raw(raw)
        error = await student.next_event("error")
        assert error["code"] == code, (raw, error)
    assert (await student.request({"type": "ping"}))["type"] == "pong"


async def test_the_first_message_must_be_join(live_server: LiveServer, demo: DemoSchool) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(live_server.url.replace("http", "ws") + f"/api/lessons/{demo.lesson_id}/ws") as ws:
            await ws.send_json({"type": "ping", "id": 1})
            reply = await ws.receive_json(timeout=10)
            assert reply["type"] == "error" and reply["code"] == "join_first"
            closing = await ws.receive(timeout=10)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


async def test_the_active_speaker_is_announced_and_muting_stops_the_microphone(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient], app: web.Application
) -> None:
    teacher = await joined(live_server, demo, await token_of(login, demo.teacher))
    clients.append(teacher)
    student = await joined(live_server, demo, await token_of(login, demo.students[0]))
    clients.append(student)
    published = await teacher.publish({"mic": ToneTrack()})
    mic = published["producers"][0]["producer_id"]
    speaker = await student.next_event("active_speaker", participant_id=teacher.joined["participant_id"])
    assert speaker["participant_id"] == teacher.joined["participant_id"]

    await teacher.request({"type": "mute", "source": "mic", "muted": True})
    muted = await student.next_event("producer_muted", producer_id=mic)
    assert muted["muted"] is True and muted["source"] == "mic"
    consumer = app[ROOMS].rooms[demo.lesson_id].room.consumers_of(mic)[0]
    await asyncio.sleep(0.2)
    before = consumer.packets_sent
    await asyncio.sleep(0.5)
    assert consumer.packets_sent == before, "a muted microphone is not forwarded"
    assert (await student.next_event("active_speaker"))["participant_id"] is None
    await teacher.request({"type": "mute", "source": "mic", "muted": False})
    await student.next_event("producer_muted", producer_id=mic, muted=False)
    for _ in range(50):
        if consumer.packets_sent > before:
            break
        await asyncio.sleep(0.05)
    assert consumer.packets_sent > before


async def test_joining_again_replaces_the_older_session_and_unpublishing_closes_the_producer(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient]
) -> None:
    token = await token_of(login, demo.teacher)
    first = await joined(live_server, demo, token)
    clients.append(first)
    published = await first.publish({"camera": ColourTrack(RED)})
    camera = published["producers"][0]["producer_id"]
    watcher = await joined(live_server, demo, await token_of(login, demo.students[0]))
    clients.append(watcher)
    await first_frame(await watcher.track_of(camera))

    await first.publish({"camera": None})
    removed = await watcher.next_event("producer_removed", producer_id=camera)
    assert removed["participant_id"] == first.joined["participant_id"]
    offer = await watcher.next_event("offer")
    assert offer["consumers"] == [], "the m-line of the closed consumer is inactive"

    second = await joined(live_server, demo, token)
    clients.append(second)
    bye = await first.next_event("bye")
    assert bye["reason"] == "replaced"
    left = await watcher.next_event("participant_left", participant_id=first.joined["participant_id"])
    assert left["reason"] == "replaced"
    assert [p["role"] for p in second.joined["participants"]].count("teacher") == 1


async def test_an_oversized_message_is_refused_with_too_large(
    live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient]
) -> None:
    student = await joined(live_server, demo, await token_of(login, demo.students[0]))
    clients.append(student)
    await student.send_raw('{"type": "ping", "pad": "' + "x" * 70_000 + '"}')
    error = await student.next_event("error")
    assert error["code"] == "too_large"

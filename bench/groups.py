"""`make bench-groups` (`python -m bench.groups`): group work. One lesson, its teacher publishing camera
(VP8) and microphone (Opus) in the main room, and G × S students (8 groups of 5 by default) who join
over the lesson page's WebSocket. The teacher starts the breakout groups (`breakouts_start`, or POST
/api/lessons/{id}/breakouts with --via rest) allowing camera and microphone; each student, like the
page, turns on its camera (VP8) and microphone (Opus) when its `room` event puts it in a group, and
receives its S-1 group mates; the teacher ends the groups (`breakouts_end`) and every student, back
in the main room, turns them off again and receives the teacher. --rounds times over.

Printed: the move time of all students at once, from the teacher's `breakouts_start` (or
`breakouts_end`) sent to each student's `room` event, its first offer after it, its publish answered,
to packets from every one of its mates' camera and microphone (back in main: the teacher's) and to a
key frame of each of those cameras, p50/p99/max; then, while everyone publishes in groups, the server's CPU-s/s, packets it received and
forwarded per second (GET /metrics, lophoc_sfu_*), CPU per received and per forwarded packet, what
the students received, how busy the machine was and who made it busy; and the isolation check: each
student counts the packets of every producer it receives (the `offer`'s consumers list says which
producer each mid carries; a new consumer on a reused mid is told apart by its RTP timestamps) and no
student may receive anything from outside its group.

Students are light peers: they never decode. Encoding is done once per group, not once per student:
one VP8 and one Opus encoder per group feed the same encoded frames to the group's five senders,
which only packetize them (aiortc's RTCRtpSender packs av.Packets it is given), so 40 publishers cost
8 encoders; each sender's keyframe requests (PLI/FIR) reach its group's encoder. Students run in two
worker processes by default (one process falls behind). The school is written
into the database before the server starts and tokens are signed with its key (bench/joins.py).
BENCH_GROUPS_DEBUG=1 prints, for a student whose pictures never came, its m-lines and their runs."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import functools
import math
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import av
from aiortc import MediaStreamTrack, RTCConfiguration
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from bench.forwarding import CountingPeerConnection, machine, scrape
from bench.joins import LocalPool, WorkerPool, bench_cpu, seed_school, session_tokens
from bench.media import MovingPictureTrack, ToneTrack
from bench.peers import PageStudent, PeerOptions, Seat, _serve, _with_lag, join_page, raise_open_file_limit
from bench.server import ServerProcess, machine_busy_seconds, running_server
from sfu.aiortc_adapter import AnnouncingPeerConnection
from sfu.codecs import starts_keyframe
from signaling.client import LessonClient, ProtocolError
from storage.database import sqlite_url

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60)
KEYFRAME_GAP = 0.5
"""Seconds between two keyframes a shared encoder makes on request (many senders ask at once)."""
QUEUE = 8
"""Encoded frames a sender may fall behind before the oldest is dropped."""
POLL = 0.1
SOURCES = ("camera", "mic")


# --- encode once per group ----------------------------------------------------------------------
class FrameVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder held at a fixed bitrate, returning whole frames (each sender packetizes)."""

    def __init__(self, bitrate: int) -> None:
        super().__init__()
        self._Vp8Encoder__target_bitrate = bitrate

    def _packetize(self, buffer: bytes, picture_id: int) -> list[bytes]:  # type: ignore[override]
        return [buffer]


class EncodedTrack(MediaStreamTrack):
    """One sender's copy of a shared encoder's output: av.Packets, which RTCRtpSender only packs."""

    def __init__(self, kind: str, owner: SharedEncoder) -> None:
        super().__init__()
        self.kind = kind
        self.sender: Any = None
        """The RTCRtpSender sending this track, once published: its keyframe requests are read here."""
        self._owner = owner
        self._queue: asyncio.Queue[av.Packet | None] = asyncio.Queue(QUEUE)

    def put(self, packet: av.Packet | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(packet)

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None or self.readyState != "live":
            raise MediaStreamError
        return packet

    def wants_keyframe(self) -> bool:
        """True once per PLI/FIR the sender received (aiortc's sender keeps it for its own encoder)."""
        name = "_RTCRtpSender__force_keyframe"
        if self.sender is not None and getattr(self.sender, name, False):
            setattr(self.sender, name, False)
            return True
        return False

    def stop(self) -> None:
        super().stop()
        self._owner.detach(self)
        self.put(None)


class SharedEncoder:
    """Frames of one source encoded once, handed to every EncodedTrack taken from it."""

    def __init__(self, source: MediaStreamTrack, encoder: Any, time_base: fractions.Fraction) -> None:
        self.source = source
        self.encoder = encoder
        self.time_base = time_base
        self.tracks: list[EncodedTrack] = []
        self.frames = 0
        self.keyframes_forced = 0
        self._task: asyncio.Task[None] | None = None

    def track(self) -> EncodedTrack:
        track = EncodedTrack(self.source.kind, self)
        self.tracks.append(track)
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        return track

    def detach(self, track: EncodedTrack) -> None:
        with contextlib.suppress(ValueError):
            self.tracks.remove(track)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_key = -math.inf
        pending = False
        while True:
            frame = await self.source.recv()
            asked = [t.wants_keyframe() for t in list(self.tracks)]  # every request read (and cleared)
            pending = pending or any(asked)
            force = pending and loop.time() - last_key >= KEYFRAME_GAP
            if force:
                pending, last_key = False, loop.time()
                self.keyframes_forced += 1
            payloads, timestamp = await loop.run_in_executor(None, self.encoder.encode, frame, force)
            self.frames += 1
            for payload in payloads:
                packet = av.Packet(payload)
                packet.pts = timestamp
                packet.time_base = self.time_base
                for track in list(self.tracks):
                    track.put(packet)

    async def close(self) -> None:
        for track in list(self.tracks):
            track.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.source.stop()


@dataclass(frozen=True)
class MediaOptions:
    width: int = 320
    height: int = 240
    fps: int = 15
    bitrate: int = 300_000


class GroupMedia:
    """One video and one audio SharedEncoder per group (a different picture each), made on first use."""

    def __init__(self, options: MediaOptions) -> None:
        self.options = options
        self.encoders: dict[int, tuple[SharedEncoder, SharedEncoder]] = {}

    def tracks(self, group: int) -> dict[str, EncodedTrack]:
        if group not in self.encoders:
            o = self.options
            video = SharedEncoder(MovingPictureTrack(o.width, o.height, o.fps, seed=1000 + group),
                                  FrameVp8Encoder(o.bitrate), fractions.Fraction(1, 90_000))
            audio = SharedEncoder(ToneTrack(300.0 + 40 * group), OpusEncoder(), fractions.Fraction(1, 48_000))
            self.encoders[group] = (video, audio)
        video, audio = self.encoders[group]
        return {"camera": video.track(), "mic": audio.track()}

    def summary(self) -> dict[str, int]:
        return {"encoders": 2 * len(self.encoders),
                "video_frames": sum(v.frames for v, _ in self.encoders.values()),
                "keyframes_forced": sum(v.keyframes_forced for v, _ in self.encoders.values())}

    async def close(self) -> None:
        for video, audio in self.encoders.values():
            await video.close()
            await audio.close()
        self.encoders.clear()


# --- a student in a group -----------------------------------------------------------------------
@dataclass(frozen=True)
class GroupSeat:
    lesson_id: int
    token: str
    user_id: int
    group: int
    """Index of the student's group in the plan (0-based)."""


@dataclass
class Move:
    """One student's view of one move, in time.monotonic() seconds (comparable across processes)."""

    expect: frozenset[tuple[int, str]]
    """(user id, source) whose packets must arrive after the `room` event for the move to be done."""
    room: str | None = None
    room_at: float | None = None
    offer_at: float | None = None
    """The first offer for the receive transport after the `room` event."""
    published_at: float | None = None
    """The answer to the publish (group) or unpublish (main) the student sent on arrival."""
    settled_at: float | None = None
    """Packets of everything in `expect` have arrived (when the last of them came first)."""
    pictured_at: float | None = None
    """... and a VP8 key frame of every camera in `expect` (a page can show each picture)."""
    seen: dict[tuple[str, str], float] = field(default_factory=dict)
    """(participant id, source) -> when its first packet since the move was announced arrived (media
    may come before the `room` event: the server forwards before its messages are read)."""
    keyframes: dict[str, float] = field(default_factory=dict)
    """Participant id -> when its camera's first key frame since the move was announced arrived."""
    asked_before: int = 0
    """The student's keyframe requests before this move."""


PLI_INTERVAL = 1.0
"""Seconds between a student's keyframe requests while a video run waits for one."""
TIMESTAMP_JUMP = 5.0
"""Seconds: an RTP timestamp this far from the last on the same mid starts another consumer's
packets (each consumer has its own random timestamp offset)."""


@dataclass
class MidState:
    """What one receive m-line carries, as far as the packets and the offers tell."""

    named: dict[str, Any] | None = None
    """The consumer the last offer put on this mid (None: inactive)."""
    claimed: bool = False
    """`named` owns a run of packets already (a later run is someone else's until an offer says)."""
    owner: tuple[str, str] | None = None
    """(participant id, source) of the current run of packets; None: held until an offer names it."""
    last_timestamp: int | None = None
    run_at: float = 0.0
    """When the current run began."""
    wants_keyframe: bool = False
    """Video whose run began without a key frame: a decoder could not show it (a browser asks)."""
    asked_at: float = -math.inf
    held: list[Any] | None = None
    """[packets, first at, first key frame at] of the current run while its owner is unknown."""


class NotingQueue(asyncio.Queue):  # type: ignore[type-arg]
    """LessonClient's event queue, which also hands each event to `note` as it arrives."""

    def __init__(self, note: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self._note = note

    async def put(self, item: dict[str, Any]) -> None:
        self._note(item)
        if self.qsize() > 1000:  # nobody reads most events: keep the last ones only
            self.get_nowait()
        await super().put(item)


class MidCountingPeerConnection(CountingPeerConnection):
    """Each receiver's sink is told which transceiver (mid) the packet came on."""

    def _RTCPeerConnection__createTransceiver(self, direction: str, kind: str, sender_track: Any = None) -> Any:  # noqa: N802
        transceiver = super()._RTCPeerConnection__createTransceiver(direction, kind, sender_track)
        transceiver.receiver.sink = functools.partial(self._bench_sink, transceiver)
        return transceiver


class GroupStudent(PageStudent):
    """A student page that publishes camera and microphone while in a group (and nothing in the main
    room), receives without decoding and counts packets per producer's owner and source."""

    def __init__(self, base_url: str, seat: GroupSeat, media: GroupMedia) -> None:
        super().__init__(base_url, seat.lesson_id, seat.token)
        self.seat = seat
        self.media = media
        self.events = NotingQueue(self._noted)
        self.room = "main"
        self.users: dict[str, int] = {}
        """Participant id -> user id, from `joined`, participant events and `room` events."""
        self.by_source: dict[tuple[str, str], int] = {}
        """(participant id, source) -> packets received."""
        self._mids: dict[str, MidState] = {}
        self._orphans = 0
        self.keyframes_asked = 0
        """PLIs this student sent: a video run began without a key frame (see MidState)."""
        """Packets of runs no offer ever named (see _on_mid_rtp)."""
        self.move: Move | None = None
        self.publishing: dict[str, EncodedTrack] = {}
        self.errors: list[str] = []
        self._following = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def _pc(self) -> MidCountingPeerConnection:
        config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        return MidCountingPeerConnection(config, self.announced, self._on_mid_rtp)

    async def publish(self, tracks: dict[str, MediaStreamTrack | None]) -> dict[str, Any]:
        if self.send_pc is None:  # a plain aiortc sender (SfuPeerConnection's forward, they send no track)
            config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
            self.send_pc = AnnouncingPeerConnection(config, self.announced)
        return await super().publish(tracks)

    async def connect(self, auto_subscribe: bool = True) -> dict[str, Any]:
        joined = await super().connect(auto_subscribe)
        self._note_participants(joined.get("participants", []))
        if "participant_id" in joined:
            self.users[joined["participant_id"]] = self.seat.user_id
        return joined

    def _note_participants(self, participants: Sequence[dict[str, Any]]) -> None:
        for p in participants:
            if isinstance(p, dict) and "participant_id" in p and "user_id" in p:
                self.users[p["participant_id"]] = p["user_id"]

    def _on_mid_rtp(self, transceiver: Any, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        """Each packet is counted for the producer whose consumer sent it. The server may reuse an
        m-line for a new consumer and forward on it before the client has the offer that says so, so
        the mid alone does not tell: packets come in runs, one per consumer (a new consumer starts
        at a random RTP timestamp), and a run belongs to the consumer the last offer named for its
        mid if that consumer has no run yet, else it is held until an offer names its consumer."""
        self._on_rtp(packet, codec)
        mid = transceiver.mid or ""
        state = self._mids.get(mid)
        if state is None:
            state = self._mids[mid] = MidState(named=self.consumers.get(mid))
        now = time.monotonic()
        last = state.last_timestamp
        state.last_timestamp = packet.timestamp
        if last is None or min((packet.timestamp - last) % 2**32, (last - packet.timestamp) % 2**32) \
                > TIMESTAMP_JUMP * codec.clockRate:  # another consumer's run begins
            if state.held is not None:
                self._orphans += state.held[0]
                state.held = None
            state.run_at = now
            state.wants_keyframe = codec.mimeType[0] in "vV"
            if state.named is not None and not state.claimed:
                state.owner, state.claimed = _producer_key(state.named), True
            else:
                state.owner, state.held = None, [0, now, None]
        video = codec.mimeType[0] in "vV"
        starts_key = video and starts_keyframe(codec.mimeType, packet.payload)
        if starts_key:
            state.wants_keyframe = False
        elif state.wants_keyframe and now - state.asked_at >= PLI_INTERVAL:
            # as a browser's decoder does when a stream does not begin with a key frame
            state.asked_at = now
            self.keyframes_asked += 1
            task = asyncio.ensure_future(transceiver.receiver.request_keyframe(packet.ssrc))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if state.owner is None:
            assert state.held is not None
            state.held[0] += 1
            if starts_key and state.held[2] is None:
                state.held[2] = now
            return
        key = state.owner
        self.by_source[key] = self.by_source.get(key, 0) + 1
        move = self.move
        if move is None or move.pictured_at is not None:
            return
        key_at = now if starts_key and key[0] not in move.keyframes else None
        if key not in move.seen or key_at is not None:
            self._arrived(key, now, key_at)

    def _arrived(self, key: tuple[str, str], at: float, key_at: float | None) -> None:
        move = self.move
        if move is None:
            return
        move.seen.setdefault(key, at)
        if key_at is not None:
            move.keyframes.setdefault(key[0], key_at)
        self._check_settled()

    def _offered(self) -> None:
        """An offer was answered: mids it names anew take their held run, if any."""
        for mid in set(self._mids) | set(self.consumers):
            state = self._mids.setdefault(mid, MidState())
            named = self.consumers.get(mid)
            if (named or {}).get("consumer_id") == (state.named or {}).get("consumer_id"):
                continue
            state.named, state.claimed = named, False
            if named is not None and state.owner is None and state.held is not None:
                count, first_at, key_at = state.held
                state.owner, state.claimed, state.held = _producer_key(named), True, None
                self.by_source[state.owner] = self.by_source.get(state.owner, 0) + count
                self._arrived(state.owner, first_at, key_at)

    def _check_settled(self) -> None:
        move = self.move
        if move is None or move.pictured_at is not None:
            return
        if move.settled_at is None:
            firsts = {(self.users.get(pid), source): at for (pid, source), at in move.seen.items()}
            if move.expect <= firsts.keys():
                move.settled_at = max(firsts[k] for k in move.expect) if move.expect else time.monotonic()
        if move.settled_at is not None:
            cameras = {uid for uid, source in move.expect if source == "camera"}
            keys = {self.users.get(pid): at for pid, at in move.keyframes.items()}
            if cameras <= keys.keys():
                move.pictured_at = max([move.settled_at] + [keys[uid] for uid in cameras])

    def _noted(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in ("participant_joined", "participant_updated"):
            self._note_participants([message.get("participant", {})])
            self._check_settled()
        elif kind == "room":
            now = time.monotonic()
            self.room = str(message.get("room"))
            self._note_participants(message.get("participants") or [])
            move = self.move
            if move is not None and move.room_at is None:
                move.room, move.room_at = self.room, now
            task = asyncio.ensure_future(self._follow_room(self.room))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _on_offer(self, message: dict[str, Any]) -> None:
        await super()._on_offer(message)
        move = self.move
        if move is not None and move.room_at is not None and move.offer_at is None:
            move.offer_at = time.monotonic()
        self._offered()

    async def _follow_room(self, room: str) -> None:
        """In a group: camera and microphone on (a refused publish is tried again while the grant
        may still be on its way); back in the main room: both off."""
        async with self._following:
            if self.room != room:
                return  # moved again meanwhile
            try:
                if room != "main" and not self.publishing:
                    tracks = self.media.tracks(self.seat.group)
                    for attempt in range(10):
                        try:
                            await self.publish(dict(tracks))
                            break
                        except ProtocolError as exc:
                            if exc.code != "forbidden" or attempt == 9 or self.room != room:
                                raise
                            await asyncio.sleep(0.3)
                    self.publishing = tracks
                    for source, track in tracks.items():
                        track.sender = self._sending[source].sender
                elif room == "main" and self.publishing:
                    tracks, self.publishing = self.publishing, {}
                    await self.publish({source: None for source in tracks})
                    for track in tracks.values():
                        track.stop()
                else:
                    return
                if self.move is not None and self.move.room == room:
                    self.move.published_at = time.monotonic()
            except Exception as exc:  # reported by the bench
                self.errors.append(f"{'publish' if room != 'main' else 'unpublish'} in {room}: "
                                   f"{type(exc).__name__}: {exc}"[:300])

    @property
    def unattributed(self) -> int:
        """Packets on mids no offer has named since they came."""
        return self._orphans + sum(m.held[0] for m in self._mids.values() if m.held is not None)

    def counts(self) -> dict[tuple[int | str, str], int]:
        """Packets received by (user id, source); a participant this student never heard of by id."""
        return {(self.users.get(pid, f"?{pid}"), source): n for (pid, source), n in self.by_source.items()}

    def move_report(self) -> dict[str, Any]:
        move = self.move
        report: dict[str, Any] = {"user_id": self.seat.user_id, "group": self.seat.group, "room": self.room,
                                  "errors": list(self.errors)}
        if move is not None:
            have = {(self.users.get(pid), source) for pid, source in move.seen}
            cameras = {uid for uid, source in move.expect if source == "camera"}
            report["no_keyframe"] = sorted(map(str, cameras - {self.users.get(pid) for pid in move.keyframes}))
            report["held"] = {mid: m.held[0] for mid, m in self._mids.items() if m.held is not None}
            report["runs"] = {mid: (m.owner, m.run_at) for mid, m in self._mids.items()}
            report["consumers"] = {mid: (c.get("participant_id"), c.get("source"), c.get("producer_id"))
                                   for mid, c in self.consumers.items()}
            report["keyframes_asked"] = self.keyframes_asked - move.asked_before
            report.update(room_at=move.room_at, offer_at=move.offer_at, published_at=move.published_at,
                          settled_at=move.settled_at, pictured_at=move.pictured_at, missing=sorted(map(str, move.expect - have)),
                          moved_to=move.room)
        return report

    async def close(self, leave: bool = True) -> None:
        for task in list(self._tasks):
            task.cancel()
        for track in self.publishing.values():
            track.stop()
        await super().close(leave)


def _producer_key(consumer: dict[str, Any]) -> tuple[str, str]:
    return consumer.get("participant_id", "?"), consumer.get("source", "?")


class GroupPool:
    """The students of some groups, in one process (this one or a worker), with their groups' encoders."""

    def __init__(self, base_url: str, seats: Sequence[GroupSeat], options: PeerOptions, media: MediaOptions) -> None:
        self.base_url = base_url
        self.seats = list(seats)
        self.options = options
        self.media = GroupMedia(media)
        self.students: list[GroupStudent | None] = [None] * len(self.seats)

    async def join(self) -> list[Any]:
        async def one(i: int) -> Any:
            seat = self.seats[i]
            result, client = await join_page(self.base_url, Seat(seat.lesson_id, seat.token), self.options,
                                             factory=lambda: GroupStudent(self.base_url, seat, self.media))
            assert client is None or isinstance(client, GroupStudent)
            self.students[i] = client
            return result

        return list(await asyncio.gather(*(one(i) for i in range(len(self.seats)))))

    def expect(self, plan: dict[int, list[tuple[int, str]]]) -> None:
        for student in self.students:
            if student is not None:
                student.move = Move(frozenset(plan.get(student.seat.user_id, ())), asked_before=student.keyframes_asked)

    def counts(self) -> list[dict[str, Any]]:
        return [{"user_id": s.seat.user_id, "group": s.seat.group, "room": s.room, "packets": s.packets,
                 "unattributed": s.unattributed, "counts": s.counts()}
                for s in self.students if s is not None]

    async def close(self) -> None:
        async def one(student: GroupStudent) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(student.close(leave=False), 10)

        await asyncio.gather(*(one(s) for s in self.students if s is not None))
        self.students = [None] * len(self.seats)
        await self.media.close()

    async def call(self, command: str, arg: Any = None) -> Any:
        if command == "join":
            return await _with_lag(self.join())
        if command == "expect":
            return self.expect(arg)
        if command == "moves":
            return [s.move_report() for s in self.students if s is not None]
        if command == "counts":
            return self.counts()
        if command == "media":
            return self.media.summary()
        if command == "close":
            return await self.close()
        raise ValueError(f"unknown command {command!r}")


def group_worker_main(conn: Connection, base_url: str, seats: list[GroupSeat], options: PeerOptions,
                      media: MediaOptions) -> None:
    """A worker process's GroupPool: takes (command, arg) from `conn` and sends each reply back."""
    import uvloop

    raise_open_file_limit()
    uvloop.run(_serve(conn, GroupPool(base_url, seats, options, media)))  # type: ignore[arg-type]


class LocalGroupPool(LocalPool):
    def __init__(self, base_url: str, seats: Sequence[GroupSeat], options: PeerOptions, media: MediaOptions) -> None:
        self.pool = GroupPool(base_url, seats, options, media)  # type: ignore[assignment]
        self.pid = os.getpid()


Pool = LocalGroupPool | WorkerPool


async def gather_calls(pools: Sequence[Pool], command: str, arg: Any = None) -> list[Any]:
    return [item for reply in await asyncio.gather(*(p.call(command, arg) for p in pools)) for item in reply]


# --- the teacher --------------------------------------------------------------------------------
class Teacher:
    """The lesson's teacher: publishes camera and microphone in the main room, receives no media
    (auto_subscribe off: it only steers), starts and ends the groups over the WebSocket or REST."""

    def __init__(self, base_url: str, lesson_id: int, token: str, via: str, media: GroupMedia) -> None:
        self.client = LessonClient(base_url, lesson_id, token)  # decode=True: plain aiortc senders; receives nothing
        self.base_url, self.lesson_id, self.token, self.via, self.media = base_url, lesson_id, token, via, media

    async def start(self) -> None:
        await self.client.connect(auto_subscribe=False)
        tracks = self.media.tracks(-1)
        await self.client.publish(dict(tracks))
        for source, track in tracks.items():
            track.sender = self.client._sending[source].sender

    async def breakouts_start(self, groups: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"groups": groups, "duration_s": None, "allow": {"mic": True, "camera": True, "screen": False}}
        if self.via == "ws":
            return await self.client.request({"type": "breakouts_start", **body})
        return await self._rest("POST", body, 201)

    async def breakouts_end(self) -> dict[str, Any]:
        if self.via == "ws":
            return await self.client.request({"type": "breakouts_end"})
        return await self._rest("DELETE", None, 204)

    async def _rest(self, method: str, body: Any, status: int) -> dict[str, Any]:
        url = f"{self.base_url}/api/lessons/{self.lesson_id}/breakouts"
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http, \
                http.request(method, url, json=body, headers={"Authorization": f"Bearer {self.token}"}) as response:
            text = await response.text()
            if response.status != status:
                raise ProtocolError(f"HTTP {response.status}", text[:300])
            return {} if not text else await response.json()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.close(), 10)


# --- measuring ----------------------------------------------------------------------------------
@dataclass
class Sample:
    at: float
    server_cpu: float
    bench_cpu: float
    machine_busy: float
    metrics: dict[str, float]
    received: int
    counts: list[dict[str, Any]]
    frames: int
    """VP8 frames the students' group encoders have encoded."""
    encoders: int


async def sample(http: aiohttp.ClientSession, server: ServerProcess, pools: Sequence[Pool]) -> Sample:
    counts = await gather_calls(pools, "counts")
    media = await asyncio.gather(*(p.call("media") for p in pools))
    metrics, _ = await asyncio.wait_for(scrape(http, server.url), 10)
    return Sample(time.perf_counter(), server.cpu_seconds(), bench_cpu(pools), machine_busy_seconds(), metrics,
                  sum(c["packets"] for c in counts), counts, sum(m["video_frames"] for m in media),
                  sum(m["encoders"] for m in media) // 2)


@dataclass
class Window:
    name: str
    seconds: float
    server_cpu: float
    bench_cpu: float
    other_cpu: float
    in_pps: float
    out_pps: float
    received_pps: float
    rtx: float
    pli: float
    outside: dict[int, dict[Any, int]]
    """Student user id -> {(sender user id, source): packets} from outside the student's room."""
    checked_packets: int
    encoder_fps: float
    """VP8 frames per second each group encoder made (the clients keeping up: --fps when they do)."""
    unattributed: int
    """Packets held at the window's end on mids no offer has named (not checked)."""

    @property
    def us_per_in(self) -> float:
        return self.server_cpu / self.in_pps * 1e6 if self.in_pps else math.nan

    @property
    def us_per_out(self) -> float:
        return self.server_cpu / self.out_pps * 1e6 if self.out_pps else math.nan


def window(name: str, a: Sample, b: Sample, allowed: dict[int, set[int]]) -> Window:
    dt = b.at - a.at

    def rate(metric: str) -> float:
        return (b.metrics.get(metric, 0.0) - a.metrics.get(metric, 0.0)) / dt

    server = (b.server_cpu - a.server_cpu) / dt
    bench = (b.bench_cpu - a.bench_cpu) / dt
    other = max(0.0, (b.machine_busy - a.machine_busy) / dt - server - bench)
    before = {c["user_id"]: c for c in a.counts}
    outside: dict[int, dict[Any, int]] = {}
    checked = unattributed = 0
    for c in b.counts:
        old = before.get(c["user_id"], {"counts": {}})
        unattributed += c["unattributed"]
        for key, n in c["counts"].items():
            delta = n - old["counts"].get(key, 0)
            if delta <= 0:
                continue
            checked += delta
            if key[0] not in allowed.get(c["user_id"], set()):
                outside.setdefault(c["user_id"], {})[key] = delta
    return Window(name, dt, server, bench, other, rate("lophoc_sfu_packets_in_total"),
                  rate("lophoc_sfu_packets_out_total"), (b.received - a.received) / dt,
                  rate("lophoc_sfu_retransmissions_total") * dt, rate("lophoc_sfu_keyframe_requests_total") * dt,
                  outside, checked, (b.frames - a.frames) / dt / b.encoders if b.encoders else math.nan,
                  unattributed)


@dataclass
class MoveResult:
    name: str
    students: int
    reply_ms: float | None
    reports: list[dict[str, Any]]
    t0: float
    seconds: float
    server_cpu: float
    bench_cpu: float
    machine_busy: float
    error: str | None = None
    keyframe_requests: float = 0.0
    """The server's keyframe requests to publishers during the move (lophoc_sfu_keyframe_requests_total)."""

    def ms(self, key: str) -> list[float]:
        return [(r[key] - self.t0) * 1000 for r in self.reports if r.get(key) is not None]

    @property
    def moved(self) -> int:
        return len(self.ms("room_at"))

    @property
    def settled(self) -> int:
        return len(self.ms("settled_at"))

    @property
    def keyframes_asked(self) -> int:
        return sum(r.get("keyframes_asked", 0) for r in self.reports)

    @property
    def pictured(self) -> int:
        return len(self.ms("pictured_at"))


async def run_move(name: str, http: aiohttp.ClientSession, server: ServerProcess, pools: Sequence[Pool],
                   plan: dict[int, list[tuple[int, str]]], order: Callable[[], Any], timeout: float) -> MoveResult:
    """Every student told what to expect, then `order` (the teacher's message) at t0; watched until
    every student has its room event and its expected packets, or `timeout`."""
    await asyncio.gather(*(p.call("expect", plan) for p in pools))
    metrics0, _ = await scrape(http, server.url)
    cpu0, bench0, busy0 = server.cpu_seconds(), bench_cpu(pools), machine_busy_seconds()
    t0 = time.monotonic()
    error = None
    reply_ms = None
    try:
        await order()
        reply_ms = (time.monotonic() - t0) * 1000
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    reports: list[dict[str, Any]] = []
    while error is None:
        reports = await gather_calls(pools, "moves")
        if all(r.get("pictured_at") is not None and r.get("room_at") is not None for r in reports) \
                or time.monotonic() - t0 > timeout:
            break
        await asyncio.sleep(POLL)
    seconds = time.monotonic() - t0
    if error is not None:
        reports = await gather_calls(pools, "moves")
    result = MoveResult(name, len(plan), reply_ms, reports, t0, seconds, server.cpu_seconds() - cpu0,
                        bench_cpu(pools) - bench0, machine_busy_seconds() - busy0, error)
    metrics, _ = await scrape(http, server.url)
    metric = "lophoc_sfu_keyframe_requests_total"
    result.keyframe_requests = metrics.get(metric, 0.0) - metrics0.get(metric, 0.0)
    return result


# --- the report ---------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 0.5):.0f}/{percentile(values, 0.99):.0f}/{max(values):.0f}"


def print_rows(head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


def move_row(m: MoveResult) -> tuple[str, ...]:
    failed = sum(1 for r in m.reports if r.get("errors"))
    return (m.name, f"{m.moved}/{m.students}", "-" if m.reply_ms is None else f"{m.reply_ms:.0f}",
            spread(m.ms("room_at")), spread(m.ms("offer_at")), spread(m.ms("published_at")),
            f"{m.settled}/{m.students}", spread(m.ms("settled_at")), f"{m.pictured}/{m.students}",
            spread(m.ms("pictured_at")), f"{m.seconds:.1f}", f"{m.server_cpu:.2f}",
            f"{m.bench_cpu:.2f}", f"{m.keyframe_requests:.0f}", str(m.keyframes_asked), str(failed))


MOVE_HEAD = ("move", "room event", "ok ms", "room ms p50/p99/max", "offer ms p50/p99/max",
             "(un)publish ms p50/p99/max", "media in", "media ms p50/p99/max", "pictures", "pictures ms p50/p99/max",
             "took s", "server CPU s",
             "bench CPU s", "PLI", "students' PLI", "errors")


def window_row(w: Window, cores: int) -> tuple[str, ...]:
    busy = w.server_cpu + w.bench_cpu + w.other_cpu
    return (w.name, f"{w.seconds:.1f}", f"{w.server_cpu:.3f}", f"{w.in_pps:.0f}", f"{w.out_pps:.0f}",
            f"{w.received_pps:.0f}", f"{w.us_per_in:.1f}", f"{w.us_per_out:.1f}", f"{w.rtx:.0f}", f"{w.pli:.0f}",
            f"{w.encoder_fps:.1f}", f"{w.bench_cpu:.2f}", f"{w.other_cpu:.2f}", f"{100 * busy / cores:.0f}%",
            str(sum(sum(v.values()) for v in w.outside.values())))


WINDOW_HEAD = ("window", "s", "server CPU-s/s", "in pkt/s", "fwd pkt/s", "rcvd pkt/s", "µs CPU/in pkt",
               "µs CPU/fwd pkt", "rtx", "PLI", "enc fps", "bench CPU-s/s", "other CPU-s/s", "machine busy", "outside pkts")


# --- the run ------------------------------------------------------------------------------------
def plan_groups(students: Sequence[tuple[int, str]], groups: int, size: int) -> list[list[int]]:
    ids = [uid for uid, _ in students]
    return [ids[g * size:(g + 1) * size] for g in range(groups)]


async def run(args: argparse.Namespace) -> int:
    peers = args.groups * args.size
    cores = len(os.sched_getaffinity(0))
    media = MediaOptions(args.width, args.height, args.fps, args.bitrate)
    print(f"machine: {machine()}")
    print(f"load: 1 lesson, {args.groups} groups × {args.size} students = {peers} students; each student in a group "
          f"publishes VP8 {args.width}x{args.height}@{args.fps} fps ({args.bitrate / 1000:g} kbps) + Opus and receives "
          f"its {args.size - 1} mates; the teacher publishes the same in the main room; {args.rounds} round(s) of "
          f"start/end over {'the WebSocket' if args.via == 'ws' else 'REST'}; window {args.seconds:g} s in groups")
    where = (f"in {args.workers} worker process{'es' if args.workers > 1 else ''} (whole groups each)"
             if args.workers else "in this process")
    print(f"clients: the teacher in this process, students {where} ({args.workers_reason}); students never decode; "
          f"one VP8 + one Opus encoder per group (and one pair for the teacher), shared by its senders. "
          "All on this machine, sharing its cores with the server.", flush=True)
    raise_open_file_limit()
    data = Path(tempfile.mkdtemp(prefix="lophoc-bench-groups-"))
    secret = secrets.token_hex(32)
    teacher: Teacher | None = None
    teacher_media = GroupMedia(media)
    pools: list[Pool] = []
    status = 0
    try:
        (data / "data").mkdir()
        db_url = sqlite_url(data / "data")
        school = await seed_school(db_url, 1, peers, "grp" + secrets.token_hex(3), args.recording)
        lesson = school.lessons[0]
        server_args = ["--ice-address", "127.0.0.1", "--log-level", args.server_log_level]
        async with running_server(data / "data", server_args, {"LOPHOC_SECRET_KEY": secret}) as server, \
                aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
            print(f"server: pid {server.pid} at {server.url}; lesson {lesson.lesson_id} (recording {args.recording})",
                  flush=True)
            teacher_uid = lesson.teacher[0]
            tokens = await session_tokens(db_url, secret, [teacher_uid] + [uid for uid, _ in lesson.students])
            groups = plan_groups(lesson.students, args.groups, args.size)
            group_of = {uid: g for g, members in enumerate(groups) for uid in members}
            seats = [GroupSeat(lesson.lesson_id, tokens[uid], uid, group_of[uid]) for uid, _ in lesson.students]
            teacher = Teacher(server.url, lesson.lesson_id, tokens[teacher_uid], args.via, teacher_media)
            await asyncio.wait_for(teacher.start(), 60)

            options = PeerOptions(join_timeout=args.join_timeout)
            if args.workers:
                parts = [[s for s in seats if s.group % args.workers == w] for w in range(args.workers)]
                pools = [WorkerPool(server.url, part, options, target=group_worker_main, extra=(media,))
                         for part in parts if part]
            else:
                pools = [LocalGroupPool(server.url, seats, options, media)]
            replies = await asyncio.gather(*(p.call("join") for p in pools))
            joins = [j for results, _ in replies for j in results]
            failed = [j for j in joins if j.cause is not None]
            print(f"joined: {len(joins) - len(failed)}/{len(joins)} students in the main room with the teacher's key "
                  f"frame, answer ms p50/p99/max {spread([j.answered_ms for j in joins if j.answered_ms is not None])}, "
                  f"key frame ms {spread([j.keyframe_ms for j in joins if j.keyframe_ms is not None])}", flush=True)
            for cause in sorted({j.cause for j in failed if j.cause}):
                print(f"  join failed: {sum(1 for j in failed if j.cause == cause)} × {cause}")
            if failed:
                status = 1

            in_main = {uid: {teacher_uid} | {s.user_id for s in seats} for uid in group_of}
            in_group = {uid: set(groups[g]) - {uid} for uid, g in group_of.items()}
            await asyncio.sleep(args.warmup)
            a = await sample(http, server, pools)
            await asyncio.sleep(args.baseline)
            windows = [window("main: students watch the teacher", a, await sample(http, server, pools), in_main)]
            print(f"  main room: server {windows[0].server_cpu:.3f} CPU-s/s, {windows[0].out_pps:.0f} fwd pkt/s",
                  flush=True)

            body = [{"name": f"Nhóm {g + 1}", "user_ids": members} for g, members in enumerate(groups)]
            start_plan = {uid: [(mate, s) for mate in in_group[uid] for s in SOURCES] for uid in group_of}
            end_plan = {uid: [(teacher_uid, s) for s in SOURCES] for uid in group_of}
            moves: list[MoveResult] = []
            in_groups_outside: list[Window] = []
            for n in range(1, args.rounds + 1):
                print(f"round {n}: breakouts_start, {args.groups} groups at once ...", flush=True)
                replies_box: list[dict[str, Any]] = []

                async def start() -> None:
                    assert teacher is not None
                    replies_box.append(await teacher.breakouts_start(body))

                move = await run_move(f"{n}: start", http, server, pools, start_plan, start, args.move_timeout)
                moves.append(move)
                if move.error is not None:
                    print(f"  the teacher's breakouts_start was refused: {move.error}")
                    if "bad_message" in move.error or "404" in move.error or "405" in move.error:
                        print("  (does the server implement breakouts yet? see docs/protocol.md, Breakout rooms)")
                    status = 2
                    break
                print(f"  {move.moved}/{peers} room events, media from all mates: {move.settled}/{peers}, "
                      f"ms p50/p99/max {spread(move.ms('settled_at'))}", flush=True)
                state = replies_box[0].get("breakouts", replies_box[0]) if replies_box else {}
                ids = {uid: g.get("id") for g in state.get("groups", []) for uid in g.get("user_ids", [])}
                wrong = [r for r in move.reports if ids and r.get("moved_to") != ids.get(r["user_id"])]
                if wrong:
                    print(f"  {len(wrong)} students' room event named another room than their group's id")
                    status = 1
                settled_counts = await sample(http, server, pools)
                await asyncio.sleep(args.warmup)
                a = await sample(http, server, pools)
                await asyncio.sleep(args.seconds)
                b = await sample(http, server, pools)
                windows.append(window(f"{n}: all in groups", a, b, in_group))
                in_groups_outside.append(window(f"{n}: groups, settled→end", settled_counts, b, in_group))
                print(f"  in groups: server {windows[-1].server_cpu:.3f} CPU-s/s, {windows[-1].in_pps:.0f} in pkt/s, "
                      f"{windows[-1].out_pps:.0f} fwd pkt/s", flush=True)

                print(f"round {n}: breakouts_end ...", flush=True)

                async def end() -> None:
                    assert teacher is not None
                    await teacher.breakouts_end()

                move = await run_move(f"{n}: end", http, server, pools, end_plan, end, args.move_timeout)
                moves.append(move)
                if move.error is not None:
                    print(f"  the teacher's breakouts_end was refused: {move.error}")
                    status = 2
                    break
                print(f"  {move.moved}/{peers} room events, media from the teacher: {move.settled}/{peers}, "
                      f"ms p50/p99/max {spread(move.ms('settled_at'))}", flush=True)
                if os.environ.get("BENCH_GROUPS_DEBUG"):
                    print(f"    server PLIs {move.keyframe_requests:.0f}; teacher's encoder {teacher_media.summary()}")
                await asyncio.sleep(args.warmup)

            media_summary = [await p.call("media") for p in pools]
            print()
            print(f"moves ({peers} students at once; ms from the teacher's message sent, all clocks CLOCK_MONOTONIC):")
            print_rows(MOVE_HEAD, [move_row(m) for m in moves])
            print()
            print("steady windows (CPU per packet: all the server's work, signaling and RTCP included):")
            print_rows(WINDOW_HEAD, [window_row(w, cores) for w in windows])
            print()
            print("  room event: students whose `room` event arrived; ok ms: the teacher's reply (`ok`, or the HTTP status).")
            print("  room/offer ms: to the student's `room` event, and to the first offer of its receive transport after it.")
            print("  (un)publish ms: a student arriving in a group publishes camera + mic (the first round creates its")
            print("      send transport), back in main unpublishes both: to the server's answer.")
            print("  media in / ms: students who got packets from each mate's camera and mic (start) or the teacher's")
            print("      (end) after the message, to the last of those first packets; p50/p99/max over those students.")
            print("  pictures: ... and a VP8 key frame from each of those cameras (what a page needs to show them).")
            print("  PLI: keyframe requests the server sent publishers during the move (lophoc_sfu_keyframe_requests);")
            print("      students' PLI: requests students sent because a camera's packets began without a key frame")
            print(f"      (as a browser's decoder would; again every {PLI_INTERVAL:g} s until one comes).")
            print("  server CPU s / bench CPU s: CPU seconds over the move (until the last student or the timeout).")
            print("  in/fwd pkt/s: lophoc_sfu_packets_in_total / packets_out_total; rcvd: what the students counted.")
            print(f"  enc fps: VP8 frames/s of each group's encoder (--fps {args.fps} when the clients keep up; less: a")
            print("      starved client side sent less, and the server's load is that much lighter).")
            print("  bench CPU: this process (teacher, and students without --workers) and the worker processes;")
            print(f"      other: the rest of the machine's busy CPU; machine busy: all of it over {cores} cores.")
            for s in media_summary:
                print(f"  client encoders in a process: {s['encoders']} (VP8 + Opus per group), {s['video_frames']} "
                      f"VP8 frames encoded, {s['keyframes_forced']} keyframes forced by requests")

            print()
            total_outside = 0
            for w in windows[1:] + in_groups_outside:
                n_out = sum(sum(v.values()) for v in w.outside.values())
                total_outside += n_out
                verdict = "none from outside the group" if not n_out else f"{n_out} FROM OUTSIDE THE GROUP"
                print(f"isolation, {w.name}: {w.checked_packets} packets attributed to a sender, {verdict}; "
                      f"{w.unattributed} held on mids no offer has named")
                for uid, keys in list(w.outside.items())[:10]:
                    print(f"    student {uid} (group {group_of[uid] + 1}) got " +
                          ", ".join(f"{n} from user {k[0]} {k[1]}" for k, n in keys.items()))
            for m in [m for m in moves if m.name.endswith("start")]:
                for r in m.reports:
                    if r.get("errors"):
                        print(f"  student {r['user_id']} {m.name}: " + "; ".join(r["errors"]))
                    if r.get("settled_at") is None and r.get("missing"):
                        print(f"  student {r['user_id']} {m.name}: no packets from {', '.join(r['missing'])}")
            for m in [m for m in moves if m.name.endswith("end")]:
                for r in m.reports:
                    if r.get("errors"):
                        print(f"  student {r['user_id']} {m.name}: " + "; ".join(r["errors"]))
            for m in moves:
                for r in m.reports:
                    if r.get("settled_at") is not None and r.get("pictured_at") is None:
                        print(f"  student {r['user_id']} {m.name}: packets, but no key frame from the camera of "
                              f"user(s) {', '.join(r['no_keyframe'])}")
                        if os.environ.get("BENCH_GROUPS_DEBUG"):
                            print(f"    consumers: {r['consumers']}; held by mid: {r['held']}; runs: " + ", ".join(
                                f"{mid}: {owner} from {1000 * (at - m.t0):.0f} ms" for mid, (owner, at) in r["runs"].items()))
            if total_outside:
                status = 1
            if any(m.moved < m.students or m.pictured < m.students for m in moves):
                status = status or 1
            for w in windows:
                busy = w.server_cpu + w.bench_cpu + w.other_cpu
                if busy > 0.85 * cores:
                    print(f"  warning: {w.name}: the machine was {100 * busy / cores:.0f}% busy (server "
                          f"{w.server_cpu:.2f}, bench clients {w.bench_cpu:.2f}, other {w.other_cpu:.2f} CPU-s/s of "
                          f"{cores}): the server waited for a CPU, its CPU per packet is still its own.")
    finally:
        for pool in pools:
            with contextlib.suppress(Exception):
                await pool.stop()
        if teacher is not None:
            await teacher.close()
        await teacher_media.close()
        shutil.rmtree(data, ignore_errors=True)
    return status


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.groups", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=8, help="breakout groups (default 8)")
    parser.add_argument("--size", type=int, default=5, help="students per group (default 5)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window in groups (default 20)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="start/end rounds (default 2: the first creates the students' send transports)")
    parser.add_argument("--via", choices=("ws", "rest"), default="ws",
                        help="the teacher starts and ends groups over the WebSocket (default) or REST")
    parser.add_argument("--workers", default="auto",
                        help="students in this many worker processes, 0 for this process (default auto: 2, "
                             "or 1 for one group)")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling time before each window (default 3)")
    parser.add_argument("--baseline", type=float, default=5.0,
                        help="seconds measured in the main room before the groups (default 5)")
    parser.add_argument("--move-timeout", type=float, default=30.0,
                        help="seconds a move may take before the students still waiting are reported (default 30)")
    parser.add_argument("--join-timeout", type=float, default=60.0)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--bitrate", type=int, default=300_000, help="VP8 target bit/s per group (default 300000)")
    parser.add_argument("--recording", choices=("auto", "off"), default="off",
                        help="the lesson's recording mode (default off: forwarding alone)")
    parser.add_argument("--server-log-level", default="WARNING")
    args = parser.parse_args(argv)
    if args.groups < 1 or args.size < 2 or args.seconds <= 0 or args.rounds < 1:
        parser.error("--groups >= 1, --size >= 2, --seconds > 0, --rounds >= 1")
    args.workers_reason = "--workers"
    if args.workers == "auto":
        # One process cannot carry 40 publishers and their receivers (its encoders fall behind --fps,
        # even on 2 cores): two can, and the teacher's process stays light.
        args.workers, args.workers_reason = min(2, args.groups), "auto"
    else:
        try:
            args.workers = int(args.workers)
        except ValueError:
            parser.error("--workers takes a number or auto")
        if args.workers < 0:
            parser.error("--workers must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    import uvloop

    return uvloop.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

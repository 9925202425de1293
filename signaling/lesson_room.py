"""The live room of one lesson: who is in it, what they publish, who receives what, and who may
do what. One task owns it (signaling/actor.py): every change is an action run by that task, and
slow work (SDP negotiation, the attendance log, the recorder, closing peer connections) runs
outside and comes back as an action that re-checks what it depends on. Every change is
announced to the participants through their outboxes."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiortc import RTCIceServer

from attendance.log import AttendanceLog
from recorder.lesson_recorder import LessonRecorder
from sfu.errors import SfuError
from sfu.producer import Producer
from sfu.router import Router
from sfu.transport import WebRtcTransport
from signaling.actor import Actor, ActorStopped
from signaling.admission import Admission, LessonInfo
from signaling.errors import BadSdp, Conflict, Forbidden, NotFound, SignalingError
from signaling.messages import KIND_OF_SOURCE, SOURCES, TrackSpec
from signaling.breakouts import MAIN, Breakouts
from signaling.participant import Outbox, Participant
from signaling.plan import STAGE, Feed, Seat, diff, receives, stage
from signaling.sdp import media_sections
from storage.guard import ensure_free

log = logging.getLogger(__name__)
ATTENDANCE_VIA = {"ws": "browser", "whip": "whip", "whep": "whep"}
ATTENDANCE_REASON = {"left": "left", "disconnected": "disconnected", "replaced": "disconnected",
                     "room_closed": "server_restart", "removed": "removed", "lesson_ended": "lesson_ended",
                     "too_slow": "disconnected"}
"""Why a participant left, as the attendance log says it. A replaced session is a reconnection:
its presence goes on in the session that replaced it."""


class LessonClosed(SignalingError):
    """The room closed while the caller was on its way in: open the lesson's room again."""

    code = "lesson_closed"


@dataclass(frozen=True)
class MediaConfig:
    announced: tuple[str, ...] = ()
    ice_servers: tuple[RTCIceServer, ...] = ()
    peer_silence: timedelta = timedelta(seconds=30)
    """A WHIP or WHEP peer that sends no RTCP for this long has vanished and leaves."""
    connect_timeout: timedelta = timedelta(seconds=30)
    """A WHIP or WHEP peer whose media has not connected this long after its answer never will."""

    def ice_servers_json(self) -> list[dict[str, Any]]:
        out = []
        for server in self.ice_servers:
            entry: dict[str, Any] = {"urls": server.urls if isinstance(server.urls, list) else [server.urls]}
            if server.username:
                entry["username"] = server.username
                entry["credential"] = server.credential
            out.append(entry)
        return out


class LessonRoom:
    def __init__(self, lesson: LessonInfo, media: MediaConfig, attendance: AttendanceLog | None = None,
                 recorder: LessonRecorder | None = None,
                 on_closed: Callable[[LessonRoom], None] | None = None) -> None:
        self.lesson = lesson
        self.media = media
        self.attendance = attendance
        self.recorder = recorder
        self._on_closed = on_closed
        self.recording_wanted = recorder is not None and lesson.recording_mode == "auto"
        """The lesson is to be recorded (auto from the start; manual once the teacher starts it). It
        records while this holds, its teacher is present and the lesson has not ended."""
        self.ended = False
        self.participants: dict[str, Participant] = {}
        self.resources: dict[str, str] = {}
        """WHIP/WHEP resource id (the session's URL) -> participant id."""
        self.actor = Actor(f"lesson-{lesson.id}")
        self.room = Router(f"lesson-{lesson.id}", on_active_speaker=self._active_speaker)
        """The lesson's media: producers, who consumes them, the active speaker."""
        self.closed = False
        """No more joins: set by the action that decides to close."""
        self.finished = asyncio.get_running_loop().create_future()
        """Done when the room has closed everything it held."""
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        """Work the room's close may cut short (offers, the peer watch)."""
        self._pending: set[asyncio.Task[Any]] = set()
        """Work the room's close waits for (attendance writes, leaves)."""
        self._transports: set[WebRtcTransport] = set()
        """Every transport made here, so closing the room closes them even if a leave was cut short."""
        self._recording_lock = asyncio.Lock()
        self._spoke: dict[str, float] = {}
        """When each participant last was the active speaker (the loop's clock)."""
        self.breakouts = Breakouts(self)
        """The lesson's breakout groups (none until the teacher starts them)."""
        self._spawn(self._watch_peers())
        self._spawn(self._end_at_schedule())

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    # --- membership ------------------------------------------------------------------------------
    async def enter(self, admission: Admission, via: str, outbox: Outbox | None = None,
                    auto_subscribe: bool = True) -> Participant:
        """Add a participant (an action). The user's older page session, if any, is replaced."""

        def admit() -> tuple[Participant, list[Participant]]:
            if self.closed:
                raise LessonClosed("the lesson's room has just closed")
            replaced = self.same_user_sessions(admission.user_id, "ws") if via == "ws" else []
            participant = Participant(self._next("p"), admission.user_id, admission.full_name, admission.role, via,
                                      outbox, auto_subscribe and via == "ws")
            participant.room = self.assigned_room(participant)
            if participant.room != MAIN:
                self.on_room_entered(participant)
            self.participants[participant.id] = participant  # first, so the room is never empty between
            for older in replaced:
                older.send({"type": "bye", "reason": "replaced"})
                self._remove(older, "replaced")
            self.broadcast({"type": "participant_joined", "participant": participant.describe()}, skip=participant,
                           room=participant.room)
            if self.breakouts.running:
                self.breakouts.tell_staff()
            return participant, replaced

        try:
            participant, replaced = await self.actor.call(admit)
        except ActorStopped:
            raise LessonClosed("the lesson's room has just closed") from None
        for older in replaced:
            # The older session's presence is put aside first, so this one resumes it.
            await asyncio.shield(self._write_leave(older, "replaced"))
            self._finish(self._after_leave(older, "replaced"))
        return participant

    async def name_session(self, participant: Participant, resource: str) -> str:
        """Give a WHIP/WHEP participant the id in its session's URL."""

        def name() -> str:
            if participant.left:
                raise NotFound("the session ended before it was answered")
            participant.resource = resource
            self.resources[resource] = participant.id
            return resource

        return await self._call(name)

    @property
    def recording(self) -> bool:
        return self.recorder is not None and self.recorder.active

    async def set_recording(self, actor: Participant | None, active: bool) -> dict[str, Any]:
        """Whether the lesson is to be recorded (the teacher's command; `actor` None is the school's
        or the teacher's request over HTTP). It records only while the teacher is present."""
        if actor is not None and actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may start or stop the recording")
        if self.recorder is None or (active and self.lesson.recording_mode == "off"):
            raise Forbidden("recording is turned off for this lesson")

        def want() -> None:
            if active and self.ended:
                raise Conflict("the lesson has ended")
            self.recording_wanted = active

        await self._call(want)
        await self._follow_recording()
        return {"recording": self.recording}

    def _records_now(self) -> bool:
        """What the recorder should be doing now (read in an action)."""
        teacher_here = any(p.user_id == self.lesson.teacher_id for p in self.participants.values())
        return self.recording_wanted and teacher_here and not self.ended and not self.closed

    async def _follow_recording(self) -> None:
        """Bring the recorder in line with the lesson: running while it should record, paused
        (each pause ends a segment) while the teacher is away, stopped when the lesson ends. Every
        participant is told the truth whenever it changes."""
        if self.recorder is None:
            return
        async with self._recording_lock:  # one change of the recording at a time, in order
            try:
                should, producers = await self._call(
                    lambda: (self._records_now(), list(self.room.producers.values())))
            except LessonClosed:
                return
            if should == self.recorder.active:
                return
            if should:
                await self.recorder.start(producers)
            else:
                await self.recorder.stop()
        self.actor.post(lambda: self.broadcast(self._recording_message()))

    def _recording_message(self) -> dict[str, Any]:
        return {"type": "recording", "active": self.recording, "wanted": self.recording_wanted,
                "record_students": self.lesson.record_students}

    def _recording_may_change(self) -> None:
        """After a change of who is here (in an action): follow it outside."""
        if self.recorder is not None and self._records_now() != self.recorder.active:
            self._finish(self._follow_recording())

    async def _end_at_schedule(self) -> None:
        """At the lesson's scheduled end the recording stops (the room stays open for who is in it)."""
        delay = (self.lesson.ends_at - datetime.now(UTC)).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)

        def end() -> None:
            self.ended = True
            self._recording_may_change()

        self.actor.post(end)

    async def attend(self, participant: Participant, at: datetime | None = None) -> None:
        """Write the participant's join to the attendance log (durable when this returns), unless
        they left meanwhile; a leave that overtook the write is written right after it. The
        teacher's arrival starts the recording, before the teacher hears they joined."""
        if self.attendance is not None and participant.presence is None and not participant.left:
            presence = await self.attendance.join(
                school_id=self.lesson.school_id, lesson_id=self.lesson.id, user_id=participant.user_id,
                role=participant.role, via=ATTENDANCE_VIA[participant.via], room=self.room_name(participant.room))
            participant.presence = presence
            if participant.left:  # left while the join was being written: the leave follows it
                await self._write_leave(participant, participant.left_reason or "left")
        if participant.user_id == self.lesson.teacher_id:
            await self._follow_recording()

    async def welcome(self, participant: Participant) -> dict[str, Any]:
        return await self._call(lambda: self._welcome(participant))

    def _welcome(self, participant: Participant) -> dict[str, Any]:
        """The `joined` reply: the lesson as this participant finds it. Someone joining straight
        into a group is then sent its `room` event, as after a move."""
        if participant.left:
            raise NotFound("you are no longer in the lesson")
        if participant.room != MAIN:
            self.actor.post(lambda: participant.send(self.room_event(participant)))
        return {
            "type": "joined",
            "participant_id": participant.id,
            "role": participant.role,
            "lesson": {"id": self.lesson.id, "title": self.lesson.title, "class_name": self.lesson.class_name,
                       "teacher_id": self.lesson.teacher_id},
            "permissions": dict(participant.permissions),
            "participants": [p.describe() for p in self.participants.values() if self.sees(participant, p)],
            "producers": self.producers_seen_by(participant),
            "room": participant.room,
            "ice_servers": self.media.ice_servers_json(),
            "recording": {"active": self.recording, "wanted": self.recording_wanted,
                          "mode": self.lesson.recording_mode, "record_students": self.lesson.record_students},
        }

    def room_event(self, participant: Participant) -> dict[str, Any]:
        """The `room` event: the room as this participant finds it (after a move, or on joining
        straight into a group)."""
        group = self.breakouts.groups.get(participant.room)
        return {"type": "room", "room": participant.room, "name": group.name if group else None,
                "ends_at": self.breakouts.ends_at.isoformat() if group and self.breakouts.ends_at else None,
                "allow": dict(self.breakouts.allow) if group else None,
                "participants": [p.describe() for p in self.participants.values() if self.sees(participant, p)],
                "producers": self.producers_seen_by(participant)}

    def producers_seen_by(self, viewer: Participant) -> list[dict[str, Any]]:
        out = []
        for producer in self.room.producers.values():
            owner = self.participants.get(producer.app_data.get("participant_id", ""))
            if owner is not None and self.sees(viewer, owner):
                out.append(self._describe_producer(producer))
        return out

    def same_user_sessions(self, user_id: int, via: str) -> list[Participant]:
        return [p for p in self.participants.values() if p.user_id == user_id and p.via == via]

    async def leave(self, participant: Participant, reason: str, at: datetime | None = None) -> None:
        """Take the participant out (an action), then write the attendance leave and close their
        peer connections outside it. Safe to call twice and from any task; a caller cancelled
        meanwhile (the server dropping a request) does not cut the leave short."""
        await asyncio.shield(self._leave(participant, reason, at))

    async def _leave(self, participant: Participant, reason: str, at: datetime | None) -> None:
        try:
            removed = await self._call(lambda: self._remove(participant, reason, at))
        except LessonClosed:
            removed = False  # the room's close takes everyone out
        if removed:
            await self._after_leave(participant, reason)

    def _remove(self, participant: Participant, reason: str, at: datetime | None = None) -> bool:
        if participant.left:
            return False
        participant.left = True
        participant.left_reason = reason
        participant.left_at = at
        self.participants.pop(participant.id, None)
        if participant.resource is not None:
            self.resources.pop(participant.resource, None)
        for producer in list(participant.producers.values()):
            producer.close()  # the close cascade releases every consumer of it
        participant.producers.clear()
        participant.mids.clear()
        for consumer in list(participant.consumers.values()):
            consumer.close()
        participant.consumers.clear()
        self.broadcast({"type": "participant_left", "participant_id": participant.id, "reason": reason},
                       room=participant.room)
        self.apply_plan()
        self.on_left(participant)
        if not self.participants and not self.closed:
            self._begin_close()
        elif participant.user_id == self.lesson.teacher_id:
            self._recording_may_change()  # the teacher gone: the recording pauses
        return True

    async def _after_leave(self, participant: Participant, reason: str) -> None:
        """What a leave does outside the action: the log, then the peer connections."""
        try:
            await self._write_leave(participant, reason)
        finally:
            transports = [t for t in (participant.send_transport, participant.recv_transport) if t is not None]
            await asyncio.gather(*(self._close_transport(t) for t in transports))

    async def _write_leave(self, participant: Participant, reason: str) -> None:
        presence, participant.presence = participant.presence, None
        if self.attendance is not None and presence is not None:
            await self.attendance.leave(presence, ATTENDANCE_REASON.get(reason, "left"), participant.left_at)

    async def _close_transport(self, transport: WebRtcTransport) -> None:
        self._transports.discard(transport)
        await transport.close()

    @property
    def empty(self) -> bool:
        return not self.participants

    # --- rooms -----------------------------------------------------------------------------------
    def assigned_room(self, participant: Participant) -> str:
        """Where someone arriving goes: a student assigned to a running group, into it."""
        return self.breakouts.assigned(participant.user_id) if participant.role == "student" else MAIN

    def room_name(self, room: str) -> str:
        """As the attendance log names it: main, or the group's name."""
        return self.breakouts.name_of(room)

    def on_room_entered(self, participant: Participant) -> None:
        self.breakouts.entered(participant)

    def on_left(self, participant: Participant) -> None:
        if self.breakouts.running:
            self.breakouts.tell_staff()

    def spoke_at(self, participant_id: str) -> float | None:
        return self._spoke.get(participant_id)

    def move(self, participant: Participant, room: str) -> None:
        """Put a participant in another room (an action): what they and the others receive changes,
        their WebSocket, transports and WHEP m-lines stay. The attendance log closes their
        interval in the old room (moved) and opens one in the new."""
        old = participant.room
        if old == room or participant.left:
            return
        mine = [self._describe_producer(p) for p in participant.producers.values()]
        for other in list(self.participants.values()):
            if other is not participant and not other.staff and other.room == old:
                for produced in mine:
                    other.send({"type": "producer_removed", "producer_id": produced["producer_id"],
                                "participant_id": participant.id})
                other.send({"type": "participant_left", "participant_id": participant.id, "reason": "moved"})
        participant.room = room
        before = dict(participant.permissions)
        if room == MAIN:
            self.breakouts.returned(participant)
        else:
            self.breakouts.entered(participant)
        for source, producer in list(participant.producers.items()):
            if not participant.permissions.get(source):
                producer.close()
        mine = [self._describe_producer(p) for p in participant.producers.values()]
        for other in list(self.participants.values()):
            if other is participant:
                continue
            if other.staff:
                other.send({"type": "participant_updated", "participant": participant.describe()})
            elif other.room == room:
                other.send({"type": "participant_joined", "participant": participant.describe()})
                for produced in mine:
                    other.send({"type": "producer_added", "producer": produced})
        if participant.permissions != before:
            participant.send({"type": "permissions", "permissions": dict(participant.permissions)})
        participant.send(self.room_event(participant))
        self.apply_plan()
        if participant.presence is not None:
            self._finish(self._move_presence(participant, self.room_name(room)))

    async def _move_presence(self, participant: Participant, room_name: str) -> None:
        async with participant.presence_lock:  # moves of one participant are recorded in order
            presence = participant.presence
            if self.attendance is None or presence is None or participant.left:
                return
            await self.attendance.leave(presence, "moved")
            participant.presence = await self.attendance.join(
                school_id=self.lesson.school_id, lesson_id=self.lesson.id, user_id=participant.user_id,
                role=participant.role, via=ATTENDANCE_VIA[participant.via], room=room_name)
            if participant.left:  # left while the move was being written
                await self._write_leave(participant, participant.left_reason or "left")

    # --- lifetime --------------------------------------------------------------------------------
    def _begin_close(self) -> None:
        """Decided in an action: no join gets in from now on; the rest happens outside."""
        self.closed = True
        if self._on_closed is not None:
            self._on_closed(self)
        task = asyncio.ensure_future(self._finish_close())
        task.add_done_callback(_log_failure)

    async def close(self) -> None:
        """Close the room whatever is in it (the server is stopping)."""

        def everyone_out() -> list[Participant]:
            if not self.closed:
                self._begin_close()
            leaving = [p for p in self.participants.values()]
            for participant in leaving:
                participant.send({"type": "bye", "reason": "room_closed"})
                self._remove(participant, "room_closed")
            return leaving

        try:
            leaving = await self.actor.call(everyone_out)
        except ActorStopped:
            leaving = []
        await asyncio.gather(*(self._after_leave(p, "room_closed") for p in leaving), return_exceptions=True)
        await asyncio.shield(self.finished)

    async def _finish_close(self) -> None:
        try:
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.breakouts.close()
            # Attendance writes and leaves already under way finish: nothing half-recorded.
            while self._pending:
                await asyncio.gather(*list(self._pending), return_exceptions=True)
            await self.actor.stop()  # what was queued runs; nothing new is accepted
            if self.recorder is not None:
                async with self._recording_lock:
                    await self.recorder.stop()
            await self.room.close()
            await asyncio.gather(*(self._close_transport(t) for t in list(self._transports)),
                                 return_exceptions=True)
        finally:
            if not self.finished.done():
                self.finished.set_result(None)

    async def act(self, action: Callable[[], Any]) -> Any:
        """Run `action` as an action of the lesson's owner task (for feature modules)."""
        return await self._call(action)

    async def _call(self, action: Callable[[], Any]) -> Any:
        try:
            return await self.actor.call(action)
        except ActorStopped:
            raise LessonClosed("the lesson's room has closed") from None

    def broadcast(self, message: dict[str, Any], skip: Participant | None = None, room: str | None = None) -> None:
        """To everyone, or (`room`) to that room's participants and the lesson's staff (the teacher
        and observers see every room)."""
        for participant in list(self.participants.values()):
            if participant is not skip and (room is None or participant.room == room or participant.staff):
                participant.send(message)

    def sees(self, viewer: Participant, other: Participant) -> bool:
        return viewer.staff or other.room == viewer.room

    # --- transports ------------------------------------------------------------------------------
    def _transport(self, name: str, participant: Participant) -> WebRtcTransport:
        transport = WebRtcTransport(self._next(name), announced=self.media.announced, ice_servers=self.media.ice_servers,
                                    on_state=lambda t, state: self.actor.post(
                                        lambda: self._transport_state(participant, t, state)))
        self._transports.add(transport)
        return transport

    def _transport_state(self, participant: Participant, transport: WebRtcTransport, state: str) -> None:
        """A WHIP or WHEP peer's connection is its presence: it begins when media connects and
        ends when the connection fails or closes (a page's presence is its WebSocket)."""
        if participant.left or participant.via == "ws" or transport.closed:
            return
        if state == "connected":
            participant.connected = True
            self._finish(self.attend(participant))
        elif state in ("failed", "closed"):
            self._vanished(participant, transport)

    def _vanished(self, participant: Participant, transport: WebRtcTransport) -> None:
        silent = transport.silent_for()
        at = datetime.now(UTC) - timedelta(seconds=silent) if silent is not None else None
        if self._remove(participant, "disconnected", at):
            log.info("lesson %s: %s peer %s (user %s) vanished", self.lesson.id, participant.via, participant.id,
                     participant.user_id)
            self._finish(self._after_leave(participant, "disconnected"))

    async def _watch_peers(self) -> None:
        """WHIP and WHEP peers that never connect, or fall silent, leave."""
        interval = max(0.2, min(5.0, self.media.peer_silence.total_seconds() / 3,
                                self.media.connect_timeout.total_seconds() / 3))
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)

            def check() -> None:
                now = loop.time()
                for participant in list(self.participants.values()):
                    transport = participant.send_transport or participant.recv_transport
                    if participant.via == "ws" or transport is None:
                        continue
                    if not participant.connected:
                        if now - participant.created_at > self.media.connect_timeout.total_seconds():
                            self._vanished(participant, transport)
                        continue
                    silent = transport.silent_for()
                    if silent is None or silent > self.media.peer_silence.total_seconds():
                        self._vanished(participant, transport)

            self.actor.post(check)

    # --- publishing ------------------------------------------------------------------------------
    async def publish(self, participant: Participant, sdp: str, tracks: Sequence[TrackSpec]) -> dict[str, Any]:
        """Apply the client's send-transport offer. Refusals come before anything changes, and a
        permission revoked while the offer was negotiated wins: that source gets no producer."""
        wanted: dict[str, str] = {}
        for track in tracks:
            if track.source in wanted.values():
                raise Conflict(f"source {track.source} listed twice")
            if track.mid in wanted:
                raise BadSdp(f"mid {track.mid} listed twice")
            wanted[track.mid] = track.source

        def check() -> WebRtcTransport:
            if participant.left:
                raise NotFound("you are no longer in the lesson")
            for mid, source in wanted.items():
                if not participant.permissions.get(source):
                    raise Forbidden(_refusal(participant.role, source))
                owner = participant.mids.get(mid)
                if source in participant.producers and owner != source:
                    raise Conflict(f"source {source} is already published")
            if participant.send_transport is None:
                participant.send_transport = self._transport("ts", participant)
            return participant.send_transport

        async with participant.lock:  # one negotiation of this connection's send transport at a time
            transport = await self._call(check)
            ensure_free("negotiation")
            try:
                answer, incoming = await transport.answer(sdp)
            except SfuError as exc:
                raise BadSdp(str(exc)) from exc
            sending = {t.mid: t for t in incoming if t.mid is not None}
            return await self._call(lambda: self._apply_publish(participant, transport, wanted, sending, answer))

    def _apply_publish(self, participant: Participant, transport: WebRtcTransport, wanted: dict[str, str],
                       sending: dict[str, Any], answer: str) -> dict[str, Any]:
        if participant.left or transport.closed:
            raise NotFound("you are no longer in the lesson")
        # Tracks no longer listed, no longer sending, or no longer allowed: their producers close.
        for mid, source in list(participant.mids.items()):
            if wanted.get(mid) != source or mid not in sending or not participant.permissions.get(source):
                producer = participant.producers.get(source)
                participant.mids.pop(mid, None)
                if producer is not None:
                    producer.close()
        for mid, source in wanted.items():
            transceiver = sending.get(mid)
            if transceiver is None or mid in participant.mids or not participant.permissions.get(source):
                continue
            if transceiver.kind != KIND_OF_SOURCE[source]:
                raise BadSdp(f"mid {mid} is {transceiver.kind}, but {source} is {KIND_OF_SOURCE[source]}")
            try:
                producer = transport.produce(
                    self._next("m"), transceiver,
                    {"participant_id": participant.id, "source": source, "user_id": participant.user_id,
                     "role": participant.role})
            except SfuError as exc:
                raise BadSdp(str(exc)) from exc
            participant.mids[mid] = source
            participant.producers[source] = producer
            self._add_producer(participant, producer)
        return {"sdp": answer,
                "producers": [{"mid": mid, "producer_id": participant.producers[src].id, "source": src}
                              for mid, src in participant.mids.items() if src in participant.producers]}

    def _add_producer(self, participant: Participant, producer: Producer) -> None:
        self.room.add_producer(producer)
        if self.recorder is not None and self.recorder.active:
            self._spawn(self.recorder.producer_added(producer))
        producer.on_close.append(self._producer_closed)
        self.broadcast({"type": "producer_added", "producer": self._describe_producer(producer)}, room=participant.room)
        self.broadcast({"type": "participant_updated", "participant": participant.describe()}, room=participant.room)
        self.apply_plan()

    def _producer_closed(self, producer: Producer) -> None:
        """The close cascade: the owner forgets the producer and its mid, subscribers release it."""
        source = producer.app_data.get("source")
        owner = self.participants.get(producer.app_data.get("participant_id", ""))
        if owner is not None and owner.producers.get(source) is producer:
            owner.producers.pop(source, None)
            owner.mids = {m: s for m, s in owner.mids.items() if s != source}
        self.apply_plan()
        if not self.closed:
            where = owner.room if owner is not None else None
            self.broadcast({"type": "producer_removed", "producer_id": producer.id,
                            "participant_id": producer.app_data.get("participant_id")}, room=where)
            if owner is not None:
                self.broadcast({"type": "participant_updated", "participant": owner.describe()}, room=owner.room)

    async def mute(self, participant: Participant, source: str, muted: bool) -> dict[str, Any]:
        def apply() -> dict[str, Any]:
            producer = participant.producers.get(source)
            if producer is None:
                raise NotFound(f"you do not publish {source}")
            if muted:
                producer.pause()
            else:
                producer.resume()
            self.broadcast({"type": "producer_muted", "producer_id": producer.id, "muted": muted,
                            "participant_id": participant.id, "source": source}, room=participant.room)
            return {"producer_id": producer.id, "muted": muted}

        return await self._call(apply)

    async def permit(self, actor: Participant, target_id: str, source: str, allowed: bool) -> dict[str, Any]:
        return await self._call(lambda: self._permit(actor, target_id, source, allowed))

    def _permit(self, actor: Participant, target_id: str, source: str, allowed: bool) -> dict[str, Any]:
        if actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may allow or revoke a student's microphone, camera or screen")
        target = self.participants.get(target_id)
        if target is None:
            raise NotFound(f"participant {target_id} is not in the lesson")
        if target.role != "student":
            raise Forbidden("permissions are granted to students only")
        target.permissions[source] = allowed
        if source == "screen":
            target.permissions["screen-audio"] = allowed
        if not allowed:
            for revoked in [s for s in SOURCES if not target.permissions.get(s)]:
                producer = target.producers.get(revoked)
                if producer is not None:
                    producer.close()  # the cascade forgets its mid too, so a later grant starts clean
        target.send({"type": "permissions", "permissions": dict(target.permissions)})
        self.broadcast({"type": "participant_updated", "participant": target.describe()}, room=target.room)
        return {"participant_id": target.id, "permissions": dict(target.permissions)}

    # --- receiving -------------------------------------------------------------------------------
    def _seat(self, participant: Participant) -> Seat:
        chosen = None if participant.auto_subscribe else frozenset(participant.chosen)
        return Seat(participant.id, participant.room, participant.via, participant.listening, chosen,
                    frozenset(participant.declined), tuple(kind for kind, _ in participant.slots),
                    participant.overview)

    def _feeds(self) -> list[Feed]:
        feeds = []
        for producer in self.room.producers.values():
            owner = self.participants.get(producer.app_data.get("participant_id", ""))
            if owner is None or producer.closed:
                continue
            feeds.append(Feed(producer.id, owner.id, owner.room, producer.app_data.get("source", ""), producer.kind,
                              producer.app_data.get("user_id") == self.lesson.teacher_id,
                              self._spoke.get(owner.id, 0.0), owner.speaking_to))
        return feeds

    def apply_plan(self) -> None:
        """Make every connection receive what the lesson's state says (an action): the plan
        (signaling/plan.py) diffed against the consumers that exist."""
        if self.closed:
            return
        feeds = self._feeds()
        page = [p for p in self.participants.values() if p.via != "whep" and not p.left]
        wanted = receives([self._seat(p) for p in page], feeds)
        changes = diff(wanted, {p.id: p.consumers.keys() for p in page})
        for participant in page:
            change = changes.get(participant.id)
            if change is None:
                continue
            for producer_id in change.drop:
                consumer = participant.consumers.pop(producer_id)
                if participant.recv_transport is not None:
                    participant.recv_transport.release(consumer)
            for producer_id in sorted(change.add):
                self._consume(participant, self.room.producers[producer_id])
            self._renegotiate(participant)
        for viewer in self.participants.values():
            if viewer.via == "whep" and viewer.slots and viewer.recv_transport is not None and not viewer.left:
                self._feed_stage(viewer, stage(self._seat(viewer), feeds))

    def _consume(self, participant: Participant, producer: Producer) -> None:
        if producer.id in participant.consumers or producer.closed:
            return
        if participant.recv_transport is None:
            participant.recv_transport = self._transport("tr", participant)
        participant.consumers[producer.id] = self.room.consume(
            participant.recv_transport, self._next("c"), producer.id, {"participant_id": participant.id})

    async def subscribe(self, participant: Participant, producer_ids: Sequence[str]) -> None:
        """Receive these producers too (within reach: the participant's room)."""

        def apply() -> None:
            missing = [pid for pid in producer_ids if pid not in self.room.producers]
            if missing:
                raise NotFound(f"no such producer: {', '.join(missing)}")
            if participant.auto_subscribe:
                participant.declined -= set(producer_ids)
            else:
                participant.chosen |= set(producer_ids)
            self.apply_plan()

        await self._call(apply)

    async def unsubscribe(self, participant: Participant, producer_ids: Sequence[str]) -> None:
        def apply() -> None:
            if participant.auto_subscribe:
                participant.declined |= set(producer_ids)
            else:
                participant.chosen -= set(producer_ids)
            self.apply_plan()

        await self._call(apply)

    async def subscribe_all(self, participant: Participant) -> None:
        await self._call(self.apply_plan)

    async def request_keyframe(self, participant: Participant, producer_id: str) -> None:
        def apply() -> None:
            if producer_id not in participant.consumers:
                raise NotFound(f"you do not receive {producer_id}")
            participant.consumers[producer_id].producer.request_keyframe()

        await self._call(apply)

    def _renegotiate(self, participant: Participant) -> None:
        """Offer the receive transport's current consumers; one offer at a time."""
        if participant.left or participant.via != "ws" or participant.recv_transport is None:
            return
        if participant.awaiting_answer:
            participant.renegotiate_again = True
            return
        participant.awaiting_answer = True
        self._spawn(self._offer(participant, participant.recv_transport))

    async def _offer(self, participant: Participant, transport: WebRtcTransport) -> None:
        try:
            sdp = await transport.offer()
        except SfuError:
            self.actor.post(lambda: setattr(participant, "awaiting_answer", False))
            return

        def send() -> None:
            if participant.left:
                return
            participant.revision += 1
            consumers = []
            for producer_id, consumer in participant.consumers.items():
                producer = self.room.producers.get(producer_id)
                if producer is None:
                    continue  # closed meanwhile: the next offer drops its m-line
                consumers.append({"mid": consumer.transceiver.mid, "consumer_id": consumer.id,
                                  "producer_id": producer_id, "participant_id": producer.app_data.get("participant_id"),
                                  "source": producer.app_data.get("source"), "kind": producer.kind})
            participant.send({"type": "offer", "revision": participant.revision, "sdp": sdp, "consumers": consumers})

        self.actor.post(send)

    async def answer(self, participant: Participant, revision: int, sdp: str) -> None:
        if not participant.awaiting_answer or revision != participant.revision or participant.recv_transport is None:
            raise Conflict(f"no offer with revision {revision} is waiting for an answer")
        try:
            await participant.recv_transport.accept_answer(sdp)
        except SfuError as exc:
            raise BadSdp(str(exc)) from exc

        def settled() -> None:
            participant.awaiting_answer = False
            if participant.renegotiate_again:
                participant.renegotiate_again = False
                self._renegotiate(participant)

        await self._call(settled)

    # --- WHEP ------------------------------------------------------------------------------------
    def _feed_stage(self, viewer: Participant, planned: tuple[str | None, ...]) -> None:
        """Put the planned producer on each of a WHEP player's m-lines (its transceivers stay)."""
        assert viewer.recv_transport is not None
        on_slot = {id(c.transceiver): pid for pid, c in viewer.consumers.items()}
        for (_kind, transceiver), producer_id in zip(viewer.slots, planned, strict=True):
            current = on_slot.get(id(transceiver))
            if current == producer_id:
                continue
            if current is not None:
                viewer.consumers.pop(current).close()
            if producer_id is not None:
                viewer.consumers[producer_id] = self.room.consume(
                    viewer.recv_transport, self._next("c"), producer_id, {"participant_id": viewer.id},
                    transceiver=transceiver)

    async def watch(self, viewer: Participant, offer_sdp: str) -> str:
        """Answer a WHEP viewer's recvonly offer with the stage of its room (signaling/plan.py)."""
        sections = [(mid, kind) for mid, kind in media_sections(offer_sdp) if kind in STAGE]
        if not sections:
            raise BadSdp("the offer has no audio or video section to receive on")
        sending = {mid: True for mid, _ in sections}

        def transport() -> WebRtcTransport:
            if viewer.left:
                raise NotFound("you are no longer in the lesson")
            viewer.recv_transport = self._transport("tw", viewer)
            return viewer.recv_transport

        recv = await self._call(transport)
        ensure_free("negotiation")
        try:
            answer, _ = await recv.answer(offer_sdp, sending=sending)
        except SfuError as exc:
            raise BadSdp(str(exc)) from exc

        def attach() -> str:
            if viewer.left or recv.closed:
                raise NotFound("you are no longer in the lesson")
            by_mid = {t.mid: t for t in recv.pc.getTransceivers()}
            viewer.slots = [(kind, by_mid[mid]) for mid, kind in sections if mid in by_mid]
            self.apply_plan()
            return answer

        return await self._call(attach)

    # --- events ----------------------------------------------------------------------------------
    def _active_speaker(self, producer: Producer | None) -> None:
        participant_id = producer.app_data.get("participant_id") if producer else None

        def spoke() -> None:
            speaker = self.participants.get(participant_id or "")
            if speaker is not None:
                self._spoke[speaker.id] = asyncio.get_running_loop().time()
                if any((p.via == "whep" and p.room == speaker.room) or p.overview for p in self.participants.values()):
                    self.apply_plan()  # a group's players and the teacher's overview follow the latest speaker
            self.broadcast({"type": "active_speaker", "participant_id": participant_id},
                           room=speaker.room if speaker is not None else None)

        self.actor.post(spoke)

    def _describe_producer(self, producer: Producer) -> dict[str, Any]:
        return {"producer_id": producer.id, "participant_id": producer.app_data.get("participant_id"),
                "source": producer.app_data.get("source"), "kind": producer.kind, "muted": producer.paused,
                "codec": producer.codec.mimeType}

    def _spawn(self, coro: Any) -> None:
        """Background work the room's close may cancel."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    def _finish(self, coro: Any) -> None:
        """Background work that must finish (the room's close waits for it)."""
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("room task failed", exc_info=task.exception())


def _refusal(role: str, source: str) -> str:
    if role == "observer":
        return "observers receive only; they may not publish"
    names = {"mic": "use the microphone", "camera": "turn on the camera", "screen": "share the screen",
             "screen-audio": "share the screen's sound"}
    return f"students may not {names[source]} unless the teacher allows it"

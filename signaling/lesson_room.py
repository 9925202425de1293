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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiortc import RTCIceServer

from attendance.log import AttendanceLog
from recorder.lesson_recorder import LessonRecorder
from sfu.producer import Producer
from sfu.router import Router
from sfu.transport import WebRtcTransport
from storage.database import Database
from signaling.actor import Actor, ActorStopped
from signaling.admission import Admission, LessonInfo
from signaling.errors import Forbidden, LessonClosed, NotFound
from signaling.breakouts import MAIN, Breakouts
from signaling.features import LessonFeature, lesson_features
from signaling.participant import Outbox, Participant
from signaling.lesson_peers import PeerWatch
from signaling.lesson_publishing import Publishing
from signaling.lesson_receiving import Receiving
from signaling.lesson_recording import LessonRecording

log = logging.getLogger(__name__)
ATTENDANCE_VIA = {"ws": "browser", "whip": "whip", "whep": "whep"}
ATTENDANCE_REASON = {"left": "left", "disconnected": "disconnected", "replaced": "disconnected",
                     "room_closed": "server_restart", "removed": "removed", "lesson_ended": "lesson_ended",
                     "too_slow": "disconnected"}
"""Why a participant left, as the attendance log says it. A replaced session is a reconnection:
its presence goes on in the session that replaced it."""


@dataclass(frozen=True)
class MediaConfig:
    announced: tuple[str, ...] = ()
    ice_servers: tuple[RTCIceServer, ...] = ()
    ice_servers_for: Callable[[int], tuple[RTCIceServer, ...]] | None = None
    """The ICE servers for one user, TURN credentials made afresh (None: `ice_servers` as they are)."""
    peer_silence: timedelta = timedelta(seconds=30)
    """A WHIP or WHEP peer that sends no RTCP for this long has vanished and leaves."""
    connect_timeout: timedelta = timedelta(seconds=30)
    """A WHIP or WHEP peer whose media has not connected this long after its answer never will."""
    close_warnings: tuple[timedelta, ...] = (timedelta(minutes=5), timedelta(minutes=1))
    """Everyone is warned (`lesson_ending`) this long before the room closes by itself."""
    empty_linger: timedelta = timedelta(0)
    """An emptied room stays open this long for someone to come back (a teacher whose network
    dropped finds the lock, the grants, the groups and the board as they were); zero closes it at
    once. The lesson's own end closes it whatever this says."""

    def servers_for(self, user_id: int) -> tuple[RTCIceServer, ...]:
        return self.ice_servers_for(user_id) if self.ice_servers_for is not None else self.ice_servers

    def ice_servers_json(self, user_id: int) -> list[dict[str, Any]]:
        out = []
        for server in self.servers_for(user_id):
            entry: dict[str, Any] = {"urls": server.urls if isinstance(server.urls, list) else [server.urls]}
            if server.username:
                entry["username"] = server.username
                entry["credential"] = server.credential
            out.append(entry)
        return out


class LessonRoom(LessonRecording, PeerWatch, Publishing, Receiving):
    """One live lesson: its members, rooms, lifetime and events here; recording, WHIP/WHEP
    liveness, publishing and receiving in their own modules (signaling/lesson_*.py), each a part of
    this one object whose actions the owner task runs."""

    def __init__(self, lesson: LessonInfo, media: MediaConfig, attendance: AttendanceLog | None = None,
                 recorder: LessonRecorder | None = None,
                 on_closed: Callable[[LessonRoom], None] | None = None, db: Database | None = None) -> None:
        self.lesson = lesson
        self.db = db
        """The database, for the features' records (None: a room that keeps no records)."""
        self.media = media
        self.attendance = attendance
        self.recorder = recorder
        self._on_closed = on_closed
        self.recording_wanted = recorder is not None and lesson.recording_mode == "auto"
        """The lesson is to be recorded (auto from the start; manual once the teacher starts it). It
        records while this holds, its teacher is present and the lesson has not ended."""
        self.ended = False
        """The lesson has ended (its teacher ended it, or the room closed on time): it records no more."""
        self.closes_at: datetime = lesson.closes_at or lesson.ends_at
        """When the room closes by itself (moved later by the teacher's extension)."""
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
        self.grants: dict[int, dict[str, bool]] = {}
        """A student's main-room permissions as the teacher last set them, by user: a student who
        reconnects (a new session) keeps what the teacher allowed."""
        self._spoke: dict[str, float] = {}
        """When each participant last was the active speaker (the loop's clock)."""
        self.breakouts = Breakouts(self)
        """The lesson's breakout groups (none until the teacher starts them)."""
        self.features: dict[str, LessonFeature] = lesson_features(self)
        """Chat, questions, hands, polls, moderation, participation: each feature's state, by name."""
        self._linger: asyncio.Task[None] | None = None
        """The close of an emptied room, waiting for someone to come back."""
        self._spawn(self._watch_peers())
        self._end_at_schedule()

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    # --- membership ------------------------------------------------------------------------------
    async def enter(self, admission: Admission, via: str, outbox: Outbox | None = None,
                    auto_subscribe: bool = True) -> Participant:
        """Add a participant (an action). The user's older page session, if any, is replaced."""

        def admit() -> tuple[Participant, list[Participant]]:
            if self.closed:
                raise LessonClosed("the lesson's room has just closed")
            participant = Participant(self._next("p"), admission.user_id, admission.full_name, admission.role, via,
                                      outbox, auto_subscribe and via == "ws")
            if self.moderation.must_wait(admission):
                if via != "ws":
                    raise Forbidden("the teacher must admit you first: the lesson is locked or you were removed; "
                                    "join from the lesson page and wait to be admitted")
                self.moderation.wait(participant, admission)
                return participant, []
            return participant, self.seat(participant)

        try:
            participant, replaced = await self.actor.call(admit)
        except ActorStopped:
            raise LessonClosed("the lesson's room has just closed") from None
        await self.let_go(replaced)
        return participant

    @property
    def moderation(self) -> Any:
        """The lesson's moderation (lock, waiting room, removals, the lesson's end)."""
        return self.features["moderation"]

    def seat(self, participant: Participant) -> list[Participant]:
        """Put an admitted participant in the room (an action); returns the user's older page
        sessions it replaced, whose presence `let_go` puts aside outside the action."""
        replaced = [p for p in self.same_user_sessions(participant.user_id, "ws")
                    if p is not participant] if participant.via == "ws" else []
        self._stay_open()
        if participant.user_id in self.grants:  # what the teacher allowed outlives a reconnection
            participant.permissions = dict(self.grants[participant.user_id])
        participant.room = self.assigned_room(participant)
        if participant.room != MAIN:
            self.on_room_entered(participant)
        self.participants[participant.id] = participant  # first, so the room is never empty between
        self.moderation.seated(participant)
        for older in replaced:
            older.send({"type": "bye", "reason": "replaced"})
            self._remove(older, "replaced")
        self.broadcast({"type": "participant_joined", "participant": participant.describe()}, skip=participant,
                       room=participant.room)
        if self.breakouts.running:
            self.breakouts.tell_staff()
        return replaced

    async def let_go(self, replaced: list[Participant]) -> None:
        for older in replaced:
            # The older session's presence is put aside first, so this one resumes it.
            await asyncio.shield(self._write_leave(older, "replaced"))
            self._finish(self._after_leave(older, "replaced"))

    async def name_session(self, participant: Participant, resource: str) -> str:
        """Give a WHIP/WHEP participant the id in its session's URL."""

        def name() -> str:
            if participant.left:
                raise NotFound("the session ended before it was answered")
            participant.resource = resource
            self.resources[resource] = participant.id
            return resource

        return await self._call(name)

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
        for feature in self.features.values():
            await feature.prepare()  # what the records hold (e.g. questions asked before the room reopened)
        return await self._call(lambda: self._welcome(participant))

    def _welcome(self, participant: Participant) -> dict[str, Any]:
        """The `joined` reply: the lesson as this participant finds it. Someone joining straight
        into a group is then sent its `room` event, as after a move."""
        if participant.left:
            raise NotFound("you are no longer in the lesson")
        if participant.room != MAIN:
            self.actor.post(lambda: participant.send(self.room_event(participant)))
        extra = {}
        for feature in self.features.values():
            state = feature.welcome(participant)
            if state is not None and feature.name:
                extra[feature.name] = state
            feature.entered(participant)
        return extra | {
            "type": "joined",
            "participant_id": participant.id,
            "role": participant.role,
            "lesson": {"id": self.lesson.id, "title": self.lesson.title, "class_name": self.lesson.class_name,
                       "class_id": self.lesson.class_id,
                       "teacher_id": self.lesson.teacher_id},
            "permissions": dict(participant.permissions),
            "participants": [p.describe() for p in self.participants.values() if self.sees(participant, p)],
            "producers": self.producers_seen_by(participant),
            "room": participant.room,
            "ice_servers": self.media.ice_servers_json(participant.user_id),
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

    async def stop_waiting(self, participant: Participant) -> None:
        """A student waiting to be admitted went away: off the waiting list (nothing was recorded)."""
        with contextlib.suppress(LessonClosed):
            await self._call(lambda: self.moderation.stop_waiting(participant))

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
        for feature in self.features.values():
            feature.left(participant)
        if self.empty and not self.closed:
            self.emptied()
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
        """Nobody in the room, and nobody waiting to be admitted."""
        return not self.participants and not self.moderation.waiting

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

    def move(self, participant: Participant, room: str, *, replan: bool = True) -> None:
        """Put a participant in another room (an action): what they and the others receive changes,
        their WebSocket, transports and WHEP m-lines stay. The attendance log closes their
        interval in the old room (moved) and opens one in the new. `replan=False`: the caller
        moves several and applies the plan once."""
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
        for feature in self.features.values():
            feature.moved(participant, old)
        if replan:  # a whole class moving at once plans once, after the last move
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
    def emptied(self) -> None:
        """Nobody is in the room or waiting (an action): it closes now, or after the linger unless
        someone comes back."""
        seconds = self.media.empty_linger.total_seconds()
        if seconds <= 0:
            self._begin_close()
        elif self._linger is None:
            self._linger = asyncio.ensure_future(self._close_if_still_empty(seconds))
            self._tasks.add(self._linger)  # the room's own close cancels it
            self._linger.add_done_callback(self._tasks.discard)
            self._linger.add_done_callback(_log_failure)

    def _stay_open(self) -> None:
        """Someone is back (an action): the emptied room's close is called off."""
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None

    async def _close_if_still_empty(self, seconds: float) -> None:
        me = asyncio.current_task()
        await asyncio.sleep(seconds)

        def check() -> None:
            if self._linger is not me:  # called off meanwhile
                return
            self._linger = None
            if self.empty and not self.closed:
                self._begin_close()

        with contextlib.suppress(ActorStopped):
            await self.actor.call(check)

    def _begin_close(self) -> None:
        """Decided in an action: no join gets in from now on; the rest happens outside."""
        self.closed = True
        if self._on_closed is not None:
            self._on_closed(self)
        task = asyncio.ensure_future(self._finish_close())
        task.add_done_callback(_log_failure)

    async def close(self, reason: str = "room_closed") -> None:
        """Close the room whatever is in it: the server is stopping (room_closed), or the lesson
        ends (lesson_ended: its teacher ended it, or its time is up). Everyone gets `bye` with the
        reason; their leaves are written before the room has finished closing."""

        def everyone_out() -> None:
            if reason == "lesson_ended":
                self.ended = True
                if self.recording:  # it stops as the room closes: everyone hears it first
                    self.broadcast(self._recording_message() | {"active": False})
            if not self.closed:
                self._begin_close()
            self.moderation.turn_away(reason)
            for participant in list(self.participants.values()):
                participant.send({"type": "bye", "reason": reason})
                self._remove(participant, reason)
                self._finish(self._after_leave(participant, reason))

        try:
            await self.actor.call(everyone_out)
        except ActorStopped:
            pass
        await asyncio.shield(self.finished)

    async def _finish_close(self) -> None:
        try:
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.breakouts.close()
            for feature in self.features.values():
                feature.close()
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
        transport = WebRtcTransport(self._next(name), announced=self.media.announced,
                                    ice_servers=self.media.servers_for(participant.user_id),
                                    on_state=lambda t, state: self.actor.post(
                                        lambda: self._transport_state(participant, t, state)))
        self._transports.add(transport)
        return transport

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

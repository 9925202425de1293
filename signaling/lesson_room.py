"""The live room of one lesson: who is in it, what they publish, who receives what, and who may
do what. Every change is announced to the participants through their outboxes."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiortc import RTCIceServer

from attendance.log import AttendanceLog
from recorder.lesson_recorder import LessonRecorder
from sfu.errors import BadSdp as SfuBadSdp
from sfu.errors import SfuError
from sfu.producer import Producer
from sfu.room import Room
from sfu.transport import WebRtcTransport
from signaling.admission import Admission, LessonInfo
from signaling.errors import BadSdp, Conflict, Forbidden, NotFound
from signaling.messages import KIND_OF_SOURCE, SOURCES, TrackSpec
from signaling.participant import Outbox, Participant
from signaling.sdp import media_sections

log = logging.getLogger(__name__)
STAGE_SOURCES = ("camera", "mic", "screen", "screen-audio")
ATTENDANCE_VIA = {"ws": "browser", "whip": "whip", "whep": "whep"}
ATTENDANCE_REASON = {"left": "left", "disconnected": "disconnected", "replaced": "disconnected",
                     "room_closed": "server_restart", "removed": "removed", "lesson_ended": "lesson_ended"}
"""Why a participant left, as the attendance log says it. A replaced session is a reconnection:
its presence goes on in the session that replaced it."""
"""What WHEP viewers receive: the teacher's sources."""


@dataclass(frozen=True)
class MediaConfig:
    announced: tuple[str, ...] = ()
    ice_servers: tuple[RTCIceServer, ...] = ()

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
                 recorder: LessonRecorder | None = None) -> None:
        self.lesson = lesson
        self.media = media
        self.attendance = attendance
        self.recorder = recorder
        self._auto_started = False
        self.participants: dict[str, Participant] = {}
        self.room = Room(f"lesson-{lesson.id}", on_active_speaker=self._active_speaker)
        self.closed = False
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._transports: set[WebRtcTransport] = set()
        """Every transport made here, so closing the room closes them even if a leave was cut short."""

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    # --- membership ------------------------------------------------------------------------------
    def join(self, admission: Admission, via: str, outbox: Outbox | None = None,
             auto_subscribe: bool = True) -> Participant:
        participant = Participant(self._next("p"), admission.user_id, admission.full_name, admission.role, via,
                                  outbox, auto_subscribe and via == "ws")
        self.participants[participant.id] = participant
        self.broadcast({"type": "participant_joined", "participant": participant.describe()}, skip=participant)
        return participant

    @property
    def recording(self) -> bool:
        return self.recorder is not None and self.recorder.active

    async def set_recording(self, actor: Participant | None, active: bool) -> dict[str, Any]:
        """Start or stop the recorder (the teacher's command; `actor` None is the lesson's own setting)."""
        if actor is not None and actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may start or stop the recording")
        if self.recorder is None or (active and self.lesson.recording_mode == "off"):
            raise Forbidden("recording is turned off for this lesson")
        if active and not self.recorder.active:
            await self.recorder.start(list(self.room.producers.values()))
        elif not active and self.recorder.active:
            await self.recorder.stop()
        else:
            return {"recording": self.recording}
        self.broadcast({"type": "recording", "active": self.recording, "record_students": self.lesson.record_students})
        return {"recording": self.recording}

    async def attend(self, participant: Participant) -> None:
        """Write the participant's join to the attendance log; durable when this returns."""
        if self.attendance is not None and participant.presence is None:
            participant.presence = await self.attendance.join(
                school_id=self.lesson.school_id, lesson_id=self.lesson.id, user_id=participant.user_id,
                role=participant.role, via=ATTENDANCE_VIA[participant.via])
        if self.recorder is not None and self.lesson.recording_mode == "auto" and not self._auto_started:
            self._auto_started = True  # once: a teacher who stops it is not overruled by the next join
            await self.set_recording(None, True)  # recording starts with the lesson

    def welcome(self, participant: Participant) -> dict[str, Any]:
        """The `joined` reply: the room as this participant finds it."""
        return {
            "type": "joined",
            "participant_id": participant.id,
            "role": participant.role,
            "lesson": {"id": self.lesson.id, "title": self.lesson.title, "class_name": self.lesson.class_name,
                       "teacher_id": self.lesson.teacher_id},
            "permissions": dict(participant.permissions),
            "participants": [p.describe() for p in self.participants.values()],
            "producers": [self._describe_producer(p) for p in self.room.producers.values()],
            "ice_servers": self.media.ice_servers_json(),
            "recording": {"active": self.recording, "mode": self.lesson.recording_mode,
                          "record_students": self.lesson.record_students},
        }

    def same_user_sessions(self, user_id: int, via: str) -> list[Participant]:
        return [p for p in self.participants.values() if p.user_id == user_id and p.via == via]

    async def leave(self, participant: Participant, reason: str) -> None:
        if participant.left:
            return
        participant.left = True
        self.participants.pop(participant.id, None)
        for producer in list(participant.producers.values()):
            producer.close()
        participant.producers.clear()
        for consumer in list(participant.consumers.values()):
            consumer.close()
        participant.consumers.clear()
        self.broadcast({"type": "participant_left", "participant_id": participant.id, "reason": reason})
        if self.attendance is not None and participant.presence is not None:
            await asyncio.shield(self.attendance.leave(participant.presence, ATTENDANCE_REASON.get(reason, "left")))
        transports = [t for t in (participant.send_transport, participant.recv_transport) if t is not None]
        # Shielded: a leave cut short by a cancelled handler still closes the peer connections.
        await asyncio.shield(asyncio.gather(*(self._close_transport(t) for t in transports)))

    async def _close_transport(self, transport: WebRtcTransport) -> None:
        self._transports.discard(transport)
        await transport.close()

    @property
    def empty(self) -> bool:
        return not self.participants

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for participant in list(self.participants.values()):
            participant.send({"type": "bye", "reason": "room_closed"})
            await self.leave(participant, "room_closed")
        if self.recorder is not None:
            await self.recorder.stop()
        await self.room.close()
        await asyncio.gather(*(self._close_transport(t) for t in list(self._transports)))
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def broadcast(self, message: dict[str, Any], skip: Participant | None = None) -> None:
        for participant in list(self.participants.values()):
            if participant is not skip:
                participant.send(message)

    # --- publishing ------------------------------------------------------------------------------
    def _transport(self, name: str) -> WebRtcTransport:
        transport = WebRtcTransport(self._next(name), announced=self.media.announced, ice_servers=self.media.ice_servers)
        self._transports.add(transport)
        return transport

    async def publish(self, participant: Participant, sdp: str, tracks: Sequence[TrackSpec]) -> dict[str, Any]:
        """Apply the client's send-transport offer. Refusals come before anything changes."""
        wanted: dict[str, str] = {}
        for track in tracks:
            if track.source in wanted.values():
                raise Conflict(f"source {track.source} listed twice")
            if track.mid in wanted:
                raise BadSdp(f"mid {track.mid} listed twice")
            wanted[track.mid] = track.source
        for mid, source in wanted.items():
            if not participant.permissions.get(source):
                raise Forbidden(_refusal(participant.role, source))
            owner = participant.mids.get(mid)
            if source in participant.producers and owner != source:
                raise Conflict(f"source {source} is already published")
        async with participant.lock:
            if participant.send_transport is None:
                participant.send_transport = self._transport("ts")
            try:
                answer, incoming = await participant.send_transport.answer(sdp)
            except SfuBadSdp as exc:
                raise BadSdp(str(exc)) from exc
            except SfuError as exc:
                raise BadSdp(str(exc)) from exc
            sending = {t.mid: t for t in incoming if t.mid is not None}
            created = []
            # Tracks no longer listed, or no longer sending: their producers close.
            for mid, source in list(participant.mids.items()):
                if wanted.get(mid) != source or mid not in sending:
                    participant.mids.pop(mid, None)
                    producer = participant.producers.pop(source, None)
                    if producer is not None:
                        producer.close()
            for mid, source in wanted.items():
                transceiver = sending.get(mid)
                if transceiver is None or mid in participant.mids:
                    continue
                if transceiver.kind != KIND_OF_SOURCE[source]:
                    raise BadSdp(f"mid {mid} is {transceiver.kind}, but {source} is {KIND_OF_SOURCE[source]}")
                try:
                    producer = participant.send_transport.produce(
                        self._next("m"), transceiver,
                        {"participant_id": participant.id, "source": source, "user_id": participant.user_id,
                         "role": participant.role})
                except SfuBadSdp as exc:
                    raise BadSdp(str(exc)) from exc
                participant.mids[mid] = source
                participant.producers[source] = producer
                created.append((mid, producer))
        for _mid, producer in created:
            self._add_producer(participant, producer)
        return {"sdp": answer,
                "producers": [{"mid": mid, "producer_id": participant.producers[src].id, "source": src}
                              for mid, src in participant.mids.items() if src in participant.producers]}

    def _add_producer(self, participant: Participant, producer: Producer) -> None:
        self.room.add_producer(producer)
        if self.recorder is not None and self.recorder.active:
            self._spawn(self.recorder.producer_added(producer))
        producer.on_close.append(self._producer_closed)
        self.broadcast({"type": "producer_added", "producer": self._describe_producer(producer)})
        self.broadcast({"type": "participant_updated", "participant": participant.describe()})
        for other in list(self.participants.values()):
            if other is participant or other.left:
                continue
            if other.via == "whep":
                self._attach_stage(other, producer)
            elif other.auto_subscribe:
                self._consume(other, producer)
                self.renegotiate(other)

    def _producer_closed(self, producer: Producer) -> None:
        owner = self.participants.get(producer.app_data.get("participant_id", ""))
        if owner is not None and owner.producers.get(producer.app_data["source"]) is producer:
            owner.producers.pop(producer.app_data["source"], None)
            owner.mids = {m: s for m, s in owner.mids.items() if s != producer.app_data["source"]}
        for other in list(self.participants.values()):
            consumer = other.consumers.pop(producer.id, None)
            if consumer is not None and other.recv_transport is not None:
                other.recv_transport.release(consumer)
                if other.via == "ws":
                    self.renegotiate(other)
        if not self.closed:
            self.broadcast({"type": "producer_removed", "producer_id": producer.id,
                            "participant_id": producer.app_data.get("participant_id")})
            if owner is not None:
                self.broadcast({"type": "participant_updated", "participant": owner.describe()})

    def mute(self, participant: Participant, source: str, muted: bool) -> dict[str, Any]:
        producer = participant.producers.get(source)
        if producer is None:
            raise NotFound(f"you do not publish {source}")
        if muted:
            producer.pause()
        else:
            producer.resume()
        self.broadcast({"type": "producer_muted", "producer_id": producer.id, "muted": muted,
                        "participant_id": participant.id, "source": source})
        return {"producer_id": producer.id, "muted": muted}

    def permit(self, actor: Participant, target_id: str, source: str, allowed: bool) -> dict[str, Any]:
        if actor.role != "teacher":
            raise Forbidden("only the lesson's teacher may allow or revoke a student's microphone, camera or screen")
        target = self.participants.get(target_id)
        if target is None:
            raise NotFound(f"participant {target_id} is not in the lesson")
        if target.role != "student":
            raise Forbidden("permissions are granted to students only")
        target.permissions[source] = allowed
        if source == "screen" and not allowed:
            target.permissions["screen-audio"] = False
        if source == "screen" and allowed:
            target.permissions["screen-audio"] = True
        if not allowed:
            for revoked in [s for s in SOURCES if not target.permissions.get(s)]:
                producer = target.producers.pop(revoked, None)
                if producer is not None:
                    producer.close()
        target.send({"type": "permissions", "permissions": dict(target.permissions)})
        self.broadcast({"type": "participant_updated", "participant": target.describe()})
        return {"participant_id": target.id, "permissions": dict(target.permissions)}

    # --- receiving -------------------------------------------------------------------------------
    def _consume(self, participant: Participant, producer: Producer) -> None:
        if producer.id in participant.consumers or producer.closed:
            return
        if participant.recv_transport is None:
            participant.recv_transport = self._transport("tr")
        consumer = participant.recv_transport.consume(
            self._next("c"), producer, {"participant_id": participant.id})
        participant.consumers[producer.id] = consumer

    def subscribe(self, participant: Participant, producer_ids: Sequence[str]) -> None:
        missing = [pid for pid in producer_ids if pid not in self.room.producers]
        if missing:
            raise NotFound(f"no such producer: {', '.join(missing)}")
        for pid in producer_ids:
            producer = self.room.producers[pid]
            if producer.app_data.get("participant_id") != participant.id:
                self._consume(participant, producer)
        self.renegotiate(participant)

    def unsubscribe(self, participant: Participant, producer_ids: Sequence[str]) -> None:
        for pid in producer_ids:
            consumer = participant.consumers.pop(pid, None)
            if consumer is not None and participant.recv_transport is not None:
                participant.recv_transport.release(consumer)
        self.renegotiate(participant)

    def subscribe_all(self, participant: Participant) -> None:
        for producer in list(self.room.producers.values()):
            if producer.app_data.get("participant_id") != participant.id:
                self._consume(participant, producer)
        if participant.consumers:
            self.renegotiate(participant)

    def request_keyframe(self, participant: Participant, producer_id: str) -> None:
        if producer_id not in participant.consumers:
            raise NotFound(f"you do not receive {producer_id}")
        participant.consumers[producer_id].producer.request_keyframe()

    def renegotiate(self, participant: Participant) -> None:
        """Offer the receive transport's current consumers; one offer at a time."""
        if participant.left or participant.via != "ws" or participant.recv_transport is None:
            return
        if participant.awaiting_answer:
            participant.renegotiate_again = True
            return
        participant.awaiting_answer = True
        self._spawn(self._offer(participant))

    async def _offer(self, participant: Participant) -> None:
        transport = participant.recv_transport
        assert transport is not None
        try:
            sdp = await transport.offer()
        except SfuError:
            participant.awaiting_answer = False
            return
        participant.revision += 1
        consumers = []
        for producer_id, consumer in participant.consumers.items():
            producer = consumer.producer
            consumers.append({"mid": consumer.transceiver.mid, "consumer_id": consumer.id, "producer_id": producer_id,
                              "participant_id": producer.app_data.get("participant_id"),
                              "source": producer.app_data.get("source"), "kind": producer.kind})
        participant.send({"type": "offer", "revision": participant.revision, "sdp": sdp, "consumers": consumers})

    async def answer(self, participant: Participant, revision: int, sdp: str) -> None:
        if not participant.awaiting_answer or revision != participant.revision or participant.recv_transport is None:
            raise Conflict(f"no offer with revision {revision} is waiting for an answer")
        try:
            await participant.recv_transport.accept_answer(sdp)
        except SfuError as exc:
            raise BadSdp(str(exc)) from exc
        participant.awaiting_answer = False
        if participant.renegotiate_again:
            participant.renegotiate_again = False
            self.renegotiate(participant)

    # --- WHEP ------------------------------------------------------------------------------------
    def stage_producer(self, source: str) -> Producer | None:
        for producer in self.room.producers.values():
            if producer.app_data.get("source") == source and producer.app_data.get("user_id") == self.lesson.teacher_id:
                return producer
        return None

    def _attach_stage(self, viewer: Participant, producer: Producer) -> None:
        source = producer.app_data.get("source")
        if producer.app_data.get("user_id") != self.lesson.teacher_id or source not in viewer.slots:
            return
        if viewer.recv_transport is None:
            return
        current = viewer.consumers.get(producer.id)
        if current is not None:
            return
        for pid, consumer in list(viewer.consumers.items()):
            if consumer.transceiver is viewer.slots[source]:
                consumer.close()
                viewer.consumers.pop(pid)
        consumer = viewer.recv_transport.consume(self._next("c"), producer, {"participant_id": viewer.id},
                                                 transceiver=viewer.slots[source])
        viewer.consumers[producer.id] = consumer

    async def join_whep(self, viewer: Participant, offer_sdp: str) -> str:
        """Answer a WHEP viewer's recvonly offer with the stage: camera and screen on its video
        m-lines, mic and screen audio on its audio m-lines, in that order."""
        sections = media_sections(offer_sdp)
        order = {"video": ["camera", "screen"], "audio": ["mic", "screen-audio"]}
        sending: dict[str, bool] = {}
        by_mid: dict[str, str] = {}
        for mid, kind in sections:
            if order.get(kind):
                by_mid[mid] = order[kind].pop(0)
                sending[mid] = True
        if not by_mid:
            raise BadSdp("the offer has no audio or video section to receive on")
        viewer.recv_transport = self._transport("tw")
        try:
            answer, _ = await viewer.recv_transport.answer(offer_sdp, sending=sending)
        except SfuError as exc:
            raise BadSdp(str(exc)) from exc
        for transceiver in viewer.recv_transport.pc.getTransceivers():
            if transceiver.mid in by_mid:
                viewer.slots[by_mid[transceiver.mid]] = transceiver
        for source in viewer.slots:
            producer = self.stage_producer(source)
            if producer is not None:
                self._attach_stage(viewer, producer)
        return answer

    # --- events ----------------------------------------------------------------------------------
    def _active_speaker(self, producer: Producer | None) -> None:
        self.broadcast({"type": "active_speaker",
                        "participant_id": producer.app_data.get("participant_id") if producer else None})

    def _describe_producer(self, producer: Producer) -> dict[str, Any]:
        return {"producer_id": producer.id, "participant_id": producer.app_data.get("participant_id"),
                "source": producer.app_data.get("source"), "kind": producer.kind, "muted": producer.paused,
                "codec": producer.codec.mimeType}

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("room task failed", exc_info=task.exception())



def _refusal(role: str, source: str) -> str:
    if role == "observer":
        return "observers receive only; they may not publish"
    names = {"mic": "use the microphone", "camera": "turn on the camera", "screen": "share the screen",
             "screen-audio": "share the screen's sound"}
    return f"students may not {names[source]} unless the teacher allows it"

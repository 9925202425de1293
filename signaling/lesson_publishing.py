"""Publishing into a lesson: a participant's offer answered, producers made for what they may
publish (a permission revoked while the offer was negotiated wins), muting, and the teacher's
permissions."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sfu.errors import SfuError
from sfu.producer import Producer
from sfu.transport import WebRtcTransport
from signaling.errors import BadSdp, Conflict, Forbidden, NotFound
from signaling.messages import KIND_OF_SOURCE, SOURCES, TrackSpec
from signaling.sdp import check_offer
from signaling.simulcast import SimulcastOffer, accept_simulcast, offered_simulcast
from storage.guard import ensure_free

if TYPE_CHECKING:
    from signaling.participant import Participant


class Publishing:
    """The publishing part of a lesson's room (a part of LessonRoom)."""

    async def publish(self, participant: Participant, sdp: str, tracks: Sequence[TrackSpec]) -> dict[str, Any]:
        """Apply the client's send-transport offer. Refusals come before anything changes, and a
        permission revoked while the offer was negotiated wins: that source gets no producer."""
        check_offer(sdp)  # SDP no peer connection could take is refused before a transport is made
        layered = offered_simulcast(sdp)
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
            layered = {mid: offer for mid, offer in layered.items() if mid in sending}
            answer = accept_simulcast(answer, layered)
            return await self._call(lambda: self._apply_publish(participant, transport, wanted, sending, answer,
                                                                layered))

    def _apply_publish(self, participant: Participant, transport: WebRtcTransport, wanted: dict[str, str],
                       sending: dict[str, Any], answer: str,
                       layered: dict[str, SimulcastOffer] | None = None) -> dict[str, Any]:
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
            if layered and mid in layered:  # simulcast: the producer takes every encoding
                producer.receive_layers(mid, layered[mid].rids, layered[mid].rid_id, layered[mid].repaired_rid_id)
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
        if target.main_permissions is None:  # in the main room: remembered for their next session
            self.grants[target.user_id] = dict(target.permissions)
        target.send({"type": "permissions", "permissions": dict(target.permissions)})
        self.broadcast({"type": "participant_updated", "participant": target.describe()}, room=target.room)
        return {"participant_id": target.id, "permissions": dict(target.permissions)}


def _refusal(role: str, source: str) -> str:
    if role == "observer":
        return "observers receive only; they may not publish"
    names = {"mic": "use the microphone", "camera": "turn on the camera", "screen": "share the screen",
             "screen-audio": "share the screen's sound"}
    return f"students may not {names[source]} unless the teacher allows it"

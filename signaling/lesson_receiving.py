"""Receiving in a lesson: what each connection receives is applied from the plan (signaling/plan.py),
the server's offers to page clients and their answers, and WHEP players' stage."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sfu.errors import SfuError
from sfu.producer import Producer
from sfu.transport import WebRtcTransport
from signaling.errors import BadSdp, Conflict, NotFound
from signaling.plan import STAGE, Feed, Seat, diff, receives, stage
from signaling.sdp import media_sections
from storage.guard import ensure_free

if TYPE_CHECKING:
    from signaling.participant import Participant


class Receiving:
    """The receiving part of a lesson's room (a part of LessonRoom)."""

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
                    transceiver=transceiver, start_now=True)

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

"""A router: the producers of one lesson, which consumers each feeds, the close cascade and the
active speaker among them (mediasoup's Router). Producers and consumers never hold each other: a
producer forwards to the routes the router attached, a consumer asks its producer for keyframes
and retransmissions through the link the router gave it. Routers know no users: the signaling
layer keeps participants and tags producers with `app_data`."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import RtpPacket

from sfu._media import Route
from sfu.consumer import Consumer
from sfu.errors import ClosedError
from sfu.producer import Producer
from sfu.speaker import SILENCE_DBOV, SpeakerDetector
from sfu.stats import ForwardingStats

if TYPE_CHECKING:
    from sfu.transport import WebRtcTransport

log = logging.getLogger(__name__)
SPEAKER_TICK = 0.3


class ProducerLink:
    """What a consumer may ask of its producer, given by the router: keyframes, the packet cache
    for retransmissions, the publisher's sender report; and to let go."""

    def __init__(self, router: Router, producer: Producer) -> None:
        self._router = router
        self._producer = producer
        self.id = producer.id
        self.kind = producer.kind
        self.codec = producer.codec
        self.route: Route | None = None
        """The consumer's route (set by the router): a simulcast producer answers per route."""

    @property
    def sender_report(self) -> tuple[int, int] | None:
        if self.route is None:
            return self._producer.sender_report
        return self._producer.sender_report_for(self.route)

    def request_keyframe(self) -> None:
        self._producer.request_keyframe()

    def wait_for_keyframe(self) -> None:
        self._producer.wait_for_keyframe()

    def cached(self, sequence_number: int) -> RtpPacket | None:
        if self.route is None:
            return self._producer.cache.get(sequence_number)
        return self._producer.cached_for(self.route, sequence_number)

    def prefer_layer(self, rid: str | None) -> None:
        """Of a simulcast producer, forward no layer larger than `rid` (None: the best there is)."""
        if self.route is not None:
            self._producer.prefer_layer(self.route, rid)

    def retransmitted(self) -> None:
        self._producer.count_retransmission()

    def detach(self, consumer: Consumer) -> None:
        self._router._unlink(self._producer, consumer)


class Router:
    def __init__(self, router_id: str, on_active_speaker: Callable[[Producer | None], None] | None = None) -> None:
        self.id = router_id
        self.producers: dict[str, Producer] = {}
        self._consumers: dict[str, list[Consumer]] = {}
        """Producer id -> the consumers it feeds: the map only the router keeps."""
        self.closed = False
        self._speaker = SpeakerDetector()
        self._on_active_speaker = on_active_speaker
        self._speaking: Producer | None = None
        self._retired = ForwardingStats()
        """Counts of producers already closed, so room totals never go backwards."""
        self._ticker: asyncio.Task[None] | None = None

    def add_producer(self, producer: Producer) -> None:
        if self.closed:
            raise RuntimeError("router is closed")
        self.producers[producer.id] = producer
        self._consumers[producer.id] = []
        producer.on_close.insert(0, self._producer_closed)  # consumers go first, then other listeners
        producer.on_resume.append(self._producer_resumed)
        if producer.kind == "audio":
            producer.on_audio_level = self._audio_level
            if self._ticker is None and self._on_active_speaker is not None:
                self._ticker = asyncio.ensure_future(self._tick())

    def consume(self, transport: WebRtcTransport, consumer_id: str, producer_id: str,
                app_data: dict[str, Any] | None = None, transceiver: RTCRtpTransceiver | None = None,
                *, start_now: bool = False) -> Consumer:
        """A consumer of this producer on `transport` (a new or reused m-line; `start_now` forwards
        on an already negotiated m-line without waiting for the next answer)."""
        producer = self.producers.get(producer_id)
        if producer is None or producer.closed:
            raise ClosedError(f"producer {producer_id} is not in this router")
        link = ProducerLink(self, producer)
        consumer = transport.consume(consumer_id, link, app_data, transceiver, start_now=start_now)
        link.route = consumer.route
        producer.attach(consumer.route)
        self._consumers[producer.id].append(consumer)
        return consumer

    def consumers_of(self, producer_id: str) -> tuple[Consumer, ...]:
        return tuple(self._consumers.get(producer_id, ()))

    def _unlink(self, producer: Producer, consumer: Consumer) -> None:
        producer.detach(consumer.route)
        with contextlib.suppress(KeyError, ValueError):
            self._consumers[producer.id].remove(consumer)

    def _producer_resumed(self, producer: Producer) -> None:
        for consumer in self._consumers.get(producer.id, ()):
            consumer.restart()  # video waits for a keyframe; sequence numbers continue

    def _producer_closed(self, producer: Producer) -> None:
        """The cascade: a closed producer's consumers close with it."""
        for consumer in self._consumers.pop(producer.id, []):
            consumer.producer_closed()
        if self.producers.pop(producer.id, None) is not None:
            self._retired.merge(producer.stats)
        self._speaker.remove(producer.id)

    def _audio_level(self, producer: Producer, level: int) -> None:
        if not producer.paused:
            self._speaker.add(producer.id, level)

    async def _tick(self) -> None:
        while not self.closed:
            await asyncio.sleep(SPEAKER_TICK)
            key = self._speaker.evaluate()
            self._speaker.decay()
            speaking = self.producers.get(key) if key else None
            if speaking is not self._speaking:
                self._speaking = speaking
                if self._on_active_speaker is not None:
                    try:
                        self._on_active_speaker(speaking)
                    except Exception:
                        log.exception("active speaker listener failed")

    def audio_level(self, producer_id: str) -> float:
        """A producer's recent audio level as the active-speaker detection hears it: smoothed -dBov
        (lower is louder; SILENCE_DBOV for none, and a paused producer's decays to it)."""
        return self._speaker.levels.get(producer_id, float(SILENCE_DBOV))

    def stats(self) -> ForwardingStats:
        total = ForwardingStats()
        total.merge(self._retired)
        for producer in self.producers.values():
            total.merge(producer.stats)
        return total

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for producer in list(self.producers.values()):
            producer.close()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "producers": [p.dump() for p in self.producers.values()]}

"""A room's media: its producers and the active speaker among them. Rooms know no users: the
signaling layer keeps participants and tags producers with `app_data`."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sfu.producer import Producer
from sfu.speaker import SpeakerDetector
from sfu.stats import ForwardingStats

log = logging.getLogger(__name__)
SPEAKER_TICK = 0.3


class Room:
    def __init__(self, room_id: str, on_active_speaker: Callable[[Producer | None], None] | None = None) -> None:
        self.id = room_id
        self.producers: dict[str, Producer] = {}
        self.closed = False
        self._speaker = SpeakerDetector()
        self._on_active_speaker = on_active_speaker
        self._speaking: Producer | None = None
        self._retired = ForwardingStats()
        """Counts of producers already closed, so room totals never go backwards."""
        self._ticker: asyncio.Task[None] | None = None

    def add_producer(self, producer: Producer) -> None:
        if self.closed:
            raise RuntimeError("room is closed")
        self.producers[producer.id] = producer
        producer.on_close.append(self._producer_closed)
        if producer.kind == "audio":
            producer.on_audio_level = self._audio_level
            if self._ticker is None and self._on_active_speaker is not None:
                self._ticker = asyncio.ensure_future(self._tick())

    def _producer_closed(self, producer: Producer) -> None:
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

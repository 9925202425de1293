"""A recorded track's way off the media loop: the producer's tap copies what the writer needs into
a bounded queue and returns; the track's own writer thread depayloads, muxes and writes.

One thread per track, not one per process: a file that stalls (a slow or full disk, a network
volume) holds back only its own track, and the thread lives exactly as long as its file. An idle
thread waits in the queue's C `get()` and costs nothing. A full queue never blocks forwarding: it
drops packets (video: until the next keyframe start, which is asked for) and counts them."""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from aiortc.rtp import RtpPacket

from recorder.track_writer import TrackWriter

log = logging.getLogger(__name__)

VIDEO_CAPACITY = 1024
"""Packets: several seconds of a 1 Mbps camera, or a big screen keyframe in one burst."""
AUDIO_CAPACITY = 256
"""Packets: five seconds of 20 ms Opus frames."""

Item = tuple[bytes, int, int, bool, float, bool]
"""payload, RTP timestamp, sequence number, marker, arrival (time.monotonic()), resync."""


class QueuedTrack:
    def __init__(self, writer: TrackWriter, *, capacity: int | None = None,
                 on_overflow: Callable[[], None] | None = None) -> None:
        self.writer = writer
        self.capacity = capacity or (VIDEO_CAPACITY if writer.kind == "video" else AUDIO_CAPACITY)
        self.dropped = 0
        """Packets the tap dropped (the queue was full, or video waited for a keyframe after that)."""
        self._video = writer.kind == "video"
        self._on_overflow = on_overflow
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._dropping = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"recorder {writer.path.name}", daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def tap(self, packet: RtpPacket, keyframe: bool) -> None:
        """Called from the forwarding path: a copy of the packet's fields into the queue, never a wait."""
        if self._closing:
            return
        resync = False
        if self._queue.qsize() >= self.capacity:
            if not self._dropping:
                self._dropping = True
                if self._on_overflow is not None:
                    self._on_overflow()
            self.dropped += 1
            return
        if self._dropping:
            if self._video and not keyframe:
                self.dropped += 1
                if self._on_overflow is not None:
                    self._on_overflow()  # the producer throttles its keyframe requests
                return
            self._dropping, resync = False, True
        self._queue.put((packet.payload, packet.timestamp, packet.sequence_number, bool(packet.marker),
                         time.monotonic(), resync))

    def _run(self) -> None:
        writer, get = self.writer, self._queue.get
        while (item := get()) is not None:
            try:
                writer.push(*item)
            except Exception:  # one bad packet never ends the recording
                log.exception("recording %s: a packet could not be written", writer.path.name)
        try:
            writer.close()
        except Exception:
            log.exception("recording %s: closing failed", writer.path.name)

    def close(self, timeout: float | None = None) -> None:
        """Stop taking packets, write what is queued, finish the file (blocks: call off the loop)."""
        self._closing = True
        self._queue.put(None)
        self._thread.join(timeout)

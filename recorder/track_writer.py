"""One recorded track: RTP packets of a producer to a WebM/Matroska file, without decoding.

Video packets are reassembled into whole frames (`recorder.frames`); a frame that lost a packet is
never muxed, and what follows it is discarded until the next keyframe, which is asked for. Audio
packets are Opus frames already. Each frame goes into the container as it is, on a timeline that
only moves forward: when the RTP timestamps jump (a new encoder on the same m-line), the gap is
bridged with the frames' arrival times. Every write reaches the OS at once and clusters hold at
most a second, so a crash keeps everything up to the last moments and the file stays readable;
`close()` finishes the file (duration, cues: seekable).

A TrackWriter is used from one thread at a time (the track's writer thread, `recorder.track_queue`)."""
from __future__ import annotations

import fractions
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import av
from aiortc.codecs import depayload
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from recorder.frames import Assembled, FrameAssembler, Packet

log = logging.getLogger(__name__)

MUXER_CODEC = {"video/vp8": "libvpx", "video/h264": "h264", "audio/opus": "libopus"}
"""The stream type to declare in the container (no encoder is ever opened)."""
FORMAT = {"video/vp8": "webm", "audio/opus": "webm", "video/h264": "matroska"}
SUFFIX = {"webm": ".webm", "matroska": ".mkv"}
KEYFRAME_RETRY = 0.5
JUMP_SLACK = 1.0
"""Seconds the RTP clock may run ahead of arrival before it counts as a jump (a new timeline)."""
LATE_AUDIO = 0.2
"""An audio packet this many seconds behind the last is late (dropped); further back, a jump."""


def file_suffix(mime_type: str) -> str:
    return SUFFIX[FORMAT[mime_type.lower()]]


def open_file(path: Path) -> BinaryIO:
    """Unbuffered: every write the muxer makes reaches the OS at once (a killed process loses
    nothing written)."""
    return open(path, "wb", buffering=0)  # noqa: SIM115 (owned by the writer, closed in close())


def _vp8_size(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe header (RFC 6386 9.1)."""
    if len(frame) >= 10 and not frame[0] & 0x01 and frame[3:6] == b"\x9d\x01\x2a":
        return int.from_bytes(frame[6:8], "little") & 0x3FFF, int.from_bytes(frame[8:10], "little") & 0x3FFF
    return None


def _is_keyframe(mime: str, frame: bytes) -> bool:
    if mime == "video/vp8":
        return _vp8_size(frame) is not None
    if mime == "video/h264":
        i = 0
        while True:
            i = frame.find(b"\x00\x00\x01", i)
            if i < 0 or i + 3 >= len(frame):
                return False
            if frame[i + 3] & 0x1F in (5, 7):
                return True
            i += 3
    return True


def _vp8_starts(payload: bytes) -> bool:
    """RFC 7741: S set and partition 0: this packet begins a frame."""
    return bool(payload) and payload[0] & 0x17 == 0x10


class TrackWriter:
    def __init__(self, path: Path, codec: RTCRtpCodecParameters, *,
                 on_need_keyframe: Callable[[], None] | None = None,
                 opener: Callable[[Path], BinaryIO] = open_file) -> None:
        self.path = path
        self.mime = codec.mimeType.lower()
        if self.mime not in MUXER_CODEC:
            raise ValueError(f"cannot record {codec.mimeType}")
        self.codec = codec
        self.kind = self.mime.split("/")[0]
        self.clock_rate = codec.clockRate
        self.frames = 0
        self.bytes = 0
        self.lost = 0
        """Video frames given up on: a packet missing, or dropped before the writer."""
        self.discarded = 0
        """Frames not written: waiting for a keyframe, late, or refused by the muxer."""
        self.timelines = 1
        """RTP timestamp jumps bridged, plus one."""
        self.last_pts = 0
        self.started_wall: float | None = None
        """time.time() at the arrival of the first frame written: what aligns this track with the others."""
        self.closed = False
        self._on_need_keyframe = on_need_keyframe
        self._opener = opener
        self._video = self.kind == "video"
        self._assembler = FrameAssembler() if self._video else None
        self._need_keyframe = self._video
        self._file: BinaryIO | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._time_base = fractions.Fraction(1, self.clock_rate)
        self._last_timestamp: int | None = None
        self._last_arrival = 0.0
        self._last_keyframe_ask = float("-inf")

    def _open(self, size: tuple[int, int] | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self._opener(self.path)
        # Not "live": the muxer finishes the file at close (duration, cues). Clusters of at most a
        # second bound what the muxer holds back; each packet's bytes are flushed to the file.
        self._container = av.open(self._file, "w", format=FORMAT[self.mime],
                                  options={"flush_packets": "1", "cluster_time_limit": "1000"})
        if self._video:
            stream = self._container.add_stream(MUXER_CODEC[self.mime], rate=30)
            stream.width, stream.height = size or (1280, 720)
        else:
            stream = self._container.add_stream(MUXER_CODEC[self.mime], rate=self.clock_rate)
        stream.time_base = fractions.Fraction(1, 1000)
        self._stream = stream

    def write_rtp(self, packet: RtpPacket, arrival: float | None = None) -> None:
        """One RTP packet, in this thread (tests and the bench; the server goes through a queue)."""
        self.push(packet.payload, packet.timestamp, packet.sequence_number, bool(packet.marker),
                  time.monotonic() if arrival is None else arrival)

    def push(self, payload: bytes, timestamp: int, sequence: int, marker: bool, arrival: float,
             resync: bool = False) -> None:
        """One packet's payload as received; `arrival` is its time.monotonic(); `resync` says
        packets were dropped before this one."""
        if self.closed or not payload:
            return
        if self._assembler is None:
            self._write_frame(payload, timestamp, arrival)
            return
        out = Assembled()
        if resync:
            self._assembler.reset(out)
            self._lose(arrival)
        starts = _vp8_starts(payload) if self.mime == "video/vp8" else None
        try:
            data = depayload(self.codec, payload)
        except ValueError:
            data = b""
        self._assembler.add(Packet(data, timestamp, sequence, marker, starts, arrival), out)
        if out.lost:
            self.lost += out.lost
            self._lose(arrival)
        for frame in out.frames:
            self._write_frame(frame.data, frame.timestamp, frame.arrival)

    def _lose(self, now: float) -> None:
        """What follows a lost frame cannot be decoded before a keyframe."""
        if self._video:
            self._need_keyframe = True
            self._ask_keyframe(now)

    def _ask_keyframe(self, now: float) -> None:
        """Ask, unless asked less than KEYFRAME_RETRY ago (`now`: the arrival time of what is at hand)."""
        if self._on_need_keyframe is not None and now - self._last_keyframe_ask > KEYFRAME_RETRY:
            self._last_keyframe_ask = now
            self._on_need_keyframe()

    def _write_frame(self, data: bytes, timestamp: int, arrival: float) -> None:
        keyframe = _is_keyframe(self.mime, data)
        if self._need_keyframe:
            if not keyframe:
                self.discarded += 1
                self._ask_keyframe(arrival)
                return
            self._need_keyframe = False
        pts = self._pts(timestamp, arrival)
        if pts is None:
            self.discarded += 1
            return
        if self._container is None:
            self._open(_vp8_size(data) if self.mime == "video/vp8" else None)
            self.started_wall = time.time() - (time.monotonic() - arrival)
        assert self._container is not None and self._stream is not None
        out = av.Packet(data)
        out.stream = self._stream
        out.time_base = self._time_base
        out.pts = out.dts = pts
        out.is_keyframe = keyframe
        try:
            self._container.mux(out)
        except av.error.FFmpegError as exc:
            log.warning("recording %s: a frame was refused by the muxer: %s", self.path.name, exc)
            self.discarded += 1
            self._lose(arrival)
            return
        self._last_timestamp, self._last_arrival = timestamp, arrival
        self.last_pts = pts
        self.frames += 1
        self.bytes += len(data)

    def _pts(self, timestamp: int, arrival: float) -> int | None:
        """The frame's time on this file's timeline (RTP clock units from the first frame)."""
        if self._last_timestamp is None:
            return 0
        delta = ((timestamp - self._last_timestamp + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        elapsed = arrival - self._last_arrival
        if not self._video and -LATE_AUDIO * self.clock_rate < delta <= 0:
            return None  # late or repeated
        if delta < 0 or delta > (elapsed + JUMP_SLACK) * self.clock_rate:
            # A jump (a new encoder, another track on the same m-line): a new timeline, bridged by arrival.
            self.timelines += 1
            delta = max(round(elapsed * self.clock_rate), 1)
        return self.last_pts + delta

    @property
    def duration(self) -> float:
        return self.last_pts / self.clock_rate if self.frames else 0.0

    def sync(self) -> None:
        """Make what was written durable on disk (run off the event loop: fsync can take a while)."""
        handle = self._file
        if handle is not None and not handle.closed:
            try:
                os.fsync(handle.fileno())
            except (OSError, ValueError):
                pass

    def close(self) -> None:
        """Finish the file: the muxer writes its trailer (duration, cues), then it is made durable."""
        if self.closed:
            return
        self.closed = True
        if self._container is not None:
            try:
                self._container.close()
            except av.error.FFmpegError:
                log.exception("closing recording %s failed", self.path)
        if self._file is not None:
            try:
                os.fsync(self._file.fileno())
            except (OSError, ValueError):
                pass
            self._file.close()

"""One recorded track: RTP packets of a producer to a WebM/Matroska file, without decoding.

Video packets are reassembled into frames (aiortc's depayloader and jitter buffer, the same a
receiver uses before its decoder); audio packets are Opus frames already. Each frame goes into the
container as it is, with its RTP timestamp, and the file is flushed after every packet: a crash
keeps everything up to the last moments, and the file stays readable (a live WebM)."""
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
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

log = logging.getLogger(__name__)

MUXER_CODEC = {"video/vp8": "libvpx", "video/h264": "h264", "audio/opus": "libopus"}
"""The stream type to declare in the container (no encoder is ever opened)."""
FORMAT = {"video/vp8": "webm", "audio/opus": "webm", "video/h264": "matroska"}
SUFFIX = {"webm": ".webm", "matroska": ".mkv"}
KEYFRAME_RETRY = 0.5


def file_suffix(mime_type: str) -> str:
    return SUFFIX[FORMAT[mime_type.lower()]]


def _vp8_size(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe header (RFC 6386 9.1)."""
    if len(frame) >= 10 and not frame[0] & 0x01 and frame[3:6] == b"\x9d\x01\x2a":
        return int.from_bytes(frame[6:8], "little") & 0x3FFF, int.from_bytes(frame[8:10], "little") & 0x3FFF
    return None


def _is_keyframe(mime: str, frame: bytes) -> bool:
    if mime == "video/vp8":
        return bool(frame) and not frame[0] & 0x01
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


class TrackWriter:
    def __init__(self, path: Path, codec: RTCRtpCodecParameters, *,
                 on_need_keyframe: Callable[[], None] | None = None) -> None:
        self.path = path
        self.mime = codec.mimeType.lower()
        if self.mime not in MUXER_CODEC:
            raise ValueError(f"cannot record {codec.mimeType}")
        self.codec = codec
        self.kind = self.mime.split("/")[0]
        self.clock_rate = codec.clockRate
        self.frames = 0
        self.bytes = 0
        self.first_timestamp: int | None = None
        self.last_pts = 0
        self.started_wall: float | None = None
        """time.time() of the first frame written: what aligns this track with the others."""
        self.closed = False
        self._on_need_keyframe = on_need_keyframe
        self._jitter = JitterBuffer(capacity=256, is_video=True) if self.kind == "video" else None
        self._file: BinaryIO | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._time_base = fractions.Fraction(1, self.clock_rate)
        self._unwrap_last: int | None = None
        self._unwrap_cycles = 0
        self._last_keyframe_ask = 0.0

    def _open(self, size: tuple[int, int] | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Unbuffered: every write the muxer makes reaches the OS at once (a killed process loses nothing
        # written); clusters of at most a second in live mode bound what the muxer itself holds back.
        self._file = open(self.path, "wb", buffering=0)  # noqa: SIM115 (owned, closed in close())
        fmt = FORMAT[self.mime]
        self._container = av.open(self._file, "w", format=fmt,
                                  options={"flush_packets": "1", "live": "1", "cluster_time_limit": "1000"})
        if self.kind == "video":
            stream = self._container.add_stream(MUXER_CODEC[self.mime], rate=30)
            stream.width, stream.height = size or (1280, 720)
        else:
            stream = self._container.add_stream(MUXER_CODEC[self.mime], rate=self.clock_rate)
        stream.time_base = fractions.Fraction(1, 1000)
        self._stream = stream

    def _unwrap(self, timestamp: int) -> int:
        if self._unwrap_last is not None and timestamp < self._unwrap_last and self._unwrap_last - timestamp > 1 << 31:
            self._unwrap_cycles += 1
        self._unwrap_last = timestamp
        return timestamp + (self._unwrap_cycles << 32)

    def write_rtp(self, packet: RtpPacket) -> None:
        if self.closed or not packet.payload:
            return
        if self._jitter is None:
            self._write_frame(packet.payload, packet.timestamp)
            return
        # The depayloaded copy stays on this packet object, which only the recorder reads for _data.
        packet._data = depayload(self.codec, packet.payload)  # type: ignore[attr-defined]
        _pli, frame = self._jitter.add(packet)
        if frame is not None:
            self._write_frame(frame.data, frame.timestamp)

    def _write_frame(self, data: bytes, timestamp: int) -> None:
        keyframe = _is_keyframe(self.mime, data)
        if self._container is None:
            if not keyframe:
                now = time.monotonic()
                if self._on_need_keyframe is not None and now - self._last_keyframe_ask > KEYFRAME_RETRY:
                    self._last_keyframe_ask = now
                    self._on_need_keyframe()
                return
            self._open(_vp8_size(data) if self.mime == "video/vp8" else None)
            self.started_wall = time.time()
        unwrapped = self._unwrap(timestamp)
        if self.first_timestamp is None:
            self.first_timestamp = unwrapped
        pts = unwrapped - self.first_timestamp
        if pts < self.last_pts:
            return  # late and out of order: the container wants monotonic time
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
            return
        self.last_pts = pts
        self.frames += 1
        self.bytes += len(data)

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
        if self.closed:
            return
        self.closed = True
        if self._container is not None:
            try:
                self._container.close()
            except av.error.FFmpegError:
                log.exception("closing recording %s failed", self.path)
        if self._file is not None:
            os.fsync(self._file.fileno())
            self._file.close()

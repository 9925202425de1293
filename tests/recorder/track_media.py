"""RTP packets from a real aiortc encoder, as a publisher sends them, for recorder tests that drive a
TrackWriter directly; and what PyAV decodes from a recorded file."""
from __future__ import annotations

import fractions
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)


@dataclass
class Publisher:
    """One VP8 encoder (a run of it: a new Publisher is an encoder restart) with its own sequence
    and timestamp origins. `keyframe_asked` makes the next frame a keyframe, as a PLI would."""
    width: int
    height: int
    rgb: tuple[int, int, int]
    sequence: int
    timestamp: int
    bitrate: int = 1_000_000
    noise: int = 0
    """Side of a square of fresh noise in each frame (bigger frames: several packets each)."""
    keyframe_asked: bool = True

    def __post_init__(self) -> None:
        self._encoder = get_encoder(VP8)
        self._encoder.target_bitrate = self.bitrate
        self._rng = np.random.default_rng(7)
        self.frames = 0

    def ask_keyframe(self) -> None:
        self.keyframe_asked = True

    def frame(self) -> list[RtpPacket]:
        image = np.zeros((self.height, self.width, 3), np.uint8)
        image[:] = self.rgb
        if self.noise:
            h, w = min(self.noise, self.height), min(self.noise, self.width)
            image[:h, :w] = self._rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        picture = av.VideoFrame.from_ndarray(image, format="rgb24")
        picture.pts, picture.time_base = self.frames * 3000, fractions.Fraction(1, 90000)
        payloads, timestamp = self._encoder.encode(picture, force_keyframe=self.keyframe_asked)
        self.keyframe_asked = False
        self.frames += 1
        packets = []
        for i, payload in enumerate(payloads):
            packets.append(RtpPacket(payload_type=96, sequence_number=self.sequence & 0xFFFF,
                                     timestamp=(self.timestamp + timestamp) & 0xFFFFFFFF,
                                     marker=int(i == len(payloads) - 1), payload=payload))
            self.sequence += 1
        return packets

    def frames_of(self, count: int) -> Iterator[list[RtpPacket]]:
        for _ in range(count):
            yield self.frame()


@dataclass
class Decoded:
    sizes: list[tuple[int, int]]
    colours: list[tuple[float, float, float]]
    seconds: list[float]

    def __len__(self) -> int:
        return len(self.sizes)


def decode(path: Path, middle: Callable[[np.ndarray], np.ndarray] | None = None) -> Decoded:
    """Every frame of the file's video (PyAV raises on a damaged one): size, mean colour, time."""
    out = Decoded([], [], [])
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="rgb24")
            if middle is not None:
                image = middle(image)
            r, g, b = image.reshape(-1, 3).mean(axis=0)
            out.sizes.append((frame.width, frame.height))
            out.colours.append((float(r), float(g), float(b)))
            out.seconds.append(float(frame.time))
    return out


def close_to(rgb: tuple[float, float, float], expected: tuple[int, int, int], tolerance: float = 40.0) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, expected, strict=True))

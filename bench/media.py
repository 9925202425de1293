"""What the benchmark's publisher sends: a moving, noisy picture (so VP8 really spends its bitrate)
and an Opus tone; and a VP8 encoder held at a fixed target bitrate."""
from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError

VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000
BLOCK = 32


class MovingPictureTrack(MediaStreamTrack):
    """yuv420p frames: a diagonal gradient that scrolls, a moving bar, and a few blocks of fresh
    random noise per frame: enough change that a 1 Mbps VP8 encoder uses its whole budget."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30, noise_blocks: int = 12,
                 seed: int = 1) -> None:
        super().__init__()
        self._w, self._h, self._fps = width - width % BLOCK, height - height % BLOCK, fps
        self._noise_blocks = noise_blocks
        self._rng = np.random.default_rng(seed)
        self._noise = self._rng.integers(0, 256, size=(4 * self._h, 4 * self._w), dtype=np.uint8)
        y, x = np.mgrid[0:self._h, 0:self._w]
        self._ramp = ((x + y) % 256).astype(np.uint8)
        self._count = 0
        self._start: float | None = None

    def _picture(self, n: int) -> np.ndarray:
        w, h = self._w, self._h
        frame = np.empty((h * 3 // 2, w), dtype=np.uint8)
        luma = frame[:h]
        np.add(self._ramp, (3 * n) % 256, out=luma, casting="unsafe")  # scrolls diagonally
        bar = (7 * n) % w
        luma[:, bar:bar + 24] = 235
        for _ in range(self._noise_blocks):  # fresh detail every frame, at random places
            by, bx = int(self._rng.integers(0, h // BLOCK)), int(self._rng.integers(0, w // BLOCK))
            ny, nx = int(self._rng.integers(0, 3 * h)), int(self._rng.integers(0, 3 * w))
            luma[by * BLOCK:(by + 1) * BLOCK, bx * BLOCK:(bx + 1) * BLOCK] = \
                self._noise[ny:ny + BLOCK, nx:nx + BLOCK]
        chroma = frame[h:]
        chroma[:] = 128 + int(60 * math.sin(n / 45))  # U and V planes, slowly changing colour
        return frame

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        self._count += 1
        wait = self._start + self._count / self._fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.VideoFrame.from_ndarray(self._picture(self._count), format="yuv420p")
        frame.pts = int(self._count * VIDEO_CLOCK / self._fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame


class ToneTrack(MediaStreamTrack):
    """A sine tone in 20 ms frames (what Opus encodes)."""

    kind = "audio"

    def __init__(self, hz: float = 440.0) -> None:
        super().__init__()
        self._hz = hz
        self._samples = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        n = AUDIO_RATE // 50
        wait = self._start + self._samples / AUDIO_RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = np.arange(self._samples, self._samples + n) / AUDIO_RATE
        wave = (np.sin(2 * math.pi * self._hz * t) * 12000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._samples += n
        return frame


def pin_vp8_bitrate(bitrate: int) -> Callable[[], None]:
    """Make this process's aiortc VP8 encoders hold `bitrate` (bit/s), ignoring REMB: aiortc would
    follow the server's bandwidth estimate (and restart the encoder, with a keyframe, whenever it
    moves by 10%). Returns a function that undoes it."""
    import aiortc.rtcrtpsender as rtcrtpsender

    class PinnedVp8Encoder(Vp8Encoder):
        def __init__(self) -> None:
            super().__init__()
            self._Vp8Encoder__target_bitrate = bitrate  # also the rate-control buffer size

        @property
        def target_bitrate(self) -> int:
            return bitrate

        @target_bitrate.setter
        def target_bitrate(self, value: int) -> None:
            pass  # REMB is ignored

    original = rtcrtpsender.get_encoder

    def get_encoder(codec: Any) -> Any:
        encoder = original(codec)
        if type(encoder) is Vp8Encoder:
            pinned = PinnedVp8Encoder()
            pinned.picture_id = encoder.picture_id
            return pinned
        return encoder

    rtcrtpsender.get_encoder = get_encoder

    def undo() -> None:
        rtcrtpsender.get_encoder = original

    return undo

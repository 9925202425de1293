"""Known media for tests: a solid-colour video track and a tone, plus helpers to read what a
subscriber decoded."""
from __future__ import annotations

import asyncio
import fractions
import time

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from bench.media import ToneTrack

__all__ = ["ColourTrack", "ToneTrack", "close_to", "mean_rgb"]

VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000


class ColourTrack(MediaStreamTrack):
    """Video frames of one solid RGB colour at `fps` (a known picture a subscriber can check)."""

    kind = "video"

    def __init__(self, rgb: tuple[int, int, int], width: int = 320, height: int = 240, fps: int = 30) -> None:
        super().__init__()
        self._image = np.zeros((height, width, 3), dtype=np.uint8)
        self._image[:, :] = rgb
        self._fps = fps
        self._count = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        self._count += 1
        wait = self._start + self._count / self._fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.VideoFrame.from_ndarray(self._image, format="rgb24")
        frame.pts = int(self._count * VIDEO_CLOCK / self._fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame


def mean_rgb(frame: av.VideoFrame) -> tuple[float, float, float]:
    image = frame.to_ndarray(format="rgb24")
    r, g, b = image.reshape(-1, 3).mean(axis=0)
    return float(r), float(g), float(b)


def close_to(rgb: tuple[float, float, float], expected: tuple[int, int, int], tolerance: float = 40.0) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, expected, strict=True))

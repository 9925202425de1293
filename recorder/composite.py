"""Render one playable MP4 of a lesson from its recorded tracks: the screen share and the
teacher's camera laid out together, every audio track mixed. Runs as its own process
(`python -m recorder.composite job.json`), never on the media loop; prints `progress <0..1>`
lines on stdout for the server to show."""
from __future__ import annotations

import argparse
import fractions
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

RATE = 48_000
BLOCK = 1024  # AAC frame size


@dataclass
class Layout:
    width: int = 1280
    height: int = 720
    fps: int = 15


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale into width x height keeping the aspect ratio, centred on black."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(2, int(w * scale)), max(2, int(h * scale))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    y, x = (height - nh) // 2, (width - nw) // 2
    canvas[y:y + nh, x:x + nw] = resized
    return canvas


class VideoSource:
    """The frame of a track showing at lesson time t (None before it starts or after it ends)."""

    def __init__(self, path: str, offset: float) -> None:
        self.offset = offset
        self._container = av.open(path)
        self._container.streams.video[0].thread_type = "AUTO"
        self._frames: Iterator[av.VideoFrame] = self._container.decode(video=0)
        self._current: tuple[float, av.VideoFrame] | None = None
        self._next: tuple[float, av.VideoFrame] | None = None
        self._image: np.ndarray | None = None
        """The current frame as pixels, converted only when it is shown (not every decoded frame is)."""
        self._done = False
        self.end = offset + float(self._container.duration or 0) / av.time_base if self._container.duration else None
        self._advance()

    def _advance(self) -> None:
        try:
            frame = next(self._frames)
        except (StopIteration, av.error.FFmpegError):
            self._next = None
            self._done = True
            return
        self._next = (float(frame.time or 0.0) + self.offset, frame)

    def at(self, t: float) -> np.ndarray | None:
        while self._next is not None and self._next[0] <= t:
            self._current = self._next
            self._image = None
            self._advance()
        if self._current is None:
            return None
        if self._done and t - self._current[0] > 2.0:
            return None  # the track ended
        if self._image is None:
            self._image = self._current[1].to_ndarray(format="bgr24")
        return self._image

    def close(self) -> None:
        self._container.close()


class AudioSource:
    """Samples of a track at lesson sample positions, decoded and resampled as they are needed."""

    def __init__(self, path: str, offset: float) -> None:
        self.start = int(round(offset * RATE))
        self._container = av.open(path)
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        self._frames = self._container.decode(audio=0)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = self.start
        self._done = False

    def _pull(self) -> bool:
        try:
            frame = next(self._frames)
        except (StopIteration, av.error.FFmpegError):
            self._done = True
            return False
        for out in self._resampler.resample(frame):
            self._buffer = np.concatenate([self._buffer, out.to_ndarray().reshape(-1).astype(np.float32)])
        return True

    def read(self, position: int, count: int) -> np.ndarray:
        out = np.zeros(count, dtype=np.float32)
        while not self._done and self._buffer_start + len(self._buffer) < position + count:
            self._pull()
        lo = max(position, self._buffer_start)
        hi = min(position + count, self._buffer_start + len(self._buffer))
        if hi > lo:
            out[lo - position:hi - position] = self._buffer[lo - self._buffer_start:hi - self._buffer_start]
        drop = max(0, min(len(self._buffer), position + count - self._buffer_start))
        self._buffer = self._buffer[drop:]
        self._buffer_start += drop
        return out

    def close(self) -> None:
        self._container.close()


def compose(camera: np.ndarray | None, screen: np.ndarray | None, layout: Layout) -> np.ndarray:
    if screen is not None and camera is not None:
        side = layout.width // 4
        canvas = np.zeros((layout.height, layout.width, 3), dtype=np.uint8)
        canvas[:, : layout.width - side] = _fit(screen, layout.width - side, layout.height)
        canvas[: side * 3 // 4, layout.width - side:] = _fit(camera, side, side * 3 // 4)
        return canvas
    if screen is not None:
        return _fit(screen, layout.width, layout.height)
    if camera is not None:
        return _fit(camera, layout.width, layout.height)
    return np.zeros((layout.height, layout.width, 3), dtype=np.uint8)


def _showing(sources: list[VideoSource], t: float) -> np.ndarray | None:
    for source in sources:
        image = source.at(t)
        if image is not None:
            return image
    return None


def render(job: dict[str, Any], report: Any = None) -> dict[str, float]:
    layout = Layout(**job.get("layout", {}))
    duration = float(job["duration"])
    videos: dict[str, list[VideoSource]] = {}
    for t in job["tracks"]:
        if t["kind"] == "video":
            videos.setdefault(t["source"], []).append(VideoSource(t["path"], float(t["offset"])))
    audios = [AudioSource(t["path"], float(t["offset"])) for t in job["tracks"] if t["kind"] == "audio"]
    out_path = Path(job["out"])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"})
    video = container.add_stream("libx264", rate=layout.fps, options={"preset": "ultrafast", "crf": "27"})
    video.width, video.height, video.pix_fmt = layout.width, layout.height, "yuv420p"
    audio = container.add_stream("aac", rate=RATE, layout="mono") if audios else None
    total_frames = max(1, int(duration * layout.fps))
    audio_done = 0
    try:
        for index in range(total_frames):
            t = index / layout.fps
            image = compose(_showing(videos.get("camera", []), t), _showing(videos.get("screen", []), t), layout)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            frame.time_base = fractions.Fraction(1, layout.fps)
            container.mux(video.encode(frame))
            if audio is not None:
                target = int((index + 1) / layout.fps * RATE)
                while audio_done + BLOCK <= target:
                    mixed = sum((a.read(audio_done, BLOCK) for a in audios), np.zeros(BLOCK, dtype=np.float32))
                    chunk = av.AudioFrame.from_ndarray(np.clip(mixed, -1, 1).reshape(1, -1), format="flt", layout="mono")
                    chunk.sample_rate = RATE
                    chunk.pts = audio_done
                    chunk.time_base = fractions.Fraction(1, RATE)
                    container.mux(audio.encode(chunk))
                    audio_done += BLOCK
            if report is not None and (index % layout.fps == 0 or index == total_frames - 1):
                report((index + 1) / total_frames)
        container.mux(video.encode(None))
        if audio is not None:
            container.mux(audio.encode(None))
    finally:
        container.close()
        for source in [*(v for group in videos.values() for v in group), *audios]:
            source.close()
    return {"duration": total_frames / layout.fps, "size": out_path.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="render a lesson's recorded tracks into one MP4")
    parser.add_argument("job", type=Path, help="a JSON file: {out, duration, tracks: [{path, kind, source, offset}]}")
    args = parser.parse_args(argv)
    os.nice(10)  # a background job: live lessons on the same machine come first
    job = json.loads(args.job.read_text())

    def report(fraction: float) -> None:
        print(f"progress {fraction:.4f}", flush=True)

    result = render(job, report)
    print(f"done {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

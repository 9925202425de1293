"""Render one playable MP4 of a lesson from its recorded tracks: the screen share and the
teacher's camera laid out together, every audio track mixed. Runs as its own process
(`python -m recorder.composite job.json`), never on the media loop; prints `progress <0..1>`
lines on stdout for the server to show.

The job lists the lesson's recorded segments (each start..stop of the recorder): the video is
their concatenation, so unrecorded time between them is cut out, and the job's chapters are
written into the MP4. A damaged frame in a track does not end the track: decoding skips to the
next keyframe, and the result says how many frames of which track were skipped.

While the teacher has the board on the stage (the main board's `show` ops), the board takes the
screen's place: its current page large, the camera small beside it. The board is drawn from its op
log at each frame's time, again only when it changed."""
from __future__ import annotations

import argparse
import fractions
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from whiteboard.document import PAGE_WIDTH
from whiteboard.render import BoardTimeline, ImageLoader, render_board_page, slide_images

RATE = 48_000
BLOCK = 1024  # AAC frame size


def decoded(container: av.container.InputContainer, stream: av.stream.Stream, damage: list[int]) -> Iterator[Any]:
    """Frames of `stream`, decoded packet by packet. A packet the decoder refuses is skipped, and so
    is every packet after it up to the next keyframe (what follows a damaged frame refers to it);
    `damage[0]` counts the packets left out. A container that cannot be read further ends the track."""
    waiting_for_keyframe = False
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError:
            damage[0] += 1  # the rest of the file cannot be read
            return
        if packet.size == 0:  # the end: flush what the decoder holds
            try:
                yield from packet.decode()
            except av.error.FFmpegError:
                pass
            continue
        if waiting_for_keyframe and not packet.is_keyframe:
            damage[0] += 1
            continue
        waiting_for_keyframe = False
        try:
            frames = packet.decode()
        except av.error.FFmpegError:  # InvalidDataError, mostly
            damage[0] += 1
            waiting_for_keyframe = stream.type == "video"
            continue
        yield from frames


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
        stream = self._container.streams.video[0]
        stream.thread_type = "SLICE"  # no frame threads: a decoding error belongs to the packet just given
        self.damage = [0]
        self._frames: Iterator[av.VideoFrame] = decoded(self._container, stream, self.damage)
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

    @property
    def shown_at(self) -> float | None:
        return self._current[0] if self._current is not None else None

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
        self.damage = [0]
        self._frames = decoded(self._container, self._container.streams.audio[0], self.damage)
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


class BoardSource:
    """The main board at lesson time t while it is on the stage (None while it is not), drawn to fit
    a width x height area; the picture is kept until the board changes."""

    def __init__(self, board: dict[str, Any]) -> None:
        self.zero = datetime.fromisoformat(board["zero"])
        self.timeline = BoardTimeline(board["ops"])
        load = slide_images(Path(board["data_dir"]))
        allowed = {int(i) for i in board.get("slides", [])}

        def images(slide_id: int, index: int) -> np.ndarray | None:
            return load(slide_id, index) if slide_id in allowed else None

        self.images: ImageLoader = images
        self._drawn: tuple[tuple[int, int, int], np.ndarray] | None = None
        self.drawings = 0
        """How many times the board was drawn (once per change while it is shown)."""

    def at(self, t: float, width: int, height: int) -> np.ndarray | None:
        board = self.timeline.at(self.zero + timedelta(seconds=t))
        if not board.shown or not board.pages:
            return None
        key = (self.timeline.version, width, height)
        if self._drawn is None or self._drawn[0] != key:
            page = board.pages[min(board.current, len(board.pages) - 1)]
            width_px = max(2, min(width, int(height * PAGE_WIDTH / max(1, page.height))))
            self._drawn = (key, render_board_page(page, width_px, self.images))
            self.drawings += 1
        return self._drawn[1]


def compose(camera: np.ndarray | None, screen: np.ndarray | None, layout: Layout,
            board: BoardSource | None = None, t: float = 0.0) -> np.ndarray:
    """One frame: the board while it is shown (else the screen share) large with the camera small
    at the top right, or whichever of them there is full size."""
    if board is not None:
        side = layout.width // 4
        main_width = layout.width - side if camera is not None else layout.width
        page = board.at(t, main_width, layout.height)
        if page is not None:
            screen = page
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
    """The newest picture of these tracks at t (after a restart, the new track, not the old one's last frame)."""
    best: tuple[float, np.ndarray] | None = None
    for source in sources:
        image = source.at(t)
        if image is not None and source.shown_at is not None and (best is None or source.shown_at > best[0]):
            best = (source.shown_at, image)
    return best[1] if best is not None else None


def plan(job: dict[str, Any], fps: int) -> list[tuple[float, int]]:
    """(lesson time of its start, frames) of each segment; a job without segments is one segment."""
    segments = job.get("segments")
    if not segments:
        return [(0.0, max(1, int(float(job["duration"]) * fps)))]
    return [(float(s["start"]), max(1, int(s["frames"]))) for s in segments]


def render(job: dict[str, Any], report: Any = None) -> dict[str, Any]:
    layout = Layout(**job.get("layout", {}))
    segments = plan(job, layout.fps)
    videos: dict[str, list[VideoSource]] = {}
    order: list[VideoSource | AudioSource] = []
    for t in job["tracks"]:
        source: VideoSource | AudioSource
        if t["kind"] == "video":
            source = VideoSource(t["path"], float(t["offset"]))
            videos.setdefault(t["source"], []).append(source)
        else:
            source = AudioSource(t["path"], float(t["offset"]))
        order.append(source)
    audios = [s for s in order if isinstance(s, AudioSource)]
    board = BoardSource(job["board"]) if job.get("board") else None
    out_path = Path(job["out"])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"})
    video = container.add_stream("libx264", rate=layout.fps, options={"preset": "ultrafast", "crf": "27"})
    video.width, video.height, video.pix_fmt = layout.width, layout.height, "yuv420p"
    audio = container.add_stream("aac", rate=RATE, layout="mono") if audios else None
    total_frames = sum(frames for _start, frames in segments)
    per_frame = RATE // layout.fps if RATE % layout.fps == 0 else None
    # Output audio sample -> lesson sample, segment by segment: (first output sample, its lesson sample).
    audio_map: list[tuple[int, int]] = []
    done_frames = 0
    for start, frames in segments:
        audio_map.append((done_frames * RATE // layout.fps, int(round(start * RATE))))
        done_frames += frames
    chapters = [c for c in job.get("chapters", []) if float(c["start"]) < total_frames / layout.fps]
    if chapters:
        millis = fractions.Fraction(1, 1000)
        starts = [int(round(float(c["start"]) * 1000)) for c in chapters]
        ends = [*starts[1:], int(total_frames * 1000 / layout.fps)]
        container.set_chapters([{"id": i + 1, "start": a, "end": max(a + 1, b), "time_base": millis,
                                 "metadata": {"title": str(c["title"])}}
                                for i, (c, a, b) in enumerate(zip(chapters, starts, ends, strict=True))])

    def mixed(position: int, count: int) -> np.ndarray:
        """`count` output samples from `position`, each read at its lesson time (cut at segment ends)."""
        out = np.zeros(count, dtype=np.float32)
        at = position
        while at < position + count:
            index = max(i for i, (first, _lesson) in enumerate(audio_map) if first <= at)
            first, lesson = audio_map[index]
            stop = audio_map[index + 1][0] if index + 1 < len(audio_map) else position + count
            n = min(stop, position + count) - at
            for a in audios:
                out[at - position:at - position + n] += a.read(lesson + at - first, n)
            at += n
        return out

    audio_done = 0
    index = 0
    try:
        for start, frames in segments:
            for k in range(frames):
                t = start + k / layout.fps
                image = compose(_showing(videos.get("camera", []), t), _showing(videos.get("screen", []), t), layout,
                                board, t)
                frame = av.VideoFrame.from_ndarray(image, format="bgr24")
                frame.pts = index
                frame.time_base = fractions.Fraction(1, layout.fps)
                container.mux(video.encode(frame))
                index += 1
                if audio is not None:
                    target = index * per_frame if per_frame else int(index / layout.fps * RATE)
                    while audio_done + BLOCK <= target:
                        chunk = av.AudioFrame.from_ndarray(np.clip(mixed(audio_done, BLOCK), -1, 1).reshape(1, -1),
                                                           format="flt", layout="mono")
                        chunk.sample_rate = RATE
                        chunk.pts = audio_done
                        chunk.time_base = fractions.Fraction(1, RATE)
                        container.mux(audio.encode(chunk))
                        audio_done += BLOCK
                if report is not None and (index % layout.fps == 0 or index == total_frames):
                    report(index / total_frames)
        container.mux(video.encode(None))
        if audio is not None:
            container.mux(audio.encode(None))
    finally:
        container.close()
        for source in order:
            source.close()
    skipped = [{"track": i, "frames": s.damage[0]} for i, s in enumerate(order) if s.damage[0]]
    return {"duration": total_frames / layout.fps, "size": out_path.stat().st_size, "skipped": skipped}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="render a lesson's recorded tracks into one MP4")
    parser.add_argument("job", type=Path, help="a JSON file: {out, duration, segments: [{start, frames}], "
                        "chapters: [{start, title}], tracks: [{path, kind, source, offset}], "
                        "board?: {zero, data_dir, slides: [id], ops: [{seq, at, op}]}}")
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

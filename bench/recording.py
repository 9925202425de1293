"""`make bench-recording`: what recording costs. Prints CPU seconds per minute of lesson for
(1) recording live: RTP packets of a ~1 Mbps VP8 camera and an Opus microphone through the
recorder's taps (a copy into a queue, on the media loop) and writer threads (depacketize, mux,
flush), as the server does per packet; and (2) rendering the lesson video from those files in the
composite process (decode, lay out, encode H.264 + AAC)."""
from __future__ import annotations

import argparse
import fractions
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from recorder.composite import render
from recorder.track_queue import QueuedTrack
from recorder.track_writer import TrackWriter
from sfu.codecs import starts_keyframe

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rtp_streams(seconds: float) -> tuple[list[RtpPacket], list[RtpPacket]]:
    """RTP packets as a publisher sends them: VP8 from aiortc's encoder (a moving picture at
    ~1 Mbps, 640x480, 30 fps) and Opus (a tone, 20 ms frames)."""
    video_encoder, audio_encoder = get_encoder(VP8), get_encoder(OPUS)
    video_encoder.target_bitrate = 1_000_000
    video: list[RtpPacket] = []
    audio: list[RtpPacket] = []
    seq_v = seq_a = 0
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:480, 0:640]
    for n in range(int(seconds * 30)):
        image = np.zeros((480, 640, 3), np.uint8)
        image[:, :, 0] = (x + y + 4 * n) % 256
        image[100:140, (n * 7) % 600:(n * 7) % 600 + 40] = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = n * 3000, fractions.Fraction(1, 90000)
        payloads, timestamp = video_encoder.encode(frame, force_keyframe=n == 0)
        for i, payload in enumerate(payloads):
            video.append(RtpPacket(payload_type=96, sequence_number=seq_v & 0xFFFF, timestamp=timestamp,
                                   marker=int(i == len(payloads) - 1), payload=payload))
            seq_v += 1
    t = np.arange(960) / 48000
    for n in range(int(seconds * 50)):
        wave = (np.sin(2 * np.pi * 440 * (t + n * 0.02)) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48000, n * 960, fractions.Fraction(1, 48000)
        payloads, timestamp = audio_encoder.encode(frame)
        for payload in payloads:
            audio.append(RtpPacket(payload_type=111, sequence_number=seq_a & 0xFFFF, timestamp=timestamp,
                                   payload=payload))
            seq_a += 1
    return video, audio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of lesson (default 10)")
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PyAV {av.__version__}")
    print(f"encoding {args.minutes:g} min of publisher media (not measured)...", flush=True)
    video, audio = rtp_streams(seconds)
    megabits = sum(len(p.payload) for p in video) * 8 / seconds / 1e6
    print(f"  camera: {len(video)} RTP packets, {megabits:.2f} Mbps; microphone: {len(audio)} packets")

    with tempfile.TemporaryDirectory(prefix="lophoc-bench-") as tmp:
        root = Path(tmp)
        camera = QueuedTrack(TrackWriter(root / "camera.webm", VP8))
        mic = QueuedTrack(TrackWriter(root / "mic.webm", OPUS))
        # Interleaved as they arrive: ~50 audio packets and ~100+ video packets a second.
        order: list[tuple[QueuedTrack, RtpPacket, bool]] = []
        vi = ai = 0
        while vi < len(video) or ai < len(audio):
            if ai < len(audio) and (vi >= len(video) or ai * len(video) <= vi * len(audio)):
                order.append((mic, audio[ai], False))
                ai += 1
            else:
                order.append((camera, video[vi], starts_keyframe("video/VP8", video[vi].payload)))
                vi += 1
        before = cpu()
        tap_cpu = 0.0
        for start in range(0, len(order), 128):
            # Paced as a live lesson would be: the writers are never let fall a queue behind.
            while camera.depth > camera.capacity // 2 or mic.depth > mic.capacity // 2:
                time.sleep(0.001)
            began = time.thread_time()
            for track, packet, keyframe in order[start:start + 128]:
                track.tap(packet, keyframe)
            tap_cpu += time.thread_time() - began
        camera.close()
        mic.close()
        total_cpu = cpu() - before
        writer_cpu = total_cpu - tap_cpu
        total = len(order)
        print("\nrecording live (per packet: a copy into a queue on the media loop; a writer thread per track):")
        print(f"  on the media loop: {tap_cpu / total * 1e6:.2f} µs per packet, {tap_cpu / args.minutes:.3f} s CPU "
              f"per minute of lesson")
        print(f"  writer threads (depacketize, mux, write): {writer_cpu:.2f} s CPU for {args.minutes:g} min: "
              f"{writer_cpu / args.minutes:.3f} s CPU per minute of lesson ({writer_cpu / seconds * 100:.2f}% of one "
              f"core), {writer_cpu / total * 1e6:.1f} µs per packet")
        print(f"  files {camera.writer.path.stat().st_size / 1e6:.1f} MB + {mic.writer.path.stat().st_size / 1e6:.1f} "
              f"MB, {camera.writer.duration:.1f} s recorded, {camera.writer.frames} video frames; dropped "
              f"{camera.dropped + mic.dropped} packets, lost {camera.writer.lost} frames")
        camera, mic = camera.writer, mic.writer  # type: ignore[assignment]

        job = {"out": str(root / "lesson.mp4"), "duration": camera.duration,
               "tracks": [{"path": str(camera.path), "kind": "video", "source": "camera", "offset": 0.0},
                          {"path": str(camera.path), "kind": "video", "source": "screen", "offset": 0.0},
                          {"path": str(mic.path), "kind": "audio", "source": "mic", "offset": 0.0}]}
        before, wall = cpu(), time.perf_counter()
        result = render(job)
        render_cpu, render_wall = cpu() - before, time.perf_counter() - wall
        print("\nrendering the lesson video (camera + screen share laid out, audio mixed, H.264 + AAC, 1280x720, 15 fps):")
        print(f"  {render_cpu:.1f} s CPU, {render_wall:.1f} s wall for {args.minutes:g} min: "
              f"{render_cpu / args.minutes:.2f} s CPU per minute of lesson; "
              f"{result['size'] / 1e6:.1f} MB, {result['duration']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

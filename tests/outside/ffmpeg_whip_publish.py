"""Publish a moving test pattern (H.264) and a tone (Opus) into a lesson with FFmpeg's `whip`
muxer, through PyAV (the project's own Python has it):

    python tests/outside/ffmpeg_whip_publish.py http://127.0.0.1:8080/api/lessons/1/whip TOKEN \
        --cert p256.crt --key p256.key

FFmpeg's whip muxer takes H.264 without B-frames and stereo Opus at 48 kHz; the lesson takes H.264
constrained baseline at profile-level-id 42001f or 42e01f, so the encoder is told level 3.1.
Without --cert/--key FFmpeg makes its own DTLS certificate (in PyAV 18.1's FFmpeg, on the P-224
curve, which OpenSSL's default groups, and so the lesson, do not accept). Prints "publishing" once
the first frame went out (the WHIP exchange and DTLS done), "done" at the end, or "error ...".
"""
from __future__ import annotations

import argparse
import fractions
import signal
import sys
import time

import av
import numpy as np

stop = False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the lesson's WHIP endpoint")
    parser.add_argument("token", help="a bearer token of the lesson's teacher")
    parser.add_argument("--cert", help="DTLS certificate (PEM): P-256 or RSA")
    parser.add_argument("--key", help="its private key (PEM)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args()

    def ended(*_: object) -> None:
        global stop
        stop = True

    signal.signal(signal.SIGTERM, ended)
    options = {"authorization": args.token, "handshake_timeout": "10000"}
    if args.cert and args.key:
        options |= {"cert_file": args.cert, "key_file": args.key}
    try:
        container = av.open(args.url, mode="w", format="whip", options=options)
    except av.FFmpegError as exc:
        print("error", exc, flush=True)
        return 1
    video = container.add_stream("libx264", rate=args.fps, options={
        "profile": "baseline", "level": "3.1", "preset": "ultrafast", "tune": "zerolatency",
        "bf": "0", "g": str(args.fps)})
    video.width, video.height, video.pix_fmt = args.width, args.height, "yuv420p"
    audio = container.add_stream("libopus", rate=48000, layout="stereo")
    audio.bit_rate = 64000
    tone = (np.sin(2 * np.pi * 440 * np.arange(960) / 48000) * 8000).astype(np.int16)
    stereo = np.repeat(tone, 2).reshape(1, -1)
    image = np.zeros((args.height, args.width, 3), np.uint8)
    start, count, samples, announced = time.monotonic(), 0, 0, False
    try:
        while not stop and count < args.seconds * args.fps:
            shift = count * 4 % args.width
            image[:, :, 0] = np.roll(np.linspace(0, 255, args.width, dtype=np.uint8), shift)[None, :]
            image[:, :, 1] = 160
            image[:, :, 2] = np.linspace(0, 255, args.height, dtype=np.uint8)[:, None]
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = count, fractions.Fraction(1, args.fps)
            container.mux(video.encode(frame))
            # As much audio as video so far, in 20 ms Opus frames.
            while samples < (count + 1) * 48000 / args.fps:
                sound = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
                sound.sample_rate, sound.pts = 48000, samples
                sound.time_base = fractions.Fraction(1, 48000)
                container.mux(audio.encode(sound))
                samples += 960
            count += 1
            if not announced and count > args.fps // 2:
                print("publishing", flush=True)
                announced = True
            time.sleep(max(0.0, start + count / args.fps - time.monotonic()))
        container.close()
    except av.FFmpegError as exc:
        print("error", exc, flush=True)
        return 1
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

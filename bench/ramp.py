"""How fast a Chrome publisher's video reaches its configured bitrate (`python -m bench.ramp`).

A real server (run_server.py --demo, loopback) and headless Chromium publishing its fake camera over
WHIP as the demo teacher: a noisy clip (so the encoder wants every bit it is allowed), or with
--camera builtin Chrome's own fake pattern; the video encoding capped at --max-kbps. The received
bitrate is the server's own count of the publisher's media payload (GET /metrics,
lophoc_sfu_bytes_in; video only unless --audio), over the second before each of 1, 2, 3, 5, 9, 15
and 30 s after the first media arrived; Chrome's view (its encoder target and its bandwidth
estimate, getStats) is printed beside it.

--feedback chooses what the server is offered: `transport-cc` (Chrome's offer as is: the server
answers transport-wide feedback) or `remb` (the offer without transport-cc, as the server answered
every publisher before: REMB from abs-send-time), or `both`, one run after the other. Figures only;
nothing is asserted."""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from bench.forwarding import ADMIN_PASSWORD, HTTP_TIMEOUT, prepare_lesson
from bench.server import ServerProcess, running_server

CHECKPOINTS = (1, 2, 3, 5, 9, 15, 30)
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
]

PUBLISH_JS = """
async ([endpoint, token, maxBitrate, width, height, fps, audio, stripTransportCc]) => {
  const stream = await navigator.mediaDevices.getUserMedia(
    {video: {width: {exact: width}, height: {exact: height}, frameRate: fps}, audio});
  const pc = new RTCPeerConnection({bundlePolicy: 'max-bundle'});
  const video = pc.addTransceiver(stream.getVideoTracks()[0], {direction: 'sendonly', sendEncodings: [{maxBitrate}]});
  if (audio) pc.addTransceiver(stream.getAudioTracks()[0], {direction: 'sendonly'});
  const params = video.sender.getParameters();
  params.degradationPreference = 'maintain-resolution';
  await video.sender.setParameters(params);
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
    setTimeout(done, 3000);
  });
  let offer = pc.localDescription.sdp;
  if (stripTransportCc) {
    offer = offer.split('\\r\\n').filter((line) => !/^a=rtcp-fb:\\S+ transport-cc$/.test(line)
      && !line.includes('transport-wide-cc-extensions')).join('\\r\\n');
  }
  const response = await fetch(endpoint, {method: 'POST', body: offer,
    headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}});
  const answer = await response.text();
  if (response.status !== 201) return {error: response.status + ' ' + answer};
  await pc.setRemoteDescription({type: 'answer', sdp: answer});
  window.publisher = pc;
  return {answer};
}
"""

STATS_JS = """
async () => {
  const out = {};
  (await window.publisher.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.bytesSent = s.bytesSent; out.target = s.targetBitrate; out.width = s.frameWidth;
      out.fps = s.framesPerSecond; out.limit = s.qualityLimitationReason;
    }
    if (s.type === 'candidate-pair' && s.availableOutgoingBitrate !== undefined) {
      out.available = s.availableOutgoingBitrate;
    }
  });
  out.state = window.publisher.connectionState;
  return out;
}
"""


def write_noise_y4m(path: Path, width: int, height: int, fps: int, frames: int) -> Path:
    """A clip of moving coarse noise: every frame new detail, so the encoder spends all it may."""
    rng = np.random.default_rng(1)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        chroma = np.full((height // 2) * (width // 2) * 2, 128, np.uint8).tobytes()
        for _ in range(frames):
            blocks = rng.integers(16, 236, (height // 4, width // 4), dtype=np.uint8)
            out.write(b"FRAME\n")
            out.write(np.kron(blocks, np.ones((4, 4), np.uint8)).tobytes())
            out.write(chroma)
    return path


@dataclass
class Sample:
    at: float
    """Seconds since the first media reached the server."""
    server_bytes: float
    browser: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    feedback: str
    negotiated: str
    samples: list[Sample]
    server_cpu: float = 0.0
    """The server's CPU seconds (all threads) over the samples."""

    def rate_before(self, t: float) -> tuple[float | None, Sample | None]:
        """Server-received kbps over the second before t (None past the run), and the sample at t."""
        end = min((s for s in self.samples if s.at >= t), key=lambda s: s.at, default=None)
        start = min(self.samples, key=lambda s: abs(s.at - (t - 1)))
        if end is None or end.at - start.at < 0.5:
            return None, None
        return (end.server_bytes - start.server_bytes) * 8 / (end.at - start.at) / 1000, end

    def time_to(self, kbps: float) -> float | None:
        for sample in self.samples:
            if sample.at >= 1:
                rate, _ = self.rate_before(sample.at)
                if rate is not None and rate >= kbps:
                    return sample.at
        return None


async def bytes_in(http: aiohttp.ClientSession, url: str) -> float:
    async with http.get(url + "/metrics") as response:
        response.raise_for_status()
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "lophoc_sfu_bytes_in_total":
                return float(sample.value)
    raise RuntimeError("GET /metrics has no lophoc_sfu_bytes_in")


def chromium() -> str:
    for candidate in (*CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("Chromium is not installed (apt-get install chromium)")


async def one_run(args: argparse.Namespace, feedback: str, clip: Path | None, work: Path) -> Run:
    from playwright.async_api import async_playwright

    server_args = ["--demo", "--ice-address", "127.0.0.1", "--log-level", "warning"]
    async with running_server(work / f"data-{feedback}", server_args, {"LOPHOC_ADMIN_PASSWORD": ADMIN_PASSWORD}) as server, \
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http, async_playwright() as playwright:
        lesson_id, token, _ = await prepare_lesson(http, server, 0)
        profile = Path(tempfile.mkdtemp(prefix="lophoc-ramp-chromium-", dir=work))
        context = await playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium(), headless=True,
            args=[*CHROMIUM_ARGS, *([f"--use-file-for-fake-video-capture={clip}"] if clip else [])])
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(server.url + "/healthz")  # the server's origin: WHIP is same-origin
            endpoint = f"{server.url}/api/lessons/{lesson_id}/whip"
            result = await page.evaluate(PUBLISH_JS, [endpoint, token, args.max_kbps * 1000, args.width, args.height,
                                                      args.fps, args.audio, feedback == "remb"])
            if "error" in result:
                raise RuntimeError(f"WHIP refused the offer: {result['error']}")
            negotiated = "transport-cc" if "transport-cc" in result["answer"] else (
                "goog-remb" if "goog-remb" in result["answer"] else "none")
            cpu = server.cpu_seconds()
            samples = await sample(http, server, page, args.seconds)
            return Run(feedback, negotiated, samples, server.cpu_seconds() - cpu)
        finally:
            await context.close()


async def sample(http: aiohttp.ClientSession, server: ServerProcess, page: Any, seconds: float) -> list[Sample]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while (first := await bytes_in(http, server.url)) == 0:
        if loop.time() > deadline:
            raise RuntimeError("no media reached the server within 30 s")
        await asyncio.sleep(0.05)
    started = loop.time()
    samples = [Sample(0.0, first)]
    while samples[-1].at < seconds + 0.3:
        await asyncio.sleep(0.25)
        server_bytes, browser = await asyncio.gather(bytes_in(http, server.url), page.evaluate(STATS_JS))
        samples.append(Sample(loop.time() - started, server_bytes, browser))
    return samples


def report(run: Run, max_kbps: int) -> None:
    print(f"\n{run.feedback}: the server answered {run.negotiated}")
    print(f"{'t (s)':>6} {'server kbps':>12} {'Chrome target':>14} {'Chrome BWE':>11} {'sent kbps':>10}  frame")
    for t in CHECKPOINTS:
        rate, at = run.rate_before(t)
        if rate is None or at is None:
            print(f"{t:>6} {'(past the run)':>12}")
            continue
        start = min(run.samples, key=lambda s: abs(s.at - (t - 1)))
        b = at.browser
        sent = None
        if "bytesSent" in b and "bytesSent" in start.browser and at.at > start.at:
            sent = (b["bytesSent"] - start.browser["bytesSent"]) * 8 / (at.at - start.at) / 1000
        target = f"{b['target'] / 1000:.0f}" if b.get("target") else "-"
        bwe = f"{b['available'] / 1000:.0f}" if b.get("available") else "-"
        shown = "-" if sent is None else f"{sent:.0f}"
        print(f"{t:>6} {rate:>12.0f} {target:>14} {bwe:>11} {shown:>10}  "
              f"{b.get('width')}px {b.get('fps')} fps {b.get('limit')}")
    span = run.samples[-1].at
    print(f"server CPU: {run.server_cpu:.2f} s over {span:.0f} s of media ({run.server_cpu / span * 100:.1f}% of a core, "
          f"/metrics scrapes every 0.25 s included)")
    reached = run.time_to(0.9 * max_kbps)
    print(f"time to 90% of {max_kbps} kbps (server-received, 1 s window): "
          f"{'not within the run' if reached is None else f'{reached:.2f} s'}")


async def run(args: argparse.Namespace) -> int:
    modes = ("remb", "transport-cc") if args.feedback == "both" else (args.feedback,)
    work = Path(tempfile.mkdtemp(prefix="lophoc-ramp-"))
    try:
        clip = write_noise_y4m(work / "noise.y4m", args.width, args.height, args.fps, args.fps * 2) \
            if args.camera == "noise" else None
        picture = "coarse noise" if clip else "Chrome's built-in pattern"
        print(f"publisher: headless Chromium, fake camera {args.width}x{args.height}@{args.fps} fps of {picture}, "
              f"video capped at {args.max_kbps} kbps{' + audio' if args.audio else ''}; server and browser on "
              f"loopback on this machine ({os.cpu_count()} cores); {args.seconds:g} s per run", flush=True)
        for mode in modes:
            started = time.monotonic()
            result = await one_run(args, mode, clip, work)
            report(result, args.max_kbps)
            print(f"(run took {time.monotonic() - started:.0f} s)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ramp", description=__doc__.split("\n\n")[0])
    parser.add_argument("--feedback", choices=("remb", "transport-cc", "both"), default="both")
    parser.add_argument("--max-kbps", type=int, default=2000, help="the video encoding's maxBitrate")
    parser.add_argument("--camera", choices=("noise", "builtin"), default="noise",
                        help="a clip of coarse noise (the encoder wants every bit) or Chrome's fake pattern")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--audio", action="store_true", help="publish the fake microphone too (counted by the server)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())

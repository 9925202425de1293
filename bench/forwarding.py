"""Forwarding load: one aiortc publisher (VP8 ~1 Mbps + Opus) and N subscribers that never decode,
against a real server process on loopback. For each N: the server's CPU, packet rates, CPU per
forwarded packet, forwarding latency inside the server (from GET /metrics) and join times.

Subscribers are added in steps (N ascending) to one server and one room; each step is measured
over a steady window once every subscriber of the step has received a keyframe."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import RTCConfiguration
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket
from prometheus_client.parser import text_string_to_metric_families

from bench.media import MovingPictureTrack, ToneTrack, pin_vp8_bitrate
from bench.server import ServerProcess, machine_busy_seconds, pin_process, running_server
from sfu.aiortc_adapter import SfuPeerConnection
from sfu.codecs import starts_keyframe
from sfu.stats import LATENCY_BOUNDS
from signaling.client import LessonClient

ADMIN_PASSWORD = "bench-admin-password"
STUDENT_PASSWORD = "bench-student-password"
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)
CLOSE_TIMEOUT = 10.0


# --- subscribers that count ---------------------------------------------------------------------
class CountingPeerConnection(SfuPeerConnection):
    """Receivers get the sink at creation, before any packet can arrive."""

    def __init__(self, configuration: RTCConfiguration, announced: Sequence[str], sink: Any) -> None:
        self._bench_sink = sink
        super().__init__(configuration, announced)

    def _RTCPeerConnection__createTransceiver(self, direction: str, kind: str, sender_track: Any = None) -> Any:  # noqa: N802
        transceiver = super()._RTCPeerConnection__createTransceiver(direction, kind, sender_track)
        transceiver.receiver.sink = self._bench_sink
        return transceiver


class Subscriber(LessonClient):
    """A student who receives everything without decoding and counts what arrives."""

    def __init__(self, base_url: str, lesson_id: int, token: str) -> None:
        super().__init__(base_url, lesson_id, token, decode=False)
        self.packets = 0
        self.bytes = {"audio": 0, "video": 0}
        self.connect_started: float | None = None
        self.first_rtp: float | None = None
        self.first_keyframe: float | None = None
        self.keyframe = asyncio.Event()

    def _pc(self) -> CountingPeerConnection:
        config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        return CountingPeerConnection(config, self.announced, self._on_rtp)

    def _on_rtp(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        self.packets += 1
        mime = codec.mimeType
        video = mime[0] in "vV"
        self.bytes["video" if video else "audio"] += len(packet.payload)
        if self.first_rtp is None:
            self.first_rtp = time.perf_counter()
        if video and self.first_keyframe is None and starts_keyframe(mime, packet.payload):
            self.first_keyframe = time.perf_counter()
            self.keyframe.set()

    async def join(self, timeout: float) -> None:
        self.connect_started = time.perf_counter()
        await asyncio.wait_for(self.connect(), timeout)
        await asyncio.wait_for(self.keyframe.wait(), timeout)

    def join_ms(self) -> tuple[float | None, float | None]:
        assert self.connect_started is not None
        rtp = None if self.first_rtp is None else (self.first_rtp - self.connect_started) * 1000
        key = None if self.first_keyframe is None else (self.first_keyframe - self.connect_started) * 1000
        return rtp, key


# --- the server's side --------------------------------------------------------------------------
@dataclass
class Snapshot:
    at: float
    server_cpu: float
    bench_cpu: float
    machine_cpu: float
    metrics: dict[str, float]
    buckets: list[float]
    received: int
    received_bytes: dict[str, int]


async def scrape(http: aiohttp.ClientSession, url: str) -> tuple[dict[str, float], list[float]]:
    async with http.get(url + "/metrics") as response:
        response.raise_for_status()
        text = await response.text()
    values: dict[str, float] = {}
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("lophoc_sfu_"):
            continue
        for sample in family.samples:
            if sample.name == "lophoc_sfu_forward_seconds_bucket":
                buckets[float(sample.labels["le"])] = sample.value
            else:
                values[sample.name] = sample.value
    if "lophoc_sfu_packets_out_total" not in values or len(buckets) != len(LATENCY_BOUNDS) + 1:
        raise RuntimeError("GET /metrics has no lophoc_sfu_* forwarding metrics")
    cumulative = [buckets[b] for b in sorted(buckets)]
    return values, [cumulative[0]] + [b - a for a, b in zip(cumulative, cumulative[1:])]


def bench_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def snapshot(http: aiohttp.ClientSession, server: ServerProcess, subscribers: list[Subscriber]) -> Snapshot:
    metrics, buckets = await asyncio.wait_for(scrape(http, server.url), 10)
    return Snapshot(
        at=time.perf_counter(), server_cpu=server.cpu_seconds(), bench_cpu=bench_cpu(),
        machine_cpu=machine_busy_seconds(), metrics=metrics,
        buckets=buckets, received=sum(s.packets for s in subscribers),
        received_bytes={k: sum(s.bytes[k] for s in subscribers) for k in ("audio", "video")},
    )


def quantile(counts: Sequence[float], q: float) -> tuple[float, float]:
    """(interpolated value, bucket upper bound) in seconds of quantile q of bucket counts."""
    total = sum(counts)
    if total <= 0:
        return float("nan"), float("nan")
    target, seen = q * total, 0.0
    bounds = (*LATENCY_BOUNDS, float("inf"))
    for i, n in enumerate(counts):
        if n and seen + n >= target:
            lower = LATENCY_BOUNDS[i - 1] if i > 0 else 0.0
            upper = bounds[i]
            if upper == float("inf"):
                return lower, upper
            return lower + (upper - lower) * (target - seen) / n, upper
        seen += n
    return float("nan"), float("nan")


@dataclass
class Row:
    n: int
    ready: int
    seconds: float
    server_cpu: float
    bench_cpu: float
    other_cpu: float
    in_pps: float
    in_kbps: float
    out_pps: float
    recv_pps: float
    video_kbps: float
    audio_kbps: float
    us_per_packet: float
    p50: tuple[float, float]
    p99: tuple[float, float]
    retransmissions: float
    keyframe_requests: float
    join_rtp: list[float] = field(default_factory=list)
    join_keyframe: list[float] = field(default_factory=list)
    join_failed: int = 0
    us_per_received: float = float("nan")
    """(server CPU with the publisher alone - server CPU idle) / received packets: the way in."""
    us_per_copy: float = float("nan")
    """(server CPU - server CPU with the publisher alone) / forwarded packets: what each copy adds."""


def row_of(n: int, ready: int, a: Snapshot, b: Snapshot, joined: list[Subscriber], failed: int) -> Row:
    dt = b.at - a.at

    def rate(name: str) -> float:
        return (b.metrics.get(name, 0.0) - a.metrics.get(name, 0.0)) / dt

    counts = [y - x for x, y in zip(a.buckets, b.buckets)]
    out_pps = rate("lophoc_sfu_packets_out_total")
    server_cpu = (b.server_cpu - a.server_cpu) / dt
    bench = (b.bench_cpu - a.bench_cpu) / dt
    other = max(0.0, (b.machine_cpu - a.machine_cpu) / dt - server_cpu - bench)
    rtp = [r for r, _ in (s.join_ms() for s in joined) if r is not None]
    key = [k for _, k in (s.join_ms() for s in joined) if k is not None]
    per_subscriber = max(ready, 1)
    return Row(
        n=n, ready=ready, seconds=dt, server_cpu=server_cpu, bench_cpu=bench, other_cpu=other,
        in_pps=rate("lophoc_sfu_packets_in_total"), in_kbps=rate("lophoc_sfu_bytes_in_total") * 8 / 1000,
        out_pps=out_pps, recv_pps=(b.received - a.received) / dt,
        video_kbps=(b.received_bytes["video"] - a.received_bytes["video"]) * 8 / 1000 / dt / per_subscriber,
        audio_kbps=(b.received_bytes["audio"] - a.received_bytes["audio"]) * 8 / 1000 / dt / per_subscriber,
        us_per_packet=server_cpu / out_pps * 1e6 if out_pps else float("nan"),
        p50=quantile(counts, 0.50), p99=quantile(counts, 0.99),
        retransmissions=rate("lophoc_sfu_retransmissions_total") * dt,
        keyframe_requests=rate("lophoc_sfu_keyframe_requests_total") * dt,
        join_rtp=rtp, join_keyframe=key, join_failed=failed,
    )


# --- set-up through the REST API ----------------------------------------------------------------
async def sign_in(http: aiohttp.ClientSession, url: str, username: str, password: str) -> str:
    async with http.post(f"{url}/api/auth/login", json={"username": username, "password": password}) as response:
        if response.status != 200:
            raise RuntimeError(f"sign-in of {username}: {response.status} {await response.text()}")
        return str((await response.json())["token"])


async def prepare_lesson(http: aiohttp.ClientSession, server: ServerProcess, students: int) -> tuple[int, str, list[str]]:
    """(lesson id, teacher token, student tokens): the demo's live lesson, with `students` new
    students enrolled in its class by the administrator."""
    sign_ins = server.demo_sign_ins()
    if not sign_ins.get("teacher"):
        raise RuntimeError(f"the server printed no demo sign-ins:\n{server.output()}")
    teacher_name, teacher_password = sign_ins["teacher"][0]
    admin = await sign_in(http, server.url, "admin", ADMIN_PASSWORD)
    teacher = await sign_in(http, server.url, teacher_name, teacher_password)
    async with http.get(f"{server.url}/api/me/lessons", headers={"Authorization": f"Bearer {teacher}"}) as response:
        response.raise_for_status()
        lessons = (await response.json())["items"]
    live = [lesson for lesson in lessons if lesson["status"] == "live"]
    if not live:
        raise RuntimeError(f"the demo teacher has no live lesson: {lessons}")
    lesson = live[0]

    async def student(i: int) -> str:
        username = f"bench.s{i:03d}"
        body = {"username": username, "password": STUDENT_PASSWORD, "full_name": f"Học sinh {i}",
                "role": "student", "class_id": lesson["class_id"]}
        async with http.post(f"{server.url}/api/users", json=body,
                             headers={"Authorization": f"Bearer {admin}"}) as response:
            if response.status != 201:
                raise RuntimeError(f"POST /api/users {username}: {response.status} {await response.text()}")
        return await sign_in(http, server.url, username, STUDENT_PASSWORD)

    tokens: list[str] = []
    for start in range(0, students, 8):  # a few at a time: password hashing is deliberately slow
        tokens += await asyncio.gather(*(student(i) for i in range(start, min(students, start + 8))))
    return int(lesson["id"]), teacher, tokens


# --- the run ------------------------------------------------------------------------------------
def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    return (f"{cores} cores ({usable} usable), {model}; Linux {platform.release()}; Python {platform.python_version()}, "
            f"aiortc {version('aiortc')}, pylibsrtp {version('pylibsrtp')}")


async def close_all(clients: Sequence[LessonClient]) -> None:
    async def close(client: LessonClient) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), CLOSE_TIMEOUT)
    await asyncio.gather(*(close(c) for c in clients))


async def profile_server(pid: int, seconds: float, out: Path, native: bool) -> Path | None:
    """py-spy's folded stacks of the server over `seconds` (not part of the project's dependencies)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("  (py-spy not found: `.venv/bin/pip install py-spy` to profile)")
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250",
            "--format", "raw", "--output", str(out)] + (["--native"] if native else ["--nonblocking"])
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), seconds + 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None
    if proc.returncode != 0 or not out.exists():
        print(f"  py-spy failed ({proc.returncode}): {output.decode(errors='replace')[-500:]}")
        return None
    return out


def top_functions(folded: Path, limit: int = 20, main_thread_only: bool = False) -> str:
    """From py-spy's raw (folded) output: the lines with the most samples on top of the stack (self,
    by line: C calls count on the Python line that made them) and the functions with the most
    samples anywhere on the stack (inclusive, lines merged)."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit() or (main_thread_only and "run_server.py" not in stack):
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for function in {re.sub(r":\d+\)$", ")", f) for f in frames}:
            inclusive[function] = inclusive.get(function, 0) + count
    if not total:
        return "  (no samples)"
    lines = [f"  {total} samples of busy server threads (idle excluded)", "  self%  line"]
    lines += [f"  {100 * n / total:5.1f}  {f}" for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:limit]]
    lines += ["  incl%  function (the event loop's frames, on every stack, left out)"]
    ranked = [(f, n) for f, n in sorted(inclusive.items(), key=lambda kv: -kv[1]) if n < 0.95 * total]
    lines += [f"  {100 * n / total:5.1f}  {f}" for f, n in ranked[:limit]]
    return "\n".join(lines)


def fmt_ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.0f}/{max(values):.0f}"


def fmt_float(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"


def fmt_us(pair: tuple[float, float]) -> str:
    value, bound = pair
    if value != value:  # nan
        return "-"
    if bound == float("inf"):
        return f">{value * 1e6:.0f}"
    return f"{value * 1e6:.0f} (≤{bound * 1e6:.0f})"


def print_table(rows: list[Row]) -> None:
    head = ("N", "recv", "CPU s/s", "in pkt/s", "in kbps", "µs/in", "fwd pkt/s", "rcvd pkt/s", "µs CPU/fwd", "µs/copy",
            "fwd p50 µs", "fwd p99 µs", "join→RTP ms", "join→key ms", "rtx", "PLI", "bench CPU", "other CPU")
    body = [(str(r.n), f"{r.ready}/{r.n}", f"{r.server_cpu:.3f}", f"{r.in_pps:.0f}", f"{r.in_kbps:.0f}",
             fmt_float(r.us_per_received),
             f"{r.out_pps:.0f}", f"{r.recv_pps:.0f}", fmt_float(r.us_per_packet), fmt_float(r.us_per_copy),
             fmt_us(r.p50), fmt_us(r.p99),
             fmt_ms(r.join_rtp), fmt_ms(r.join_keyframe), f"{r.retransmissions:.0f}", f"{r.keyframe_requests:.0f}",
             f"{r.bench_cpu:.2f}", f"{r.other_cpu:.2f}") for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for b in body:
        print("  ".join(c.rjust(w) for c, w in zip(b, widths)))


async def run(args: argparse.Namespace) -> int:
    steps = sorted(set(args.subscribers))
    print(f"machine: {machine()}")
    print("note: the publisher and all subscribers run in this one benchmark process on the same machine as the "
          "server process (loopback): they compete with the server for the same cores.")
    print(f"load: 1 publisher (VP8 {args.width}x{args.height}@{args.fps} fps, encoder pinned at "
          f"{args.bitrate / 1e6:g} Mbps, + Opus tone); subscribers N = {' '.join(map(str, steps))} "
          f"(added in steps to one room, never decoding); window {args.seconds:g} s after {args.warmup:g} s settling",
          flush=True)
    unpin = pin_vp8_bitrate(args.bitrate)
    rows: list[Row] = []
    publisher: LessonClient | None = None
    subscribers: list[Subscriber] = []
    started = time.monotonic()
    data = Path(tempfile.mkdtemp(prefix="lophoc-bench-"))
    try:
        server_args = ["--demo", "--ice-address", "127.0.0.1", "--log-level", args.server_log_level]
        async with running_server(data / "data", server_args, {"LOPHOC_ADMIN_PASSWORD": ADMIN_PASSWORD}) as server, \
                aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
            print(f"server: pid {server.pid} at {server.url}", flush=True)
            cpus = sorted(os.sched_getaffinity(0))
            if args.pin and len(cpus) >= 2:
                pin_process(server.pid, {cpus[0]})
                pin_process(os.getpid(), set(cpus[1:]))
                print(f"pinned: server on CPU {cpus[0]}, this process on CPU {','.join(map(str, cpus[1:]))}", flush=True)
            lesson_id, teacher_token, tokens = await asyncio.wait_for(
                prepare_lesson(http, server, steps[-1]), 60 + 2 * steps[-1])
            if args.recording == "off":
                async with http.put(f"{server.url}/api/lessons/{lesson_id}/recording-settings",
                                    json={"mode": "off", "record_students": False},
                                    headers={"Authorization": f"Bearer {teacher_token}"}) as response:
                    response.raise_for_status()
            print(f"recording: {args.recording}", flush=True)
            print("idle: the server with nobody in the lesson ...", flush=True)
            await asyncio.sleep(args.warmup)
            before = await snapshot(http, server, subscribers)
            await asyncio.sleep(args.seconds / 2)
            idle = row_of(0, 0, before, await snapshot(http, server, subscribers), [], 0).server_cpu
            print(f"  idle: server {idle:.3f} CPU-s/s", flush=True)
            publisher = LessonClient(server.url, lesson_id, teacher_token, decode=True)
            await asyncio.wait_for(publisher.connect(), args.join_timeout)
            await asyncio.wait_for(publisher.publish({
                "camera": MovingPictureTrack(args.width, args.height, args.fps), "mic": ToneTrack()}), args.join_timeout)
            gate = asyncio.Semaphore(args.join_concurrency)
            print("N=0: the publisher alone (receiving, recording, RTCP: what does not grow with N) ...", flush=True)
            await asyncio.sleep(args.warmup)
            before = await snapshot(http, server, subscribers)
            await asyncio.sleep(args.seconds)
            baseline = row_of(0, 0, before, await snapshot(http, server, subscribers), [], 0)
            rows.append(baseline)
            if baseline.in_pps:
                baseline.us_per_received = (baseline.server_cpu - idle) / baseline.in_pps * 1e6
            print(f"  N=0: server {baseline.server_cpu:.3f} CPU-s/s, {baseline.in_pps:.0f} pkt/s in: "
                  f"{baseline.us_per_received:.1f} µs of CPU per received packet (idle subtracted)", flush=True)

            async def join(subscriber: Subscriber) -> bool:
                async with gate:
                    try:
                        await subscriber.join(args.join_timeout)
                        return True
                    except Exception as exc:  # reported in the table as not ready
                        print(f"  a subscriber did not get a keyframe: {type(exc).__name__}: {exc}", flush=True)
                        return False

            for n in steps:
                new = [Subscriber(server.url, lesson_id, token) for token in tokens[len(subscribers):n]]
                subscribers += new
                print(f"N={n}: joining {len(new)} subscriber(s), {args.join_concurrency} at a time ...", flush=True)
                results = await asyncio.gather(*(join(s) for s in new))
                ready = sum(1 for s in subscribers if s.keyframe.is_set())
                await asyncio.sleep(args.warmup)
                before = await snapshot(http, server, subscribers)
                await asyncio.sleep(args.seconds)
                after = await snapshot(http, server, subscribers)
                row = row_of(n, ready, before, after, new, results.count(False))
                if row.out_pps:
                    row.us_per_copy = (row.server_cpu - baseline.server_cpu) / row.out_pps * 1e6
                rows.append(row)
                print(f"  N={n}: server {row.server_cpu:.3f} CPU-s/s, {row.out_pps:.0f} fwd pkt/s, "
                      f"{row.us_per_packet:.1f} µs/pkt all in, {row.us_per_copy:.1f} µs/copy, p99 {fmt_us(row.p99)} µs",
                      flush=True)
                if args.profile and n == steps[-1]:
                    print(f"  profiling the server with py-spy for {args.seconds:g} s (figures above were taken "
                          "without it) ...", flush=True)
                    out = await profile_server(server.pid, args.seconds, Path(args.profile) / f"server-N{n}.folded",
                                               args.profile_native)
                    if out is not None:
                        print(f"  folded stacks: {out}")
                        print(top_functions(out, main_thread_only=args.profile_native))
            print()
            print(f"figures (steady window of {args.seconds:g} s per N; total run {time.monotonic() - started:.0f} s):")
            print_table(rows)
            print()
            print("  CPU s/s: server process CPU seconds (user+system, all threads, /proc/<pid>/stat) per second.")
            print("  in: media packets/s and payload kbps the server received (lophoc_sfu_packets_in/bytes_in);")
            print("      fwd: packets/s it forwarded (lophoc_sfu_packets_out); rcvd: what the subscribers counted.")
            print("  µs/in: at N=0, (server CPU with the publisher alone - server CPU idle) / received packets: the")
            print("      cost of the way in (SRTP, routing, statistics, NACK, cache, RTCP), the same for any N.")
            print("  µs CPU/fwd: server CPU / forwarded packets (all server work: receive, RTCP, ICE, signaling).")
            print("  µs/copy: (server CPU - server CPU at N=0) / forwarded packets: what forwarding adds per copy,")
            print("      the publisher's own receive side (the same for any N) left out; the subscribers' RTCP, ICE")
            print("      consent checks and signaling are in it.")
            print("  fwd p50/p99: per incoming packet, from the producer's sink to the last consumer's send "
                  "(lophoc_sfu_forward_seconds; interpolated in its bucket, bucket bound in brackets).")
            print("  join→RTP / join→key: from the subscriber's WebSocket connect to its first RTP packet / first")
            print("      VP8 keyframe start, p50/max over the subscribers who joined in that step "
                  f"({args.join_concurrency} joining at a time).")
            print("  rtx / PLI: retransmissions and keyframe requests during the window; bench CPU: this process's")
            print(f"      CPU s/s; other CPU: the rest of the machine's busy CPU s/s (of {os.cpu_count()}), other programs.")
            cores = len(os.sched_getaffinity(0))
            for r in rows:
                busy = r.server_cpu + r.bench_cpu + r.other_cpu
                if busy > 0.85 * cores:
                    print(f"  warning: N={r.n}: the machine was {100 * busy / cores:.0f}% busy ({r.other_cpu:.2f} CPU-s/s "
                          "by other programs): latencies include waiting for a CPU, and a starved publisher sends less.")
            if rows:
                last = rows[-1]
                print(f"  publisher as received per subscriber at N={last.n}: video {last.video_kbps:.0f} kbps, "
                      f"audio {last.audio_kbps:.0f} kbps (RTP payload).")
            return 0 if all(r.ready == r.n for r in rows if r.n) else 1
    finally:
        await close_all(subscribers + ([publisher] if publisher is not None else []))
        unpin()
        shutil.rmtree(data, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 10, 40], metavar="N",
                        help="subscriber counts to measure (default 1 10 40)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window per N (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling time before each window (default 3)")
    parser.add_argument("--bitrate", type=int, default=1_000_000, help="VP8 target bit/s (default 1000000)")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--join-concurrency", type=int, default=10, help="subscribers joining at once (default 10)")
    parser.add_argument("--join-timeout", type=float, default=30.0, help="seconds a subscriber gets to a keyframe")
    parser.add_argument("--server-log-level", default="WARNING")
    parser.add_argument("--recording", choices=("auto", "off"), default="auto",
                        help="record the lesson as schools do (auto, the default) or not (off: the way in alone)")
    parser.add_argument("--pin", action="store_true",
                        help="pin the server to the first CPU and this process to the others (2+ CPUs)")
    parser.add_argument("--profile", metavar="DIR",
                        help="after the largest N's window, profile the server with py-spy for --seconds "
                             "(install py-spy into the venv yourself) and print its top functions")
    parser.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                        help="skip the 5 s measurement of the C forwarding loop alone before the run")
    parser.add_argument("--profile-native", action="store_true", help="py-spy --native: include C frames (pauses the server at each sample)")
    args = parser.parse_args(argv)
    if min(args.subscribers) < 1 or args.seconds <= 0:
        parser.error("subscriber counts must be >= 1 and --seconds > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    import uvloop

    from bench.fanout import measure

    args = parse_args(argv)
    if args.calibrate:
        # This VM's speed drifts by half over an hour: the C loop alone, measured now, says where it is.
        print(f"calibration (make bench-fanout, 40 routes, 5 s): {measure(40, 5.0).summary()}", flush=True)
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

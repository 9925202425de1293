"""The forwarding loop alone (sfu/_fanout.c): one process forwards paced packets (~1,100 bytes,
166 per second, as a 1 Mbps VP8 + Opus publisher sends) to N routes, each with its own SRTP
session, to N sockets that another process reads. Prints this process's CPU per copy: the floor
under `make bench`'s per-copy figure, which adds the subscribers' RTCP, ICE and the event loop.

    .venv/bin/python -m bench.fanout [--routes 40] [--seconds 10]"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import selectors
import socket
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from pylibsrtp import Policy

from sfu._media import Route, forward
import sfu.aiortc_adapter  # noqa: F401  (binds libsrtp for the media module)
from sfu._media import SrtpSession
from sfu.consumer import extension_blocks

PACKETS_PER_SECOND = 166
PAYLOAD = 1100


def drain(ready: Connection, n: int) -> None:
    """The subscribers: N sockets, read until the parent goes."""
    socks = []
    for _ in range(n):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        socks.append(sock)
    ready.send([s.getsockname()[1] for s in socks])
    selector = selectors.DefaultSelector()
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select(1):
            try:
                while True:
                    key.fileobj.recv(4096)  # type: ignore[union-attr]
            except BlockingIOError:
                pass


@dataclass
class Measure:
    routes: int
    packets: int
    copies: int
    errors: int
    user_us: float
    system_us: float
    wall_us: float

    @property
    def cpu_us(self) -> float:
        return self.user_us + self.system_us

    def summary(self) -> str:
        return (f"CPU per copy: {self.cpu_us:.2f} µs (user {self.user_us:.2f}, system {self.system_us:.2f}); "
                f"wall time in forward() per copy: {self.wall_us:.2f} µs")


def measure(routes: int = 40, seconds: float = 10.0) -> Measure:
    """Forward paced packets to `routes` sockets read by another process for `seconds`."""
    parent, child = multiprocessing.Pipe()
    reader = multiprocessing.Process(target=drain, args=(child, routes), daemon=True)
    reader.start()
    try:
        return _forward_paced(parent.recv(), seconds)
    finally:
        reader.terminate()
        reader.join()


def _forward_paced(ports: list[int], seconds: float) -> Measure:
    sockets, made = [], []
    key = os.urandom(28)  # AEAD_AES_128_GCM, what aiortc and browsers agree on
    blocks = extension_blocks("video", b"0", {"urn:ietf:params:rtp-hdrext:sdes:mid": 1})
    for i, port in enumerate(ports):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        session = SrtpSession(Policy.SRTP_PROFILE_AEAD_AES_128_GCM, key, outbound=True)
        route = Route()
        route.ssrc, route.payload_type, route.active = 1000 + i, 96, True
        route.set_extensions(*blocks)
        route.connect(sock.fileno(), "127.0.0.1", port, session, sock)
        sockets.append(sock)
        made.append(route)
    payload = b"\x10" + os.urandom(PAYLOAD - 1)
    interval = 1 / PACKETS_PER_SECOND
    sequence = 0
    started_cpu, started = os.times(), time.monotonic()
    next_at = started
    busy = 0.0
    while time.monotonic() - started < seconds:
        t0 = time.perf_counter()
        forward(made, 0, sequence & 0xFFFF, sequence * 3000 & 0xFFFFFFFF, payload, True, -1, 0)
        busy += time.perf_counter() - t0
        sequence += 1
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    ended_cpu = os.times()
    for route in made:
        route.disconnect()
    for sock in sockets:
        sock.close()
    copies = sum(r.packets_sent for r in made) or 1
    return Measure(routes=len(made), packets=sequence, copies=copies, errors=sum(r.send_errors for r in made),
                   user_us=(ended_cpu.user - started_cpu.user) / copies * 1e6,
                   system_us=(ended_cpu.system - started_cpu.system) / copies * 1e6,
                   wall_us=busy / copies * 1e6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    result = measure(args.routes, args.seconds)
    print(f"{result.routes} routes, {result.packets} packets in, {result.copies} copies out "
          f"({result.errors} failed) in {args.seconds:g} s")
    print(result.summary())
    return 0 if result.copies and not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())

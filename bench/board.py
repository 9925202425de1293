"""`make bench-board` (`python -m bench.board`): the whiteboard under a whole class. One lesson, its
teacher and V viewers (40 by default) on the lesson page's WebSocket (no media). The teacher sends
R `add` operations per second (60 by default: short strokes of ~20 points) for T seconds (20),
each without waiting for the one before; every op is written durably before anyone hears of it.

Printed: the teacher's acknowledgement (durable) p50/p99/max; the fan-out latency from the send to
each viewer's `board_op` event (p50/p99/max; the send time rides in the stroke's id, all clients
on this machine's clock); deliveries per second; whether every viewer got every op in seq order;
the server's CPU-s/s and CPU per op. Viewers run in worker processes (--workers), the teacher in
this one; the `Peer` of bench/classroom.py speaks the protocol."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

from bench.classroom import Peer, ask, online_class, spread
from bench.forwarding import machine
from bench.server import cpu_seconds

MARK = "bench"
PER_PAGE = 1500
"""Strokes per page before the teacher turns to a new one (a page holds at most 2,000)."""


def stroke_op(k: int, page: str) -> dict[str, Any]:
    """The k-th stroke; its id carries the send time (µs since the epoch)."""
    points = [[200 + (k % 50) * 20 + i * 3.5, 150 + (k // 50 % 30) * 20 + (i % 5) * 2.0, 0.6] for i in range(20)]
    return {"kind": "add", "page": page, "object": {
        "id": f"{MARK}{k}_{int(time.time() * 1e6)}", "type": "stroke", "points": points,
        "color": "#1d4ed8", "width": 3}}


class Viewer:
    """A peer that times each stroke's arrival and checks the seqs come in order, one by one."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.latencies: list[float] = []
        self.seq = 0
        self.out_of_order = 0
        peer.on_event = self.event

    def event(self, message: dict[str, Any]) -> None:
        if message.get("type") == "board":
            self.seq = message.get("seq", 0)
        if message.get("type") != "board_op":
            return
        now = time.time()
        if message["seq"] != self.seq + 1:
            self.out_of_order += 1
        self.seq = message["seq"]
        op = message["op"]
        if op.get("kind") == "add" and op["object"]["id"].startswith(MARK):
            self.latencies.append(now - int(op["object"]["id"].rsplit("_", 1)[1]) / 1e6)


# --- viewers, in worker processes ----------------------------------------------------------------
async def _viewers(conn: Connection, url: str, lesson_id: int, tokens: list[str]) -> None:
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        viewers = [Viewer(Peer(http, url, lesson_id, token)) for token in tokens]
        conn.recv()  # every worker is ready: the class joins at once
        joined = await asyncio.gather(*(v.peer.join() for v in viewers))
        for viewer, reply in zip(viewers, joined):
            viewer.seq = reply.get("board", {}).get("seq", 0)
        conn.send(len(joined))
        while True:
            command, _arg = await loop.run_in_executor(None, conn.recv)
            if command == "results":
                conn.send({"latencies": [lat for v in viewers for lat in v.latencies],
                           "out_of_order": sum(v.out_of_order for v in viewers),
                           "last_seqs": [v.seq for v in viewers]})
            elif command == "stop":
                await asyncio.gather(*(v.peer.close() for v in viewers), return_exceptions=True)
                conn.send("stopped")
                return


def _worker(conn: Connection, url: str, lesson_id: int, tokens: list[str]) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_viewers(conn, url, lesson_id, tokens))


# --- the teacher ---------------------------------------------------------------------------------
async def _draw(teacher: Peer, seconds: float, rate: float) -> tuple[list[float], dict[str, int], int]:
    """Send `rate` strokes a second for `seconds`, each on schedule (not waiting for the one before)."""
    acks: list[float] = []
    refused: dict[str, int] = {}
    last_seq = 0

    async def one(op: dict[str, Any]) -> None:
        nonlocal last_seq
        started = time.perf_counter()
        reply = await teacher.request({"type": "board_op", "op": op}, timeout=60)
        if reply.get("type") == "ok":
            acks.append(time.perf_counter() - started)
            last_seq = max(last_seq, reply["seq"])
        else:
            refused[reply.get("code", "?")] = refused.get(reply.get("code", "?"), 0) + 1

    tasks = []
    start = time.monotonic()
    total = int(seconds * rate)
    page = "p1"
    for k in range(total):
        if k and k % PER_PAGE == 0:  # a full page: on to a new one
            page = f"p{k // PER_PAGE + 1}"
            await teacher.request({"type": "board_op", "op": {"kind": "add_page", "page": {
                "id": page, "background": {"kind": "blank"}}}})
        await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))
        tasks.append(asyncio.ensure_future(one(stroke_op(k, page))))
    await asyncio.gather(*tasks)
    return acks, refused, last_seq


async def run(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    print(f"load: 1 lesson, its teacher and {args.viewers} viewers on the lesson page's WebSocket (no media); "
          f"viewers in {args.workers} worker process(es)", flush=True)
    async with online_class(args.viewers, args.workers, args.database_url, "board", _worker) as online:
        server, teacher, conns = online.server, online.teacher, online.conns
        for conn in conns:
            conn.send("go")
        joined = sum(await asyncio.gather(*(asyncio.to_thread(conn.recv) for conn in conns)))
        print(f"joined: {joined} viewers", flush=True)
        cpu0, wall0 = cpu_seconds(server.pid), time.perf_counter()
        acks, refused, last_seq = await _draw(teacher, args.seconds, args.rate)
        cpu1, wall1 = cpu_seconds(server.pid), time.perf_counter()
        await asyncio.sleep(2)  # the last events arrive
        results = await ask(conns, "results")
        latencies = [lat for r in results for lat in r["latencies"]]
        out_of_order = sum(r["out_of_order"] for r in results)
        behind = sum(1 for r in results for seq in r["last_seqs"] if seq != last_seq)
        busy = wall1 - wall0
        sent = int(args.seconds * args.rate)
        print(f"board: {sent} strokes sent ({args.rate:g}/s for {args.seconds:g} s), {len(acks)} acknowledged, "
              f"refused {sum(refused.values())} {refused or ''}; last seq {last_seq}")
        print(f"board ack (durable): {spread(acks)}")
        print(f"board fan-out latency (send -> each viewer's board_op): {spread(latencies)}; "
              f"{len(latencies)} deliveries ({len(latencies) / max(len(acks), 1):.1f} per op, "
              f"{len(latencies) / busy:.0f}/s)")
        print(f"board order: {out_of_order} events out of seq order, {behind} viewers not at the last seq")
        print(f"board server CPU: {(cpu1 - cpu0) / busy:.2f} CPU-s/s; "
              f"{(cpu1 - cpu0) / max(len(acks), 1) * 1e3:.2f} ms per op, "
              f"{(cpu1 - cpu0) / max(len(latencies), 1) * 1e6:.0f} µs per delivery", flush=True)
        complete = len(acks) == sent and len(latencies) == sent * args.viewers
        return 0 if complete and not out_of_order and not behind else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the teacher draws")
    parser.add_argument("--rate", type=float, default=60.0, help="add operations per second")
    parser.add_argument("--workers", type=int, default=2, help="processes the viewers run in")
    parser.add_argument("--database-url", default=None, help="the server's database (default: SQLite)")
    args = parser.parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

"""`make bench-classroom` (`python -m bench.classroom`): the classroom's voice under a whole class.
One lesson, its teacher and S students (40 by default) on the lesson page's WebSocket (no media).

1. Chat: every student sends a public chat message at R messages per second (1 by default) for T
   seconds, each start jittered; everyone in the lesson receives every message. Printed: the fan-out
   latency from the sender's send to each receiver's `chat` event (p50/p99/max; the send time rides
   in the text, all clients on this machine's clock), deliveries per second, the server's CPU-s/s
   and CPU per delivered message, and refusals (rate_limited) if any.
2. A poll answered at once: the teacher opens a single-choice poll (`poll_create`), every student
   answers it at the same instant (`poll_answer`). Printed: answer acknowledged (durable) p50/p99/max,
   the time until the teacher's `poll_counts` says everyone answered, and the server's CPU.

Students run in worker processes (--workers), the teacher in this one. The school is written into the
database before the server starts and each user is signed in as a sign-in does it (a session row, then the token: bench/joins.py)."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import random
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

from bench.forwarding import machine
from bench.joins import percentile, seed_school, session_tokens
from bench.server import ServerProcess, cpu_seconds, running_server
from storage.database import sqlite_url

MARK = "bench"


class Peer:
    """One participant on the lesson's WebSocket: requests with ids, events counted."""

    def __init__(self, http: aiohttp.ClientSession, url: str, lesson_id: int, token: str) -> None:
        self.http = http
        self.url = url
        self.lesson_id = lesson_id
        self.token = token
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.user_id = 0
        self._ids = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.latencies: list[float] = []
        """Seconds from a chat message's send to its arrival here."""
        self.refused: dict[str, int] = {}
        self.on_event: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def join(self) -> dict[str, Any]:
        ws_url = self.url.replace("http", "ws", 1) + f"/api/lessons/{self.lesson_id}/ws"
        self.ws = await self.http.ws_connect(ws_url, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        joined = await self.request({"type": "join", "token": self.token, "auto_subscribe": False})
        return joined

    async def request(self, message: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        assert self.ws is not None
        self._ids += 1
        message = {**message, "id": self._ids}
        future = asyncio.get_running_loop().create_future()
        self._waiting[self._ids] = future
        await self.ws.send_str(json.dumps(message))
        return await asyncio.wait_for(future, timeout)

    async def _read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            now = time.time()
            waiting = self._waiting.pop(message.get("id"), None) if "id" in message else None
            if waiting is not None and not waiting.done():
                waiting.set_result(message)
                continue
            if message.get("type") == "chat":
                parts = message["message"]["text"].split()
                if len(parts) == 3 and parts[0] == MARK:
                    self.latencies.append(now - float(parts[2]))
            elif self.on_event is not None:
                self.on_event(message)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.send_str(json.dumps({"type": "leave"}))
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader


# --- students, in worker processes ---------------------------------------------------------------
async def _students(conn: Connection, url: str, lesson_id: int, tokens: list[str]) -> None:
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        peers = [Peer(http, url, lesson_id, token) for token in tokens]
        conn.recv()  # every worker is ready: the class joins at once
        started = time.perf_counter()
        waits = await asyncio.gather(*(_timed(peer.join()) for peer in peers))
        conn.send((time.perf_counter() - started, waits))
        while True:
            command, arg = await loop.run_in_executor(None, conn.recv)
            if command == "chat":
                seconds, rate = arg
                conn.send(await _chat(peers, seconds, rate))
            elif command == "answer":
                conn.send(await _answer(peers, arg))
            elif command == "stop":
                await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)
                conn.send("stopped")
                return


async def _timed(join: Any) -> float:
    started = time.perf_counter()
    await join
    return time.perf_counter() - started


async def _chat(peers: list[Peer], seconds: float, rate: float) -> dict[str, Any]:
    for peer in peers:
        peer.latencies.clear()
    sent = refused = 0

    async def talk(peer: Peer, n: int) -> None:
        nonlocal sent, refused
        await asyncio.sleep(random.uniform(0, 1 / rate))
        start = time.monotonic()
        k = 0
        while (due := start + k / rate) < start + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            reply = await peer.request({"type": "chat", "text": f"{MARK} {n} {time.time():.6f}"})
            if reply.get("type") == "ok":
                sent += 1
            else:
                refused += 1
                peer.refused[reply.get("code", "?")] = peer.refused.get(reply.get("code", "?"), 0) + 1
            k += 1

    await asyncio.gather(*(talk(peer, n) for n, peer in enumerate(peers)))
    await asyncio.sleep(2)  # the last messages arrive
    codes: dict[str, int] = {}
    for peer in peers:
        for code, count in peer.refused.items():
            codes[code] = codes.get(code, 0) + count
    return {"sent": sent, "refused": refused, "codes": codes,
            "latencies": [lat for peer in peers for lat in peer.latencies]}


async def _answer(peers: list[Peer], arg: tuple[int, float]) -> dict[str, Any]:
    poll_id, at = arg
    await asyncio.sleep(max(0.0, at - time.time()))  # every worker's students answer at the same instant

    async def answer(peer: Peer) -> tuple[float, str]:
        started = time.time()
        reply = await peer.request({"type": "poll_answer", "poll_id": poll_id,
                                    "choices": [random.randrange(4)]})
        return time.time() - started, reply.get("type", "?") if reply.get("type") == "ok" else reply.get("code", "?")

    results = await asyncio.gather(*(answer(peer) for peer in peers))
    return {"acks": [lat for lat, kind in results if kind == "ok"],
            "refused": [kind for _, kind in results if kind != "ok"]}


def _worker(conn: Connection, url: str, lesson_id: int, tokens: list[str]) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_students(conn, url, lesson_id, tokens))


# --- the run -------------------------------------------------------------------------------------
def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (f"p50 {percentile(values, 0.5) * 1000:.1f} ms, p99 {percentile(values, 0.99) * 1000:.1f} ms, "
            f"max {max(values) * 1000:.1f} ms")


async def ask(conns: list[Connection], command: str, arg: Any = None) -> list[Any]:
    for conn in conns:
        conn.send((command, arg))
    return await asyncio.gather(*(asyncio.to_thread(conn.recv) for conn in conns))


@dataclass
class OnlineClass:
    """One lesson on the page's WebSocket: the server, its teacher here, its students in workers."""

    server: ServerProcess
    teacher: Peer
    conns: list[Connection]
    """One pipe per worker process; a worker starts by waiting for "go"."""


@contextlib.asynccontextmanager
async def online_class(students: int, workers: int, database_url: str | None, tag: str,
                       worker: Callable[..., None]) -> AsyncIterator[OnlineClass]:
    """A school seeded with one lesson of `students`, the server started on it, the teacher joined,
    and `workers` processes running `worker(conn, url, lesson_id, tokens)` with their share of the
    students; every worker is told "stop" and the teacher leaves at the end."""
    data = Path(tempfile.mkdtemp(prefix=f"lophoc-bench-{tag}-"))
    (data / "data").mkdir()
    db_url = database_url or sqlite_url(data / "data")
    secret = secrets.token_hex(32)
    school = await seed_school(db_url, 1, students, tag + secrets.token_hex(3), "manual")
    lesson = school.lessons[0]
    tokens = await session_tokens(db_url, secret, [lesson.teacher[0]] + [uid for uid, _ in lesson.students])
    server_args = ["--ice-address", "127.0.0.1", "--log-level", "warning"]
    if database_url:
        server_args += ["--database-url", database_url]
    context = multiprocessing.get_context("spawn")
    processes: list[Any] = []
    conns: list[Connection] = []
    async with running_server(data / "data", server_args, {"LOPHOC_SECRET_KEY": secret}) as server, \
            aiohttp.ClientSession() as http:
        teacher = Peer(http, server.url, lesson.lesson_id, tokens[lesson.teacher[0]])
        await teacher.join()
        student_tokens = [tokens[uid] for uid, _ in lesson.students]
        try:
            for k in range(workers):
                mine, theirs = context.Pipe()
                process = context.Process(target=worker, daemon=True,
                                          args=(theirs, server.url, lesson.lesson_id, student_tokens[k::workers]))
                process.start()
                processes.append(process)
                conns.append(mine)
            yield OnlineClass(server, teacher, conns)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ask(conns, "stop"), 30)
            for process in processes:
                process.join(10)
                if process.is_alive():
                    process.kill()
            await teacher.close()


async def run(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    print(f"load: 1 lesson, its teacher and {args.students} students on the lesson page's WebSocket (no media); "
          f"students in {args.workers} worker process(es)", flush=True)
    async with online_class(args.students, args.workers, args.database_url, "voice", _worker) as online:
        server, teacher, conns = online.server, online.teacher, online.conns
        for conn in conns:
            conn.send("go")
        joins = await asyncio.gather(*(asyncio.to_thread(conn.recv) for conn in conns))
        waits = [w for _, part in joins for w in part]
        print(f"joined: {args.students} students at once in {max(total for total, _ in joins):.1f} s; "
              f"each join {spread(waits)}", flush=True)
        # 1. chat
        teacher.latencies.clear()
        cpu0, wall0 = cpu_seconds(server.pid), time.perf_counter()
        results = await ask(conns, "chat", (args.seconds, args.rate))
        cpu1, wall1 = cpu_seconds(server.pid), time.perf_counter()
        latencies = [lat for r in results for lat in r["latencies"]] + teacher.latencies
        sent = sum(r["sent"] for r in results)
        codes: dict[str, int] = {}
        for r in results:
            for code, count in r["codes"].items():
                codes[code] = codes.get(code, 0) + count
        busy = wall1 - wall0
        print(f"chat: {sent} messages sent ({args.rate:g}/s per student for {args.seconds:g} s), refused "
              f"{sum(codes.values())} {codes or ''}; {len(latencies)} deliveries "
              f"({len(latencies) / max(sent, 1):.1f} per message, {len(latencies) / busy:.0f}/s)")
        print(f"chat fan-out latency (send -> each receiver's event): {spread(latencies)}")
        print(f"chat server CPU: {(cpu1 - cpu0) / busy:.2f} CPU-s/s; "
              f"{(cpu1 - cpu0) / max(len(latencies), 1) * 1e6:.0f} µs per delivery, "
              f"{(cpu1 - cpu0) / max(sent, 1) * 1e3:.2f} ms per message", flush=True)
        # 2. a poll answered at once
        everyone = asyncio.get_running_loop().create_future()
        seen_at: list[float] = []

        def counts(message: dict[str, Any]) -> None:
            if message.get("type") == "poll_counts" and message.get("answered") == args.students:
                seen_at.append(time.time())
                if not everyone.done():
                    everyone.set_result(None)

        teacher.on_event = counts
        poll = await teacher.request({"type": "poll_create", "open": True, "poll": {
            "question": "Đồ thị hàm số y = x² có trục đối xứng nào?", "kind": "single",
            "options": ["x = 0", "y = 0", "x = 1", "y = x"], "correct": [0], "points": 1,
            "duration_s": 120, "anonymous": False}})
        if poll.get("type") != "ok":
            print(f"poll: could not be created: {poll}")
            return 1
        at = time.time() + 1.0
        cpu0 = cpu_seconds(server.pid)
        answered = await ask(conns, "answer", (poll["poll"]["id"], at))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everyone, 30)
        cpu1 = cpu_seconds(server.pid)
        acks = [lat for r in answered for lat in r["acks"]]
        refused = [kind for r in answered for kind in r["refused"]]
        print(f"poll: {len(acks)} answers acknowledged at once, refused {len(refused)} {refused[:3] or ''}; "
              f"ack (durable) {spread(acks)}")
        print(f"poll: the teacher saw all {args.students} answered "
              f"{(seen_at[0] - at) * 1000:.0f} ms after they were sent" if seen_at else
              "poll: the teacher never saw everyone answered")
        print(f"poll server CPU: {cpu1 - cpu0:.2f} CPU-s for the burst and its counts", flush=True)
        return 0 if acks and not refused and seen_at and sent else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the class chats")
    parser.add_argument("--rate", type=float, default=1.0, help="messages per second per student")
    parser.add_argument("--workers", type=int, default=2, help="processes the students run in")
    parser.add_argument("--database-url", default=None, help="the server's database (default: SQLite)")
    args = parser.parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

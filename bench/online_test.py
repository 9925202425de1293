"""`make bench-tests` (`python -m bench.online_test`): a class takes an online test at the same
second, against run_server.py on a fresh SQLite data directory (`--demo`).

The demo's teacher builds a bank of Q questions and a test that draws all of them; the class (the
demo's students and more, N in all) signs in, then:
1. every student starts their attempt at once (each gets their own shuffled paper);
2. every student answers every question, one autosave (PUT) per answer, with a think time of
   0-THINK ms before each, all students at once;
3. every student submits at once (the server grades the objective items).

Printed per phase: the latency of each request (p50, p95, max), requests per second, and the
server's CPU seconds (per 1,000 answers for the autosaves). Every reply is checked; a refusal stops
the benchmark."""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.forwarding import machine
from bench.server import running_server

PASSWORD = "mat-khau-do-1"


class Caller:
    def __init__(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        self.http, self.url, self.headers = http, url, {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, *, json: Any = None, expect: int = 200) -> tuple[Any, float]:
        """The reply and its wall time in ms."""
        started = time.perf_counter()
        async with self.http.request(method, self.url + path, json=json, headers=self.headers) as response:
            body = await response.json(content_type=None)
            if response.status != expect:
                raise SystemExit(f"{method} {path}: {response.status} {str(body)[:400]}")
        return body, (time.perf_counter() - started) * 1000


async def sign_in(http: aiohttp.ClientSession, url: str, username: str, password: str) -> Caller:
    async with http.post(f"{url}/api/auth/login", json={"username": username, "password": password}) as response:
        body = await response.json()
        if response.status != 200:
            raise SystemExit(f"sign-in of {username}: {response.status} {body}")
    return Caller(http, url, body["token"])


def spread(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.1f} ms  p95 {p95:6.1f} ms  max {ordered[-1]:6.1f} ms"


async def run(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="lophoc-bench-tests-") as tmp:
        async with running_server(Path(tmp) / "data", ["--demo"]) as server:
            sign_ins = server.demo_sign_ins()
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as http:
                admin = await sign_in(http, server.url, *sign_ins["admin"][0])
                teacher = await sign_in(http, server.url, *sign_ins["teacher"][0])
                await bench(http, server, admin, teacher, sign_ins["student"], args)


async def bench(http: aiohttp.ClientSession, server: Any, admin: Caller, teacher: Caller,
                demo_students: list[tuple[str, str]], args: argparse.Namespace) -> None:
    lessons, _ = await teacher.call("GET", "/api/me/lessons")
    lesson = lessons["items"][0] if isinstance(lessons, dict) else lessons[0]
    class_id, subject_id = lesson["class_id"], lesson["subject_id"]
    logins = list(demo_students)
    for n in range(max(0, args.students - len(logins))):
        username = f"hs.do{n}"
        await admin.call("POST", "/api/users", expect=201, json={
            "username": username, "password": PASSWORD, "full_name": f"Học Sinh Đo {n}", "role": "student",
            "class_id": class_id})
        logins.append((username, PASSWORD))
    logins = logins[:args.students]

    bank, _ = await teacher.call("POST", "/api/question-banks", expect=201,
                                 json={"subject_id": subject_id, "title": "Ngân hàng đo"})
    questions = [{"kind": "single", "text": f"Câu {n + 1}: chọn phương án {'ABCD'[n % 4]}",
                  "options": ["A", "B", "C", "D"], "correct": [n % 4], "points": 1.0} for n in range(args.questions)]
    await teacher.call("POST", f"/api/question-banks/{bank['id']}/questions", expect=201, json={"questions": questions})
    now = datetime.now(UTC)
    test, _ = await teacher.call("POST", "/api/online-tests", expect=201, json={
        "class_id": class_id, "subject_id": subject_id, "title": "Kiểm tra 15 phút (đo)",
        "draws": [{"bank_id": bank["id"], "count": args.questions}],
        "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(hours=1)).isoformat(),
        "time_limit_minutes": 45})
    students = await asyncio.gather(*(sign_in(http, server.url, u, p) for u, p in logins))
    print(f"a class of {len(students)} takes a test of {args.questions} questions "
          f"(think time 0-{args.think_ms} ms before each answer)")

    cpu, wall = server.cpu_seconds(), time.perf_counter()
    started = await asyncio.gather(*(s.call("POST", f"/api/online-tests/{test['id']}/attempts", expect=201)
                                     for s in students))
    elapsed, used = time.perf_counter() - wall, server.cpu_seconds() - cpu
    print(f"1. start at once     {len(students):>5} attempts  {spread([ms for _, ms in started])}  "
          f"all in {elapsed:5.2f} s  server {used:5.2f} CPU-s")

    times: list[float] = []
    rng = random.Random(7)

    async def answer_all(student: Caller, attempt: dict[str, Any]) -> None:
        for item in attempt["items"]:
            await asyncio.sleep(rng.uniform(0, args.think_ms) / 1000)
            _, ms = await student.call("PUT", f"/api/test-attempts/{attempt['id']}/answers/{item['position']}",
                                       json={"choices": [rng.randrange(len(item["options"]))]})
            times.append(ms)

    cpu, wall = server.cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(answer_all(s, a) for s, (a, _) in zip(students, started, strict=True)))
    elapsed, used = time.perf_counter() - wall, server.cpu_seconds() - cpu
    print(f"2. autosave answers  {len(times):>5} answers   {spread(times)}  {len(times) / elapsed:6.0f} answers/s  "
          f"server {used:5.2f} CPU-s ({used / len(times) * 1000:5.2f} per 1,000 answers)")

    cpu, wall = server.cpu_seconds(), time.perf_counter()
    submitted = await asyncio.gather(*(s.call("POST", f"/api/test-attempts/{a['id']}/submit")
                                       for s, (a, _) in zip(students, started, strict=True)))
    elapsed, used = time.perf_counter() - wall, server.cpu_seconds() - cpu
    graded = sum(1 for body, _ in submitted if body["status"] == "graded")
    print(f"3. submit at once    {len(submitted):>5} attempts  {spread([ms for _, ms in submitted])}  "
          f"all in {elapsed:5.2f} s  server {used:5.2f} CPU-s  ({graded} graded at once)")
    if graded != len(submitted):
        raise SystemExit("an objective-only test was not graded on submission")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40, help="the class's size (default 40)")
    parser.add_argument("--questions", type=int, default=20, help="questions in the test (default 20)")
    parser.add_argument("--think-ms", type=int, default=200, help="most think time before an answer (default 200)")
    args = parser.parse_args(argv)
    if args.students < 1 or args.questions < 1:
        parser.error("--students and --questions must be at least 1")
    asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

"""`make bench-school` (`python -m bench.school_admin`): the start of a school year as an
administrator does it, against run_server.py on a fresh SQLite data directory.

1. The rolls from spreadsheets (CSV, as exported from the Ministry's systems): C classes with
   their homeroom teachers, then S students per class: preview (nothing written) and import
   (all-or-nothing, usernames and initial passwords generated), each timed, with the server's CPU.
2. The timetable: 5 subjects taught by each class's homeroom teacher, 5 periods a day from
   Monday to Friday (25 weekly lessons a class), generated from today to the end of the school
   year: the preview with its clash check (`dry_run`), then the real thing, timed.
3. The school's week view (every class's lessons of one week), read R times: p50 and max.

Printed: rows and lessons per second, server CPU seconds per 1,000 rows or lessons, wall times."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.forwarding import machine
from bench.server import running_server

SUBJECTS = ("Toán", "Ngữ văn", "Tiếng Anh", "Vật lý", "Hóa học")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Quốc", "Thanh", "Đức", "Hồng")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khoa", "Lan", "Mai", "Nam", "Phúc", "Quân", "Sơn",
         "Trang", "Uyên", "Vy", "Yến", "Tùng", "Hải", "Linh")


def person(n: int) -> str:
    return f"{FAMILY[n % len(FAMILY)]} {MIDDLE[n // 10 % len(MIDDLE)]} {GIVEN[n // 80 % len(GIVEN)]} {n}"


def csv_file(header: list[str], rows: list[list[str]]) -> bytes:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


class Admin:
    def __init__(self, http: aiohttp.ClientSession, url: str, server: Any) -> None:
        self.http, self.url, self.server = http, url, server

    async def call(self, method: str, path: str, *, json: Any = None, data: Any = None,
                   params: dict[str, str] | None = None, expect: int = 200) -> Any:
        async with self.http.request(method, self.url + path, json=json, data=data, params=params) as response:
            body = await response.json(content_type=None)
            if response.status != expect:
                raise SystemExit(f"{method} {path}: {response.status} {str(body)[:400]}")
            return body

    async def timed(self, method: str, path: str, **kwargs: Any) -> tuple[Any, float, float]:
        """The reply, wall seconds and server CPU seconds of one call."""
        cpu, wall = self.server.cpu_seconds(), time.perf_counter()
        body = await self.call(method, path, **kwargs)
        return body, time.perf_counter() - wall, self.server.cpu_seconds() - cpu

    async def rolls(self, kind: str, content: bytes, rows: int) -> None:
        for step, status in (("preview", 200), ("import", 201)):
            form = aiohttp.FormData()
            form.add_field("file", content, filename=f"{kind}.csv", content_type="text/csv")
            body, wall, cpu = await self.timed("POST", f"/api/rolls/{kind}/{step}", data=form, expect=status)
            if step == "preview" and not body["ok"]:
                bad = [r for r in body["rows"] if r["problems"]][:3]
                raise SystemExit(f"{kind}: the preview found problems: {bad}")
            print(f"  {kind:<9} {step:<8} {rows:>5} rows  {wall:7.2f} s  {rows / wall:8.0f} rows/s  "
                  f"server {cpu:6.2f} CPU-s ({cpu / rows * 1000:6.2f} per 1,000 rows)")


async def run(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="lophoc-bench-school-") as tmp:
        async with running_server(Path(tmp) / "data", ["--demo"]) as server:
            username, password = server.demo_sign_ins()["admin"][0]
            async with aiohttp.ClientSession() as http:
                login = await http.post(f"{server.url}/api/auth/login", json={"username": username, "password": password})
                token = (await login.json())["token"]
                http.headers["Authorization"] = f"Bearer {token}"
                admin = Admin(http, server.url, server)
                await bench(admin, args)


async def bench(admin: Admin, args: argparse.Namespace) -> None:
    classes = [f"{10 + n % 3}B{n // 3 + 1}" for n in range(args.classes)]
    subject_ids = []
    for n, name in enumerate(SUBJECTS):
        made = await admin.call("POST", "/api/subjects", json={"name": f"{name} (đo)", "code": f"DO{n}"}, expect=201)
        subject_ids.append(made["id"])
    await admin.call("POST", "/api/subject-teams", json={"name": "Tự nhiên (đo)", "subject_ids": subject_ids},
                     expect=201)
    print(f"1. rolls: {len(classes)} classes with their homeroom teachers, {args.students} students a class")
    teachers = [[person(10_000 + n), f"gvcn.b{n}", "Tự nhiên (đo)"] for n in range(len(classes))]
    await admin.rolls("teachers", csv_file(["Họ và tên", "Tên đăng nhập", "Tổ chuyên môn"], teachers), len(teachers))
    rows = [[name, name[:2], f"gvcn.b{n}"] for n, name in enumerate(classes)]
    await admin.rolls("classes", csv_file(["Tên lớp", "Khối", "GVCN"], rows), len(rows))
    students = [[person(c * args.students + k), name] for c, name in enumerate(classes) for k in range(args.students)]
    await admin.rolls("students", csv_file(["Họ và tên", "Lớp"], students), len(students))

    years = (await admin.call("GET", "/api/school-years"))["items"]
    year = next(y for y in years if y["is_current"])
    listed = {c["name"]: c["id"] for c in (await admin.call("GET", "/api/classes"))["items"] if c["name"] in classes}
    teacher_ids = {u["username"]: u["id"] for u in (await admin.call(
        "GET", "/api/users", params={"role": "teacher"}))["items"]}
    entries = []
    for n, name in enumerate(classes):
        teacher = teacher_ids[f"gvcn.b{n}"]
        for subject in subject_ids:
            await admin.call("POST", "/api/assignments", json={
                "teacher_id": teacher, "class_id": listed[name], "subject_id": subject}, expect=201)
        for weekday in range(1, 6):
            for period in range(1, 6):
                entries.append({"class_id": listed[name], "subject_id": subject_ids[(weekday + period) % 5],
                                "teacher_id": teacher, "weekday": weekday, "period_from": period,
                                "period_to": period})
    start = max(date.today() + timedelta(days=1), date.fromisoformat(year["starts_on"]))
    end = min(start + timedelta(weeks=args.weeks), date.fromisoformat(year["ends_on"]))
    print(f"2. timetable: {len(entries)} weekly lessons ({len(classes)} classes x 25) from {start} to {end}")
    for step, status in (("preview", 200), ("generate", 200)):
        body, wall, cpu = await admin.timed("POST", "/api/timetable/generate", expect=status, json={
            "school_year_id": year["id"], "from": start.isoformat(), "to": end.isoformat(), "entries": entries,
            "dry_run": step == "preview"})
        lessons = body["lessons"]
        print(f"  {step:<8} {lessons:>6} lessons, {len(body['clashes'])} clashes  {wall:7.2f} s  "
              f"{lessons / wall:8.0f} lessons/s  server {cpu:6.2f} CPU-s ({cpu / max(lessons, 1) * 1000:6.2f} per 1,000)")

    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    times = []
    for _ in range(args.reads):
        body, wall, _ = await admin.timed("GET", "/api/timetable/week", params={"date": monday.isoformat()})
        times.append(wall * 1000)
    print(f"3. the school's week view ({len(body['blocks'])} lessons), {args.reads} reads: "
          f"p50 {statistics.median(times):.0f} ms, max {max(times):.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", type=int, default=12, help="classes (at most 12: 300 weekly lessons a call)")
    parser.add_argument("--students", type=int, default=40, help="students a class")
    parser.add_argument("--weeks", type=int, default=18, help="weeks of timetable (a term)")
    parser.add_argument("--reads", type=int, default=20, help="reads of the week view")
    args = parser.parse_args(argv)
    if not 1 <= args.classes <= 12:
        parser.error("--classes must be 1 to 12")
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

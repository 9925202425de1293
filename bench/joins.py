"""`make bench-joins` (`python -m bench.joins`): a school's bell. K lessons happen now, each with its
teacher publishing camera (VP8) and microphone (Opus); the N students of each class all join at
once, over the lesson page's WebSocket, over WHEP, or both (one path after the other). Then all
leave at once and all join again at once, and leave again.

For each path and phase: joins answered, joins that were refused `overloaded` and retried, failures
by cause (HTTP status, error code, timeout), time from the bell to the answer and to the first VP8
key frame (p50/p99/max), the server's CPU per join (/proc/<pid>/stat before and after), the
server's peak open descriptors, TCP connections, UDP sockets and threads during the phase
(/proc/<pid>/fd, /proc/<pid>/net) and what it holds once the phase has settled.

The server is run_server.py on a free loopback port (SQLite in a temporary data directory unless
--database-url is given). The school is written into its database before it starts, through
school/'s models, with one password hash shared by every account (200 argon2 hashes would take
minutes). Students' session tokens are signed beforehand with the server's key (or obtained from
POST /api/auth/login with --sign-in api), so signing in is not part of a join. Students are light
peers that never decode (bench/peers.py); they run in this process, or in --workers processes."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import delete, select

import migrations
from bench.forwarding import machine
from bench.media import MovingPictureTrack, ToneTrack, pin_vp8_bitrate
from bench.peers import JoinResult, LeaveResult, PeerOptions, Seat, StudentPool, raise_open_file_limit, worker_main
from bench.server import ServerProcess, cpu_seconds, machine_busy_seconds, running_server
from school.models import ClassStudent, Grade, Lesson, Role, School, SchoolClass, Subject, TeachingAssignment, User
from school.passwords import hash_password
from school.structure import create_school, current_year
from school.timezones import school_today
from school.sessions import issue_token
from school.tokens import TokenSigner
from signaling.client import LessonClient
from storage.database import Database, sqlite_url

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60)
SAMPLE_INTERVAL = 0.2
"""Seconds between two looks at the server's descriptors during a phase."""


# --- the school ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeededLesson:
    lesson_id: int
    class_id: int
    teacher: tuple[int, str]
    """(user id, username)"""
    students: list[tuple[int, str]]


@dataclass(frozen=True)
class SeededSchool:
    lessons: list[SeededLesson]
    subject_id: int
    password: str


async def seed_school(db_url: str, lessons: int, students: int, tag: str, recording: str) -> SeededSchool:
    """Migrate the database and add, in the first school (created if there is none), `lessons`
    classes of `students` students, each with its own teacher and a lesson from 5 minutes ago to 40
    minutes from now. Every account shares one password (one argon2 hash)."""
    password = secrets.token_urlsafe(12)
    password_hash = await hash_password(password)
    db = Database(db_url)
    try:
        await migrations.upgrade(db)
        async with db.session() as session:
            school = await session.scalar(select(School).order_by(School.id).limit(1))
            if school is None:
                school = await create_school(session, "Trường THPT Chuông Reo")
            year = await current_year(session, school.id, await school_today(session, school.id))
            grade = await session.scalar(select(Grade).where(Grade.school_id == school.id, Grade.level == 10))
            if grade is None:
                grade = Grade(school_id=school.id, level=10)
                session.add(grade)
            subject = Subject(school_id=school.id, name=f"Toán ({tag})", code="TOAN")
            session.add(subject)
            await session.flush()
            now = datetime.now(UTC).replace(microsecond=0)
            seeded = []
            for k in range(1, lessons + 1):
                teacher = User(school_id=school.id, username=f"{tag}.gv{k:02d}", full_name=f"Giáo viên {k}",
                               role=Role.teacher, password_hash=password_hash)
                session.add(teacher)
                await session.flush()
                klass = SchoolClass(school_id=school.id, school_year_id=year.id, grade_id=grade.id,
                                    name=f"10B{k}-{tag}"[:32], homeroom_teacher_id=teacher.id)
                kids = [User(school_id=school.id, username=f"{tag}.l{k:02d}.hs{i:03d}",
                             full_name=f"Học sinh {k}.{i}", role=Role.student, password_hash=password_hash)
                        for i in range(1, students + 1)]
                session.add(klass)
                session.add_all(kids)
                await session.flush()
                session.add_all(ClassStudent(class_id=klass.id, student_id=kid.id) for kid in kids)
                session.add(TeachingAssignment(school_id=school.id, teacher_id=teacher.id, class_id=klass.id,
                                               subject_id=subject.id))
                lesson = Lesson(school_id=school.id, class_id=klass.id, subject_id=subject.id, teacher_id=teacher.id,
                                title=f"Tiết {k}: hàm số bậc hai", starts_at=now - timedelta(minutes=5),
                                ends_at=now + timedelta(minutes=40), recording_mode=recording)
                session.add(lesson)
                await session.flush()
                seeded.append(SeededLesson(lesson.id, klass.id, (teacher.id, teacher.username),
                                           [(kid.id, kid.username) for kid in kids]))
            return SeededSchool(seeded, subject.id, password)
    finally:
        await db.close()


async def unseed_school(db_url: str, school: SeededSchool) -> None:
    """Remove what seed_school added (the attendance log and the recordings index keep their rows:
    they have no foreign keys by design)."""
    db = Database(db_url)
    try:
        lesson_ids = [lesson.lesson_id for lesson in school.lessons]
        class_ids = [lesson.class_id for lesson in school.lessons]
        user_ids = [lesson.teacher[0] for lesson in school.lessons] + \
                   [uid for lesson in school.lessons for uid, _ in lesson.students]
        async with db.session() as session:
            await session.execute(delete(Lesson).where(Lesson.id.in_(lesson_ids)))
            await session.execute(delete(TeachingAssignment).where(TeachingAssignment.class_id.in_(class_ids)))
            await session.execute(delete(ClassStudent).where(ClassStudent.class_id.in_(class_ids)))
            await session.execute(delete(SchoolClass).where(SchoolClass.id.in_(class_ids)))
            await session.execute(delete(User).where(User.id.in_(user_ids)))
            await session.execute(delete(Subject).where(Subject.id == school.subject_id))
    finally:
        await db.close()


async def session_tokens(db_url: str, secret: str, user_ids: Sequence[int]) -> dict[int, str]:
    """Signed-in session tokens for these users, made as a sign-in makes them (a session row each,
    written before the token exists), without the cost of hashing passwords: user id -> token."""
    signer = TokenSigner(secret.encode(), timedelta(hours=12))
    db = Database(db_url)
    try:
        issued = await asyncio.gather(*(issue_token(db, signer, uid, "bench") for uid in dict.fromkeys(user_ids)))
    finally:
        await db.close()
    return {uid: token for uid, (token, _claims) in zip(dict.fromkeys(user_ids), issued)}


async def api_tokens(http: aiohttp.ClientSession, url: str, usernames: Sequence[str], password: str) -> list[str]:
    """Session tokens through POST /api/auth/login, eight sign-ins at a time."""
    gate = asyncio.Semaphore(8)

    async def one(username: str) -> str:
        async with gate, http.post(f"{url}/api/auth/login", json={"username": username, "password": password}) as r:
            if r.status != 200:
                raise RuntimeError(f"sign-in of {username}: {r.status} {await r.text()}")
            return str((await r.json())["token"])

    return list(await asyncio.gather(*(one(u) for u in usernames)))


# --- the server's descriptors -------------------------------------------------------------------
@dataclass
class ServerLoad:
    fds: int = 0
    tcp: int = 0
    """Established TCP connections (WebSockets, HTTP keep-alive, a PostgreSQL pool)."""
    udp: int = 0
    """UDP sockets (ICE)."""
    threads: int = 0

    def peak(self, other: ServerLoad) -> None:
        self.fds, self.tcp = max(self.fds, other.fds), max(self.tcp, other.tcp)
        self.udp, self.threads = max(self.udp, other.udp), max(self.threads, other.threads)


def _socket_inodes(pid: int, table: str, established_only: bool) -> set[int]:
    found: set[int] = set()
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/net/{table}") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if not established_only or fields[3] == "01":
                    found.add(int(fields[9]))
    return found


def server_load(pid: int) -> ServerLoad:
    """Open descriptors of the process, which of them are established TCP connections and UDP
    sockets (its socket inodes matched against /proc/<pid>/net/{tcp,tcp6,udp,udp6}), and threads."""
    load = ServerLoad()
    sockets: set[int] = set()
    base = f"/proc/{pid}/fd"
    for fd in os.listdir(base):
        load.fds += 1
        with contextlib.suppress(OSError):
            target = os.readlink(f"{base}/{fd}")
            if target.startswith("socket:["):
                sockets.add(int(target[8:-1]))
    tcp = _socket_inodes(pid, "tcp", True) | _socket_inodes(pid, "tcp6", True)
    udp = _socket_inodes(pid, "udp", False) | _socket_inodes(pid, "udp6", False)
    load.tcp, load.udp = len(sockets & tcp), len(sockets & udp)
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                load.threads = int(line.split()[1])
    return load


class Monitor:
    """The server's peak load, sampled every SAMPLE_INTERVAL while a phase runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = ServerLoad()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError):
                self.peak.peak(server_load(self.pid))
            await asyncio.sleep(SAMPLE_INTERVAL)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> ServerLoad:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(OSError):
            self.peak.peak(server_load(self.pid))
        return self.peak


# --- where the students run ---------------------------------------------------------------------
class LocalPool:
    """Students in this process."""

    def __init__(self, base_url: str, seats: Sequence[Seat], options: PeerOptions) -> None:
        self.pool = StudentPool(base_url, seats, options)
        self.pid = os.getpid()

    async def call(self, command: str, arg: Any = None) -> Any:
        return await self.pool.call(command, arg)

    async def stop(self) -> None:
        await self.pool.close()


class WorkerPool:
    """Students in a worker process (bench/peers.py's worker_main, or `target` called with the same
    arguments and then `extra`), driven through a pipe."""

    def __init__(self, base_url: str, seats: Sequence[Any], options: PeerOptions,
                 target: Callable[..., None] = worker_main, extra: Sequence[Any] = ()) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of this process's event loop and threads
        self.conn, child = context.Pipe()
        self.process = context.Process(target=target, args=(child, base_url, list(seats), options, *extra),
                                       daemon=True)
        self.process.start()
        child.close()
        assert self.process.pid is not None
        self.pid = self.process.pid
        self._lock = asyncio.Lock()

    async def call(self, command: str, arg: Any = None) -> Any:
        async with self._lock:
            self.conn.send((command, arg))
            reply = await asyncio.to_thread(self.conn.recv)
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.call("stop"), 30)
        await asyncio.to_thread(self.process.join, 10)
        if self.process.is_alive():
            self.process.kill()
            await asyncio.to_thread(self.process.join, 5)


Pool = LocalPool | WorkerPool


def bench_cpu(pools: Sequence[Pool]) -> float:
    """CPU seconds of this process and of the worker processes."""
    times = os.times()
    total = times.user + times.system
    for pool in pools:
        if isinstance(pool, WorkerPool):
            with contextlib.suppress(OSError):
                total += cpu_seconds(pool.pid)
    return total


# --- phases -------------------------------------------------------------------------------------
@dataclass
class Phase:
    path: str
    name: str
    joins: list[JoinResult] = field(default_factory=list)
    leaves: list[LeaveResult] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0
    bench_cpu: float = 0.0
    machine_busy: float = 0.0
    peak: ServerLoad = field(default_factory=ServerLoad)
    after: ServerLoad = field(default_factory=ServerLoad)
    client_lag_ms: list[float] = field(default_factory=list)
    """How late the students' event loops woke from short sleeps during the phase."""

    @property
    def is_join(self) -> bool:
        return self.name.endswith("join")

    @property
    def attempts(self) -> int:
        return len(self.joins) if self.is_join else len(self.leaves)

    @property
    def answered(self) -> int:
        if self.is_join:
            return sum(1 for j in self.joins if j.answered_ms is not None)
        return sum(1 for leave in self.leaves if leave.cause is None)

    @property
    def failed(self) -> int:
        return sum(1 for r in (self.joins if self.is_join else self.leaves) if r.cause is not None)

    def causes(self) -> Counter[str]:
        return Counter(r.cause for r in (self.joins if self.is_join else self.leaves) if r.cause is not None)


async def run_phase(server: ServerProcess, pools: Sequence[Pool], path: str, name: str, command: str,
                    settle: float) -> Phase:
    """All pools do `command` at once; the server watched until they are done, then `settle` s later."""
    phase = Phase(path, name)
    monitor = Monitor(server.pid)
    monitor.start()
    cpu0, bench0, busy0, t0 = server.cpu_seconds(), bench_cpu(pools), machine_busy_seconds(), time.perf_counter()
    replies = await asyncio.gather(*(pool.call(command, path) for pool in pools))
    phase.seconds = time.perf_counter() - t0
    phase.server_cpu = server.cpu_seconds() - cpu0
    phase.bench_cpu = bench_cpu(pools) - bench0
    phase.machine_busy = machine_busy_seconds() - busy0
    phase.peak = await monitor.stop()
    for results, lags in replies:
        (phase.joins if command == "join" else phase.leaves).extend(results)
        phase.client_lag_ms.extend(lags)
    await asyncio.sleep(settle)
    with contextlib.suppress(OSError):
        phase.after = server_load(server.pid)
    return phase


@dataclass
class Steady:
    path: str
    students: int
    seconds: float
    rates: list[float]
    server_cpu: float


async def hold(server: ServerProcess, pools: Sequence[Pool], path: str, seconds: float) -> Steady:
    """Packets each joined student receives per second over `seconds`, and the server's CPU meanwhile."""
    before = [c for pool in await asyncio.gather(*(p.call("packets") for p in pools)) for c in pool]
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    await asyncio.sleep(seconds)
    after = [c for pool in await asyncio.gather(*(p.call("packets") for p in pools)) for c in pool]
    dt = time.perf_counter() - t0
    rates = [(b - a) / dt for a, b in zip(before, after) if a is not None and b is not None]
    return Steady(path, len(rates), dt, rates, (server.cpu_seconds() - cpu0) / dt)


# --- the report ---------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def spread(values: Sequence[float | None]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "-"
    return f"{percentile(present, 0.5):.0f}/{percentile(present, 0.99):.0f}/{max(present):.0f}"


def spread_lag(values: Sequence[float]) -> str:
    return f"{percentile(values, 0.5):.0f}/{max(values):.0f}" if values else "-"


def row(phase: Phase) -> tuple[str, ...]:
    results: Sequence[JoinResult | LeaveResult] = phase.joins if phase.is_join else phase.leaves
    retried = sum(1 for r in results if r.retries)
    retried_text = f"{retried} ({sum(r.retries for r in results)})" if retried else "0"
    if phase.is_join:
        keyframes = str(sum(1 for j in phase.joins if j.keyframe_ms is not None))
        answer, key = spread([j.answered_ms for j in phase.joins]), spread([j.keyframe_ms for j in phase.joins])
    else:
        keyframes = key = "-"
        answer = spread([leave.ms for leave in phase.leaves])
    per = f"{1000 * phase.server_cpu / phase.answered:.1f}" if phase.answered else "-"
    return (phase.path, phase.name, str(phase.attempts), str(phase.answered), keyframes, retried_text,
            str(phase.failed), answer, key, f"{phase.server_cpu:.2f}", per, f"{phase.seconds:.1f}",
            str(phase.peak.fds), str(phase.peak.tcp), str(phase.peak.udp), str(phase.peak.threads),
            str(phase.after.fds), str(phase.after.tcp), str(phase.after.udp), spread_lag(phase.client_lag_ms))


HEAD = ("path", "phase", "peers", "answered", "key frame", "retried", "failed", "answer ms p50/p99/max",
        "key frame ms p50/p99/max", "server CPU s", "CPU ms/join", "took s", "peak fds", "peak TCP", "peak UDP",
        "peak thr", "fds after", "TCP after", "UDP after", "client lag ms p50/max")


def print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEAD)]
    print("  ".join(h.rjust(w) for h, w in zip(HEAD, widths)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): (.*)$")


def _blur(text: str) -> str:
    """Numbers and resource ids blurred, so records alike but for them count together."""
    return re.sub(r"[0-9]+", "N", re.sub(r"[A-Za-z0-9_-]{16,}", "…", text))


def server_complaints(output: str, limit: int = 12) -> list[str]:
    """The server's most frequent warnings and errors, each with the last line of its traceback."""
    counts: Counter[str] = Counter()
    record: list[str] | None = None

    def close(record: list[str] | None) -> None:
        if record:
            tail = next((line.strip() for line in reversed(record[1:]) if line.strip()), "")
            counts[record[0] + (f"  <- {_blur(tail)[:200]}" if tail else "")] += 1

    for line in output.splitlines():
        match = LOG_RECORD.match(line)
        if match:
            close(record)
            level, logger, message = match.groups()
            record = [f"{level} {logger}: {_blur(message)[:160]}"] if level in ("WARNING", "ERROR", "CRITICAL") else None
        elif record is not None:
            record.append(line)
    close(record)
    return [f"{n:5d} × {text}" for text, n in counts.most_common(limit)]


# --- the run ------------------------------------------------------------------------------------
def split(seats: Sequence[Seat], parts: int) -> list[list[Seat]]:
    return [list(seats[i::parts]) for i in range(parts)]


async def run(args: argparse.Namespace) -> int:
    paths = ["ws", "whep"] if args.path == "both" else [args.path]
    peers = args.lessons * args.students
    print(f"machine: {machine()}")
    print(f"load: {args.lessons} lessons × {args.students} students = {peers} students joining at once, "
          f"path {' then '.join(paths)}; each teacher publishes VP8 {args.width}x{args.height}@{args.fps} fps "
          f"(encoder pinned at {args.bitrate / 1000:g} kbps) + Opus; recording {args.recording}")
    where = (f"in {args.workers} worker process{'es' if args.workers > 1 else ''} (multiprocessing), "
             f"{math.ceil(peers / args.workers)} students each at most" if args.workers else "in this process")
    print(f"clients: teachers in this process, students {where} ({args.workers_reason}); students never decode. "
          "All on this machine, sharing its cores with the server.", flush=True)
    raise_open_file_limit()
    unpin = pin_vp8_bitrate(args.bitrate)
    data = Path(tempfile.mkdtemp(prefix="lophoc-bench-joins-"))
    db_url = args.database_url or sqlite_url(data / "data")
    secret = secrets.token_hex(32)
    tag = "bell" + secrets.token_hex(3)
    school: SeededSchool | None = None
    teachers: list[LessonClient] = []
    pools: list[Pool] = []
    failed = False
    try:
        (data / "data").mkdir()
        started = time.perf_counter()
        school = await seed_school(db_url, args.lessons, args.students, tag, args.recording)
        print(f"seeded {args.lessons} classes, {peers} students, {args.lessons} lessons now "
              f"({'SQLite in ' + str(data / 'data') if not args.database_url else 'the given database'}) "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        server_args = ["--ice-address", "127.0.0.1", "--log-level", args.server_log_level]
        if args.database_url:
            server_args += ["--database-url", args.database_url]
        async with running_server(data / "data", server_args, {"LOPHOC_SECRET_KEY": secret}) as server, \
                aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
            print(f"server: pid {server.pid} at {server.url}", flush=True)
            teacher_names = [lesson.teacher[1] for lesson in school.lessons]
            student_names = [name for lesson in school.lessons for _, name in lesson.students]
            if args.sign_in == "api":
                started = time.perf_counter()
                teacher_tokens = await api_tokens(http, server.url, teacher_names, school.password)
                student_tokens = await api_tokens(http, server.url, student_names, school.password)
                print(f"signed in {len(teacher_names) + len(student_names)} users through POST /api/auth/login "
                      f"in {time.perf_counter() - started:.1f} s", flush=True)
            else:
                tokens = await session_tokens(db_url, secret, [lesson.teacher[0] for lesson in school.lessons]
                                              + [uid for lesson in school.lessons for uid, _ in lesson.students])
                teacher_tokens = [tokens[lesson.teacher[0]] for lesson in school.lessons]
                student_tokens = [tokens[uid] for lesson in school.lessons for uid, _ in lesson.students]
            seats = [Seat(lesson.lesson_id, token) for lesson, token in
                     zip([lesson for lesson in school.lessons for _ in lesson.students], student_tokens)]

            teachers = [LessonClient(server.url, lesson.lesson_id, token, decode=True)
                        for lesson, token in zip(school.lessons, teacher_tokens)]
            await asyncio.wait_for(asyncio.gather(*(t.connect() for t in teachers)), 60)
            await asyncio.wait_for(asyncio.gather(*(t.publish({
                "camera": MovingPictureTrack(args.width, args.height, args.fps), "mic": ToneTrack()})
                for t in teachers)), 60)
            options = PeerOptions(join_timeout=args.join_timeout, leave_timeout=args.leave_timeout)
            if args.workers:
                pools = [WorkerPool(server.url, part, options) for part in split(seats, args.workers) if part]
            else:
                pools = [LocalPool(server.url, seats, options)]
            await asyncio.sleep(args.baseline)  # the publishers settle (and the workers start)
            cpu0, t0 = server.cpu_seconds(), time.perf_counter()
            await asyncio.sleep(args.baseline)
            alone = (server.cpu_seconds() - cpu0) / (time.perf_counter() - t0)
            idle = server_load(server.pid)
            print(f"{args.lessons} teachers publishing, no students: server {alone:.3f} CPU-s/s, {idle.fds} fds, "
                  f"{idle.tcp} TCP, {idle.udp} UDP, {idle.threads} threads", flush=True)

            phases: list[Phase] = []
            steadies: list[Steady] = []
            for path in paths:
                for name, command in (("join", "join"), ("leave", "leave"), ("rejoin", "join"), ("leave again", "leave")):
                    print(f"{path}: all {peers} students {name} at once ...", flush=True)
                    phase = await run_phase(server, pools, path, name, command, args.settle)
                    phases.append(phase)
                    print(f"  {phase.answered}/{phase.attempts} answered, {phase.failed} failed, "
                          f"{phase.seconds:.1f} s, server {phase.server_cpu:.2f} CPU-s", flush=True)
                    if phase.is_join and args.hold > 0:
                        steady = await hold(server, pools, f"{path} {name}", args.hold)
                        steadies.append(steady)
                    if server.proc.returncode is not None:
                        raise RuntimeError(f"the server exited ({server.proc.returncode}) during {path} {name}")

            print()
            print(f"figures ({peers} students in {args.lessons} lessons, join timeout {args.join_timeout:g} s):")
            print_table([row(p) for p in phases])
            print()
            print("  answered: joins the server answered (`joined` on the WebSocket, 201 with an SDP answer for WHEP);")
            print("      for leave phases, leaves it acknowledged (`ok` to `leave`, 204 to DELETE).")
            print("  key frame: joins that then received the first packet of a VP8 key frame; a join failed unless")
            print("      answered and a key frame arrived within the timeout.")
            print("  retried: joins (or WHEP leaves) refused `overloaded` at least once (refusals in brackets), retried")
            print("      after the server's retry_after / Retry-After, half as long again at each further refusal.")
            print("  ms: from the bell (every student starting together) through retries, p50/p99/max (nearest rank).")
            print("  server CPU s: the server process's user+system CPU over the phase (/proc/<pid>/stat), forwarding")
            print("      the teachers' media included; CPU ms/join: that divided by the joins (or leaves) answered;")
            print(f"      for scale, the teachers alone cost {alone:.3f} CPU-s/s.")
            print("  peak: the most the server held during the phase (sampled every "
                  f"{SAMPLE_INTERVAL:g} s); after: {args.settle:g} s after the phase ended.")
            print("      TCP counts established connections, UDP the ICE sockets (/proc/<pid>/fd against /proc/<pid>/net).")
            print(f"      before any student: {idle.fds} fds, {idle.tcp} TCP, {idle.udp} UDP.")
            print("  client lag: how late the students' event loop(s) woke from 50 ms sleeps during the phase: time a")
            print("      reply may have waited on our side before being read (large: the client side is the bottleneck,")
            print("      try --workers).")
            for phase in phases:
                if phase.failed:
                    causes = ", ".join(f"{n} × {cause}" for cause, n in phase.causes().most_common())
                    print(f"  failures, {phase.path} {phase.name}: {causes}")
                    if phase.is_join:
                        by_lesson = Counter(j.lesson_id for j in phase.joins if j.cause is None)
                        print("      succeeded per lesson: " + ", ".join(
                            f"{lesson.lesson_id}: {by_lesson.get(lesson.lesson_id, 0)}/{args.students}"
                            for lesson in school.lessons))
            for steady in steadies:
                if steady.rates:
                    silent = sum(1 for r in steady.rates if r == 0)
                    print(f"  held {steady.path}: {steady.students} students in, each receiving p50 "
                          f"{statistics.median(steady.rates):.0f} pkt/s (min {min(steady.rates):.0f}), "
                          f"{silent} receiving nothing; server {steady.server_cpu:.3f} CPU-s/s over {steady.seconds:.1f} s")
            cores = len(os.sched_getaffinity(0))
            for phase in phases:
                if phase.seconds >= 1 and phase.machine_busy > 0.9 * cores * phase.seconds:
                    other = max(0.0, phase.machine_busy - phase.server_cpu - phase.bench_cpu)
                    print(f"  warning: {phase.path} {phase.name}: the machine was "
                          f"{100 * phase.machine_busy / (cores * phase.seconds):.0f}% busy over {phase.seconds:.1f} s "
                          f"(CPU-s: server {phase.server_cpu:.1f}, bench clients {phase.bench_cpu:.1f}, other programs "
                          f"{other:.1f}, of {cores * phase.seconds:.1f}): times include waiting for a CPU.")
            for phase in phases:
                if phase.client_lag_ms and percentile(phase.client_lag_ms, 0.99) > 250:
                    print(f"  warning: {phase.path} {phase.name}: the students' event loop woke up to "
                          f"{max(phase.client_lag_ms):.0f} ms late (p99 {percentile(phase.client_lag_ms, 0.99):.0f} ms): "
                          "answers may have waited that long on our side before being read.")
            complaints = server_complaints(server.output())
            if complaints:
                print("  the server's log (most frequent warnings and errors):")
                for line in complaints:
                    print(f"    {line}")
            failed = any(p.failed for p in phases)
    finally:
        for pool in pools:
            with contextlib.suppress(Exception):
                await pool.stop()
        for teacher in teachers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(teacher.close(), 10)
        unpin()
        if args.database_url and school is not None:
            with contextlib.suppress(Exception):
                await unseed_school(db_url, school)
        shutil.rmtree(data, ignore_errors=True)
    return 1 if failed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.joins", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", type=int, default=5, help="lessons happening at once (default 5)")
    parser.add_argument("--students", type=int, default=40, help="students per lesson (default 40)")
    parser.add_argument("--path", choices=("ws", "whep", "both"), default="both",
                        help="how students join: the page's WebSocket, WHEP, or both one after the other (default)")
    parser.add_argument("--database-url", help="run the server on this database (e.g. postgresql+asyncpg://...) "
                        "instead of SQLite in a temporary directory; the accounts, classes and lessons the bench adds "
                        "are removed at the end (the attendance log and the recordings index keep their rows, and a "
                        "school created because there was none stays)")
    parser.add_argument("--workers", default="auto",
                        help="run the students in this many worker processes, 0 for this process (default auto: "
                             "none below 4 usable cores, else one per 100 students, at most 4)")
    parser.add_argument("--join-timeout", type=float, default=60.0,
                        help="seconds from the bell to a key frame, retries included (default 60)")
    parser.add_argument("--leave-timeout", type=float, default=20.0)
    parser.add_argument("--hold", type=float, default=5.0,
                        help="seconds to count the packets students receive after each join phase (default 5)")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds after a phase before reading what the server still holds (default 3)")
    parser.add_argument("--baseline", type=float, default=3.0,
                        help="seconds the teachers publish alone before the bell, and again measured (default 3)")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--bitrate", type=int, default=300_000, help="VP8 target bit/s per teacher (default 300000)")
    parser.add_argument("--recording", choices=("auto", "off"), default="auto",
                        help="the lessons' recording mode (default auto, a lesson's default)")
    parser.add_argument("--sign-in", choices=("token", "api"), default="token",
                        help="token: sign session tokens with the server's key (default); api: POST /api/auth/login "
                             "for every user (argon2: slow)")
    parser.add_argument("--server-log-level", default="WARNING")
    args = parser.parse_args(argv)
    if args.lessons < 1 or args.students < 1:
        parser.error("--lessons and --students must be >= 1")
    args.workers_reason = "--workers"
    if args.workers == "auto":
        cores = len(os.sched_getaffinity(0))
        if cores < 4:
            args.workers, args.workers_reason = 0, f"auto: {cores} usable cores, too few for more client processes to help"
        else:
            args.workers = min(4, math.ceil(args.lessons * args.students / 100))
            args.workers_reason = f"auto: {cores} usable cores, one worker per 100 students"
    else:
        try:
            args.workers = int(args.workers)
        except ValueError:
            parser.error("--workers takes a number or auto")
        if args.workers < 0:
            parser.error("--workers must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    import uvloop

    return uvloop.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

"""The server under test: run_server.py as a child process on a free loopback port (as an operator
runs it), its output readable as it comes, its CPU time read from /proc, stopped with SIGTERM.
The benchmark and the tests (tests/servers.py) both start servers with it."""
from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DEMO_ROW = re.compile(r"^  (admin|teacher|student)\s+(\S+)\s+(\S+)\s*$", re.MULTILINE)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        data = stat.read()
    fields = data[data.rindex(")") + 2:].split()  # fields from the 3rd (state) on
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime (14th), stime (15th)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy (not idle, not waiting for I/O) since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    guest = sum(fields[8:10])  # already counted in user and nice
    return (sum(fields) - idle - guest) / CLOCK_TICKS


def pin_process(pid: int, cpus: set[int]) -> None:
    """Every thread of a process onto these CPUs (threads it creates later inherit it)."""
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task), cpus)


def server_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without LOPHOC_* settings, plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOPHOC_")}
    base.update({"PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"})
    base.update(env or {})
    return base


@dataclass
class ServerProcess:
    url: str
    proc: asyncio.subprocess.Process
    _chunks: list[str] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _eof: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return "".join(self._chunks)

    async def wait_for(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match[str]:
        """The first match of `pattern` in the output, waiting for it to be printed."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = asyncio.get_running_loop().time() + timeout
        while (match := regex.search(self.output())) is None:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self._eof:
                raise AssertionError(f"server never printed {pattern!r}; output:\n{self.output()}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return match

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def demo_sign_ins(self) -> dict[str, list[tuple[str, str]]]:
        """role -> [(username, password)] from the table `--demo` prints."""
        table: dict[str, list[tuple[str, str]]] = {}
        for role, username, password in DEMO_ROW.findall(self.output()):
            table.setdefault(role, []).append((username, password))
        return table

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while chunk := await self.proc.stdout.read(65536):
            self._chunks.append(decoder.decode(chunk))
            if len(self._chunks) > 2000:  # keep the output bounded
                self._chunks[:1000] = ["".join(self._chunks[:1000])[-200_000:]]
            self._changed.set()
        self._chunks.append(decoder.decode(b"", final=True))
        self._eof = True
        self._changed.set()


@contextlib.asynccontextmanager
async def running_server(data_dir: Path, args: Sequence[str] = (),
                         env: Mapping[str, str] | None = None) -> AsyncIterator[ServerProcess]:
    """`run_server.py --port P --data-dir DATA_DIR ARGS` until GET /healthz answers 200; SIGTERM
    on exit (a kill if it does not stop within STOP_TIMEOUT)."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "run_server.py", "--port", str(port), "--data-dir", str(data_dir), *args,
        cwd=REPO, env=server_env(env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    server = ServerProcess(url=f"http://127.0.0.1:{port}", proc=proc)
    reader = asyncio.create_task(server._read())
    try:
        await _wait_healthy(server)
        yield server
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        try:
            await asyncio.wait_for(reader, STOP_TIMEOUT)
        except TimeoutError:
            reader.cancel()
        if os.environ.get("BENCH_SERVER_LOG"):  # the server's whole output (its last 200 kB), for a post-mortem
            Path(os.environ["BENCH_SERVER_LOG"]).write_text(server.output())


async def _wait_healthy(server: ServerProcess) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while True:
            if server.proc.returncode is not None:
                raise RuntimeError(f"server exited with {server.proc.returncode} before answering:\n{server.output()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(server.url + "/healthz") as response:
                    if response.status == 200:
                        return
            if loop.time() > deadline:
                raise RuntimeError(f"GET /healthz did not answer 200 within {START_TIMEOUT} s:\n{server.output()}")
            await asyncio.sleep(0.1)

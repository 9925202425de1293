"""Real servers for tests: redis-server, a PostgreSQL cluster and run_server.py, each started on a
free loopback port and stopped by its owner, also when the test fails.

Test modules import the fixtures they use explicitly:

    from tests.servers import postgres_cluster, postgres_url, redis_server  # noqa: F401
"""
from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# run_server.py is started by bench/server.py, the one place that knows how (the benchmark uses it too).
from bench.server import REPO, START_TIMEOUT, STOP_TIMEOUT, free_port, running_server, server_env

__all__ = ["REPO", "free_port", "postgres_cluster", "postgres_url", "redis_server", "running_server", "server_env"]


def _stop(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Redis -------------------------------------------------------------------------------------
def _redis_answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[str]:
    """A fresh redis-server on 127.0.0.1 without persistence; yields its URL (database 0)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make test` (it installs the Debian package redis-server)")
    port = free_port()
    workdir = tmp_path / "redis"
    workdir.mkdir()
    log = (workdir / "redis.log").open("wb")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _redis_answers_ping(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not answer PING on port {port}:\n"
                            f"{(workdir / 'redis.log').read_text(errors='replace')}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)
        log.close()


# --- PostgreSQL --------------------------------------------------------------------------------
PG_SUPERUSER = "lophoc"


def _pg_bin(name: str) -> str:
    """A PostgreSQL program: on PATH, else the newest /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if not candidates:
        pytest.fail(f"PostgreSQL's {name} is not installed: run `make test` (it installs the Debian package postgresql)")
    return max(candidates, key=lambda path: int(re.sub(r"\D", "", Path(path).parts[-3]) or 0))


def _pg_os_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as `postgres` (or a system user made for it)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "lophoc-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "lophoc-pg"],
                   check=True)
    return "lophoc-pg"


def _as(user: str | None, argv: list[str]) -> list[str]:
    return argv if user is None else ["runuser", "-u", user, "--", *argv]


@dataclass(frozen=True)
class PostgresCluster:
    port: int
    socket_dir: Path
    user: str = PG_SUPERUSER

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        subprocess.run([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name],
                       check=True, capture_output=True)
        return name


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL server per test module (trust auth on loopback), each test gets its own database.

    Module-scoped because each module imports the fixture: a session scope would still start one
    cluster per importing module and keep them all until the end of the run.
    """
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    user = _pg_os_user()
    root = Path(tempfile.mkdtemp(prefix="lophoc-pg-"))  # not under pytest's 0700 root-only tmp dir
    data, sockets, log = root / "data", root / "sock", root / "postgres.log"
    sockets.mkdir()
    if user is not None:
        shutil.chown(root, user)
        shutil.chown(sockets, user)
    try:
        subprocess.run(_as(user, [initdb, "-D", str(data), "-U", PG_SUPERUSER, "--auth=trust", "-E", "UTF8",
                                  "--locale=C", "--no-sync"]),
                       check=True, capture_output=True)
        port = 0
        for _attempt in range(3):  # another process may take the free port before the server binds it
            port = free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            started = subprocess.run(
                _as(user, [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", str(int(START_TIMEOUT)),
                           "start"]),
                capture_output=True,
            )
            if started.returncode == 0:
                break
        else:
            pytest.fail(f"PostgreSQL did not start:\n{log.read_text(errors='replace') if log.exists() else ''}")
        try:
            yield PostgresCluster(port=port, socket_dir=sockets)
        finally:
            subprocess.run(_as(user, [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """A fresh, empty database on the module's PostgreSQL server."""
    return postgres_cluster.url(postgres_cluster.create_database())


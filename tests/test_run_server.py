"""run_server.py as an operator runs it: a real process on a loopback port, signed into over HTTP."""
from __future__ import annotations

import asyncio
import os
import re
import resource
import signal
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from migrations import alembic_config
from tests.servers import REPO, postgres_cluster, postgres_url, running_server, server_env  # noqa: F401

GENERATED_PASSWORD = re.compile(r"administrator 'admin' created with password: (\S+)")
DEMO_ROW = re.compile(r"^  (admin|teacher|student)\s+(\S+)\s+(\S+)\s*$", re.MULTILINE)
LISTENING = r"lophoc listening on"


async def sign_in(url: str, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a fresh sign-in; fails the test when the sign-in is refused."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/auth/login", json={"username": username, "password": password}) as response:
            assert response.status == 200, f"{username}: {response.status} {await response.text()}"
            return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def sign_in_status(url: str, username: str, password: str) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/auth/login", json={"username": username, "password": password}) as response:
            return response.status


async def get_json(url: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(url) as response:
            assert response.status == 200, await response.text()
            return await response.json()  # type: ignore[no-any-return]


async def post_json(url: str, headers: dict[str, str], body: dict) -> dict:  # type: ignore[type-arg]
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(url, json=body) as response:
            assert response.status == 201, f"POST {url}: {response.status} {await response.text()}"
            return await response.json()  # type: ignore[no-any-return]


def demo_sign_ins(output: str) -> dict[str, list[tuple[str, str]]]:
    """role -> [(username, password)] from the table `--demo` prints."""
    table: dict[str, list[tuple[str, str]]] = {}
    for role, username, password in DEMO_ROW.findall(output):
        table.setdefault(role, []).append((username, password))
    return table


async def test_first_start_prints_a_generated_admin_password_once_and_it_signs_in(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_server(data) as server:
        await server.wait_for(LISTENING)
        printed = GENERATED_PASSWORD.findall(server.output())
        assert len(printed) == 1, server.output()
        password = printed[0]
        me = await get_json(f"{server.url}/api/me", await sign_in(server.url, "admin", password))
        assert me["user"]["username"] == "admin"
        assert me["user"]["role"] == "admin"
        assert await sign_in_status(server.url, "admin", password + "x") == 401

    async with running_server(data) as again:
        await again.wait_for(LISTENING)  # printed after any password would have been
        assert not GENERATED_PASSWORD.search(again.output()), again.output()
        await sign_in(again.url, "admin", password)  # the first start's password still holds


async def test_admin_password_from_the_environment_signs_in_and_is_not_printed(tmp_path: Path) -> None:
    chosen = "chosen-by-the-operator-42"
    async with running_server(tmp_path / "data", env={"LOPHOC_ADMIN_PASSWORD": chosen}) as server:
        await server.wait_for(LISTENING)
        assert not GENERATED_PASSWORD.search(server.output()), server.output()
        assert chosen not in server.output()
        me = await get_json(f"{server.url}/api/me", await sign_in(server.url, "admin", chosen))
        assert me["user"]["username"] == "admin"


async def test_demo_prints_sign_ins_and_a_student_sees_a_live_lesson(tmp_path: Path) -> None:
    async with running_server(tmp_path / "data", ["--demo"]) as server:
        await server.wait_for(LISTENING)
        table = demo_sign_ins(server.output())
        assert len(table.get("admin", [])) == 1, server.output()
        assert len(table.get("teacher", [])) == 1, server.output()
        assert len(table.get("student", [])) >= 1, server.output()

        student = await sign_in(server.url, *table["student"][0])
        lessons = (await get_json(f"{server.url}/api/me/lessons", student))["items"]
        assert [lesson["status"] for lesson in lessons].count("live") == 1, lessons

        teacher = await sign_in(server.url, *table["teacher"][0])
        taught = (await get_json(f"{server.url}/api/me/lessons", teacher))["items"]
        assert "live" in [lesson["status"] for lesson in taught]
        admin = await get_json(f"{server.url}/api/me", await sign_in(server.url, *table["admin"][0]))
        assert admin["user"]["role"] == "admin"


async def test_demo_started_twice_on_one_data_dir_prints_sign_ins_that_work(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_server(data, ["--demo"]) as first:
        await first.wait_for(LISTENING)
        first_table = demo_sign_ins(first.output())
        assert first_table, first.output()

    async with running_server(data, ["--demo"]) as second:
        await second.wait_for(LISTENING)
        table = demo_sign_ins(second.output())
        assert [u for u, _ in table.get("student", [])] == [u for u, _ in first_table["student"]], second.output()
        for role in ("admin", "teacher", "student"):
            for username, password in table[role]:
                await sign_in(second.url, username, password)
        student = await sign_in(second.url, *table["student"][0])
        lessons = (await get_json(f"{second.url}/api/me/lessons", student))["items"]
        assert [lesson["status"] for lesson in lessons].count("live") == 1, lessons
        admin = await sign_in(second.url, *table["admin"][0])
        classes = (await get_json(f"{second.url}/api/classes", admin))["items"]
        assert [c["name"] for c in classes] == ["10A1"], classes  # the demo school is reused, not doubled


async def test_sigterm_stops_the_server_with_exit_code_0(tmp_path: Path) -> None:
    async with running_server(tmp_path / "data") as server:
        server.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(server.proc.wait(), 20)  # a generous bound: exiting at all is the point
        assert code == 0, server.output()
        await server.wait_for("shutting down")


async def test_ice_address_that_is_not_an_ip_is_refused_by_argument_parsing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "run_server.py", "--data-dir", str(data), "--ice-address", "not-an-ip",
        cwd=REPO, env=server_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2  # argparse's usage error
    message = stderr.decode()
    assert "--ice-address" in message
    assert "not-an-ip" in message
    assert not data.exists()  # refused before anything was started


async def test_ice_addresses_ipv4_and_ipv6_are_accepted(tmp_path: Path) -> None:
    async with running_server(tmp_path / "data", ["--ice-address", "127.0.0.1", "--ice-address", "::1"]) as server:
        health = await get_json(f"{server.url}/healthz", {})
        assert health["status"] == "ok"
        assert server.proc.returncode is None


async def test_event_loop_is_uvloop(tmp_path: Path) -> None:
    """The idle server's main thread, dumped by faulthandler, is inside uvloop's compiled loop: no
    asyncio selector loop (base_events.py / selectors.py frames) runs under asyncio.Runner."""
    async with running_server(tmp_path / "data", env={"PYTHONFAULTHANDLER": "1"}) as server:
        pid = server.proc.pid
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert re.search(r"/uvloop/loop\.cpython-[^/\s]*\.so", maps), "uvloop's loop extension is not loaded"

        resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))  # no core file in the repository
        os.kill(pid, signal.SIGABRT)
        assert await asyncio.wait_for(server.proc.wait(), 20) == -signal.SIGABRT
        await server.wait_for("Fatal Python error")
        stacks = re.findall(r"^(?:Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):\n((?:  File .*\n)+)",
                            server.output() + "\n", re.MULTILINE)
        main = [stack for stack in stacks if re.search(r'run_server\.py", line \d+ in main', stack)]
        assert len(main) == 1, server.output()
        assert "uvloop/__init__.py" in main[0], main[0]
        assert "base_events.py" not in main[0], main[0]
        assert "selectors.py" not in main[0], main[0]


async def test_postgresql_database_is_migrated_and_bootstrapped_and_serves_the_api(
    tmp_path: Path, postgres_url: str  # noqa: F811
) -> None:
    password = "admin-on-postgres-1"
    data = tmp_path / "data"
    async with running_server(data, ["--database-url", postgres_url], env={"LOPHOC_ADMIN_PASSWORD": password}) as server:
        admin = await sign_in(server.url, "admin", password)
        teacher = await post_json(f"{server.url}/api/users", admin, {
            "username": "gv.postgres", "password": "teacher-pass-1", "full_name": "Đỗ Thị Hoa", "role": "teacher",
        })
        subject = await post_json(f"{server.url}/api/subjects", admin, {"name": "Vật lý", "code": "LY"})
        cls = await post_json(f"{server.url}/api/classes", admin, {
            "name": "11B2", "grade": 11, "homeroom_teacher_id": teacher["id"],
        })
        await post_json(f"{server.url}/api/assignments", admin, {  # only an assigned teacher is scheduled
            "teacher_id": teacher["id"], "class_id": cls["id"], "subject_id": subject["id"]})
        zone = ZoneInfo("Asia/Ho_Chi_Minh")
        starts = datetime.combine(datetime.now(zone).date() + timedelta(days=2), time(8), tzinfo=zone)
        lesson = await post_json(f"{server.url}/api/lessons", admin, {
            "class_id": cls["id"], "subject_id": subject["id"], "teacher_id": teacher["id"],
            "title": "Định luật Ôm", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=45)).isoformat(),
        })
        assert lesson["status"] == "upcoming"
        fetched = await get_json(f"{server.url}/api/lessons/{lesson['id']}", admin)
        assert (fetched["class_name"], fetched["subject_name"], fetched["teacher_name"]) == ("11B2", "Vật lý", "Đỗ Thị Hoa")

    assert not (data / "lophoc.sqlite3").exists()
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT title, starts_at FROM lessons"))).all()
            users = set((await connection.execute(text("SELECT username FROM users"))).scalars())
            version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    finally:
        await engine.dispose()
    assert [title for title, _ in rows] == ["Định luật Ôm"]
    assert users == {"admin", "gv.postgres"}
    assert version == ScriptDirectory.from_config(alembic_config(postgres_url)).get_current_head()


async def test_the_server_raises_a_low_open_file_limit(tmp_path: Path) -> None:
    """Started, as services often are, with a soft limit of 1024 descriptors: it asks for more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, soft), hard))
    try:
        server_cm = running_server(tmp_path / "data")
        server = await server_cm.__aenter__()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        limits = Path(f"/proc/{server.pid}/limits").read_text()
        line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
        server_soft = line.split()[3]
        expected = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
        assert server_soft == str(expected), line
    finally:
        await server_cm.__aexit__(None, None, None)

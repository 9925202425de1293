"""A crash of the server loses no attendance record: SIGKILL while students are connected, restart,
and every join has its leave at the student's last-seen time."""
from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from pathlib import Path


from signaling.client import LessonClient
from tests.servers import running_server
from tests.test_run_server import LISTENING, demo_sign_ins, get_json, sign_in

HEARTBEAT_SECONDS = 5


async def test_sigkill_while_students_are_connected_loses_no_join_and_closes_each_at_last_seen(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clients: list[LessonClient] = []
    async with running_server(data, ["--demo", "--ice-address", "127.0.0.1"]) as server:
        await server.wait_for(LISTENING)
        table = demo_sign_ins(server.output())
        teacher = await sign_in(server.url, *table["teacher"][0])
        lesson_id = (await get_json(f"{server.url}/api/me/lessons", teacher))["items"][0]["id"]
        students = table["student"][:3]
        try:
            for username, password in students:
                headers = await sign_in(server.url, username, password)
                client = LessonClient(server.url, lesson_id, headers["Authorization"].removeprefix("Bearer "))
                await client.connect()
                clients.append(client)
            await asyncio.sleep(HEARTBEAT_SECONDS + 2)  # at least one heartbeat after the joins
            server.proc.send_signal(signal.SIGKILL)
            killed_at = datetime.now().astimezone()
            await asyncio.wait_for(server.proc.wait(), 20)
        finally:
            for client in clients:
                await client.close(leave=False)

    async with running_server(data, ["--ice-address", "127.0.0.1"]) as again:
        await again.wait_for(LISTENING)
        teacher = await sign_in(again.url, *table["teacher"][0])
        report = await get_json(f"{again.url}/api/lessons/{lesson_id}/attendance", teacher)
        rows = {s["username"]: s for s in report["students"]}
        for username, _password in students:
            intervals = rows[username]["intervals"]
            assert len(intervals) == 1, intervals
            interval = intervals[0]
            assert interval["reason"] == "server_restart"
            left_at = datetime.fromisoformat(interval["left_at"])
            joined_at = datetime.fromisoformat(interval["joined_at"])
            assert left_at > joined_at, "the heartbeat moved last-seen past the join"
            assert 0 <= (killed_at - left_at).total_seconds() <= HEARTBEAT_SECONDS + 1, "closed at the last heartbeat"
            assert not rows[username]["present_now"]

    async with running_server(data, ["--ice-address", "127.0.0.1"]) as third:  # a second restart: nothing doubles
        await third.wait_for(LISTENING)
        teacher = await sign_in(third.url, *table["teacher"][0])
        again_report = await get_json(f"{third.url}/api/lessons/{lesson_id}/attendance", teacher)
        assert again_report["students"] == report["students"]



"""A crash of the server loses nothing the class was told was kept: SIGKILL while the teacher and
students are chatting and answering a quiz, restart, and every acknowledged chat message and every
acknowledged answer is there (with its text and its score)."""
from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

from school.demo import STUDENTS
from signaling.client import LessonClient, ProtocolError
from tests.servers import running_server
from tests.test_run_server import LISTENING, demo_sign_ins, get_json, sign_in

NAMES = dict(STUDENTS)
"""The demo students' usernames -> full names."""


async def _all_chat(url: str, lesson_id: int, headers: dict[str, str]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    before: int | None = None
    while True:
        page = await get_json(f"{url}/api/lessons/{lesson_id}/chat?limit=200"
                              + (f"&before={before}" if before else ""), headers)
        messages += page["messages"]
        before = page.get("next_before")
        if not before:
            return messages


async def test_sigkill_keeps_every_acknowledged_chat_message_and_answer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clients: list[LessonClient] = []
    acked_messages: dict[int, str] = {}
    acked_answers: dict[str, int] = {}
    async with running_server(data, ["--demo", "--ice-address", "127.0.0.1"]) as server:
        await server.wait_for(LISTENING)
        table = demo_sign_ins(server.output())
        teacher_headers = await sign_in(server.url, *table["teacher"][0])
        lesson_id = (await get_json(f"{server.url}/api/me/lessons", teacher_headers))["items"][0]["id"]
        people = [table["teacher"][0], *table["student"][:3]]
        headers = await asyncio.gather(*(sign_in(server.url, *who) for who in people))
        clients = [LessonClient(server.url, lesson_id, h["Authorization"].removeprefix("Bearer ")) for h in headers]
        try:
            await asyncio.gather(*(c.connect(auto_subscribe=False) for c in clients))
            teacher, students = clients[0], clients[1:]
            poll = (await teacher.request({"type": "poll_create", "open": True, "poll": {
                "question": "2 + 2 = ?", "kind": "single", "options": ["3", "4", "5"], "correct": [1],
                "points": 2, "duration_s": None, "anonymous": False}}))["poll"]

            async def chat(client: LessonClient, n: int, k: int) -> None:
                text = f"tin {n}.{k} <b>giữ lại</b>"
                reply = await client.request({"type": "chat", "text": text}, timeout=5)
                acked_messages[reply["message"]["id"]] = text

            async def answer(client: LessonClient, n: int) -> None:
                choice = 1 if n != 2 else 0
                await client.request({"type": "poll_answer", "poll_id": poll["id"], "choices": [choice]}, timeout=5)
                acked_answers[table["student"][n][0]] = choice

            work = [asyncio.ensure_future(chat(c, n, k)) for n, c in enumerate(clients) for k in range(5)]
            work += [asyncio.ensure_future(answer(s, n)) for n, s in enumerate(students)]
            # Kill the server while the writes are still arriving: once some have been acknowledged.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while len(acked_messages) + len(acked_answers) < 4 and loop.time() < deadline:
                await asyncio.sleep(0.005)
            server.proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(server.proc.wait(), 20)
            for task in work:
                with contextlib.suppress(ProtocolError, TimeoutError, ConnectionError, asyncio.CancelledError,
                                         RuntimeError, Exception):
                    await task
        finally:
            for client in clients:
                await client.close(leave=False)
    assert acked_messages or acked_answers, "nothing was acknowledged before the kill"

    async with running_server(data, ["--ice-address", "127.0.0.1"]) as again:
        await again.wait_for(LISTENING)
        teacher_headers = await sign_in(again.url, *table["teacher"][0])
        kept = {m["id"]: m["text"] for m in await _all_chat(again.url, lesson_id, teacher_headers)}
        for message_id, text in acked_messages.items():
            assert kept.get(message_id) == text, (message_id, text, kept.get(message_id))
        results = await get_json(f"{again.url}/api/polls/{poll['id']}/results", teacher_headers)
        rows = {r["full_name"]: r for r in results["rows"]}
        for username, choice in acked_answers.items():
            row = rows[NAMES[username]]
            assert row["answer"] == ["3", "4", "5"][choice], row
            assert row["score"] == (2 if choice == 1 else 0), row

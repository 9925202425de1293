"""An online test attempt loses nothing acknowledged: a request whose connection dropped is still
saved, and after the server is killed and started again on the same data the student resumes the
same attempt (same paper, same deadline) with every answer there, and submits it."""
from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.servers import running_server
from tests.test_run_server import LISTENING, demo_sign_ins, get_json, post_json, sign_in


async def _put(url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.put(url, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()  # type: ignore[no-any-return]


async def _dropped_put(url: str, path: str, token: str, body: bytes) -> None:
    """A PUT sent whole, the connection closed before the reply is read (a phone losing its signal)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write((f"PUT {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
                 .encode() + body)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _answers(url: str, attempt_id: int, headers: dict[str, str]) -> list[Any]:
    return [i["answer"] for i in (await get_json(f"{url}/api/test-attempts/{attempt_id}", headers))["items"]]


async def test_an_attempt_survives_a_dropped_connection_and_a_server_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args = ["--demo", "--ice-address", "127.0.0.1"]
    async with running_server(data, args) as server:
        await server.wait_for(LISTENING)
        table = demo_sign_ins(server.output())
        teacher = await sign_in(server.url, *table["teacher"][0])
        student = await sign_in(server.url, *table["student"][0])
        lesson = (await get_json(f"{server.url}/api/me/lessons", teacher))["items"][0]
        bank = await post_json(f"{server.url}/api/question-banks", teacher,
                               {"subject_id": lesson["subject_id"], "title": "Ôn tập"})
        questions = [{"kind": "single", "text": f"Câu {n}: {n} + 1 = ?", "options": [str(n), str(n + 1), str(n + 2)],
                      "correct": [1]} for n in range(4)] + [{"kind": "essay", "text": "Kể về mùa hè của em."}]
        await post_json(f"{server.url}/api/question-banks/{bank['id']}/questions", teacher, {"questions": questions})
        now = datetime.now(UTC)
        test = await post_json(f"{server.url}/api/online-tests", teacher, {
            "class_id": lesson["class_id"], "subject_id": lesson["subject_id"], "title": "Kiểm tra giữa kì",
            "draws": [{"bank_id": bank["id"], "count": 5}], "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(hours=2)).isoformat(), "time_limit_minutes": 45})
        attempt = await post_json(f"{server.url}/api/online-tests/{test['id']}/attempts", student, {})
        paper = [(i["text"], i["options"]) for i in attempt["items"]]
        essay = next(i["position"] for i in attempt["items"] if i["kind"] == "essay")
        choices = [i["position"] for i in attempt["items"] if i["kind"] == "single"]
        base = f"{server.url}/api/test-attempts/{attempt['id']}/answers"
        await _put(f"{base}/{choices[0]}", student, {"choices": [0]})
        await _put(f"{base}/{essay}", student, {"text": "Mùa hè em về quê ngoại."})
        token = student["Authorization"].removeprefix("Bearer ")
        await _dropped_put(server.url, f"/api/test-attempts/{attempt['id']}/answers/{choices[1]}", token,
                           b'{"choices": [2]}')
        loop = asyncio.get_running_loop()
        until = loop.time() + 10
        while (await _answers(server.url, attempt["id"], student))[choices[1]] != [2]:
            assert loop.time() < until, "the answer sent before the connection dropped was not saved"
            await asyncio.sleep(0.1)
        server.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(server.proc.wait(), 20)

    async with running_server(data, args) as server:
        await server.wait_for(LISTENING)
        table = demo_sign_ins(server.output())
        teacher = await sign_in(server.url, *table["teacher"][0])
        student = await sign_in(server.url, *table["student"][0])
        resumed = await post_json(f"{server.url}/api/online-tests/{test['id']}/attempts", student, {})
        assert resumed["id"] == attempt["id"] and resumed["deadline_at"] == attempt["deadline_at"]
        assert [(i["text"], i["options"]) for i in resumed["items"]] == paper
        answers = [i["answer"] for i in resumed["items"]]
        assert answers[choices[0]] == [0] and answers[choices[1]] == [2]
        assert answers[essay] == "Mùa hè em về quê ngoại."
        assert 0 < resumed["remaining_s"] <= 45 * 60
        await _put(f"{server.url}/api/test-attempts/{attempt['id']}/answers/{choices[2]}", student, {"choices": [1]})
        await post_json(f"{server.url}/api/online-tests/{test['id']}/attempts", student, {})  # resumes, no new one
        async with aiohttp.ClientSession(headers=student) as http:
            async with http.post(f"{server.url}/api/test-attempts/{attempt['id']}/submit") as response:
                assert response.status == 200, await response.text()
        rows = (await get_json(f"{server.url}/api/online-tests/{test['id']}/attempts", teacher))["items"]
        assert len(rows) == 1 and rows[0]["status"] == "submitted"  # the essay waits for the teacher
        # Shown as given: option 0 of the first item, 2 of the second, 1 of the third; only a shown
        # option whose text is "n + 1" scores.
        scored = 0.0
        for position, shown in ((choices[0], 0), (choices[1], 2), (choices[2], 1)):
            text, options = paper[position]
            n = int(text.split()[1].rstrip(":"))
            scored += 1.0 if options[shown] == str(n + 1) else 0.0
        assert rows[0]["points"] == scored
        # The new sign-in after the restart is another session: logged as a second device.
        assert "second_device" in [e["kind"] for e in rows[0]["events"]]

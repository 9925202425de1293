"""A crash of the server loses no board operation anyone was told about: SIGKILL while the teacher
and two students draw at once, restart, and every acknowledged op is on the board, every event a
client saw is too (nothing is sent before it is durable), seqs have no gap, and the restarted
server's board folds to what the clients saw (plus, at most, ops written but not yet told)."""
from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

from signaling.client import LessonClient, ProtocolError
from tests.servers import running_server
from tests.test_run_server import LISTENING, demo_sign_ins, get_json, sign_in
from whiteboard.document import replay


def add(object_id: str, k: int) -> dict[str, Any]:
    points = [[100 + k + i * 4, 300 + (i % 4) * 9, 0.5] for i in range(20)]
    return {"kind": "add", "page": "p1",
            "object": {"id": object_id, "type": "stroke", "points": points, "color": "#204080", "width": 3}}


async def test_sigkill_keeps_every_acknowledged_board_op(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clients: list[LessonClient] = []
    acked: dict[str, dict[str, Any]] = {}
    """Object id -> the op the server acknowledged (durable)."""
    sent: dict[str, dict[str, Any]] = {}
    seen: list[list[dict[str, Any]]] = []
    async with running_server(data, ["--demo", "--ice-address", "127.0.0.1"]) as server:
        await server.wait_for(LISTENING)
        table = demo_sign_ins(server.output())
        teacher_headers = await sign_in(server.url, *table["teacher"][0])
        lesson_id = (await get_json(f"{server.url}/api/me/lessons", teacher_headers))["items"][0]["id"]
        people = [table["teacher"][0], *table["student"][:2]]
        headers = await asyncio.gather(*(sign_in(server.url, *who) for who in people))
        clients = [LessonClient(server.url, lesson_id, h["Authorization"].removeprefix("Bearer ")) for h in headers]
        try:
            await asyncio.gather(*(c.connect(auto_subscribe=False) for c in clients))
            await clients[0].request({"type": "board_allow", "everyone": True})

            async def draw(client: LessonClient, n: int) -> None:
                for k in range(200):
                    object_id = f"u{n}-{k}"
                    sent[object_id] = op = add(object_id, k)
                    reply = await client.request({"type": "board_op", "op": op}, timeout=5)
                    acked[object_id] = reply["ops"][0]

            work = [asyncio.ensure_future(draw(c, n)) for n, c in enumerate(clients)]
            # Kill the server while the ops are still arriving: once some have been acknowledged.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while len(acked) < 30 and loop.time() < deadline:
                await asyncio.sleep(0.005)
            server.proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(server.proc.wait(), 20)
            for task in work:
                with contextlib.suppress(ProtocolError, TimeoutError, ConnectionError, asyncio.CancelledError,
                                         RuntimeError, Exception):
                    await task
            for client in clients:
                events = []
                while not client.events.empty():
                    event = client.events.get_nowait()
                    if event.get("type") == "board_op":
                        events.append(event)
                seen.append(events)
        finally:
            for client in clients:
                await client.close(leave=False)
    assert len(acked) >= 30, "too little was acknowledged before the kill"
    assert all(seen), "a client saw no board event"

    async with running_server(data, ["--ice-address", "127.0.0.1"]) as again:
        await again.wait_for(LISTENING)
        teacher_headers = await sign_in(again.url, *table["teacher"][0])
        board = await get_json(f"{again.url}/api/lessons/{lesson_id}/board", teacher_headers)
    objects = {o["id"]: o for o in board["pages"][0]["objects"]}
    # Every acknowledged op is there, as acknowledged.
    for object_id, op in acked.items():
        assert objects.get(object_id) == op["object"], object_id
    # One op per seq, none missing: the board's seq is its number of strokes.
    assert board["seq"] == len(objects)
    # What each client saw is the board's beginning, in seq order; the rest were sent and not yet told.
    for events in seen:
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(1, len(seqs) + 1))
        told = replay(e["op"] for e in events).snapshot()["pages"][0]["objects"]
        assert [o["id"] for o in told] == [o["id"] for o in board["pages"][0]["objects"]][:len(told)]
        assert all(objects[o["id"]] == o for o in told)
    assert set(objects) <= set(sent)

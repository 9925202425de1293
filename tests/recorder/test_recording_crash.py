"""SIGKILL the server while it records: after a restart the partial recording is listed and plays
up to within a few seconds of the kill."""
from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp
import av

from signaling.client import LessonClient
from tests.media import ColourTrack, ToneTrack
from tests.servers import running_server
from tests.test_run_server import LISTENING, demo_sign_ins, get_json, sign_in


async def test_a_recording_survives_sigkill_up_to_the_last_seconds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_server(data, ["--demo", "--ice-address", "127.0.0.1"]) as server:
        await server.wait_for(LISTENING)
        table = demo_sign_ins(server.output())
        teacher_headers = await sign_in(server.url, *table["teacher"][0])
        lesson_id = (await get_json(f"{server.url}/api/me/lessons", teacher_headers))["items"][0]["id"]
        teacher = LessonClient(server.url, lesson_id, teacher_headers["Authorization"].removeprefix("Bearer "))
        try:
            await teacher.connect()
            await teacher.publish({"camera": ColourTrack((255, 0, 0)), "mic": ToneTrack()})
            started = time.monotonic()
            await asyncio.sleep(8)
            server.proc.send_signal(signal.SIGKILL)
            recorded_for = time.monotonic() - started
            await asyncio.wait_for(server.proc.wait(), 20)
        finally:
            await teacher.close(leave=False)

    async with running_server(data, ["--ice-address", "127.0.0.1"]) as again:
        await again.wait_for(LISTENING)
        headers = await sign_in(again.url, *table["teacher"][0])
        listed = (await get_json(f"{again.url}/api/lessons/{lesson_id}/recordings", headers))["items"]
        camera = next(r for r in listed if r["kind"] == "track" and r["source"] == "camera")
        assert camera["status"] == "interrupted"
        assert recorded_for - 3.0 <= camera["duration_seconds"] <= recorded_for + 0.5, (camera, recorded_for)
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(again.url + camera["media_url"]) as response:
                assert response.status == 200
                body = await response.read()
        partial = tmp_path / "partial.webm"
        partial.write_bytes(body)
        with av.open(str(partial)) as container:
            frames = list(container.decode(video=0))
        assert len(frames) >= (recorded_for - 3.0) * 30 * 0.9, len(frames)
        assert frames[-1].to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)[0] > 200
        mic = next(r for r in listed if r["kind"] == "track" and r["source"] == "mic")
        assert mic["status"] == "interrupted" and mic["duration_seconds"] > recorded_for - 3.0

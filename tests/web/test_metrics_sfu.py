"""The media plane's forwarding counters in GET /metrics: after real aiortc peers exchanged media,
and kept (never going backwards) when a room closes."""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from school.demo import DemoSchool
from sfu.stats import LATENCY_BOUNDS, ForwardingStats
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from web.keys import ROOMS
from web.metrics import SfuCollector

GREEN = (0, 255, 0)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    return samples(await response.text())


async def test_forwarding_counters_and_latency_appear_after_media_flowed(
    live_server: LiveServer, client: TestClient, demo: DemoSchool, login: Login
) -> None:
    before = await scrape(client)
    assert before[("lophoc_sfu_packets_in_total", ())] == 0
    assert before[("lophoc_sfu_forward_seconds_count", ())] == 0

    made: list[LessonClient] = []
    try:
        teacher_token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
        teacher = LessonClient(live_server.url, demo.lesson_id, teacher_token)
        made.append(teacher)
        await teacher.connect()
        published = await teacher.publish({"camera": ColourTrack(GREEN), "mic": ToneTrack()})
        camera = next(p["producer_id"] for p in published["producers"] if p["source"] == "camera")

        student_token = (await login(demo.students[0]))["Authorization"].removeprefix("Bearer ")
        student = LessonClient(live_server.url, demo.lesson_id, student_token)
        made.append(student)
        await student.connect()
        await asyncio.wait_for((await student.track_of(camera)).recv(), 15.0)  # a decoded frame arrived
        await asyncio.sleep(0.5)

        after = await scrape(client)
    finally:
        for lesson_client in made:
            await lesson_client.close()

    assert after[("lophoc_sfu_packets_in_total", ())] > 0
    assert after[("lophoc_sfu_bytes_in_total", ())] > 0
    assert after[("lophoc_sfu_packets_out_total", ())] > 0
    assert ("lophoc_sfu_retransmissions_total", ()) in after
    assert after[("lophoc_sfu_send_errors_total", ())] == before[("lophoc_sfu_send_errors_total", ())], \
        "on loopback every copy goes out (the count is the process's: other tests may have failed some)"
    assert after[("lophoc_sfu_keyframe_requests_total", ())] >= 0
    count = after[("lophoc_sfu_forward_seconds_count", ())]
    assert count > 0
    assert after[("lophoc_sfu_forward_seconds_bucket", (("le", "+Inf"),))] == count
    assert after[("lophoc_sfu_forward_seconds_sum", ())] > 0
    buckets = sorted((float(labels[0][1]), value) for (name, labels), value in after.items()
                     if name == "lophoc_sfu_forward_seconds_bucket")
    assert len(buckets) == len(LATENCY_BOUNDS) + 1
    assert [value for _, value in buckets] == sorted(value for _, value in buckets), "buckets are cumulative"

    # Everyone left: the room closed, its counts stay.
    for _ in range(50):
        if not live_server.app[ROOMS].rooms:
            break
        await asyncio.sleep(0.1)
    closed = await scrape(client)
    assert closed[("lophoc_sfu_packets_in_total", ())] >= after[("lophoc_sfu_packets_in_total", ())]
    assert closed[("lophoc_sfu_forward_seconds_count", ())] >= count


class FakeRoom:
    def __init__(self, packets_in: int, latencies: list[float]) -> None:
        self._stats = ForwardingStats(packets_in=packets_in, packets_out=2 * packets_in)
        for seconds in latencies:
            self._stats.latency.add(seconds)

    def stats(self) -> ForwardingStats:
        return self._stats


def test_the_collector_keeps_the_totals_of_rooms_that_closed() -> None:
    rooms: list[Any] = [FakeRoom(10, [3e-6, 40e-6]), FakeRoom(5, [1.0])]
    registry = CollectorRegistry()
    registry.register(SfuCollector(lambda: rooms))
    first = samples(generate_latest(registry).decode())
    assert first[("lophoc_sfu_packets_in_total", ())] == 15
    assert first[("lophoc_sfu_packets_out_total", ())] == 30
    assert first[("lophoc_sfu_forward_seconds_count", ())] == 3
    assert first[("lophoc_sfu_forward_seconds_bucket", (("le", "5e-06"),))] == 1
    assert first[("lophoc_sfu_forward_seconds_bucket", (("le", "5e-05"),))] == 2
    assert first[("lophoc_sfu_forward_seconds_bucket", (("le", "0.05"),))] == 2
    assert first[("lophoc_sfu_forward_seconds_bucket", (("le", "+Inf"),))] == 3

    rooms.pop(0)
    rooms.append(FakeRoom(1, []))
    second = samples(generate_latest(registry).decode())
    assert second[("lophoc_sfu_packets_in_total", ())] == 16
    assert second[("lophoc_sfu_forward_seconds_count", ())] == 3

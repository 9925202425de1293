"""Attendance through the API, with real peers joining and leaving a live lesson."""
from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCSessionDescription
from openpyxl import load_workbook

from sfu.aiortc_adapter import AnnouncingPeerConnection
from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.conftest import ADMIN_PASSWORD, LiveServer, Login
from web.config import Config

GRACE = timedelta(seconds=1.5)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=("127.0.0.1",),
                  attendance_grace=GRACE, room_linger=timedelta(0))


async def token(login: Login, who: Any) -> str:
    return (await login(who))["Authorization"].removeprefix("Bearer ")


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def report(client: TestClient, lesson_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/api/lessons/{lesson_id}/attendance", headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def open_room(live_server: LiveServer, demo: DemoSchool, login: Login) -> LessonClient:
    """The teacher joins: the lesson's room opens, so it is held (students are no longer `not_yet`)."""
    teacher = LessonClient(live_server.url, demo.lesson_id, await token(login, demo.teacher))
    await teacher.connect()
    return teacher


async def test_joins_and_leaves_are_reported_within_a_second_and_absentees_are_listed(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login
) -> None:
    teacher = await open_room(live_server, demo, login)
    an = LessonClient(live_server.url, demo.lesson_id, await token(login, demo.students[0]))
    joined_at = datetime.now(UTC)
    await an.connect()
    await asyncio.sleep(1.0)
    await an.close()
    left_at = datetime.now(UTC)

    # A WHEP viewer counts too.
    viewer = AnnouncingPeerConnection(announced=("127.0.0.1",))
    binh = await login(demo.students[1])
    try:
        viewer.addTransceiver("video", direction="recvonly")
        await viewer.setLocalDescription(await viewer.createOffer())
        whep_at = datetime.now(UTC)
        response = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data=viewer.localDescription.sdp,
                                     headers={**binh, "Content-Type": "application/sdp"})
        assert response.status == 201
        await viewer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
        live = await report(client, demo.lesson_id, await login(demo.teacher))
        binh_row = next(s for s in live["students"] if s["username"] == demo.students[1].username)
        assert binh_row["present_now"] and binh_row["intervals"][0]["via"] == "whep"
        assert abs((parse(binh_row["first_join"]) - whep_at).total_seconds()) < 1.0
        assert (await client.delete(response.headers["Location"], headers=binh)).status == 204
    finally:
        await viewer.close()

    result = await report(client, demo.lesson_id, await login(demo.teacher))
    await teacher.close()
    assert result["held"] is True
    assert result["summary"]["students"] == len(demo.students)
    rows = {s["username"]: s for s in result["students"]}
    an_row = rows[demo.students[0].username]
    # A second in a 45-minute lesson, gone again: not attendance (below the school's minimum share).
    assert an_row["status"] == "absent" and not an_row["late"] and an_row["share"] < 0.01
    assert len(an_row["intervals"]) == 1
    interval = an_row["intervals"][0]
    assert abs((parse(interval["joined_at"]) - joined_at).total_seconds()) < 1.0
    assert abs((parse(interval["left_at"]) - left_at).total_seconds()) < 1.0
    assert interval["reason"] == "left" and interval["via"] == "browser"
    assert 0 < an_row["seconds_present"] <= 3
    assert rows[demo.students[1].username]["intervals"][0]["reason"] == "left"
    for absent in demo.students[2:]:
        assert rows[absent.username]["status"] == "absent"
        assert rows[absent.username]["intervals"] == []
    assert result["summary"]["absent"] == len(demo.students)


async def test_a_reconnection_within_the_grace_period_leaves_one_interval(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login
) -> None:
    student_token = await token(login, demo.students[0])
    first = LessonClient(live_server.url, demo.lesson_id, student_token)
    await first.connect()
    await first.close(leave=False)  # the network drops
    await asyncio.sleep(0.5)
    second = LessonClient(live_server.url, demo.lesson_id, student_token)
    await second.connect()  # back within the grace period
    await asyncio.sleep(GRACE.total_seconds() + 0.5)
    await second.close()
    rows = {s["username"]: s for s in (await report(client, demo.lesson_id, await login(demo.teacher)))["students"]}
    intervals = rows[demo.students[0].username]["intervals"]
    assert len(intervals) == 1, intervals
    assert intervals[0]["reason"] == "left"

    # A drop without return ends at the drop, as "disconnected".
    third = LessonClient(live_server.url, demo.lesson_id, student_token)
    await third.connect()
    await third.close(leave=False)
    dropped = datetime.now(UTC)
    await asyncio.sleep(GRACE.total_seconds() + 1.0)
    rows = {s["username"]: s for s in (await report(client, demo.lesson_id, await login(demo.teacher)))["students"]}
    last = rows[demo.students[0].username]["intervals"][-1]
    assert last["reason"] == "disconnected"
    assert abs((parse(last["left_at"]) - dropped).total_seconds()) < 1.0


async def test_exports_open_with_the_same_figures(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login
) -> None:
    teacher_client = await open_room(live_server, demo, login)
    an = LessonClient(live_server.url, demo.lesson_id, await token(login, demo.students[0]))
    await an.connect()
    await asyncio.sleep(0.5)
    await an.close()
    await teacher_client.close()
    teacher = await login(demo.teacher)
    data = await report(client, demo.lesson_id, teacher)

    response = await client.get(f"/api/lessons/{demo.lesson_id}/attendance?format=csv", headers=teacher)
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows[0][:4] == ["STT", "Họ và tên", "Tên đăng nhập", "Trạng thái"]
    by_user = {row[2]: row for row in rows[1:]}
    assert len(by_user) == len(data["students"])
    for student in data["students"]:
        row = by_user[student["username"]]
        assert row[1] == student["full_name"]
        assert row[3] == {"present": "Có mặt", "late": "Đi muộn", "absent": "Vắng", "left_early": "Về sớm",
                          "late_left_early": "Đi muộn, về sớm", "not_yet": "Chưa diễn ra"}[student["status"]]
        assert float(row[6]) == round(student["seconds_present"] / 60, 1)
        assert int(row[7]) == len(student["intervals"])

    response = await client.get(f"/api/lessons/{demo.lesson_id}/attendance?format=xlsx", headers=teacher)
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0][:4]) == ["STT", "Họ và tên", "Tên đăng nhập", "Trạng thái"]
    assert {(v[2], v[6], v[7]) for v in values[1:]} == {(s["username"], round(s["seconds_present"] / 60, 1),
                                                         len(s["intervals"])) for s in data["students"]}

    stats = await client.get("/api/reports/attendance", headers=teacher)
    assert stats.status == 200
    body = await stats.json()
    assert body["lessons_held"] == 1
    assert body["by_class"][0]["name"] == demo.class_name
    assert body["by_class"][0]["student_lessons"] == len(demo.students)
    # Half a second of the lesson is not attendance: every student of the held lesson is absent.
    assert body["by_class"][0]["absences"] == len(demo.students)
    assert body["attendance_rate"] == 0.0
    assert {"from", "to", "by_grade", "by_subject", "by_teacher", "by_day"} <= set(body)
    xlsx = await client.get("/api/reports/attendance?format=xlsx", headers=teacher)
    sheet = load_workbook(io.BytesIO(await xlsx.read())).active
    assert len(list(sheet.iter_rows(values_only=True))) == len(demo.students) + 1
    csv_stats = await client.get("/api/reports/attendance?format=csv", headers=teacher)
    assert len(list(csv.reader(io.StringIO((await csv_stats.read()).decode("utf-8-sig"))))) == len(demo.students) + 1


async def test_students_see_only_their_own_records(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login, admin: dict[str, str]
) -> None:
    await (await open_room(live_server, demo, login)).close()  # held: the student's statistics list them
    mine = await report(client, demo.lesson_id, await login(demo.students[0]))
    assert [s["username"] for s in mine["students"]] == [demo.students[0].username]
    stats = await (await client.get("/api/reports/attendance", headers=await login(demo.students[0]))).json()
    assert [s["full_name"] for s in stats["students"]] == [demo.students[0].full_name]

    other_class = await client.post("/api/classes", json={"name": "12C3", "grade": 12}, headers=admin)
    outsider = await client.post("/api/users", headers=admin, json={
        "username": "hs.khac", "password": "mat-khau-khac-1", "full_name": "Học Sinh Khác", "role": "student",
        "class_id": (await other_class.json())["id"]})
    assert outsider.status == 201
    stranger = await login(("hs.khac", "mat-khau-khac-1"))
    refused = await client.get(f"/api/lessons/{demo.lesson_id}/attendance", headers=stranger)
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "forbidden"
    assert (await client.get(f"/api/reports/attendance?class_id={demo.class_id}", headers=stranger)).status == 403
    assert (await (await client.get("/api/reports/attendance", headers=stranger)).json())["students"] == []
    assert (await client.get("/api/lessons/99999/attendance", headers=admin)).status == 404
    assert (await client.get(f"/api/lessons/{demo.lesson_id}/attendance?format=pdf", headers=admin)).status == 422
    assert (await client.put("/api/school/attendance-settings", json={"late_after_minutes": 10,
                                                                       "left_early_minutes": 3},
                             headers=await login(demo.teacher))).status == 403
    changed = await client.put("/api/school/attendance-settings", json={"late_after_minutes": 10,
                                                                         "left_early_minutes": 3}, headers=admin)
    assert changed.status == 200
    assert (await report(client, demo.lesson_id, admin))["late_after_minutes"] == 10
    bad = await client.put("/api/school/attendance-settings", json={"late_after_minutes": -1,
                                                                     "left_early_minutes": 3}, headers=admin)
    assert bad.status == 422

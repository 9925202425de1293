"""The school's settings through the API: read by staff, changed by administrators only, each change
in the change log with its before and after, refusals by field in Vietnamese or English."""
from __future__ import annotations

import json

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from school.audit import AuditEntry
from school.demo import DemoSchool
from storage.database import Database
from tests.conftest import Login
from web.app import DATABASE

VI = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}


async def entries(db: Database) -> list[AuditEntry]:
    async with db.session() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "settings")
                                          .order_by(AuditEntry.id)))


async def test_an_admin_changes_settings_and_the_change_is_logged(
    client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str]
) -> None:
    before = await (await client.get("/api/school/settings", headers=admin)).json()
    assert before["timezone"] == "Asia/Ho_Chi_Minh" and before["min_presence_percent"] == 50
    changed = await client.patch("/api/school/settings", headers=admin, json={
        "min_presence_percent": 70, "late_after_minutes": 10, "timezone": "Asia/Bangkok",
        "recording_mode": "manual", "record_students": True, "recording_retention_days": 90})
    assert changed.status == 200, await changed.text()
    body = await changed.json()
    assert (body["min_presence_percent"], body["late_after_minutes"], body["timezone"], body["recording_mode"],
            body["record_students"], body["recording_retention_days"]) == (70, 10, "Asia/Bangkok", "manual", True, 90)
    assert body["name"] == before["name"] and body["left_early_minutes"] == before["left_early_minutes"]
    assert await (await client.get("/api/school/settings", headers=admin)).json() == body

    logged = await entries(client.app[DATABASE])
    assert len(logged) == 1 and logged[0].entity == "school"
    assert json.loads(logged[0].before or "{}") == {
        "min_presence_percent": 50, "late_after_minutes": before["late_after_minutes"], "timezone": "Asia/Ho_Chi_Minh",
        "recording_mode": before["recording_mode"], "record_students": before["record_students"],
        "recording_retention_days": before["recording_retention_days"]}
    assert json.loads(logged[0].after or "{}")["min_presence_percent"] == 70

    # null keeps recordings; the same values again change nothing and log nothing.
    kept = await client.patch("/api/school/settings", headers=admin, json={"recording_retention_days": None})
    assert (await kept.json())["recording_retention_days"] is None
    same = await client.patch("/api/school/settings", headers=admin, json={"min_presence_percent": 70})
    assert same.status == 200
    assert len(await entries(client.app[DATABASE])) == 2

    # The older endpoints keep working, on the same values, and are logged too.
    put = await client.put("/api/school/attendance-settings", headers=admin,
                           json={"late_after_minutes": 7, "left_early_minutes": 4})
    assert put.status == 200
    now = await (await client.get("/api/school/settings", headers=await login(demo.teacher))).json()
    assert (now["late_after_minutes"], now["left_early_minutes"]) == (7, 4)
    assert len(await entries(client.app[DATABASE])) == 3


async def test_teachers_read_only_and_students_not_at_all(
    client: TestClient, demo: DemoSchool, login: Login
) -> None:
    teacher = await login(demo.teacher)
    assert (await client.get("/api/school/settings", headers=teacher)).status == 200
    refused = await client.patch("/api/school/settings", headers=teacher, json={"min_presence_percent": 10})
    assert refused.status == 403
    student = await login(demo.students[0])
    assert (await client.get("/api/school/settings", headers=student)).status == 403
    assert (await client.patch("/api/school/settings", headers=student, json={"name": "X"})).status == 403
    assert await entries(client.app[DATABASE]) == []


async def test_refusals_name_the_field_in_the_askers_language(
    client: TestClient, demo: DemoSchool, admin: dict[str, str]
) -> None:
    async def refused(body: object, headers: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
        response = await client.patch("/api/school/settings", headers={**admin, **(headers or {})}, json=body)
        assert response.status == 422, await response.text()
        error = (await response.json())["error"]
        assert error["code"] == "validation_error"
        return {f["field"].split(".")[-1]: f for f in error["fields"]}

    zone = (await refused({"timezone": "Asia/Hanoi_City"}, VI))["timezone"]
    assert zone["code"] == "bad_timezone" and "Múi giờ" in str(zone["message"])
    share = (await refused({"min_presence_percent": 0}, VI))["min_presence_percent"]
    assert share["code"] == "too_small" and str(share["message"]).startswith("Tỉ lệ thời gian có mặt tối thiểu")
    assert (await refused({"min_presence_percent": 101}))["min_presence_percent"]["message"] == (
        "The minimum share present must be at most 100%.")
    assert (await refused({"late_after_minutes": "5"}))["late_after_minutes"]["code"] == "not_integer"
    assert (await refused({"recording_mode": "always"}))["recording_mode"]["code"] == "not_allowed"
    assert (await refused({"name": "<b>" * 100}))["name"]["code"] == "too_long"
    assert (await refused({"name": "A\nB"}))["name"]["code"] == "control_characters"
    assert (await refused({"min_presence_percent": None}))["min_presence_percent"]["code"] == "required"
    assert (await refused({"colour": "red"}))["colour"]["code"] == "unknown_field"
    assert (await refused({"recording_retention_days": 0}, VI))["recording_retention_days"]["message"] == (
        "Số ngày lưu bản ghi phải từ 1 trở lên (để trống: lưu mãi).")
    settings = await (await client.get("/api/school/settings", headers=admin)).json()
    assert settings["timezone"] == "Asia/Ho_Chi_Minh" and settings["min_presence_percent"] == 50
    assert await entries(client.app[DATABASE]) == []

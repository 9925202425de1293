"""An administrator edits people: names, usernames, classes; locks, deletes (only without records)
and resets passwords; the forced password change after a reset; the audit log of it all."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from attendance.models import AttendanceEvent
from school.demo import DemoSchool
from storage.database import Database
from web.keys import DATABASE

VI = {"Accept-Language": "vi-VN,vi;q=0.9"}


async def user_id(client: TestClient, admin: dict[str, str], username: str) -> int:
    items = (await (await client.get("/api/users", headers=admin)).json())["items"]
    items += (await (await client.get("/api/users?role=student", headers=admin)).json())["items"]
    return next(u["id"] for u in items if u["username"] == username)


async def audit(client: TestClient, admin: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/api/audit{query}", headers=admin)
    assert response.status == 200, await response.text()
    return (await response.json())["items"]


async def new_class(client: TestClient, admin: dict[str, str], name: str) -> int:
    response = await client.post("/api/classes", headers=admin, json={"name": name, "grade": 10})
    assert response.status == 201, await response.text()
    return (await response.json())["id"]


async def test_admin_renames_a_student_and_moves_them_to_another_class(client, admin, demo: DemoSchool):
    sid = await user_id(client, admin, "hs.an")
    other = await new_class(client, admin, "10A2")
    response = await client.patch(f"/api/users/{sid}", headers=admin, json={
        "full_name": "  Lê Văn Ân ", "username": "hs.an2", "class_id": other})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["full_name"], body["username"], body["class_id"], body["class_name"]) == (
        "Lê Văn Ân", "hs.an2", other, "10A2")
    in_old = (await (await client.get(f"/api/users?class_id={demo.class_id}", headers=admin)).json())["items"]
    assert "hs.an2" not in [u["username"] for u in in_old]
    (entry,) = [e for e in await audit(client, admin, "?entity=user") if e["entity_id"] == sid]
    assert entry["action"] == "update"
    assert entry["before"] == {"username": "hs.an", "full_name": "Lê Văn An", "class_name": "10A1"}
    assert entry["after"] == {"username": "hs.an2", "full_name": "Lê Văn Ân", "class_name": "10A2"}
    assert entry["summary"] == "Lê Văn Ân" and entry["actor_name"]
    # Out of any class.
    response = await client.patch(f"/api/users/{sid}", headers=admin, json={"class_id": None})
    assert (await response.json())["class_id"] is None
    # The new username signs in with the old password.
    signed = await client.post("/api/auth/login", json={"username": "hs.an2", "password": demo.students[0].password})
    assert signed.status == 200


async def test_refusals_carry_reasons_fields_and_vietnamese(client, admin, demo: DemoSchool):
    sid = await user_id(client, admin, "hs.binh")
    tid = await user_id(client, admin, "gv.lan")
    taken = await client.patch(f"/api/users/{sid}", headers={**admin, **VI}, json={"username": "GV.LAN"})
    assert taken.status == 409
    error = (await taken.json())["error"]
    assert error["reason"] == "username_taken"
    assert error["fields"][0]["field"] == "username"
    assert error["message"] == "Tên đăng nhập “GV.LAN” đã có người dùng. Vui lòng chọn tên khác."
    teacher_class = await client.patch(f"/api/users/{tid}", headers=admin, json={"class_id": demo.class_id})
    assert teacher_class.status == 422
    assert (await teacher_class.json())["error"]["reason"] == "class_only_for_students"
    empty = await client.patch(f"/api/users/{sid}", headers={**admin, **VI}, json={})
    assert empty.status == 422
    assert (await empty.json())["error"]["fields"][0]["message"] == "Không có thông tin nào cần thay đổi."
    bad = await client.patch(f"/api/users/{sid}", headers={**admin, **VI}, json={
        "full_name": "<b>x</b>\ty", "username": "có dấu", "is_active": "no", "role": "admin"})
    assert bad.status == 422
    codes = {f["field"]: f["code"] for f in (await bad.json())["error"]["fields"]}
    assert codes == {"full_name": "control_characters", "username": "bad_format", "is_active": "not_boolean",
                     "role": "unknown_field"}
    blank = await client.patch(f"/api/users/{sid}", headers={**admin, **VI}, json={"full_name": "   "})
    assert (await blank.json())["error"]["fields"][0]["message"] == "Vui lòng nhập họ và tên."
    long = await client.patch(f"/api/users/{sid}", headers=admin, json={"full_name": "A" * 201})
    assert (await long.json())["error"]["fields"][0]["code"] == "too_long"
    missing = await client.patch("/api/users/999999", headers=admin, json={"full_name": "X"})
    assert missing.status == 404
    no_class = await client.patch(f"/api/users/{sid}", headers=admin, json={"class_id": 999999})
    assert no_class.status == 422 and (await no_class.json())["error"]["reason"] == "user_class_not_found"
    # Nothing half-written: the name and username are as they were.
    out = await (await client.get(f"/api/users/{sid}", headers=admin)).json()
    assert (out["username"], out["full_name"]) == ("hs.binh", demo.students[1].full_name)


async def test_teachers_and_students_may_not_edit_delete_reset_or_read_the_log(client, admin, login, demo):
    sid = await user_id(client, admin, "hs.chi")
    for who in (demo.teacher, demo.students[1]):
        headers = await login(who)
        assert (await client.patch(f"/api/users/{sid}", headers=headers, json={"full_name": "X"})).status == 403
        assert (await client.delete(f"/api/users/{sid}", headers=headers)).status == 403
        assert (await client.post(f"/api/users/{sid}/password-reset", headers=headers)).status == 403
        assert (await client.get("/api/audit", headers=headers)).status == 403
    out = await (await client.get(f"/api/users/{sid}", headers=admin)).json()
    assert out["full_name"] != "X"


async def test_delete_without_records_and_refused_with_records(client, app, admin, demo: DemoSchool):
    created = await client.post("/api/users", headers=admin, json={
        "username": "hs.tam", "password": "mat-khau-123", "full_name": "Phan Văn Tâm", "role": "student",
        "class_id": demo.class_id})
    new_id = (await created.json())["id"]
    assert (await client.delete(f"/api/users/{new_id}", headers=admin)).status == 204
    assert (await client.get(f"/api/users/{new_id}", headers=admin)).status == 404
    entries = [e for e in await audit(client, admin, "?entity=user") if e["entity_id"] == new_id]
    assert [e["action"] for e in entries] == ["delete", "create"]
    assert entries[0]["before"]["class_name"] == "10A1" and entries[0]["after"] is None

    # The teacher has lessons; a student who came to one has attendance.
    tid = await user_id(client, admin, "gv.lan")
    refused = await client.delete(f"/api/users/{tid}", headers={**admin, **VI})
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["reason"] == "user_has_records"
    assert error["message"].startswith("Không thể xóa tài khoản Nguyễn Thị Lan vì đã có dữ liệu: ")
    assert "tiết học" in error["message"] and "Khóa tài khoản" in error["message"]
    sid = await user_id(client, admin, "hs.dung")
    db: Database = app[DATABASE]
    async with db.session() as session:
        session.add(AttendanceEvent(presence_id=str(uuid.uuid4()), school_id=1, lesson_id=demo.lesson_id,
                                    user_id=sid, role="student", via="browser", room="main", kind="join",
                                    at=datetime.now(UTC), node_id="test"))
    refused = await client.delete(f"/api/users/{sid}", headers=admin)
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["message"] == (f"{demo.students[3].full_name}'s account cannot be deleted: it has records "
                                "(1 attendance record(s)). Deactivate the account instead to keep them.")
    assert (await client.get(f"/api/users/{sid}", headers=admin)).status == 200


async def test_locking_ends_sign_ins_and_unlocking_lets_them_back(client, admin, login, demo: DemoSchool):
    student = demo.students[2]
    headers = await login(student)
    sid = await user_id(client, admin, student.username)
    locked = await client.patch(f"/api/users/{sid}", headers=admin, json={"is_active": False})
    assert locked.status == 200 and (await locked.json())["is_active"] is False
    assert (await client.get("/api/me", headers=headers)).status == 401
    again = await client.post("/api/auth/login", json={"username": student.username, "password": student.password})
    assert again.status == 401
    unlocked = await client.patch(f"/api/users/{sid}", headers=admin, json={"is_active": True})
    assert (await unlocked.json())["is_active"] is True
    assert (await client.post("/api/auth/login", json={"username": student.username,
                                                       "password": student.password})).status == 200
    actions = [e["action"] for e in await audit(client, admin, f"?entity=user&entity_id={sid}")]
    assert actions == ["activate", "deactivate"]


async def test_an_admin_cannot_lock_or_delete_themselves(client, admin):
    me = (await (await client.get("/api/me", headers=admin)).json())["user"]
    locked = await client.patch(f"/api/users/{me['id']}", headers={**admin, **VI}, json={"is_active": False})
    assert locked.status == 409
    error = (await locked.json())["error"]
    assert error["reason"] == "cannot_deactivate_self"
    assert error["message"] == "Bạn không thể tự khóa tài khoản của chính mình."
    deleted = await client.delete(f"/api/users/{me['id']}", headers=admin)
    assert deleted.status == 409 and (await deleted.json())["error"]["reason"] == "cannot_delete_self"
    reset = await client.post(f"/api/users/{me['id']}/password-reset", headers=admin)
    assert reset.status == 409 and (await reset.json())["error"]["reason"] == "cannot_reset_own_password"
    assert (await client.get("/api/me", headers=admin)).status == 200


async def test_reset_password_forces_a_change_before_anything_else(client, admin, login, demo: DemoSchool):
    teacher = demo.teacher
    old_headers = await login(teacher)
    tid = await user_id(client, admin, teacher.username)
    reset = await client.post(f"/api/users/{tid}/password-reset", headers=admin)
    assert reset.status == 200
    password = (await reset.json())["password"]
    assert len(password) >= 12 and password != teacher.password
    assert (await client.get("/api/me", headers=old_headers)).status == 401  # sign-ins ended
    assert (await client.post("/api/auth/login", json={"username": teacher.username,
                                                       "password": teacher.password})).status == 401
    signed = await client.post("/api/auth/login", json={"username": teacher.username, "password": password})
    assert signed.status == 200
    assert (await signed.json())["user"]["must_change_password"] is True
    headers = {"Authorization": f"Bearer {(await signed.json())['token']}"}
    me = await client.get("/api/me", headers=headers)
    assert me.status == 200 and (await me.json())["user"]["must_change_password"] is True
    assert (await client.get("/api/auth/sessions", headers=headers)).status == 200
    refused = await client.get("/api/lessons", headers={**headers, **VI})
    assert refused.status == 403
    error = (await refused.json())["error"]
    assert error["reason"] == "password_change_required"
    assert error["message"] == ("Mật khẩu của bạn vừa được đặt lại. "
                                "Vui lòng đổi mật khẩu trước khi tiếp tục.")
    changed = await client.post("/api/auth/password", headers=headers, json={
        "current_password": password, "new_password": "mat-khau-rieng-cua-toi"})
    assert changed.status == 204, await changed.text()
    assert (await client.get("/api/lessons", headers=headers)).status == 200
    me = await (await client.get("/api/me", headers=headers)).json()
    assert me["user"]["must_change_password"] is False
    (entry,) = [e for e in await audit(client, admin, "?action=reset_password") if e["entity_id"] == tid]
    assert entry["after"] == {"must_change_password": True}
    assert password not in str(entry)


async def test_audit_log_pages_and_filters(client, admin, demo: DemoSchool):
    sid = await user_id(client, admin, "hs.chi")
    for n in range(5):
        response = await client.patch(f"/api/users/{sid}", headers=admin, json={"full_name": f"Tên {n}"})
        assert response.status == 200
    first = await (await client.get("/api/audit?entity=user&limit=2", headers=admin)).json()
    assert [e["after"]["full_name"] for e in first["items"]] == ["Tên 4", "Tên 3"]
    second = await (await client.get(f"/api/audit?entity=user&limit=2&before_id={first['next_before_id']}",
                                     headers=admin)).json()
    assert [e["after"]["full_name"] for e in second["items"]] == ["Tên 2", "Tên 1"]
    me_body = await (await client.get("/api/me", headers=admin)).json()
    me = me_body["user"]
    mine = await audit(client, admin, f"?actor_id={me['id']}&entity=user&action=update")
    assert len(mine) == 5
    today = datetime.now(ZoneInfo(me_body["school"]["timezone"])).date()  # days are the school's
    last_year = today.replace(year=today.year - 1)
    assert len(await audit(client, admin, f"?from={last_year}&to={last_year}")) == 0
    assert len(await audit(client, admin, f"?from={today}&to={today}&entity=user&action=update")) == 5
    bad = await client.get("/api/audit?limit=0&entity=<x>&from=yesterday", headers=admin)
    assert bad.status == 422
    fields = {f["field"]: f["code"] for f in (await bad.json())["error"]["fields"]}
    assert fields.keys() == {"limit", "entity", "from"}

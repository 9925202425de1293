"""Changing and removing the school's structure through the API: each path, the rules with their
reasons and fields, Vietnamese sentences naming the clash, who may, and the audit log's entries."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from school.audit import AuditEntry
from web.keys import DATABASE

VI = {"Accept-Language": "vi"}


async def audit_entries(app, entity: str, entity_id: int | None = None) -> list[AuditEntry]:
    async with app[DATABASE].session() as session:
        query = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
        if entity_id is not None:
            query = query.where(AuditEntry.entity_id == entity_id)
        return list(await session.scalars(query))


async def created(response, status=201):
    assert response.status == status, await response.text()
    return await response.json()


async def refusal(response, status):
    assert response.status == status, await response.text()
    return (await response.json())["error"]


async def years(client, admin):
    return (await (await client.get("/api/school-years", headers=admin)).json())["items"]


async def teacher_id(client, admin):
    return (await (await client.get("/api/users?role=teacher", headers=admin)).json())["items"][0]["id"]


# --- school years ----------------------------------------------------------------------------
async def test_school_years_are_edited_and_refused_when_they_overlap(client, app, admin, demo):
    (current,) = await years(client, admin)
    nxt = await created(await client.post("/api/school-years", headers=admin, json={
        "name": "2040-2041", "starts_on": "2040-09-05", "ends_on": "2041-05-31"}))

    overlap = await refusal(await client.post("/api/school-years", headers={**admin, **VI}, json={
        "name": "2041-2042", "starts_on": "2041-05-01", "ends_on": "2042-05-31"}), 409)
    assert overlap["reason"] == "year_overlaps"
    assert overlap["fields"][0]["field"] == "starts_on"
    assert overlap["message"] == "Năm học này trùng thời gian với năm học 2040-2041 (05/09/2040 – 31/05/2041)."

    moved = await client.patch(f"/api/school-years/{nxt['id']}", headers=admin, json={"ends_on": "2041-06-15"})
    assert (await created(moved, 200))["ends_on"] == "2041-06-15"
    clash = await refusal(await client.patch(f"/api/school-years/{nxt['id']}", headers={**admin, **VI},
                                             json={"name": current["name"]}), 409)
    assert clash["reason"] == "year_exists" and clash["fields"][0]["field"] == "name"
    assert clash["message"] == f"Đã có năm học {current['name']}."
    reversed_ = await refusal(await client.patch(f"/api/school-years/{nxt['id']}", headers=admin,
                                                 json={"starts_on": "2041-07-01"}), 422)
    assert reversed_["fields"][0] == {**reversed_["fields"][0], "field": "ends_on", "code": "ends_before_start"}
    stretched = await refusal(await client.patch(f"/api/school-years/{nxt['id']}", headers=admin,
                                                 json={"starts_on": current["ends_on"]}), 409)
    assert stretched["reason"] == "year_overlaps"

    # The demo's lesson is today, in the current year: that year cannot shrink away from it.
    shrink = await refusal(await client.patch(f"/api/school-years/{current['id']}", headers={**admin, **VI},
                                              json={"ends_on": current["starts_on"][:4] + "-09-02",
                                                    "starts_on": current["starts_on"]}), 409)
    assert shrink["reason"] == "year_lessons_outside"
    assert "lớp 10A1" in shrink["message"]

    in_use = await refusal(await client.delete(f"/api/school-years/{current['id']}", headers={**admin, **VI}), 409)
    assert in_use["reason"] == "year_in_use"
    assert in_use["message"].startswith(f"Không xóa được năm học {current['name']}: năm học có 1 lớp (10A1).")
    assert (await client.delete(f"/api/school-years/{nxt['id']}", headers=admin)).status == 204
    assert [y["id"] for y in await years(client, admin)] == [current["id"]]
    assert (await client.delete(f"/api/school-years/{nxt['id']}", headers=admin)).status == 404

    actions = [(e.action, json.loads(e.after or "null")) for e in await audit_entries(app, "school_year", nxt["id"])]
    assert actions == [("create", {"name": "2040-2041", "starts_on": "2040-09-05", "ends_on": "2041-05-31"}),
                       ("update", {"ends_on": "2041-06-15"}), ("delete", None)]


# --- classes ---------------------------------------------------------------------------------
async def test_a_class_is_renamed_regraded_and_given_a_homeroom_teacher(client, app, admin, demo):
    cls = await created(await client.post("/api/classes", headers=admin, json={"name": "11B2", "grade": 11}))
    tid = await teacher_id(client, admin)
    changed = await created(await client.patch(f"/api/classes/{cls['id']}", headers=admin, json={
        "name": "12B2", "grade": 12, "homeroom_teacher_id": tid}), 200)
    assert (changed["name"], changed["grade"], changed["homeroom_teacher_name"]) == ("12B2", 12, "Nguyễn Thị Lan")
    cleared = await created(await client.patch(f"/api/classes/{cls['id']}", headers=admin,
                                               json={"homeroom_teacher_id": None}), 200)
    assert cleared["homeroom_teacher_id"] is None and cleared["name"] == "12B2"
    grades = (await (await client.get("/api/grades", headers=admin)).json())["items"]
    by_id = await created(await client.patch(f"/api/classes/{cls['id']}", headers=admin, json={
        "name": "Chuyên Anh", "grade_id": next(g["id"] for g in grades if g["level"] == 10)}), 200)
    assert by_id["grade"] == 10

    (update, *_rest) = [e for e in await audit_entries(app, "class", cls["id"]) if e.action == "update"]
    assert json.loads(update.before) == {"name": "11B2", "grade_id": cls["grade_id"], "homeroom_teacher_id": None}
    assert json.loads(update.after)["name"] == "12B2" and update.summary == "12B2"


async def test_class_rules_name_the_clash_in_vietnamese(client, admin, demo):
    mismatch = await refusal(await client.post("/api/classes", headers={**admin, **VI},
                                               json={"name": "12A1", "grade": 1}), 422)
    assert mismatch["fields"][0]["field"] == "name" and mismatch["fields"][0]["code"] == "class_grade_mismatch"
    assert mismatch["fields"][0]["message"] == (
        "Tên lớp 12A1 bắt đầu bằng 12 nhưng lớp thuộc khối 1: tên lớp phải bắt đầu bằng số khối.")
    english = await refusal(await client.post("/api/classes", headers=admin, json={"name": "12A1", "grade": 1}), 422)
    assert english["fields"][0]["message"] == ("The class name 12A1 begins with 12 but the class is in grade 1: "
                                               "a class name begins with its grade.")
    assert (await client.post("/api/classes", headers=admin, json={"name": "A1 năng khiếu", "grade": 1})).status == 201

    (year,) = await years(client, admin)
    exists = await refusal(await client.post("/api/classes", headers={**admin, **VI},
                                             json={"name": "10a1", "grade": 10}), 409)
    assert exists["reason"] == "class_exists" and exists["fields"][0]["field"] == "name"
    assert exists["message"] == f"Năm học {year['name']} đã có lớp 10A1."

    other = await created(await client.post("/api/classes", headers=admin, json={"name": "10A2", "grade": 10}))
    renamed = await refusal(await client.patch(f"/api/classes/{other['id']}", headers={**admin, **VI},
                                               json={"name": "10A1"}), 409)
    assert renamed["reason"] == "class_exists"
    regraded = await refusal(await client.patch(f"/api/classes/{other['id']}", headers=admin, json={"grade": 11}), 422)
    assert regraded["fields"][0]["field"] == "grade" and regraded["fields"][0]["code"] == "class_grade_mismatch"

    # No silent cut: 48 characters are refused with the limit, nothing is stored.
    long_name = "10A3 " + "x" * 43
    too_long = await refusal(await client.post("/api/classes", headers={**admin, **VI},
                                               json={"name": long_name, "grade": 10}), 422)
    assert too_long["fields"][0]["code"] == "too_long" and too_long["fields"][0]["message"] == "Tối đa 32 ký tự."
    names = {c["name"] for c in (await (await client.get("/api/classes", headers=admin)).json())["items"]}
    assert not any(n.startswith("10A3") for n in names)
    student = (await (await client.get("/api/users?role=student", headers=admin)).json())["items"][0]["id"]
    not_teacher = await refusal(await client.patch(f"/api/classes/{other['id']}", headers={**admin, **VI},
                                                   json={"homeroom_teacher_id": student}), 422)
    assert not_teacher["fields"][0]["message"] == "Không có giáo viên này trong trường."
    unknown = await refusal(await client.patch(f"/api/classes/{other['id']}", headers=admin,
                                               json={"title": "x"}), 422)
    assert unknown["fields"][0]["code"] == "unknown_field"


async def test_a_class_with_lessons_is_archived_not_deleted_and_restored(client, app, admin, demo):
    lessons = next(c for c in (await (await client.get("/api/classes", headers=admin)).json())["items"]
                   if c["id"] == demo.class_id)["lesson_count"]
    assert lessons >= 1
    refused = await refusal(await client.delete(f"/api/classes/{demo.class_id}", headers={**admin, **VI}), 409)
    assert refused["reason"] == "class_has_lessons"
    assert refused["message"].startswith(f"Không xóa được lớp 10A1: lớp đã có {lessons} tiết học và 4 học sinh.")
    assert (await client.delete(f"/api/classes/{demo.class_id}?archive=true", headers=admin)).status == 204
    listed = (await (await client.get("/api/classes", headers=admin)).json())["items"]
    assert demo.class_id not in {c["id"] for c in listed}
    archived = (await (await client.get("/api/classes?archived=true", headers=admin)).json())["items"]
    assert [(c["id"], c["lesson_count"], c["student_count"]) for c in archived] == [(demo.class_id, lessons, 4)]
    assert archived[0]["archived_at"] is not None
    assert (await client.get("/api/classes?archived=maybe", headers=admin)).status == 422
    # Its records stay: the lesson and the roll are still there.
    assert (await client.get(f"/api/lessons/{demo.lesson_id}", headers=admin)).status == 200
    frozen = await refusal(await client.patch(f"/api/classes/{demo.class_id}", headers={**admin, **VI},
                                              json={"name": "10A9"}), 409)
    assert frozen["reason"] == "class_archived" and "Lớp 10A1 đã được lưu trữ" in frozen["message"]
    same_name = await refusal(await client.post("/api/classes", headers=admin, json={"name": "10A1", "grade": 10}), 409)
    assert same_name["reason"] == "class_exists_archived"

    restored = await created(await client.post(f"/api/classes/{demo.class_id}/restore", headers=admin), 200)
    assert restored["archived_at"] is None and restored["student_count"] == 4
    again = await refusal(await client.post(f"/api/classes/{demo.class_id}/restore", headers=admin), 409)
    assert again["reason"] == "class_not_archived"
    assert [e.action for e in await audit_entries(app, "class", demo.class_id)] == ["archive", "restore"]

    empty = await created(await client.post("/api/classes", headers=admin, json={"name": "11C1", "grade": 11}))
    assert (await client.delete(f"/api/classes/{empty['id']}", headers=admin)).status == 204
    assert (await client.get(f"/api/classes/{empty['id']}", headers=admin)).status == 404
    assert [e.action for e in await audit_entries(app, "class", empty["id"])] == ["create", "delete"]


async def test_a_student_is_moved_between_classes_of_the_year(client, app, admin, demo):
    other = await created(await client.post("/api/classes", headers=admin, json={"name": "10A2", "grade": 10}))
    an = (await (await client.get(f"/api/users?class_id={demo.class_id}", headers=admin)).json())["items"][0]
    refused = await refusal(await client.post(f"/api/classes/{other['id']}/students", headers={**admin, **VI},
                                              json={"user_ids": [an["id"]]}), 409)
    assert refused["reason"] == "student_in_other_class" and refused["fields"][0]["field"] == "user_ids"
    assert refused["message"] == (f"Đã ở lớp khác trong năm học này: {an['full_name']} (10A1). "
                                  "Chọn “Chuyển sang lớp 10A2” để chuyển lớp.")
    moved = await created(await client.post(f"/api/classes/{other['id']}/students", headers=admin,
                                            json={"user_ids": [an["id"]], "move": True}), 200)
    assert [s["id"] for s in moved["students"]] == [an["id"]]
    old = await (await client.get(f"/api/classes/{demo.class_id}", headers=admin)).json()
    assert an["id"] not in {s["id"] for s in old["students"]} and old["student_count"] == 3
    (entry,) = await audit_entries(app, "class_student", an["id"])
    assert entry.action == "move" and json.loads(entry.before)["class_name"] == "10A1"
    assert json.loads(entry.after)["class_name"] == "10A2"

    # An archived class keeps its roll: its students join a new class without leaving it.
    assert (await client.delete(f"/api/classes/{demo.class_id}?archive=true", headers=admin)).status == 204
    binh = old["students"][0]
    joined = await created(await client.post(f"/api/classes/{other['id']}/students", headers=admin,
                                             json={"user_ids": [binh["id"]]}), 200)
    assert binh["id"] in {s["id"] for s in joined["students"]}
    kept = await (await client.get(f"/api/classes/{demo.class_id}", headers=admin)).json()
    assert binh["id"] in {s["id"] for s in kept["students"]} and kept["student_count"] == 3


# --- subjects, teams, assignments --------------------------------------------------------------
async def test_subjects_are_unique_ignoring_case_and_accents(client, app, admin, demo):
    physics = await created(await client.post("/api/subjects", headers=admin, json={"name": "Vật lý", "code": "LY"}))
    for body, field in (({"name": "vat ly"}, "name"), ({"name": "VẬT  LÝ"}, "name"),
                        ({"name": "Vật lí 2", "code": "ly"}, "code")):
        clash = await refusal(await client.post("/api/subjects", headers={**admin, **VI}, json=body), 409)
        assert clash["reason"] == "subject_exists" and clash["fields"][0]["field"] == field, body
    said = await refusal(await client.post("/api/subjects", headers={**admin, **VI},
                                           json={"name": "Đia Lý", "code": "ly"}), 409)
    assert said["message"] == "Mã môn LY đã dùng cho môn Vật lý."
    said = await refusal(await client.post("/api/subjects", headers={**admin, **VI}, json={"name": "vật LÝ"}), 409)
    assert said["message"] == "Trường đã có môn Vật lý (không phân biệt chữ hoa, chữ thường và dấu)."

    renamed = await created(await client.patch(f"/api/subjects/{physics['id']}", headers=admin,
                                               json={"name": "Vật lí", "code": None}), 200)
    assert (renamed["name"], renamed["code"]) == ("Vật lí", None)
    (update,) = [e for e in await audit_entries(app, "subject", physics["id"]) if e.action == "update"]
    assert json.loads(update.before) == {"name": "Vật lý", "code": "LY"}

    lesson = await (await client.get(f"/api/lessons/{demo.lesson_id}", headers=admin)).json()
    used = {"id": lesson["subject_id"], "name": lesson["subject_name"]}
    in_use = await refusal(await client.delete(f"/api/subjects/{used['id']}", headers={**admin, **VI}), 409)
    assert in_use["reason"] == "subject_in_use"
    assert re.fullmatch(f"Không xóa được môn {used['name']}: môn đang có [1-9][0-9]* tiết học và "
                        r"[0-9]+ phân công giảng dạy \(.*\)\.", in_use["message"]), in_use["message"]
    assert (await client.delete(f"/api/subjects/{physics['id']}", headers=admin)).status == 204
    assert [e.action for e in await audit_entries(app, "subject", physics["id"])] == ["create", "update", "delete"]


async def test_teams_and_assignments_are_edited_and_deleted(client, app, admin, demo):
    tid = await teacher_id(client, admin)
    physics = await created(await client.post("/api/subjects", headers=admin, json={"name": "Vật lý"}))
    chem = await created(await client.post("/api/subjects", headers=admin, json={"name": "Hóa học"}))
    team = await created(await client.post("/api/subject-teams", headers=admin, json={
        "name": "Tổ Lý", "subject_ids": [physics["id"]]}))
    changed = await created(await client.patch(f"/api/subject-teams/{team['id']}", headers=admin, json={
        "name": "Tổ Lý – Hóa", "subject_ids": [physics["id"], chem["id"]], "teacher_ids": [tid]}), 200)
    assert [s["name"] for s in changed["subjects"]] == ["Hóa học", "Vật lý"]
    assert [t["full_name"] for t in changed["teachers"]] == ["Nguyễn Thị Lan"]
    other = await created(await client.post("/api/subject-teams", headers=admin, json={"name": "Tổ Văn"}))
    dup = await refusal(await client.patch(f"/api/subject-teams/{other['id']}", headers={**admin, **VI},
                                           json={"name": "tổ lý – hóa"}), 409)
    assert dup["reason"] == "team_exists" and dup["message"] == "Đã có tổ chuyên môn Tổ Lý – Hóa."
    bad = await refusal(await client.patch(f"/api/subject-teams/{other['id']}", headers=admin,
                                           json={"teacher_ids": [99999]}), 422)
    assert bad["fields"][0]["field"] == "teacher_ids[0]" and bad["fields"][0]["code"] == "no_such_teacher"
    assert (await client.delete(f"/api/subject-teams/{team['id']}", headers=admin)).status == 204
    assert [t["name"] for t in (await (await client.get("/api/subject-teams", headers=admin)).json())["items"]] == [
        "Tổ Văn"]
    assert [e.action for e in await audit_entries(app, "subject_team", team["id"])] == ["create", "update", "delete"]

    made = await created(await client.post("/api/assignments", headers=admin, json={
        "teacher_id": tid, "class_id": demo.class_id, "subject_id": physics["id"]}))
    dup = await refusal(await client.post("/api/assignments", headers={**admin, **VI}, json={
        "teacher_id": tid, "class_id": demo.class_id, "subject_id": physics["id"]}), 409)
    assert dup["reason"] == "assignment_exists"
    assert dup["message"] == "Môn Vật lý ở lớp 10A1 đã được phân công cho GV Nguyễn Thị Lan."
    second = await created(await client.post("/api/assignments", headers=admin, json={
        "teacher_id": tid, "class_id": demo.class_id, "subject_id": chem["id"]}))
    onto = await refusal(await client.patch(f"/api/assignments/{second['id']}", headers=admin,
                                            json={"subject_id": physics["id"]}), 409)
    assert onto["fields"][0]["field"] == "subject_id"
    new_teacher = await created(await client.post("/api/users", headers=admin, json={
        "username": "gv.minh", "password": "mat-khau-123", "full_name": "Đỗ Văn Minh", "role": "teacher"}))
    switched = await created(await client.patch(f"/api/assignments/{made['id']}", headers=admin,
                                                json={"teacher_id": new_teacher["id"]}), 200)
    assert switched["teacher_name"] == "Đỗ Văn Minh" and switched["subject_name"] == "Vật lý"
    assert (await client.delete(f"/api/assignments/{made['id']}", headers=admin)).status == 204
    assert (await client.delete(f"/api/assignments/{made['id']}", headers=admin)).status == 404
    entries = await audit_entries(app, "assignment", made["id"])
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert json.loads(entries[1].after) == {"teacher_id": new_teacher["id"]}


async def test_only_admins_change_the_structure(client, admin, login, demo):
    subject = (await (await client.get("/api/subjects", headers=admin)).json())["items"][0]
    (year,) = await years(client, admin)
    paths = [("PATCH", f"/api/school-years/{year['id']}", {"name": "2099-2100"}),
             ("DELETE", f"/api/school-years/{year['id']}", None),
             ("PATCH", f"/api/classes/{demo.class_id}", {"name": "10A9"}),
             ("DELETE", f"/api/classes/{demo.class_id}?archive=true", None),
             ("POST", f"/api/classes/{demo.class_id}/restore", None),
             ("PATCH", f"/api/subjects/{subject['id']}", {"name": "X"}),
             ("DELETE", f"/api/subjects/{subject['id']}", None),
             ("PATCH", "/api/subject-teams/1", {"name": "X"}),
             ("DELETE", "/api/subject-teams/1", None),
             ("PATCH", "/api/assignments/1", {"teacher_id": 1}),
             ("DELETE", "/api/assignments/1", None)]
    for who in (await login(demo.teacher), await login(demo.students[0])):
        for method, path, body in paths:
            response = await client.request(method, path, headers=who, json=body)
            assert response.status == 403, (method, path, await response.text())
    detail = await (await client.get(f"/api/classes/{demo.class_id}", headers=admin)).json()
    assert detail["name"] == "10A1" and detail["archived_at"] is None

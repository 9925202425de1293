"""Lessons and timetables: scheduling, time zones, clashes, and who sees what."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
async def ids(client, admin, demo):
    subjects = {s["name"]: s["id"] for s in (await (await client.get("/api/subjects", headers=admin)).json())["items"]}
    teacher = (await (await client.get("/api/users?role=teacher", headers=admin)).json())["items"][0]["id"]
    # Lessons in March 2030 need a class of the 2029-2030 school year, taught by its assigned teacher.
    year = await (await client.post("/api/school-years", headers=admin, json={
        "name": "2029-2030", "starts_on": "2029-09-01", "ends_on": "2030-07-31"})).json()
    cls = await (await client.post("/api/classes", headers=admin, json={
        "name": "10A1", "grade": 10, "school_year_id": year["id"]})).json()
    for subject in (subjects["Ngữ văn"], subjects["Toán"]):
        assigned = await client.post("/api/assignments", headers=admin, json={
            "teacher_id": teacher, "class_id": cls["id"], "subject_id": subject})
        assert assigned.status == 201, await assigned.text()
    return {"class_id": cls["id"], "subject_id": subjects["Ngữ văn"], "teacher_id": teacher,
            "math": subjects["Toán"], "year_id": year["id"], "demo_class_id": demo.class_id}


def lesson_body(ids, starts, minutes=45, **extra):
    return {"class_id": ids["class_id"], "subject_id": ids["subject_id"], "teacher_id": ids["teacher_id"],
            "title": "Truyện Kiều", "starts_at": starts, "ends_at": _plus(starts, minutes), **extra}


def _plus(iso, minutes):
    return (datetime.fromisoformat(iso) + timedelta(minutes=minutes)).isoformat()


async def test_admin_schedules_a_lesson_and_times_without_offset_are_school_time(client, admin, ids):
    response = await client.post("/api/lessons", headers=admin, json=lesson_body(ids, "2030-03-04T07:00:00"))
    assert response.status == 201
    lesson = await response.json()
    # 07:00 in Hà Nội (UTC+7) is 00:00 UTC.
    assert lesson["starts_at"] == "2030-03-04T00:00:00Z"
    assert lesson["ends_at"] == "2030-03-04T00:45:00Z"
    assert (lesson["class_name"], lesson["subject_name"], lesson["teacher_name"], lesson["status"]) == (
        "10A1", "Ngữ văn", "Nguyễn Thị Lan", "upcoming")
    fetched = await (await client.get(f"/api/lessons/{lesson['id']}", headers=admin)).json()
    assert fetched == lesson


async def test_explicit_offsets_are_respected(client, admin, ids):
    response = await client.post("/api/lessons", headers=admin, json=lesson_body(ids, "2030-03-04T09:30:00+00:00"))
    assert (await response.json())["starts_at"] == "2030-03-04T09:30:00Z"


async def test_lesson_validation_names_the_field(client, admin, ids):
    cases = {
        "ends_at": lesson_body(ids, "2030-03-04T07:00:00", minutes=-10),
        "class_id": {**lesson_body(ids, "2030-03-04T07:00:00"), "class_id": 999},
        "subject_id": {**lesson_body(ids, "2030-03-04T07:00:00"), "subject_id": 999},
        "teacher_id": {**lesson_body(ids, "2030-03-04T07:00:00"), "teacher_id": 1},
        "title": {**lesson_body(ids, "2030-03-04T07:00:00"), "title": "   "},
        "starts_at": {**lesson_body(ids, "2030-03-04T07:00:00"), "starts_at": "tomorrow morning"},
    }
    for field, body in cases.items():
        response = await client.post("/api/lessons", headers=admin, json=body)
        assert response.status == 422, field
        assert (await response.json())["error"]["fields"][0]["field"] == field
    too_long = await client.post("/api/lessons", headers=admin, json=lesson_body(ids, "2030-03-04T07:00:00", minutes=13 * 60))
    assert too_long.status == 422
    missing = await client.post("/api/lessons", headers=admin, json={"title": "x"})
    assert {f["field"] for f in (await missing.json())["error"]["fields"]} == {
        "class_id", "subject_id", "teacher_id", "starts_at", "ends_at"}


async def test_a_class_or_teacher_cannot_be_in_two_lessons_at_once(client, admin, ids):
    assert (await client.post("/api/lessons", headers=admin, json=lesson_body(ids, "2030-03-04T07:00:00"))).status == 201
    clash = await client.post("/api/lessons", headers=admin, json=lesson_body(ids, "2030-03-04T07:30:00"))
    assert clash.status == 409
    assert "10A1" in (await clash.json())["error"]["message"]
    back_to_back = await client.post("/api/lessons", headers=admin, json=lesson_body(ids, "2030-03-04T07:45:00"))
    assert back_to_back.status == 201


async def test_lessons_are_listed_by_window_and_class(client, admin, ids):
    for day in ("2030-03-04", "2030-03-05", "2030-03-11"):
        await client.post("/api/lessons", headers=admin, json=lesson_body(ids, f"{day}T07:00:00"))
    week = (await (await client.get("/api/lessons?from=2030-03-04&to=2030-03-10", headers=admin)).json())["items"]
    assert [lesson["starts_at"][:10] for lesson in week] == ["2030-03-04", "2030-03-05"]
    one_day = await client.get("/api/lessons", headers=admin, params={
        "from": "2030-03-05T00:00:00+07:00", "to": "2030-03-05T23:59:00+07:00", "class_id": ids["class_id"]})
    assert len((await one_day.json())["items"]) == 1
    bad = await client.get("/api/lessons?from=2030-03-10&to=2030-03-04", headers=admin)
    assert bad.status == 422 and (await bad.json())["error"]["fields"][0]["field"] == "to"
    bad_date = await client.get("/api/lessons?from=someday", headers=admin)
    assert bad_date.status == 422 and (await bad_date.json())["error"]["fields"][0]["field"] == "from"
    assert (await client.get("/api/lessons?class_id=999", headers=admin)).status == 404


async def test_my_lessons_for_a_student_and_a_teacher_include_the_live_demo_lesson(client, login, demo):
    for who in (demo.students[1], demo.teacher):
        items = (await (await client.get("/api/me/lessons", headers=await login(who))).json())["items"]
        live = [lesson for lesson in items if lesson["status"] == "live"]
        assert [lesson["id"] for lesson in live] == [demo.lesson_id]
        assert all(lesson["class_name"] == "10A1" for lesson in items)
        assert len(items) > 1


async def test_students_see_only_their_classes_lessons(client, admin, login, ids, demo):
    other = await (await client.post("/api/classes", headers=admin, json={
        "name": "12C1", "grade": 12, "school_year_id": ids["year_id"]})).json()
    await client.post("/api/assignments", headers=admin, json={
        "teacher_id": ids["teacher_id"], "class_id": other["id"], "subject_id": ids["subject_id"]})
    foreign = await (await client.post("/api/lessons", headers=admin, json={
        **lesson_body(ids, "2030-03-04T07:00:00"), "class_id": other["id"]})).json()
    student = await login(demo.students[0])
    assert (await client.get(f"/api/lessons/{foreign['id']}", headers=student)).status == 403
    assert (await client.get(f"/api/lessons/{demo.lesson_id}", headers=student)).status == 200
    listed = (await (await client.get("/api/lessons?from=2030-03-01&to=2030-03-31", headers=student)).json())["items"]
    assert foreign["id"] not in [lesson["id"] for lesson in listed]
    assert (await client.get(f"/api/lessons?class_id={other['id']}", headers=student)).status == 403
    assert (await client.get("/api/lessons/4242", headers=student)).status == 404


async def test_students_cannot_schedule_change_or_cancel_lessons(client, login, ids, demo):
    student = await login(demo.students[0])
    assert (await client.post("/api/lessons", headers=student, json=lesson_body(ids, "2030-03-04T07:00:00"))).status == 403
    assert (await client.patch(f"/api/lessons/{demo.lesson_id}", headers=student, json={"title": "x"})).status == 403
    assert (await client.delete(f"/api/lessons/{demo.lesson_id}", headers=student)).status == 403


async def test_a_teacher_schedules_only_their_own_assigned_lessons(client, admin, login, ids, demo):
    teacher = await login(demo.teacher)
    own = await client.post("/api/lessons", headers=teacher, json=lesson_body(ids, "2030-03-04T07:00:00"))
    assert own.status == 201
    other_teacher = await (await client.post("/api/users", headers=admin, json={
        "username": "gv.hoa", "password": "mat-khau-123", "full_name": "Đỗ Thị Hoa", "role": "teacher"})).json()
    for_other = await client.post("/api/lessons", headers=teacher, json={
        **lesson_body(ids, "2030-03-05T07:00:00"), "teacher_id": other_teacher["id"]})
    assert for_other.status == 403
    physics = await (await client.post("/api/subjects", headers=admin, json={"name": "Vật lý"})).json()
    unassigned = await client.post("/api/lessons", headers=teacher, json={
        **lesson_body(ids, "2030-03-05T07:00:00"), "subject_id": physics["id"]})
    assert unassigned.status == 403


async def test_patch_moves_a_lesson_and_delete_cancels_it(client, admin, ids):
    lesson = await (await client.post("/api/lessons", headers=admin, json=lesson_body(ids, "2030-03-04T07:00:00"))).json()
    moved = await client.patch(f"/api/lessons/{lesson['id']}", headers=admin, json={
        "starts_at": "2030-03-04T08:00:00", "ends_at": "2030-03-04T08:45:00", "title": "Truyện Kiều (tiết 2)"})
    assert moved.status == 200
    body = await moved.json()
    assert (body["starts_at"], body["title"]) == ("2030-03-04T01:00:00Z", "Truyện Kiều (tiết 2)")
    (notice,) = body["changes"]  # the class sees it rescheduled
    assert (notice["kind"], notice["before"]["starts_at"], notice["after"]["starts_at"]) == (
        "move", "2030-03-04T00:00:00+00:00", "2030-03-04T01:00:00+00:00")
    reversed_ = await client.patch(f"/api/lessons/{lesson['id']}", headers=admin, json={"ends_at": "2030-03-04T07:00:00"})
    assert reversed_.status == 422
    null = await client.patch(f"/api/lessons/{lesson['id']}", headers=admin, json={"title": None})
    assert null.status == 422
    unchanged = await (await client.get(f"/api/lessons/{lesson['id']}", headers=admin)).json()
    assert unchanged["starts_at"] == "2030-03-04T01:00:00Z"
    assert (await client.delete(f"/api/lessons/{lesson['id']}", headers=admin)).status == 204
    assert (await client.get(f"/api/lessons/{lesson['id']}", headers=admin)).status == 404
    assert (await client.delete(f"/api/lessons/{lesson['id']}", headers=admin)).status == 404


async def test_status_follows_the_clock(client, admin, ids):
    now = datetime.now(UTC).replace(microsecond=0)
    past = await (await client.post("/api/lessons", headers=admin, json={
        **lesson_body(ids, (now - timedelta(hours=3)).isoformat()), "class_id": ids["demo_class_id"]})).json()
    assert past["status"] == "ended"

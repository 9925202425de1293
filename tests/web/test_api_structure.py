"""School structure: years, grades, classes and enrolment, subjects, teams and assignments."""
from __future__ import annotations

from school.models import Role, User
from school.passwords import hash_password
from school.structure import create_school
from web.keys import DATABASE


async def make_class(client, admin, name="11B2", grade=11, **extra):
    response = await client.post("/api/classes", headers=admin, json={"name": name, "grade": grade, **extra})
    assert response.status == 201, await response.text()
    return await response.json()


async def test_a_new_school_has_twelve_grades_and_a_current_school_year(client, admin):
    grades = (await (await client.get("/api/grades", headers=admin)).json())["items"]
    assert [g["level"] for g in grades] == list(range(1, 13))
    await make_class(client, admin)
    years = (await (await client.get("/api/school-years", headers=admin)).json())["items"]
    assert len(years) == 1 and years[0]["is_current"]


async def test_admin_creates_a_school_year_and_refuses_duplicates_and_reversed_dates(client, admin):
    created = await client.post("/api/school-years", headers=admin, json={
        "name": "2030-2031", "starts_on": "2030-09-05", "ends_on": "2031-05-31"})
    assert created.status == 201
    assert (await created.json())["is_current"] is False
    again = await client.post("/api/school-years", headers=admin, json={
        "name": "2030-2031", "starts_on": "2030-09-05", "ends_on": "2031-05-31"})
    assert again.status == 409
    reversed_ = await client.post("/api/school-years", headers=admin, json={
        "name": "2031-2032", "starts_on": "2032-05-31", "ends_on": "2031-09-05"})
    assert reversed_.status == 422
    bad_name = await client.post("/api/school-years", headers=admin, json={
        "name": "next year", "starts_on": "2031-09-05", "ends_on": "2032-05-31"})
    assert (await bad_name.json())["error"]["fields"][0]["field"] == "name"


async def test_admin_creates_a_class_with_a_homeroom_teacher(client, admin, demo):
    teacher_id = (await (await client.get("/api/users?role=teacher", headers=admin)).json())["items"][0]["id"]
    cls = await make_class(client, admin, homeroom_teacher_id=teacher_id)
    assert {k: cls[k] for k in ("name", "grade", "homeroom_teacher_name", "student_count")} == {
        "name": "11B2", "grade": 11, "homeroom_teacher_name": "Nguyễn Thị Lan", "student_count": 0}
    listed = (await (await client.get("/api/classes", headers=admin)).json())["items"]
    assert {c["name"] for c in listed} == {"10A1", "11B2"}


async def test_class_creation_refusals(client, admin, login, demo):
    assert (await client.post("/api/classes", headers=admin, json={"name": "10A1", "grade": 10})).status == 409
    bad = await client.post("/api/classes", headers=admin, json={"name": "", "grade": 13})
    assert bad.status == 422
    assert {f["field"] for f in (await bad.json())["error"]["fields"]} == {"name", "grade"}
    student_id = (await (await client.get("/api/users?role=student", headers=admin)).json())["items"][0]["id"]
    not_teacher = await client.post("/api/classes", headers=admin, json={
        "name": "12C1", "grade": 12, "homeroom_teacher_id": student_id})
    assert not_teacher.status == 422
    assert (await not_teacher.json())["error"]["fields"][0]["field"] == "homeroom_teacher_id"
    no_year = await client.post("/api/classes", headers=admin, json={"name": "12C1", "grade": 12, "school_year_id": 999})
    assert no_year.status == 422
    teacher = await client.post("/api/classes", headers=await login(demo.teacher), json={"name": "12C1", "grade": 12})
    assert teacher.status == 403


async def test_enrolment_adds_students_once_and_removes_them(client, admin, demo):
    cls = await make_class(client, admin)
    new = await client.post("/api/users", headers=admin, json={
        "username": "hs.moi", "password": "mat-khau-123", "full_name": "Học Sinh Mới", "role": "student"})
    new_id = (await new.json())["id"]
    added = await client.post(f"/api/classes/{cls['id']}/students", headers=admin, json={"user_ids": [new_id, new_id]})
    assert added.status == 200
    detail = await added.json()
    assert detail["student_count"] == 1 and [s["username"] for s in detail["students"]] == ["hs.moi"]
    again = await client.post(f"/api/classes/{cls['id']}/students", headers=admin, json={"user_ids": [new_id]})
    assert (await again.json())["student_count"] == 1
    removed = await client.delete(f"/api/classes/{cls['id']}/students/{new_id}", headers=admin)
    assert removed.status == 204
    assert (await client.delete(f"/api/classes/{cls['id']}/students/{new_id}", headers=admin)).status == 404
    detail = await (await client.get(f"/api/classes/{cls['id']}", headers=admin)).json()
    assert detail["students"] == []


async def test_a_student_is_in_one_class_per_school_year(client, admin, demo):
    cls = await make_class(client, admin)
    an = (await (await client.get(f"/api/users?class_id={demo.class_id}", headers=admin)).json())["items"][0]
    moved = await client.post(f"/api/classes/{cls['id']}/students", headers=admin, json={"user_ids": [an["id"]]})
    assert moved.status == 409
    assert "10A1" in (await moved.json())["error"]["message"]


async def test_enrolment_refusals(client, admin, login, demo):
    teacher_id = (await (await client.get("/api/users?role=teacher", headers=admin)).json())["items"][0]["id"]
    not_student = await client.post(f"/api/classes/{demo.class_id}/students", headers=admin,
                                    json={"user_ids": [teacher_id]})
    assert not_student.status == 422
    assert (await not_student.json())["error"]["fields"][0]["field"] == "user_ids[0]"
    empty = await client.post(f"/api/classes/{demo.class_id}/students", headers=admin, json={"user_ids": []})
    assert empty.status == 422
    wrong_type = await client.post(f"/api/classes/{demo.class_id}/students", headers=admin, json={"user_ids": ["x"]})
    assert (await wrong_type.json())["error"]["fields"][0]["field"] == "user_ids[0]"
    assert (await client.post("/api/classes/999/students", headers=admin, json={"user_ids": [1]})).status == 404
    teacher = await client.post(f"/api/classes/{demo.class_id}/students", headers=await login(demo.teacher),
                                json={"user_ids": [1]})
    assert teacher.status == 403


async def test_who_sees_which_class(client, admin, login, demo):
    other = await make_class(client, admin)
    student = await login(demo.students[0])
    teacher = await login(demo.teacher)
    assert [c["name"] for c in (await (await client.get("/api/classes", headers=student)).json())["items"]] == ["10A1"]
    assert [c["name"] for c in (await (await client.get("/api/classes", headers=teacher)).json())["items"]] == ["10A1"]
    own = await client.get(f"/api/classes/{demo.class_id}", headers=student)
    assert own.status == 200 and len((await own.json())["students"]) == 4
    for who in (student, teacher):
        refused = await client.get(f"/api/classes/{other['id']}", headers=who)
        assert refused.status == 403
    assert (await client.get("/api/classes/4242", headers=admin)).status == 404


async def test_another_schools_data_is_invisible(client, app, admin, login, demo):
    password_hash = await hash_password("admin2-password")  # never inside a unit of work
    async with app[DATABASE].session() as session:
        school = await create_school(session, "Trường khác")
        session.add(User(school_id=school.id, username="admin2", full_name="Quản trị 2", role=Role.admin,
                         password_hash=password_hash))
    other_admin = await login(("admin2", "admin2-password"))
    assert (await (await client.get("/api/classes", headers=other_admin)).json())["items"] == []
    assert (await client.get(f"/api/classes/{demo.class_id}", headers=other_admin)).status == 404
    assert (await client.get(f"/api/lessons/{demo.lesson_id}", headers=other_admin)).status == 404
    users = (await (await client.get("/api/users", headers=other_admin)).json())["items"]
    assert [u["username"] for u in users] == ["admin2"]
    enrol = await client.post(f"/api/classes/{demo.class_id}/students", headers=other_admin, json={"user_ids": [1]})
    assert enrol.status == 404


async def test_subjects_teams_and_assignments(client, admin, login, demo):
    physics = await client.post("/api/subjects", headers=admin, json={"name": "Vật lý", "code": "LY"})
    assert physics.status == 201
    physics = await physics.json()
    assert (await client.post("/api/subjects", headers=admin, json={"name": "Vật lý"})).status == 409
    teacher_id = (await (await client.get("/api/users?role=teacher", headers=admin)).json())["items"][0]["id"]
    team = await client.post("/api/subject-teams", headers=admin, json={
        "name": "Tổ Khoa học tự nhiên", "subject_ids": [physics["id"]], "teacher_ids": [teacher_id]})
    assert team.status == 201
    team = await team.json()
    assert [s["name"] for s in team["subjects"]] == ["Vật lý"]
    assert [t["full_name"] for t in team["teachers"]] == ["Nguyễn Thị Lan"]
    bad_team = await client.post("/api/subject-teams", headers=admin, json={"name": "Tổ X", "teacher_ids": [99]})
    assert (await bad_team.json())["error"]["fields"][0]["field"] == "teacher_ids[0]"
    assignment = await client.post("/api/assignments", headers=admin, json={
        "teacher_id": teacher_id, "class_id": demo.class_id, "subject_id": physics["id"]})
    assert assignment.status == 201
    assert (await assignment.json())["subject_name"] == "Vật lý"
    duplicate = await client.post("/api/assignments", headers=admin, json={
        "teacher_id": teacher_id, "class_id": demo.class_id, "subject_id": physics["id"]})
    assert duplicate.status == 409
    teacher = await login(demo.teacher)
    mine = (await (await client.get("/api/assignments", headers=teacher)).json())["items"]
    assert "Vật lý" in {a["subject_name"] for a in mine}
    assert (await client.get("/api/subject-teams", headers=teacher)).status == 200
    student = await login(demo.students[0])
    assert (await client.get("/api/assignments", headers=student)).status == 403
    assert (await client.get("/api/subject-teams", headers=student)).status == 403
    assert (await client.get("/api/subjects", headers=student)).status == 200
    assert (await client.post("/api/subjects", headers=teacher, json={"name": "Hóa học"})).status == 403

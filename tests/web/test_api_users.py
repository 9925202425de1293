"""Users: who may create and list whom."""
from __future__ import annotations


async def test_admin_creates_a_teacher_and_a_student_enrolled_in_a_class(client, admin, demo):
    teacher = await client.post("/api/users", headers=admin, json={
        "username": "gv.hoa", "password": "mat-khau-123", "full_name": "Đỗ Thị Hoa", "role": "teacher"})
    assert teacher.status == 201
    body = await teacher.json()
    assert {k: body[k] for k in ("username", "full_name", "role")} == {
        "username": "gv.hoa", "full_name": "Đỗ Thị Hoa", "role": "teacher"}
    student = await client.post("/api/users", headers=admin, json={
        "username": "hs.em", "password": "mat-khau-123", "full_name": "Ngô Văn Em", "role": "student",
        "class_id": demo.class_id})
    assert student.status == 201
    assert (await student.json())["class_name"] == "10A1"
    signed_in = await client.post("/api/auth/login", json={"username": "hs.em", "password": "mat-khau-123"})
    assert signed_in.status == 200


async def test_admin_lists_users_by_role_and_class(client, admin, demo):
    teachers = (await (await client.get("/api/users?role=teacher", headers=admin)).json())["items"]
    assert [u["username"] for u in teachers] == ["gv.lan"]
    in_class = (await (await client.get(f"/api/users?class_id={demo.class_id}", headers=admin)).json())["items"]
    assert sorted(u["username"] for u in in_class) == ["hs.an", "hs.binh", "hs.chi", "hs.dung"]


async def test_unassigned_lists_students_in_no_class(client, admin, demo):
    await client.post("/api/users", headers=admin, json={
        "username": "hs.moi", "password": "mat-khau-123", "full_name": "Học Sinh Mới", "role": "student"})
    items = (await (await client.get("/api/users?unassigned=true", headers=admin)).json())["items"]
    assert [u["username"] for u in items] == ["hs.moi"]


async def test_create_user_refusals(client, admin, login, demo):
    taken = await client.post("/api/users", headers=admin, json={
        "username": "GV.LAN", "password": "mat-khau-123", "full_name": "X", "role": "teacher"})
    assert taken.status == 409
    short = await client.post("/api/users", headers=admin, json={
        "username": "ab", "password": "short", "full_name": "", "role": "wizard"})
    assert short.status == 422
    fields = {f["field"] for f in (await short.json())["error"]["fields"]}
    assert fields == {"username", "password", "full_name", "role"}
    teacher_in_class = await client.post("/api/users", headers=admin, json={
        "username": "gv.x", "password": "mat-khau-123", "full_name": "X", "role": "teacher", "class_id": 1})
    assert teacher_in_class.status == 422
    no_class = await client.post("/api/users", headers=admin, json={
        "username": "hs.x", "password": "mat-khau-123", "full_name": "X", "role": "student", "class_id": 999})
    assert no_class.status == 422
    (field,) = (await no_class.json())["error"]["fields"]
    assert (field["field"], field["message"]) == ("class_id", "No such class in this school.")
    for who in (demo.teacher, demo.students[0]):
        refused = await client.post("/api/users", headers=await login(who), json={
            "username": "hs.y", "password": "mat-khau-123", "full_name": "Y", "role": "admin"})
        assert refused.status == 403
        assert (await refused.json())["error"]["code"] == "forbidden"
    # Nothing of the refused requests was written.
    names = [u["username"] for u in (await (await client.get("/api/users", headers=admin)).json())["items"]]
    assert not {"gv.x", "hs.x", "hs.y", "ab"} & set(names)


async def test_teacher_sees_teachers_and_their_students_but_not_admins(client, login, demo):
    teacher = await login(demo.teacher)
    items = (await (await client.get("/api/users", headers=teacher)).json())["items"]
    assert {u["role"] for u in items} == {"teacher", "student"}
    assert len([u for u in items if u["role"] == "student"]) == 4
    admins = await client.get("/api/users?role=admin", headers=teacher)
    assert admins.status == 403


async def test_students_cannot_list_users_or_see_another_student(client, login, demo):
    student = await login(demo.students[0])
    assert (await client.get("/api/users", headers=student)).status == 403
    me = (await (await client.get("/api/me", headers=student)).json())["user"]
    own = await client.get(f"/api/users/{me['id']}", headers=student)
    assert own.status == 200
    other = await client.get(f"/api/users/{me['id'] + 1}", headers=student)
    assert other.status == 403


async def test_unknown_user_is_404_and_bad_query_is_422(client, admin):
    assert (await client.get("/api/users/99999", headers=admin)).status == 404
    assert (await client.get("/api/users/99999999999999", headers=admin)).status == 404
    assert (await client.get("/api/users/abc", headers=admin)).status == 404
    bad = await client.get("/api/users?role=wizard", headers=admin)
    assert bad.status == 422
    assert (await bad.json())["error"]["fields"][0]["field"] == "role"
    unknown = await client.get("/api/users?sort=name", headers=admin)
    assert unknown.status == 422
    assert (await unknown.json())["error"]["fields"][0]["field"] == "sort"

"""The rolls through the API: a spreadsheet previewed row by row (nothing written), imported all or
nothing with generated usernames and one-time passwords, exported back in the same shape."""
from __future__ import annotations

import asyncio
import io
import json
import zipfile

from aiohttp import FormData
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from school.audit import AuditEntry
from school.models import Role, User
from school.passwords import needs_rehash
from school.rolls import base_username
from web.keys import DATABASE


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A workbook-looking zip that unpacks to 48 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"0" * (48 * 1024 * 1024))
    return out.getvalue()


def form(data: bytes, name: str = "rolls.xlsx") -> FormData:
    body = FormData()
    body.add_field("file", io.BytesIO(data), filename=name, content_type="application/octet-stream")
    return body


async def post(client, headers, kind, step, data, name="rolls.xlsx", lang=None, query=""):
    extra = {"Accept-Language": lang} if lang else {}
    return await client.post(f"/api/rolls/{kind}/{step}{query}", data=form(data, name), headers={**headers, **extra})


async def count_users(app) -> int:
    async with app[DATABASE].session() as session:
        return await session.scalar(select(func.count()).select_from(User))


STUDENTS = [["Họ và tên", "Lớp", "Tên đăng nhập (không bắt buộc)", "Ngày sinh"],
            ["Nguyễn Văn An", "10A1", "", "05/09/2010"],
            ["Nguyễn Văn An", "10a1", "", ""],
            ["Trần Thị Bích Ngọc", "10A1", "ngoc.ttb", "2010-01-31"],
            ["Lê Văn An", "10A1", "hs.an", ""]]  # the demo's student: already there


def test_usernames_are_ascii_from_the_vietnamese_name() -> None:
    assert base_username("Nguyễn Văn An", Role.student) == "an.nv"
    assert base_username("Đỗ Thị Đào", Role.teacher) == "dao.dt"
    assert base_username("Mai", Role.student) == "mai.hs"
    assert base_username("李", Role.teacher) == "giaovien"


async def test_preview_checks_every_row_and_writes_nothing(client, app, admin, demo) -> None:
    rows = STUDENTS + [["", "10A1", "", ""], ["Phạm <b>Minh</b>", "12C9", "x", "31/02/2010"],
                       ["Hoàng Minh Chi", "10A1", "ngoc.ttb", ""]]
    before = await count_users(app)
    response = await post(client, admin, "students", "preview", xlsx(rows), lang="vi")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["kind"] == "students" and body["ok"] is False
    by_row = {r["row"]: r for r in body["rows"]}
    assert by_row[2]["action"] == "create" and by_row[2]["username"] == "an.nv"
    assert by_row[3]["username"] == "an.nv2"
    assert by_row[4]["username"] == "ngoc.ttb" and by_row[4]["problems"] == []
    assert by_row[5]["action"] == "skip" and by_row[5]["problems"] == []
    assert [(p["column"], p["code"]) for p in by_row[6]["problems"]] == [("full_name", "required")]
    assert by_row[6]["problems"][0]["message"] == "Vui lòng điền thông tin này."
    codes = {(p["column"], p["code"]) for p in by_row[7]["problems"]}
    assert codes == {("class_name", "rolls_class_unknown"), ("username", "bad_format"),
                     ("birth_date", "rolls_bad_birth_date")}
    unknown = next(p for p in by_row[7]["problems"] if p["code"] == "rolls_class_unknown")
    assert unknown["message"].startswith("Không có lớp 12C9 trong năm học ")
    assert by_row[7]["values"]["full_name"] == "Phạm <b>Minh</b>"  # plain text, as typed
    repeated = by_row[8]["problems"][0]
    assert (repeated["code"], repeated["message"]) == ("rolls_username_repeated",
                                                      "Tên đăng nhập “ngoc.ttb” đã có ở hàng 4.")
    assert body["counts"] == {"rows": 7, "create": 3, "skip": 1, "problems": 3}
    assert await count_users(app) == before


async def test_import_is_all_or_nothing_then_creates_accounts_that_must_change_password(
        client, app, admin, demo, login) -> None:
    before = await count_users(app)
    bad = STUDENTS + [["Vũ Hải", "9Z9", "", ""]]
    refused = await post(client, admin, "students", "import", xlsx(bad), lang="en")
    assert refused.status == 422
    body = await refused.json()
    assert body["error"]["reason"] == "rolls_has_problems"
    assert body["error"]["message"] == "Not imported: 1 row(s) have problems. Nothing was written."
    assert body["rows"][-1]["problems"][0]["code"] == "rolls_class_unknown"
    assert await count_users(app) == before

    done = await post(client, admin, "students", "import", xlsx(STUDENTS), name="lop 10A1.xlsx")
    assert done.status == 201, await done.text()
    result = await done.json()
    assert (result["created"], result["skipped"]) == (3, 1)
    assert [(c["class_name"], c["full_name"], c["username"]) for c in result["credentials"]] == [
        ("10A1", "Nguyễn Văn An", "an.nv"), ("10A1", "Nguyễn Văn An", "an.nv2"),
        ("10A1", "Trần Thị Bích Ngọc", "ngoc.ttb")]
    passwords = [c["password"] for c in result["credentials"]]
    assert len(set(passwords)) == 3 and all(len(p) >= 12 for p in passwords)
    assert await count_users(app) == before + 3
    detail = await (await client.get(f"/api/classes/{demo.class_id}", headers=admin)).json()
    assert {"an.nv", "an.nv2", "ngoc.ttb"} <= {s["username"] for s in detail["students"]}

    # The new student signs in and must choose a password first.
    async with app[DATABASE].session() as session:
        user = await session.scalar(select(User).where(User.username == "an.nv2"))
        assert user.must_change_password is True
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "import")))
    assert len(entries) == 1 and entries[0].entity == "user"
    assert json.loads(entries[0].after)["created"] == 3
    await login(("an.nv2", passwords[1]))
    async with app[DATABASE].session() as session:
        renewed = await session.scalar(select(User.password_hash).where(User.username == "an.nv2"))
    assert not needs_rehash(renewed)  # the lighter initial hash is renewed at the first sign-in

    # The same file again: every row is already there.
    again = await (await post(client, admin, "students", "preview", xlsx(STUDENTS))).json()
    assert again["ok"] and [r["action"] for r in again["rows"]] == ["skip"] * 4


async def test_teachers_classes_and_assignments_round_trip(client, admin, demo) -> None:
    unknown_team = "Họ và tên,Tên đăng nhập,Tổ chuyên môn\nPhan Văn Sơn,son.pv,Tổ Tự nhiên\n"
    checked = await (await post(client, admin, "teachers", "preview", unknown_team.encode(), "gv.csv", "vi")).json()
    assert [(p["column"], p["message"]) for p in checked["rows"][0]["problems"]] == [
        ("team", "Không có tổ chuyên môn “Tổ Tự nhiên”.")]
    teachers = "Họ và tên,Tên đăng nhập,Tổ chuyên môn\r\nĐỗ Thị Đào,,\r\nPhan Văn Sơn,son.pv,\r\n"
    made = await post(client, admin, "teachers", "import", ("\ufeff" + teachers).encode(), name="gv.csv")
    assert made.status == 201, await made.text()
    assert [c["username"] for c in (await made.json())["credentials"]] == ["dao.dt", "son.pv"]

    classes = "Tên lớp;Khối;GVCN\n11B1;11;dao.dt\n12A1;11;\n11B2;11;nobody\n"
    checked = await (await post(client, admin, "classes", "preview", classes.encode(), "lop.csv", "vi")).json()
    problems = {r["row"]: [(p["column"], p["code"], p["message"]) for p in r["problems"]] for r in checked["rows"]}
    assert problems[2] == []
    assert problems[3] == [("name", "rolls_class_grade_mismatch", "Tên lớp 12A1 không khớp với khối 11.")]
    assert problems[4] == [("homeroom_teacher", "rolls_teacher_unknown",
                            "Không có giáo viên có tên đăng nhập “nobody”.")]
    classes = "Tên lớp;Khối;GVCN\n11B1;11;dao.dt\n10A1;10;\n"
    made = await (await post(client, admin, "classes", "import", classes.encode(), "lop.csv")).json()
    assert (made["created"], made["skipped"]) == (1, 1)

    assignments = xlsx([["Lớp", "Môn", "Giáo viên (username)"], ["11B1", "toan", "dao.dt"],
                        ["11b1", "Ngữ Văn", "son.pv"], ["10A1", "Toán", "son.pv"]])
    checked = await (await post(client, admin, "assignments", "preview", assignments, lang="en")).json()
    last = checked["rows"][2]["problems"][0]
    assert last["code"] == "rolls_assignment_taken" and last["message"] == (
        "Toán in class 10A1 is already assigned to Nguyễn Thị Lan.")
    good = xlsx([["Lớp", "Môn", "Giáo viên (username)"], ["11B1", "toan", "dao.dt"], ["11b1", "Ngữ Văn", "son.pv"]])
    made = await post(client, admin, "assignments", "import", good)
    assert made.status == 201 and (await made.json())["created"] == 2

    # Each export previews as all skipped.
    for kind in ("students", "teachers", "classes", "assignments"):
        exported = await client.get(f"/api/rolls/{kind}.xlsx", headers=admin)
        assert exported.status == 200
        data = await exported.read()
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet.max_row > 1
        back = await (await post(client, admin, kind, "preview", data)).json()
        assert back["ok"], back
        assert {r["action"] for r in back["rows"]} == {"skip"}, (kind, back)
    csv_export = await client.get("/api/rolls/assignments.csv", headers=admin)
    text = (await csv_export.read()).decode("utf-8-sig")
    assert text.splitlines()[0] == "Lớp,Môn,Giáo viên" and "11B1,Ngữ văn,son.pv" in text


async def test_files_that_cannot_be_read_are_refused_by_the_file_field(client, admin) -> None:
    cases = [
        (b"", "rolls_empty"),
        (b"\xd0\xcf\x11\xe0rest", "rolls_old_excel"),
        ("Họ và tên,Lớp\n".encode("utf-16"), "rolls_bad_encoding"),
        ("Họ và tên,Tuổi\nAn,12\n".encode(), "rolls_unknown_column"),
        ("Họ và tên\nAn\n".encode(), "rolls_missing_column"),
        ("Họ và tên,Lớp\n".encode(), "rolls_no_rows"),
        (b"PK\x03\x04broken", "rolls_bad_file"),
        (("Họ và tên,Lớp\n" + "An,10A1\n" * 2001).encode(), "rolls_too_many_rows"),
        (zip_bomb(), "rolls_bad_file"),
    ]
    for data, reason in cases:
        response = await post(client, admin, "students", "preview", data, "x.csv", "vi")
        assert response.status == 422, (reason, await response.text())
        error = (await response.json())["error"]
        assert error["reason"] == reason and error["fields"][0]["field"] == "file", error
    missing = await post(client, admin, "students", "preview", "Họ và tên\nAn\n".encode(), "x.csv", "vi")
    assert (await missing.json())["error"]["message"] == "Thiếu cột bắt buộc: Lớp."
    big = await post(client, admin, "students", "preview", b"a" * (2 * 1024 * 1024 + 1), "x.csv")
    assert big.status == 413 and (await big.json())["error"]["fields"][0]["code"] == "rolls_file_too_large"
    no_file = await client.post("/api/rolls/students/preview", data=FormData({"other": "x"}, default_to_multipart=True), headers=admin)
    assert no_file.status == 422
    not_multipart = await client.post("/api/rolls/students/preview", json={}, headers=admin)
    assert not_multipart.status == 415


async def test_the_same_file_imported_twice_at_once_creates_each_account_once(client, app, admin, demo) -> None:
    before = await count_users(app)
    data = xlsx(STUDENTS)
    first, second = await asyncio.gather(post(client, admin, "students", "import", data),
                                         post(client, admin, "students", "import", data))
    results = sorted([await first.json(), await second.json()], key=lambda r: r["created"])
    assert (first.status, second.status) == (201, 201)
    assert [(r["created"], r["skipped"]) for r in results] == [(0, 4), (3, 1)]
    assert await count_users(app) == before + 3


async def test_the_school_year_is_chosen_or_refused(client, admin, demo, login) -> None:
    other = await client.post("/api/school-years", headers=admin, json={
        "name": "2040-2041", "starts_on": "2040-09-05", "ends_on": "2041-05-31"})
    year_id = (await other.json())["id"]
    data = xlsx([["Họ và tên", "Lớp"], ["Mai Anh", "10A1"]])
    there = await (await post(client, admin, "students", "preview", data, query=f"?school_year_id={year_id}")).json()
    assert there["school_year"] == "2040-2041"
    assert there["rows"][0]["problems"][0]["code"] == "rolls_class_unknown"  # 10A1 is in the current year
    # A new school year: last year's students (by username) are enrolled in their new class, keeping their accounts.
    made = await client.post("/api/classes", headers=admin, json={"name": "11A1", "grade": 11, "school_year_id": year_id})
    new_class = (await made.json())["id"]
    moving = xlsx([["Họ và tên", "Lớp", "Tên đăng nhập"], ["Lê Văn An", "11A1", "hs.an"], ["Mai Anh", "11A1", ""]])
    checked = await (await post(client, admin, "students", "preview", moving, query=f"?school_year_id={year_id}")).json()
    assert [(r["action"], r["enrol_existing"], r["username"]) for r in checked["rows"]] == [
        ("create", True, "hs.an"), ("create", False, "anh.m")]
    done = await (await post(client, admin, "students", "import", moving, query=f"?school_year_id={year_id}")).json()
    assert done["created"] == 2 and [c["username"] for c in done["credentials"]] == ["anh.m"]
    detail = await (await client.get(f"/api/classes/{new_class}", headers=admin)).json()
    assert sorted(s["username"] for s in detail["students"]) == ["anh.m", "hs.an"]
    await login(demo.students[0])  # the old password still works

    missing = await post(client, admin, "students", "preview", data, query="?school_year_id=999")
    assert missing.status == 422 and (await missing.json())["error"]["fields"][0]["field"] == "school_year_id"


async def test_only_administrators_use_the_rolls(client, login, demo) -> None:
    for who in (demo.teacher, demo.students[0]):
        headers = await login(who)
        data = xlsx(STUDENTS)
        assert (await post(client, headers, "students", "preview", data)).status == 403
        assert (await post(client, headers, "students", "import", data)).status == 403
        assert (await client.get("/api/rolls/students.xlsx", headers=headers)).status == 403
        assert (await client.post("/api/rolls/credentials.xlsx", headers=headers, json={"credentials": [
            {"full_name": "A", "username": "a", "password": "p"}]})).status == 403


async def test_credentials_workbook_is_formula_safe(client, admin) -> None:
    response = await client.post("/api/rolls/credentials.xlsx", headers=admin, json={"credentials": [
        {"class_name": "10A2", "full_name": "=HYPERLINK(\"x\")", "username": "b.x", "password": "abcd-efgh-jkmn"},
        {"class_name": "10A1", "full_name": "Lê Hà", "username": "ha.l", "password": "pqrs-tuvw-2345"}]})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(load_workbook(io.BytesIO(await response.read())).active.values)
    assert rows == [("Lớp", "Họ và tên", "Tên đăng nhập", "Mật khẩu"), ("10A1", "Lê Hà", "ha.l", "pqrs-tuvw-2345"),
                    ("10A2", "'=HYPERLINK(\"x\")", "b.x", "abcd-efgh-jkmn")]
    empty = await client.post("/api/rolls/credentials.xlsx", headers=admin, json={"credentials": []})
    assert empty.status == 422


async def test_a_whole_grade_is_imported_at_once_with_distinct_usernames(client, app, admin, demo) -> None:
    names = [f"{family} {middle} {given}" for family in ("Nguyễn", "Trần", "Lê") for middle in ("Văn", "Thị", "Minh")
             for given in ("An", "Bình", "Chi", "Dũng", "Hà", "Lan", "Minh", "Nam", "Phúc", "Quân", "Sơn", "Tâm",
                           "Uyên", "Vy", "Yến", "Giang", "Hùng")]
    rows = [["Họ và tên", "Lớp"]] + [[name, "10A1"] for name in names] + [[names[0], "10A1"]]
    response = await post(client, admin, "students", "import", xlsx(rows))
    assert response.status == 201, await response.text()
    result = await response.json()
    usernames = [c["username"] for c in result["credentials"]]
    # "Lê Văn An" is the demo's student of 10A1 already: skipped; the repeated name is a second person.
    assert (result["created"], result["skipped"]) == (len(names), 1)
    assert len(set(usernames)) == len(usernames) == len(names)
    assert (usernames[0], usernames[-1]) == ("an.nv", "an.nv2")
    detail = await (await client.get(f"/api/classes/{demo.class_id}", headers=admin)).json()
    assert len(detail["students"]) == len(names) + len(demo.students)

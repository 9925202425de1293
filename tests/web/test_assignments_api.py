"""Assignments over REST: a teacher sets work for the class, students hand in text and files (again
until the due time), late work per the policy, grades on the 10-point scale with a comment, the late
and missing lists, the class's sheet; and every refusal: another class's student, a student before
publication, another teacher, a parent, a file of a refused type, too much text, unknown fields."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from coursework.assignments_models import Submission
from school.demo import DemoSchool
from school.models import ClassStudent, Role, SchoolClass, Subject, User
from school.parents import ParentLink
from school.passwords import hash_password
from tests.conftest import Login
from web.keys import DATABASE

BASE = "/api/coursework"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000050001" "0d0a2db40000000049454e44ae426082")
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 60


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


async def call(client: TestClient, method: str, path: str, headers: dict[str, str], status: int = 200,
               **kwargs: Any) -> Any:
    response = await client.request(method, path, headers=headers, **kwargs)
    text = await response.text()
    assert response.status == status, text
    return await response.json() if text and response.content_type == "application/json" else text


def form(text: str | None = None, files: list[tuple[str, bytes, str]] = (), keep: list[int] = ()) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    if text is not None:
        data.add_field("text", text)
    for name, content, ctype in files:
        data.add_field("file", io.BytesIO(content), filename=name, content_type=ctype)
    if keep:
        data.add_field("keep", ",".join(map(str, keep)))
    return data


async def math_id(app: web.Application) -> int:
    async with app[DATABASE].session() as session:
        return (await session.scalar(select(Subject.id).where(Subject.name == "Toán")))  # type: ignore[return-value]


async def person(app: web.Application, username: str, role: Role, class_id: int | None = None,
                 child_of: int | None = None) -> tuple[str, str]:
    """A further account of the demo school (and its class, for a student, or its child, for a parent)."""
    password_hash = await hash_password("password-123")
    async with app[DATABASE].session() as session:
        school_id = await session.scalar(select(User.school_id).where(User.role == Role.admin))
        user = User(school_id=school_id, username=username, full_name=username.title(), role=role,
                    password_hash=password_hash)
        session.add(user)
        await session.flush()
        if class_id is not None:
            session.add(ClassStudent(class_id=class_id, student_id=user.id))
        if child_of is not None:
            session.add(ParentLink(parent_id=user.id, student_id=child_of))
        await session.commit()
    return username, "password-123"


async def other_class(app: web.Application, demo: DemoSchool) -> int:
    async with app[DATABASE].session() as session:
        cls = await session.get(SchoolClass, demo.class_id)
        assert cls is not None
        other = SchoolClass(school_id=cls.school_id, school_year_id=cls.school_year_id, grade_id=cls.grade_id,
                            name="10A2")
        session.add(other)
        await session.commit()
        return other.id


async def user_id(app: web.Application, username: str) -> int:
    async with app[DATABASE].session() as session:
        return (await session.scalar(select(User.id).where(User.username == username)))  # type: ignore[return-value]


async def create(client: TestClient, headers: dict[str, str], demo: DemoSchool, subject_id: int, *,
                 status: int = 201, **fields: Any) -> Any:
    now = datetime.now(UTC)
    body = {"class_id": demo.class_id, "subject_id": subject_id, "title": "Bài tập hàm số",
            "instructions": "Làm bài 1–3 trang 45.", "opens_at": iso(now - timedelta(hours=1)),
            "due_at": iso(now + timedelta(days=2)), "published": True} | fields
    return await call(client, "POST", f"{BASE}/assignments", headers, status, json=body)


async def test_set_hand_in_again_grade_and_see_the_grade(client: TestClient, app: web.Application,
                                                         demo: DemoSchool, login: Login) -> None:
    teacher = await login(demo.teacher)
    an, binh = await login(demo.students[0]), await login(demo.students[1])
    subject = await math_id(app)
    made = await create(client, teacher, demo, subject, late_policy="penalty", late_penalty_percent=20)
    aid = made["id"]
    assert made["counts"] == {"graded": 0, "submitted": 0, "late": 0, "missing": 0, "not_submitted": 4}
    with_file = await call(client, "POST", f"{BASE}/assignments/{aid}/files", teacher,
                           data=form(files=[("Đề bài.pdf", PDF, "application/pdf")]))
    assert [(f["name"], f["mime"]) for f in with_file["files"]] == [("Đề bài.pdf", "application/pdf")]

    listed = await call(client, "GET", f"{BASE}/assignments", an)
    assert [(a["id"], a["my_status"]) for a in listed["items"]] == [(aid, "not_submitted")]
    seen = await call(client, "GET", f"{BASE}/assignments/{aid}", an)
    assert seen["instructions"] == "Làm bài 1–3 trang 45." and seen["my_submission"] is None
    got = await client.get(seen["files"][0]["url"], headers=an)
    assert got.status == 200 and await got.read() == PDF

    html = "<b>Bài làm</b> <script>alert(1)</script>"
    first = await call(client, "POST", f"{BASE}/assignments/{aid}/submission", an,
                       data=form(html, [("ảnh.png", PNG, "image/png"), ("ghi chú.txt", "Tiếng Việt".encode(), "text/plain")]))
    assert first["text"] == html and first["late"] is False and first["score10"] is None
    assert sorted(f["mime"] for f in first["files"]) == ["image/png", "text/plain"]
    png_id = next(f["id"] for f in first["files"] if f["mime"] == "image/png")
    again = await call(client, "POST", f"{BASE}/assignments/{aid}/submission", an,
                       data=form("Bài làm lần 2", [("bai.pdf", PDF, "application/pdf")], keep=[png_id]))
    assert again["id"] == first["id"] and again["text"] == "Bài làm lần 2"
    assert sorted(f["name"] for f in again["files"]) == ["bai.pdf", "ảnh.png"]
    # The file not kept is gone, for everyone.
    txt = next(f for f in first["files"] if f["mime"] == "text/plain")
    await call(client, "GET", txt["url"], an, 404)
    # Another student never sees An's work or files.
    await call(client, "GET", again["files"][0]["url"], binh, 404)
    await call(client, "GET", f"{BASE}/submissions/{again['id']}", binh, 404)

    roster = await call(client, "GET", f"{BASE}/assignments/{aid}/submissions", teacher)
    states = {r["student_name"]: r["status"] for r in roster["items"]}
    assert states[demo.students[0].full_name] == "submitted" and list(states.values()).count("not_submitted") == 3
    graded = await call(client, "PUT", f"{BASE}/submissions/{again['id']}/grade", teacher,
                        json={"score10": 8.5, "comment": "Lời giải rõ ràng, cần trình bày gọn hơn."})
    assert graded["score10"] == 8.5 and graded["raw_score10"] == 8.5  # on time: no penalty

    mine = await call(client, "GET", f"{BASE}/assignments/{aid}", an)
    assert mine["my_status"] == "graded" and mine["my_submission"]["score10"] == 8.5
    assert mine["my_submission"]["comment"] == "Lời giải rõ ràng, cần trình bày gọn hơn."
    refused = await client.post(f"{BASE}/assignments/{aid}/submission", headers=an | {"Accept-Language": "vi"},
                                data=form("lần 3"))
    body = await refused.json()
    assert refused.status == 409 and body["error"]["reason"] == "already_graded", body
    assert "chấm điểm" in body["error"]["message"]


async def test_late_work_per_policy_and_the_missing(client: TestClient, app: web.Application, demo: DemoSchool,
                                                     login: Login) -> None:
    teacher = await login(demo.teacher)
    an, binh = await login(demo.students[0]), await login(demo.students[1])
    subject = await math_id(app)
    now = datetime.now(UTC)
    past = {"opens_at": iso(now - timedelta(days=3)), "due_at": iso(now - timedelta(days=1))}
    accept = await create(client, teacher, demo, subject, **past)
    penalty = await create(client, teacher, demo, subject, late_policy="penalty", late_penalty_percent=20, **past)
    refuse = await create(client, teacher, demo, subject, late_policy="refuse", **past)

    late = await call(client, "POST", f"{BASE}/assignments/{accept['id']}/submission", an, data=form("muộn"))
    assert late["late"] is True
    again = await client.post(f"{BASE}/assignments/{accept['id']}/submission", headers=an, data=form("lại"))
    assert again.status == 409 and (await again.json())["error"]["reason"] == "resubmit_after_due"
    refused = await client.post(f"{BASE}/assignments/{refuse['id']}/submission", headers=binh, data=form("muộn"))
    assert refused.status == 409 and (await refused.json())["error"]["reason"] == "late_refused"
    async with app[DATABASE].session() as session:
        assert await session.scalar(select(Submission.id).where(Submission.assignment_id == refuse["id"])) is None

    sub = await call(client, "POST", f"{BASE}/assignments/{penalty['id']}/submission", an, data=form("muộn"))
    graded = await call(client, "PUT", f"{BASE}/submissions/{sub['id']}/grade", teacher, json={"score10": 9})
    assert graded["raw_score10"] == 9 and graded["score10"] == 7.2

    lates = await call(client, "GET", f"{BASE}/assignments/{accept['id']}/submissions?status=late", teacher)
    assert [r["student_name"] for r in lates["items"]] == [demo.students[0].full_name]
    missing = await call(client, "GET", f"{BASE}/assignments/{accept['id']}/submissions?status=missing", teacher)
    assert sorted(r["student_name"] for r in missing["items"]) == sorted(s.full_name for s in demo.students[1:])
    detail = await call(client, "GET", f"{BASE}/assignments/{accept['id']}", teacher)
    assert detail["counts"]["late"] == 1 and detail["counts"]["missing"] == 3


    # The teacher gives the class more time: work handed in before the new due time is on time,
    # and the graded one's mark loses its penalty; moving the due time back marks it late again.
    later = iso(now + timedelta(days=2))
    await call(client, "PATCH", f"{BASE}/assignments/{penalty['id']}", teacher, json={"due_at": later})
    regraded = await call(client, "GET", f"{BASE}/assignments/{penalty['id']}/submissions", teacher)
    mine = next(r for r in regraded["items"] if r["student_name"] == demo.students[0].full_name)
    assert mine["status"] == "graded" and mine["submission"]["late"] is False
    assert mine["submission"]["score10"] == 9
    await call(client, "PATCH", f"{BASE}/assignments/{penalty['id']}", teacher, json={"due_at": past["due_at"]})
    async with app[DATABASE].session() as session:
        again_late = await session.get(Submission, sub["id"])
        assert again_late is not None and again_late.late is True and again_late.score10 == 7.2


async def test_refusals(client: TestClient, app: web.Application, demo: DemoSchool, login: Login) -> None:
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    subject = await math_id(app)
    elsewhere = await other_class(app, demo)
    stranger = await login(await person(app, "hs.khac", Role.student, class_id=elsewhere))
    other_teacher = await login(await person(app, "gv.khac", Role.teacher))
    parent = await login(await person(app, "ph.an", Role.parent, child_of=await user_id(app, demo.students[0].username)))

    draft = await create(client, teacher, demo, subject, published=False)
    made = await create(client, teacher, demo, subject)
    aid = made["id"]
    # Students: not before publication, not another class's, never create or grade.
    await call(client, "GET", f"{BASE}/assignments/{draft['id']}", an, 404)
    assert [a["id"] for a in (await call(client, "GET", f"{BASE}/assignments", an))["items"]] == [aid]
    await call(client, "GET", f"{BASE}/assignments/{aid}", stranger, 403)
    assert (await call(client, "GET", f"{BASE}/assignments", stranger))["items"] == []
    await call(client, "POST", f"{BASE}/assignments/{aid}/submission", stranger, 403, data=form("x"))
    await create(client, an, demo, subject, status=403)
    await call(client, "GET", f"{BASE}/assignments/{aid}/submissions", an, 403)
    # Another teacher: not their class, not their assignment.
    await create(client, other_teacher, demo, subject, status=403)
    await call(client, "GET", f"{BASE}/assignments/{aid}", other_teacher, 403)
    sub = await call(client, "POST", f"{BASE}/assignments/{aid}/submission", an, data=form("bài"))
    await call(client, "PUT", f"{BASE}/submissions/{sub['id']}/grade", other_teacher, 403, json={"score10": 5})
    await call(client, "PATCH", f"{BASE}/assignments/{aid}", other_teacher, 403, json={"title": "x"})
    # A parent: nothing here (their pages read grades).
    assert (await call(client, "GET", f"{BASE}/assignments", parent))["items"] == []
    await call(client, "GET", f"{BASE}/assignments/{aid}", parent, 404)
    await call(client, "GET", f"{BASE}/submissions/{sub['id']}", parent, 404)
    # Hostile or wrong input: typed errors, nothing half-written.
    bad_type = await client.post(f"{BASE}/assignments/{aid}/submission", headers=an,
                                 data=form("bài", [("virus.pdf", ELF, "application/pdf")]))
    assert bad_type.status == 422 and (await bad_type.json())["error"]["fields"][0]["field"] == "file"
    await call(client, "POST", f"{BASE}/assignments/{aid}/submission", an, 422, data=form("x" * 20_001))
    await call(client, "POST", f"{BASE}/assignments/{aid}/submission", an, 422, data=form("   "))
    await call(client, "POST", f"{BASE}/assignments/{aid}/submission", an, 415, json={"text": "x"})
    still = await call(client, "GET", f"{BASE}/submissions/{sub['id']}", an)
    assert still["text"] == "bài" and still["files"] == []
    await call(client, "PUT", f"{BASE}/submissions/{sub['id']}/grade", teacher, 422, json={"score10": 10.5})
    await call(client, "PUT", f"{BASE}/submissions/{sub['id']}/grade", teacher, 422, json={"score10": 5, "x": 1})
    now = datetime.now(UTC)
    wrong = await create(client, teacher, demo, subject, status=422, opens_at=iso(now), due_at=iso(now - timedelta(hours=1)))
    assert wrong["error"]["fields"][0]["field"] == "due_at"
    await create(client, teacher, demo, subject, status=422, late_policy="maybe")
    await create(client, teacher, demo, subject, status=422, title="<b>" + "x" * 300)


async def test_class_sheet(client: TestClient, app: web.Application, demo: DemoSchool, login: Login) -> None:
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    made = await create(client, teacher, demo, await math_id(app))
    sub = await call(client, "POST", f"{BASE}/assignments/{made['id']}/submission", an, data=form("=1+1"))
    await call(client, "PUT", f"{BASE}/submissions/{sub['id']}/grade", teacher, json={"score10": 7, "comment": "=cmd"})
    response = await client.get(f"{BASE}/assignments/{made['id']}/submissions/export", headers=teacher)
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Học sinh", "Tên đăng nhập", "Trạng thái"] and len(rows) == 5
    an_row = next(r for r in rows if r[1] == demo.students[0].username)
    assert an_row[2] == "Đã chấm" and an_row[5] == 7 and an_row[6] == "'=cmd"
    await call(client, "GET", f"{BASE}/assignments/{made['id']}/submissions/export", an, 403)


async def test_a_class_sheet_of_every_assignment(client: TestClient, app: web.Application, demo: DemoSchool,
                                                  login: Login) -> None:
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    subject = await math_id(app)
    first = await create(client, teacher, demo, subject, title="Bài 1")
    await create(client, teacher, demo, subject, title="Bài 2")
    await call(client, "POST", f"{BASE}/assignments/{first['id']}/submission", an, data=form("xong"))
    response = await client.get(f"{BASE}/classes/{demo.class_id}/submissions/export?format=csv", headers=teacher)
    assert response.status == 200
    text = (await response.read()).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Bài tập,Môn học,Hạn nộp,Học sinh") and len(lines) == 1 + 2 * 4
    assert sum(1 for line in lines if line.startswith("Bài 1,Toán") and demo.students[0].username in line
               and "Đã nộp" in line) == 1
    await call(client, "GET", f"{BASE}/classes/{demo.class_id}/submissions/export", an, 403)
    elsewhere = await other_class(app, demo)
    await call(client, "GET", f"{BASE}/classes/{elsewhere}/submissions/export", teacher, 403)


async def test_too_large_and_too_many_files_leave_nothing_behind(client: TestClient, app: web.Application,
                                                                 demo: DemoSchool, login: Login) -> None:
    from coursework.assignments_files import MAX_FILE_BYTES, MAX_FILES
    from web.keys import CONFIG

    teacher, an = await login(demo.teacher), await login(demo.students[0])
    made = await create(client, teacher, demo, await math_id(app))
    big = PDF + b"0" * (MAX_FILE_BYTES + 1 - len(PDF))
    response = await client.post(f"{BASE}/assignments/{made['id']}/submission", headers=an,
                                 data=form("bài", [("ok.pdf", PDF, "application/pdf"), ("big.pdf", big, "application/pdf")]))
    body = await response.json()
    assert response.status == 422 and body["error"]["fields"][0]["field"] == "file", body
    many = [(f"{n}.pdf", PDF, "application/pdf") for n in range(MAX_FILES + 1)]
    response = await client.post(f"{BASE}/assignments/{made['id']}/submission", headers=an, data=form("bài", many))
    assert response.status == 409 and (await response.json())["error"]["reason"] == "too_many_files"
    folder = app[CONFIG].data_dir / "assignments"
    assert not folder.exists() or list(folder.iterdir()) == []
    async with app[DATABASE].session() as session:
        assert await session.scalar(select(Submission.id)) is None

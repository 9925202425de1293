"""Học liệu over REST: a teacher uploads (type checked by content, size limited), submits; an
administrator approves or returns it; the teacher publishes it to a class; only that class's
students see it, never before; the file is streamed whole or by byte range, each opening logged.
Both stores: local files and an S3-compatible server (moto's, on a loopback port)."""
from __future__ import annotations

import io
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from coursework.materials_models import Material, MaterialDownload
from school.models import ClassStudent, Role, SchoolClass, Subject, SubjectTeam, SubjectTeamMember, User
from school.passwords import hash_password
from tests.conftest import ADMIN_PASSWORD
from web.config import Config
from web.keys import CONFIG, DATABASE

LIMIT_MB = 1
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
async def config(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Config]:
    extra: dict[str, Any] = {}
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_server")
        bucket = f"hoclieu-{tmp_path.name.lower().replace('_', '-')[-40:]}"
        from aiobotocore.session import get_session

        async with get_session().create_client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                               aws_access_key_id="k", aws_secret_access_key="s") as s3:
            await s3.create_bucket(Bucket=bucket)
        extra = {"s3_endpoint": endpoint, "s3_bucket": bucket, "s3_access_key": "k", "s3_secret_key": "s"}
    yield Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=("127.0.0.1",),
                 db_strict=True, max_material_mb=LIMIT_MB, **extra)


async def subject_id(app: Any, name: str = "Toán") -> int:
    async with app[DATABASE].session() as session:
        return await session.scalar(select(Subject.id).where(Subject.name == name))


async def other_class_student(app: Any, demo: Any) -> tuple[int, tuple[str, str]]:
    """A class 10A2 with one student, beside the demo's 10A1."""
    password = "matkhau-10a2"
    hashed = await hash_password(password)
    async with app[DATABASE].session() as session:
        demo_class = await session.get(SchoolClass, demo.class_id)
        other = SchoolClass(school_id=demo_class.school_id, school_year_id=demo_class.school_year_id,
                            grade_id=demo_class.grade_id, name="10A2")
        student = User(school_id=demo_class.school_id, username="hs.khac", full_name="Đỗ Văn Khác",
                       role=Role.student, password_hash=hashed)
        session.add_all([other, student])
        await session.flush()
        session.add(ClassStudent(class_id=other.id, student_id=student.id))
        return other.id, ("hs.khac", password)


async def upload(client: TestClient, headers: dict[str, str], *, status: int = 201, data: bytes | None = PDF,
                 name: str = "Bài 1 – Hàm số.pdf", **fields: Any) -> dict[str, Any]:
    form = FormData(default_to_multipart=True)  # as a browser sends a FormData
    for key, value in {"title": "Hàm số bậc nhất", **fields}.items():
        form.add_field(key, str(value))
    if data is not None:
        form.add_field("file", io.BytesIO(data), filename=name, content_type="application/octet-stream")
    response = await client.post("/api/materials", data=form, headers=headers)
    assert response.status == status, await response.text()
    return await response.json()


async def call(client: TestClient, method: str, path: str, headers: dict[str, str], status: int = 200,
               **kwargs: Any) -> Any:
    response = await client.request(method, path, headers=headers, **kwargs)
    assert response.status == status, await response.text()
    return await response.json() if response.status != 204 else None


async def test_draft_review_publish_and_only_the_class_sees_it(client, app, login, demo, admin):
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    other_class, other_login = await other_class_student(app, demo)
    khac = await login(other_login)
    toan = await subject_id(app)
    made = await upload(client, teacher, subject_id=toan, description="<b>Đọc trước</b> trang 12")
    mid = made["id"]
    assert made["status"] == "draft" and made["kind"] == "file" and made["mime"] == "application/pdf"
    assert made["file_name"] == "Bài 1 – Hàm số.pdf" and made["size_bytes"] == len(PDF)
    assert made["description"] == "<b>Đọc trước</b> trang 12"  # stored as typed, shown as text

    # A draft, a submitted and a returned material are invisible to students: 404, never listed.
    for stage in ("draft", "submitted"):
        if stage == "submitted":
            assert (await call(client, "POST", f"/api/materials/{mid}/submit", teacher))["status"] == "submitted"
        assert (await call(client, "GET", "/api/materials", an))["items"] == []
        await call(client, "GET", f"/api/materials/{mid}", an, status=404)
        await call(client, "GET", f"/api/materials/{mid}/file", an, status=404)
    # Publishing before approval is refused; a teacher may not review.
    refused = await call(client, "POST", f"/api/materials/{mid}/publish", teacher, status=409,
                         json={"class_id": demo.class_id})
    assert refused["error"]["reason"] == "material_not_approved"
    await call(client, "POST", f"/api/materials/{mid}/review", teacher, status=403, json={"decision": "approve"})
    # Returned with a comment (a comment is needed), then resubmitted and approved.
    blank = await call(client, "POST", f"/api/materials/{mid}/review", admin, status=422, json={"decision": "return"})
    assert blank["error"]["fields"][0]["field"] == "comment"
    returned = await call(client, "POST", f"/api/materials/{mid}/review", admin,
                          json={"decision": "return", "comment": "Thêm ví dụ minh hoạ"})
    assert returned["status"] == "returned" and returned["review_comment"] == "Thêm ví dụ minh hoạ"
    await call(client, "GET", f"/api/materials/{mid}", an, status=404)
    await call(client, "PATCH", f"/api/materials/{mid}", teacher, json={"title": "Hàm số bậc nhất (có ví dụ)"})
    await call(client, "POST", f"/api/materials/{mid}/submit", teacher)
    approved = await call(client, "POST", f"/api/materials/{mid}/review", admin, json={"decision": "approve"})
    assert approved["status"] == "approved" and approved["reviewed_at"]
    await call(client, "GET", f"/api/materials/{mid}", an, status=404)  # approved, not yet published
    # A teacher may not publish to a class they do not teach.
    await call(client, "POST", f"/api/materials/{mid}/publish", teacher, status=403, json={"class_id": other_class})
    published = await call(client, "POST", f"/api/materials/{mid}/publish", teacher, json={"class_id": demo.class_id})
    assert published["status"] == "published" and published["class_name"] == "10A1"

    seen = await call(client, "GET", "/api/materials", an)
    assert [m["id"] for m in seen["items"]] == [mid] and seen["items"][0]["downloads"] is None
    assert seen["items"][0]["title"] == "Hàm số bậc nhất (có ví dụ)"
    response = await client.get(f"/api/materials/{mid}/file", headers=an)
    assert response.status == 200 and await response.read() == PDF
    assert response.headers["Accept-Ranges"] == "bytes" and response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    # Another class's student: nothing listed, the material and its file unknown.
    assert (await call(client, "GET", "/api/materials", khac))["items"] == []
    await call(client, "GET", f"/api/materials/{mid}", khac, status=404)
    await call(client, "GET", f"/api/materials/{mid}/file", khac, status=404)
    # A student may not upload or comment.
    await upload(client, an, status=403, subject_id=toan)
    await call(client, "GET", f"/api/materials/{mid}/comments", an, status=403)
    # Archived: gone for students.
    await call(client, "POST", f"/api/materials/{mid}/archive", teacher)
    await call(client, "GET", f"/api/materials/{mid}/file", an, status=404)
    # Each step is in the change log.
    log = await call(client, "GET", "/api/audit", admin, params={"entity": "material"})
    actions = sorted(e["action"] for e in log["items"] if e["entity_id"] == mid)
    assert actions == sorted(["create", "submit", "return", "update", "submit", "approve", "publish", "archive"])


async def test_types_are_checked_by_content_and_size_is_limited(client, app, login, demo):
    teacher = await login(demo.teacher)
    toan = await subject_id(app)
    refused = [
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "bai-tap.pdf"),        # a program named .pdf
        (b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 200, "tai-lieu.zip"),        # a plain ZIP
        (b"<html><script>alert(1)</script></html>", "trang.html"),             # HTML
        (b"plain\x00binary", "ghi-chu.txt"),                                     # NUL in "text"
    ]
    for data, name in refused:
        body = await upload(client, teacher, status=422, data=data, name=name, subject_id=toan)
        assert body["error"]["fields"][0]["field"] == "file"
        assert body["error"]["fields"][0]["code"] == "material_type_refused", body
    image = await upload(client, teacher, data=png(), name="hinh.jpg", subject_id=toan)  # the content decides
    assert image["mime"] == "image/png"
    text = await upload(client, teacher, data="Ôn tập chương 1\n".encode(), name="on-tap.txt", subject_id=toan)
    assert text["mime"] == "text/plain"
    big = await upload(client, teacher, status=422, data=b"%PDF-1.4\n" + b"0" * (LIMIT_MB * 1024 * 1024),
                       subject_id=toan)
    assert big["error"]["fields"][0]["code"] == "material_too_large"
    assert "1 MB" in big["error"]["fields"][0]["message"]
    empty = await upload(client, teacher, status=422, data=b"", subject_id=toan)
    assert empty["error"]["fields"][0]["code"] == "material_empty"
    for url in ("javascript:alert(1)", "ftp://x.vn/a", "https://"):
        bad = await upload(client, teacher, status=422, data=None, url=url, subject_id=toan)
        assert bad["error"]["fields"][0]["field"] == "url"
    neither = await upload(client, teacher, status=422, data=None, subject_id=toan)
    assert neither["error"]["fields"][0]["code"] == "material_no_file"
    link = await upload(client, teacher, data=None, url="https://hoc10.vn/bai-1", subject_id=toan)
    assert link["kind"] == "link" and link["file_url"] is None
    hostile = await upload(client, teacher, status=422, subject_id=toan, title="x" * 201)
    assert hostile["error"]["fields"][0]["field"] == "title"
    unknown = await upload(client, teacher, status=422, subject_id=toan, owner_id="1")
    assert unknown["error"]["fields"][0]["field"] == "owner_id"
    assert (await client.post("/api/materials", json={"title": "x"}, headers=teacher)).status == 415
    # Nothing half-written: only the three accepted ones exist, and no upload is left lying around.
    async with app[DATABASE].session() as session:
        assert len(list(await session.scalars(select(Material)))) == 3
    assert list((app[CONFIG].data_dir / "materials-incoming").iterdir()) == []


async def test_ranges_and_every_opening_is_logged(client, app, login, demo, admin):
    teacher, an, binh = await login(demo.teacher), await login(demo.students[0]), await login(demo.students[1])
    toan = await subject_id(app)
    mid = (await upload(client, teacher, subject_id=toan))["id"]
    await call(client, "POST", f"/api/materials/{mid}/submit", teacher)
    await call(client, "POST", f"/api/materials/{mid}/review", admin, json={"decision": "approve"})
    await call(client, "POST", f"/api/materials/{mid}/publish", teacher, json={"class_id": demo.class_id})

    part = await client.get(f"/api/materials/{mid}/file", headers={**an, "Range": "bytes=100-199"})
    assert part.status == 206 and await part.read() == PDF[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(PDF)}"
    tail = await client.get(f"/api/materials/{mid}/file", headers={**an, "Range": "bytes=-10"})
    assert tail.status == 206 and await tail.read() == PDF[-10:]
    start = await client.get(f"/api/materials/{mid}/file", headers={**binh, "Range": "bytes=0-"})
    assert start.status == 206 and await start.read() == PDF
    outside = await client.get(f"/api/materials/{mid}/file", headers={**an, "Range": f"bytes={len(PDF)}-"})
    assert outside.status == 416 and outside.headers["Content-Range"] == f"bytes */{len(PDF)}"
    whole = await client.get(f"/api/materials/{mid}/file", headers=an, params={"download": "1"})
    assert whole.status == 200 and whole.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''B%C3%A0i%201" in whole.headers["Content-Disposition"]

    # Openings from the first byte are logged (binh's 0- range and an's whole file), seeks are not.
    log = await call(client, "GET", f"/api/materials/{mid}/downloads", teacher)
    assert log["total"] == 2 and sorted(i["user_name"] for i in log["items"]) == sorted(
        [demo.students[0].full_name, demo.students[1].full_name])
    await call(client, "GET", f"/api/materials/{mid}/downloads", an, status=403)
    listed = await call(client, "GET", "/api/materials", teacher, params={"mine": "true"})
    assert listed["items"][0]["downloads"] == 2


async def test_lessons_team_space_and_parents(client, app, login, demo, admin):
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    toan = await subject_id(app)
    # A second teacher in the same subject team (tổ chuyên môn) comments on the shared draft.
    hashed = await hash_password("matkhau-gv2")
    async with app[DATABASE].session() as session:
        school_id = await session.scalar(select(SchoolClass.school_id).where(SchoolClass.id == demo.class_id))
        team = SubjectTeam(school_id=school_id, name="Tổ Toán – Tin")
        colleague = User(school_id=school_id, username="gv.minh", full_name="Trần Minh", role=Role.teacher,
                         password_hash=hashed)
        outsider = User(school_id=school_id, username="gv.khac", full_name="Lý Khác", role=Role.teacher,
                        password_hash=hashed)
        parent = User(school_id=school_id, username="ph.an", full_name="Lê Văn Cha", role=Role.parent,
                      password_hash=hashed)
        session.add_all([team, colleague, outsider, parent])
        await session.flush()
        lan = await session.scalar(select(User.id).where(User.username == demo.teacher.username))
        session.add_all([SubjectTeamMember(team_id=team.id, teacher_id=lan),
                         SubjectTeamMember(team_id=team.id, teacher_id=colleague.id)])
        team_id = team.id
    minh, khac, cha = (await login(("gv.minh", "matkhau-gv2")), await login(("gv.khac", "matkhau-gv2")),
                       await login(("ph.an", "matkhau-gv2")))
    mid = (await upload(client, teacher, subject_id=toan, team_id=team_id))["id"]
    assert (await call(client, "GET", f"/api/materials/{mid}", minh))["team_name"] == "Tổ Toán – Tin"
    await call(client, "POST", f"/api/materials/{mid}/comments", minh, status=201,
               json={"body": "Nên thêm bài tập vận dụng <script>"})
    comments = await call(client, "GET", f"/api/materials/{mid}/comments", teacher)
    assert [c["body"] for c in comments["items"]] == ["Nên thêm bài tập vận dụng <script>"]
    await call(client, "GET", f"/api/materials/{mid}", khac, status=404)  # not in the team
    await call(client, "PATCH", f"/api/materials/{mid}", minh, status=403, json={"title": "Của tôi"})
    # A teacher may not share into a team they are not in.
    await upload(client, khac, status=422, subject_id=toan, team_id=team_id)
    # Parents see no material at all.
    await call(client, "GET", "/api/materials", cha, status=403)
    await call(client, "GET", f"/api/materials/{mid}/file", cha, status=403)

    # Attaching needs approval; an approved material attached to a lesson reaches its class.
    refused = await call(client, "POST", f"/api/lessons/{demo.lesson_id}/materials", teacher, status=409,
                         json={"material_id": mid})
    assert refused["error"]["reason"] == "material_not_approved"
    await call(client, "POST", f"/api/materials/{mid}/submit", teacher)
    await call(client, "POST", f"/api/materials/{mid}/review", admin, json={"decision": "approve"})
    await call(client, "POST", f"/api/lessons/{demo.lesson_id}/materials", an, status=403, json={"material_id": mid})
    attached = await call(client, "POST", f"/api/lessons/{demo.lesson_id}/materials", teacher, status=201,
                          json={"material_id": mid})
    assert attached["status"] == "published" and attached["class_id"] == demo.class_id
    listed = await call(client, "GET", f"/api/lessons/{demo.lesson_id}/materials", an)
    assert [m["id"] for m in listed["items"]] == [mid]
    await call(client, "DELETE", f"/api/lessons/{demo.lesson_id}/materials/{mid}", teacher, status=204)
    assert (await call(client, "GET", f"/api/lessons/{demo.lesson_id}/materials", an))["items"] == []
    await call(client, "DELETE", f"/api/lessons/{demo.lesson_id}/materials/{mid}", teacher, status=404)
    async with app[DATABASE].session() as session:
        assert await session.scalar(select(MaterialDownload.id)) is None


async def test_malformed_uploads_are_refused_cleanly(client, app, login, demo):
    teacher = await login(demo.teacher)
    toan = await subject_id(app)
    broken = [
        ("multipart/form-data", b"no boundary at all"),
        ("multipart/form-data; boundary=XYZ", b"--XYZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nabc"),
        ("multipart/form-data; boundary=XYZ", b"garbage without any boundary line"),
    ]
    for content_type, body in broken:
        response = await client.post("/api/materials", data=body, headers={**teacher, "Content-Type": content_type})
        assert response.status in (400, 422), (content_type, body, response.status, await response.text())
    # Repeated parts: one file only, each field once.
    form = FormData(default_to_multipart=True)
    for key, value in (("title", "a"), ("title", "b"), ("subject_id", str(toan))):
        form.add_field(key, value)
    response = await client.post("/api/materials", data=form, headers=teacher)
    assert response.status == 422 and (await response.json())["error"]["fields"][0]["field"] == "title"
    form = FormData()
    form.add_field("title", "a")
    form.add_field("subject_id", str(toan))
    form.add_field("file", io.BytesIO(PDF), filename="a.pdf")
    form.add_field("file", io.BytesIO(PDF), filename="b.pdf")
    response = await client.post("/api/materials", data=form, headers=teacher)
    assert response.status == 400
    async with app[DATABASE].session() as session:
        assert list(await session.scalars(select(Material))) == []


async def test_a_material_of_another_class_reaches_students_through_their_lesson(client, app, login, demo, admin):
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    other_class, other_login = await other_class_student(app, demo)
    khac = await login(other_login)
    mid = (await upload(client, teacher, subject_id=await subject_id(app)))["id"]
    await call(client, "POST", f"/api/materials/{mid}/submit", teacher)
    await call(client, "POST", f"/api/materials/{mid}/review", admin, json={"decision": "approve"})
    await call(client, "POST", f"/api/materials/{mid}/publish", admin, json={"class_id": other_class})
    assert [m["id"] for m in (await call(client, "GET", "/api/materials", khac))["items"]] == [mid]
    await call(client, "GET", f"/api/materials/{mid}", an, status=404)
    await call(client, "POST", f"/api/lessons/{demo.lesson_id}/materials", admin, status=201, json={"material_id": mid})
    assert (await call(client, "GET", f"/api/materials/{mid}", an))["class_name"] == "10A2"
    response = await client.get(f"/api/materials/{mid}/file", headers=an)
    assert response.status == 200 and await response.read() == PDF
    # The other class's student may not see the 10A1 lesson's list.
    await call(client, "GET", f"/api/lessons/{demo.lesson_id}/materials", khac, status=403)

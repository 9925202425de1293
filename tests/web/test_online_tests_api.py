"""Online tests through the API: question banks, a test drawn and shuffled per student that still
grades right, the deadline kept by the server (and its sweeper), essays graded by the teacher,
results shown only once published, integrity events (a second device), imports, and refusals."""
from __future__ import annotations

import asyncio
import base64
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from aiohttp import web
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from school.audit import AuditEntry
from school.demo import DemoSchool
from school.models import Lesson
from web.api.online_tests import sweep_once
from web.keys import DATABASE

VI = {"Accept-Language": "vi"}
CAPITALS = [("Thủ đô của Việt Nam là?", ["Hà Nội", "Huế", "Đà Nẵng", "Sài Gòn"], 0),
            ("Sông dài nhất Việt Nam chảy qua nhiều nước là?", ["Sông Hồng", "Sông Mê Kông", "Sông Đà", "Sông Mã"], 1),
            ("Đỉnh núi cao nhất Việt Nam?", ["Bạch Mã", "Bà Đen", "Fansipan", "Ngọc Linh"], 2),
            ("Vịnh nổi tiếng ở Quảng Ninh?", ["Vịnh Cam Ranh", "Vịnh Xuân Đài", "Vịnh Vân Phong", "Vịnh Hạ Long"], 3),
            ("Năm Cách mạng tháng Tám?", ["1930", "1945", "1954", "1975"], 1),
            ("Tỉnh cực bắc Việt Nam?", ["Hà Giang", "Cà Mau", "Lào Cai", "Cao Bằng"], 0)]


async def subject_of(app: web.Application, lesson_id: int) -> int:
    async with app[DATABASE].session() as session:
        return int(await session.scalar(select(Lesson.subject_id).where(Lesson.id == lesson_id)))


async def ok(response: Any, status: int = 200) -> Any:
    body = await response.text()
    assert response.status == status, body
    return await response.json() if body else None


async def make_bank(client: TestClient, teacher: dict[str, str], subject_id: int,
                    extra: list[dict[str, Any]] | None = None) -> tuple[int, list[dict[str, Any]]]:
    bank = await ok(await client.post("/api/question-banks", json={"subject_id": subject_id, "title": "Địa lí 10"},
                                      headers=teacher), 201)
    questions = [{"kind": "single", "text": text, "options": options, "correct": [right], "points": 1.0}
                 for text, options, right in CAPITALS] + (extra or [])
    added = await ok(await client.post(f"/api/question-banks/{bank['id']}/questions", json={"questions": questions},
                                       headers=teacher), 201)
    return bank["id"], added["items"]


async def req(client: TestClient, method: str, url: str, headers: dict[str, str], status: int = 200,
              json: Any = None) -> Any:
    return await ok(await client.request(method, url, json=json, headers=headers), status)


def window(minutes: int = 60, **more: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(minutes=minutes)).isoformat(),
            "time_limit_minutes": 30, **more}


def right_choice(item: dict[str, Any]) -> list[int]:
    """The shown index of the correct option (the test knows the right answers by text)."""
    for text, options, right in CAPITALS:
        if item["text"] == text:
            return [item["options"].index(options[right])]
    raise AssertionError(item["text"])


async def test_papers_are_shuffled_per_student_and_graded_right(client: TestClient, demo: DemoSchool,
                                                                  login: Any, app: web.Application) -> None:
    teacher = await login(demo.teacher)
    subject_id = await subject_of(app, demo.lesson_id)
    bank_id, _ = await make_bank(client, teacher, subject_id)
    test = await ok(await client.post("/api/online-tests", json={
        "class_id": demo.class_id, "subject_id": subject_id, "title": "Kiểm tra 15 phút",
        "draws": [{"bank_id": bank_id, "count": 5}], **window()}, headers=teacher), 201)
    listed = await ok(await client.get("/api/online-tests", headers=teacher))
    assert [(t["id"], t["staff"], t["question_count"]) for t in listed["items"]] == [(test["id"], True, 5)]
    students = await asyncio.gather(*(login(s) for s in demo.students))
    attempts = await asyncio.gather(*(req(client, "POST", f"/api/online-tests/{test['id']}/attempts", h, 201)
                                      for h in students))
    papers = [[(i["text"], tuple(i["options"])) for i in a["items"]] for a in attempts]
    assert all(len(p) == 5 for p in papers)
    assert len({tuple(p) for p in papers}) > 1, "every student got the same paper in the same order"
    assert all(a["remaining_s"] > 0 and a["score10"] is None for a in attempts)
    # The same attempt reads back the same paper.
    again = await ok(await client.get(f"/api/test-attempts/{attempts[0]['id']}", headers=students[0]))
    assert [(i["text"], tuple(i["options"])) for i in again["items"]] == papers[0]

    # Students 0..2 answer everything right; student 3 gets the first two wrong.
    async def answer(n: int) -> None:
        attempt = attempts[n]
        for item in attempt["items"]:
            choice = right_choice(item)
            if n == 3 and item["position"] < 2:
                choice = [(choice[0] + 1) % len(item["options"])]
            await ok(await client.put(f"/api/test-attempts/{attempt['id']}/answers/{item['position']}",
                                      json={"choices": choice}, headers=students[n]))
    await asyncio.gather(*(answer(n) for n in range(4)))
    done = await asyncio.gather(*(req(client, "POST", f"/api/test-attempts/{a['id']}/submit", h)
                                  for a, h in zip(attempts, students, strict=True)))
    assert all(d["status"] == "graded" and d["score10"] is None for d in done), "scores shown before publishing"
    rows = (await ok(await client.get(f"/api/online-tests/{test['id']}/attempts", headers=teacher)))["items"]
    scores = {r["id"]: r["score10"] for r in rows}
    assert [scores[a["id"]] for a in attempts] == [10.0, 10.0, 10.0, 6.0]
    await ok(await client.post(f"/api/online-tests/{test['id']}/publish", json={"published": True}, headers=teacher))
    mine = await ok(await client.get(f"/api/test-attempts/{attempts[3]['id']}", headers=students[3]))
    assert mine["score10"] == 6.0 and mine["points"] == 3.0
    assert [i["awarded"] for i in mine["items"]][:2] == [0.0, 0.0]
    # One attempt allowed: a second is refused; a student cannot read another's attempt.
    again_resp = await client.post(f"/api/online-tests/{test['id']}/attempts", headers={**students[0], **VI})
    assert again_resp.status == 409 and (await again_resp.json())["error"]["reason"] == "test_no_attempts_left"
    other = await client.get(f"/api/test-attempts/{attempts[1]['id']}", headers=students[0])
    assert other.status == 403


async def test_the_server_keeps_the_deadline_and_submits_late_attempts(client: TestClient, demo: DemoSchool,
                                                                         login: Any, app: web.Application) -> None:
    teacher = await login(demo.teacher)
    subject_id = await subject_of(app, demo.lesson_id)
    bank_id, questions = await make_bank(client, teacher, subject_id)
    now = datetime.now(UTC)
    short = {"opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(seconds=2)).isoformat(),
             "time_limit_minutes": 10}
    test = await ok(await client.post("/api/online-tests", json={
        "class_id": demo.class_id, "subject_id": subject_id, "title": "Hết giờ", "shuffle": False,
        "question_ids": [questions[0]["id"], questions[1]["id"]], **short}, headers=teacher), 201)
    a, b = await asyncio.gather(login(demo.students[0]), login(demo.students[1]))
    first, second = await asyncio.gather(req(client, "POST", f"/api/online-tests/{test['id']}/attempts", a, 201),
                                         req(client, "POST", f"/api/online-tests/{test['id']}/attempts", b, 201))
    assert first["remaining_s"] <= 2  # the test closes before the time limit ends
    await ok(await client.put(f"/api/test-attempts/{first['id']}/answers/0", json={"choices": [0]}, headers=a))
    deadline = datetime.fromisoformat(first["deadline_at"])
    while datetime.now(UTC) <= deadline + timedelta(milliseconds=50):
        await asyncio.sleep(0.1)
    late = await client.put(f"/api/test-attempts/{first['id']}/answers/1", json={"choices": [1]}, headers=a)
    assert late.status == 409 and (await late.json())["error"]["reason"] == "test_time_over"
    closed = await ok(await client.get(f"/api/test-attempts/{first['id']}", headers=teacher))
    assert closed["status"] == "graded" and closed["submitted_by"] == "server"
    assert closed["points"] == 1.0 and [i["answer"] for i in closed["items"]] == [[0], None]
    # The other attempt nobody touched: the sweeper submits it.
    assert await sweep_once(app) >= 1
    rows = {r["id"]: r for r in (await ok(await client.get(f"/api/online-tests/{test['id']}/attempts",
                                                              headers=teacher)))["items"]}
    assert rows[second["id"]]["status"] == "graded" and rows[second["id"]]["submitted_by"] == "server"
    assert rows[second["id"]]["score10"] == 0.0
    # Closed: no new attempt.
    refused = await client.post(f"/api/online-tests/{test['id']}/attempts", headers=await login(demo.students[2]))
    assert refused.status == 409 and (await refused.json())["error"]["reason"] == "test_closed"


async def test_essay_graded_by_the_teacher_and_integrity_events(client: TestClient, demo: DemoSchool, login: Any,
                                                                 app: web.Application) -> None:
    teacher = await login(demo.teacher)
    subject_id = await subject_of(app, demo.lesson_id)
    essay = {"kind": "essay", "text": "Trình bày cảm nghĩ về quê hương.", "points": 4.0}
    short = {"kind": "short", "text": "Thủ đô của Pháp?", "correct": "Pa-ri", "points": 1.0}
    number = {"kind": "number", "text": "3 × 7 = ?", "correct": 21, "points": 1.0}
    _bank, items = await make_bank(client, teacher, subject_id, [essay, short, number])
    ids = [q["id"] for q in items[-3:]]
    test = await ok(await client.post("/api/online-tests", json={
        "class_id": demo.class_id, "subject_id": subject_id, "title": "Tự luận", "question_ids": ids,
        "shuffle": False, **window()}, headers=teacher), 201)
    student = await login(demo.students[0])
    attempt = await ok(await client.post(f"/api/online-tests/{test['id']}/attempts", headers=student), 201)
    text = "<script>alert(1)</script> Quê hương là chùm khế ngọt"
    for position, body in enumerate([{"text": text}, {"text": "  pa-RI "}, {"number": 21.0}]):
        await ok(await client.put(f"/api/test-attempts/{attempt['id']}/answers/{position}", json=body, headers=student))
    wrong = await client.put(f"/api/test-attempts/{attempt['id']}/answers/2", json={"text": "21"}, headers=student)
    assert wrong.status == 422
    beyond = await client.put(f"/api/test-attempts/{attempt['id']}/answers/9", json={"number": 1.0}, headers=student)
    assert beyond.status == 422
    # Events: leaving the page, pasting, and the same attempt from a second sign-in.
    for kind in ("blur", "paste"):
        await ok(await client.post(f"/api/test-attempts/{attempt['id']}/events", json={"kind": kind}, headers=student),
                 204)
    bad = await client.post(f"/api/test-attempts/{attempt['id']}/events", json={"kind": "<b>"}, headers=student)
    assert bad.status == 422
    phone = await login(demo.students[0])
    resumed = await ok(await client.post(f"/api/online-tests/{test['id']}/attempts", headers=phone), 201)
    assert resumed["id"] == attempt["id"] and resumed["items"][0]["answer"] == text
    submitted = await ok(await client.post(f"/api/test-attempts/{attempt['id']}/submit", headers=phone))
    assert submitted["status"] == "submitted"  # the essay waits for the teacher
    row = (await ok(await client.get(f"/api/online-tests/{test['id']}/attempts", headers=teacher)))["items"][0]
    kinds = [e["kind"] for e in row["events"]]
    assert kinds[0] == "started" and {"blur", "paste", "second_device", "submitted"} <= set(kinds)
    assert row["score10"] is None and row["points"] == 2.0
    # Grading: more than the question's points refused; students may not grade.
    too_many = await client.put(f"/api/test-attempts/{attempt['id']}/grades/{ids[0]}",
                                json={"points": 5.0}, headers={**teacher, **VI})
    assert too_many.status == 422 and "4.0" in (await too_many.json())["error"]["message"]
    by_student = await client.put(f"/api/test-attempts/{attempt['id']}/grades/{ids[0]}", json={"points": 4.0},
                                  headers=student)
    assert by_student.status == 403
    graded = await ok(await client.put(f"/api/test-attempts/{attempt['id']}/grades/{ids[0]}",
                                       json={"points": 3.0, "comment": "Bài viết có cảm xúc."}, headers=teacher))
    assert graded["status"] == "graded" and graded["score10"] == round(5 / 6 * 10, 2)
    assert graded["items"][0]["answer"] == text  # stored as typed, plain text
    hidden = await ok(await client.get(f"/api/test-attempts/{attempt['id']}", headers=student))
    assert hidden["score10"] is None and hidden["items"][0]["comment"] == ""
    await ok(await client.post(f"/api/online-tests/{test['id']}/publish", json={"published": True}, headers=teacher))
    shown = await ok(await client.get(f"/api/test-attempts/{attempt['id']}", headers=student))
    assert shown["score10"] == 8.33 and shown["items"][0]["comment"] == "Bài viết có cảm xúc."

    # The results sheet: the student's row with the score and the integrity events counted; not for students.
    sheet = await client.get(f"/api/online-tests/{test['id']}/attempts?format=xlsx", headers=teacher)
    assert sheet.status == 200 and "attachment" in sheet.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(await sheet.read())).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("STT", "Học sinh", "Lần làm", "Trạng thái") and rows[0][9] == "Điểm (thang 10)"
    assert len(rows) == 2
    assert rows[1][1] == demo.students[0].full_name and rows[1][3] == "Đã chấm" and rows[1][9] == 8.33
    assert "rời cửa sổ ×" in rows[1][10] and "thiết bị thứ hai ×" in rows[1][10] and "dán nội dung ×" in rows[1][10]
    assert (await client.get(f"/api/online-tests/{test['id']}/attempts?format=xlsx", headers=student)).status == 403
    assert (await client.get(f"/api/online-tests/{test['id']}/attempts?format=pdf", headers=teacher)).status == 422


async def test_import_from_csv_and_xlsx_and_refusals(client: TestClient, demo: DemoSchool, login: Any,
                                                     app: web.Application) -> None:
    teacher = await login(demo.teacher)
    subject_id = await subject_of(app, demo.lesson_id)
    bank = await ok(await client.post("/api/question-banks", json={"subject_id": subject_id, "title": "Nhập"},
                                      headers=teacher), 201)
    csv_text = ("kind,text,option1,option2,option3,correct,points\n"
                "single,1 + 1 = ?,1,2,3,2,1\n"
                "nhiều lựa chọn,Số chẵn?,2,3,4,1;3,2\n"
                "đúng/sai,Trái Đất quay quanh Mặt Trời,,,,Đúng,1\n"
                "tự luận,Viết một đoạn văn,,,,,3\n")
    added = await ok(await client.post(f"/api/question-banks/{bank['id']}/import",
                                       json={"format": "csv", "content": csv_text}, headers=teacher), 201)
    assert [(q["kind"], q["correct"]) for q in added["items"]] == [
        ("single", [1]), ("multiple", [0, 2]), ("true_false", [0]), ("essay", None)]
    book = Workbook()
    sheet = book.active
    sheet.append(["kind", "text", "correct", "points"])
    sheet.append(["number", "Căn bậc hai của 49?", "7", "1"])
    sheet.append(["short", "Thủ đô Nhật Bản?", "Tô-ky-ô", "1"])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = await ok(await client.post(f"/api/question-banks/{bank['id']}/import", json={
        "format": "xlsx", "content": base64.b64encode(buffer.getvalue()).decode()}, headers=teacher), 201)
    assert [(q["kind"], q["correct"]) for q in xlsx["items"]] == [("number", 7.0), ("short", "Tô-ky-ô")]
    bad_row = await client.post(f"/api/question-banks/{bank['id']}/import", json={
        "format": "csv", "content": "kind,text,option1,option2,correct\nsingle,Câu?,a,b,5\n"}, headers={**teacher, **VI})
    assert bad_row.status == 422 and "Dòng 2" in (await bad_row.json())["error"]["message"]
    garbage = await client.post(f"/api/question-banks/{bank['id']}/import",
                                json={"format": "xlsx", "content": "bm90IGEgemlw"}, headers=teacher)
    assert garbage.status == 422
    listed = await ok(await client.get(f"/api/question-banks/{bank['id']}/questions", headers=teacher))
    assert len(listed["items"]) == 6  # the refused imports added nothing
    # Students and parents see no banks; students make no tests; unknown fields refused.
    student = await login(demo.students[0])
    assert (await client.get("/api/question-banks", headers=student)).status == 403
    assert (await client.post("/api/online-tests", json={"class_id": demo.class_id, "subject_id": subject_id,
                                                         "title": "x", "question_ids": [1], **window()},
                              headers=student)).status == 403
    extra = await client.post("/api/question-banks", json={"subject_id": subject_id, "title": "x", "owner_id": 1},
                              headers=teacher)
    assert extra.status == 422
    not_open = await ok(await client.post("/api/online-tests", json={
        "class_id": demo.class_id, "subject_id": subject_id, "title": "Tuần sau",
        "question_ids": [added["items"][0]["id"]], "opens_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "closes_at": (datetime.now(UTC) + timedelta(days=8)).isoformat(), "time_limit_minutes": 15},
        headers=teacher), 201)
    early = await client.post(f"/api/online-tests/{not_open['id']}/attempts", headers=student)
    assert early.status == 409 and (await early.json())["error"]["reason"] == "test_not_open"
    assert (await client.post(f"/api/online-tests/{not_open['id']}/attempts", headers=teacher)).status == 403
    camera = await client.post("/api/online-tests", json={
        "class_id": demo.class_id, "subject_id": subject_id, "title": "Camera", "camera_required": True,
        "question_ids": [added["items"][0]["id"]], **window()}, headers=teacher)
    assert camera.status == 422  # a camera needs the live lesson it is shown in
    listed_tests = await ok(await client.get("/api/online-tests", headers=student))
    assert [t["title"] for t in listed_tests["items"]] == ["Tuần sau"]
    # The teacher's changes are in the school's change log.
    async with app[DATABASE].session() as session:
        logged = {(e.action, e.entity, e.entity_id) for e in await session.scalars(select(AuditEntry))}
    assert ("create", "online_test", not_open["id"]) in logged
    assert ("add_questions", "question_bank", bank["id"]) in logged


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


async def test_a_question_image_is_seen_by_staff_and_by_a_student_in_their_own_attempt(
        client: TestClient, demo: DemoSchool, login: Any, app: web.Application) -> None:
    teacher = await login(demo.teacher)
    subject_id = await subject_of(app, demo.lesson_id)
    _bank, questions = await make_bank(client, teacher, subject_id)
    qid = questions[0]["id"]
    not_image = await client.put(f"/api/questions/{qid}/image", json={
        "mime": "image/png", "data": base64.b64encode(b"<svg onload=alert(1)>").decode()}, headers=teacher)
    assert not_image.status == 422
    await ok(await client.put(f"/api/questions/{qid}/image", json={
        "mime": "image/png", "data": base64.b64encode(PNG).decode()}, headers=teacher), 204)
    staff_view = await client.get(f"/api/questions/{qid}/image", headers=teacher)
    assert staff_view.status == 200 and await staff_view.read() == PNG
    assert staff_view.headers["Content-Type"] == "image/png"
    test = await ok(await client.post("/api/online-tests", json={
        "class_id": demo.class_id, "subject_id": subject_id, "title": "Ảnh", "question_ids": [qid], **window()},
        headers=teacher), 201)
    a, b = await asyncio.gather(login(demo.students[0]), login(demo.students[1]))
    assert (await client.get(f"/api/questions/{qid}/image", headers=a)).status == 404  # not in an attempt yet
    attempt = await req(client, "POST", f"/api/online-tests/{test['id']}/attempts", a, 201)
    url = attempt["items"][0]["image_url"]
    assert url == f"/api/questions/{qid}/image?attempt={attempt['id']}"
    mine = await client.get(url, headers=a)
    assert mine.status == 200 and await mine.read() == PNG
    assert (await client.get(url, headers=b)).status == 404  # another student's attempt


async def test_the_pages_are_served_without_inline_script_or_style(client: TestClient) -> None:
    for path, module in (("/tests", "tests.js"), ("/tests/5/take", "test-take.js"), ("/tests/5/grade", "test-grade.js")):
        response = await client.get(path)
        assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
        html = await response.text()
        assert f'<script type="module" src="/static/js/pages/{module}"></script>' in html
        assert "style=" not in html and "onclick" not in html.lower() and "<script>" not in html

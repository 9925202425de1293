"""The lesson's chat over REST: posting by the rules of the lesson page, pages of history as each
reader may see them, the staff's CSV and XLSX downloads, a live room hearing a REST post, and
403 for a student of another class."""
from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from classroom.chat import RATE_LIMIT
from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login

WAIT = 10.0


async def user_id(client: TestClient, headers: dict[str, str]) -> int:
    response = await client.get("/api/me", headers=headers)
    assert response.status == 200
    body = await response.json()
    return int(body["user"]["id"])


async def post(client: TestClient, lesson_id: int, headers: dict[str, str], text: str, to: int | None = None,
               status: int = 201) -> dict[str, Any]:
    response = await client.post(f"/api/lessons/{lesson_id}/chat", headers=headers, json={"text": text, "to": to})
    assert response.status == status, await response.text()
    return await response.json()


async def all_pages(client: TestClient, lesson_id: int, headers: dict[str, str], limit: int) -> list[dict[str, Any]]:
    """Every message, reading back page by page from the newest."""
    pages: list[list[dict[str, Any]]] = []
    before = None
    while True:
        query = f"?limit={limit}" + (f"&before={before}" if before else "")
        response = await client.get(f"/api/lessons/{lesson_id}/chat{query}", headers=headers)
        assert response.status == 200, await response.text()
        page = await response.json()
        assert len(page["messages"]) <= limit
        pages.insert(0, page["messages"])
        before = page["next_before"]
        if before is None:
            return [m for p in pages for m in p]


async def test_posting_paging_and_who_reads_what(client: TestClient, demo: DemoSchool, login: Login) -> None:
    lesson = demo.lesson_id
    teacher, an, binh = await login(demo.teacher), await login(demo.students[0]), await login(demo.students[1])
    teacher_id, an_id, binh_id = [await user_id(client, h) for h in (teacher, an, binh)]

    m1 = await post(client, lesson, teacher, "Chào cả lớp")
    assert m1["from"] == teacher_id and m1["from_role"] == "teacher" and m1["room"] == "main" and m1["to"] is None
    m2 = await post(client, lesson, an, "<b>Em chào cô</b>")
    assert m2["text"] == "<b>Em chào cô</b>" and m2["from_name"] == "Lê Văn An"
    m3 = await post(client, lesson, an, "Em hỏi riêng ạ", to=teacher_id)
    m4 = await post(client, lesson, teacher, "Cô trả lời An", to=an_id)
    m5 = await post(client, lesson, binh, "Em có mặt")
    m6 = await post(client, lesson, teacher, "Mở sách trang 12")
    await post(client, lesson, an, "Bình ơi", to=binh_id, status=403)  # students write to each other only live,
    await post(client, lesson, an, "   ", status=422)                     # when the teacher allows it
    await post(client, lesson, an, "x" * 1001, status=422)
    await post(client, lesson, an, "?", to=999999, status=404)
    extra = await client.post(f"/api/lessons/{lesson}/chat", headers=an, json={"text": "x", "room": "g1"})
    assert extra.status == 422

    staff_view = await all_pages(client, lesson, teacher, limit=2)
    assert [m["id"] for m in staff_view] == [m["id"] for m in (m1, m2, m3, m4, m5, m6)]
    assert all("deleted_by" in m for m in staff_view)
    an_view = await all_pages(client, lesson, an, limit=4)
    assert [m["id"] for m in an_view] == [m["id"] for m in (m1, m2, m3, m4, m5, m6)]  # An's own thread
    binh_view = await all_pages(client, lesson, binh, limit=200)
    assert [m["id"] for m in binh_view] == [m["id"] for m in (m1, m2, m5, m6)]  # not An's
    newest = await (await client.get(f"/api/lessons/{lesson}/chat?limit=1", headers=binh)).json()
    assert [m["id"] for m in newest["messages"]] == [m6["id"]] and newest["next_before"] == m6["id"]
    for bad in ("?limit=0", "?limit=201", "?before=x", "?colour=red"):
        assert (await client.get(f"/api/lessons/{lesson}/chat{bad}", headers=binh)).status == 422

    # RATE_LIMIT messages in ten seconds, then 429 with when to try again (the limit of the lesson page).
    for n in range(RATE_LIMIT - 1):
        await post(client, lesson, binh, f"tin {n}")
    limited = await client.post(f"/api/lessons/{lesson}/chat", headers=binh, json={"text": "tin quá nhiều"})
    assert limited.status == 429 and (await limited.json())["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10


async def test_the_staff_download_the_chat_as_csv_and_xlsx(client: TestClient, demo: DemoSchool,
                                                         login: Login) -> None:
    lesson = demo.lesson_id
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    teacher_id = await user_id(client, teacher)
    await post(client, lesson, an, "=1+1 là mấy ạ?")
    await post(client, lesson, an, "Em hỏi riêng", to=teacher_id)
    for fmt in ("csv", "xlsx"):
        assert (await client.get(f"/api/lessons/{lesson}/chat?format={fmt}", headers=an)).status == 403

    response = await client.get(f"/api/lessons/{lesson}/chat?format=csv", headers=teacher)
    assert response.status == 200 and response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows[0] == ["Thời gian", "Phòng", "Người gửi", "Người nhận", "Nội dung", "Đã xoá", "Người xoá"]
    assert [r[1:] for r in rows[1:]] == [
        ["Cả lớp", "Lê Văn An", "", "'=1+1 là mấy ạ?", "", ""],
        ["Cả lớp", "Lê Văn An", "Nguyễn Thị Lan", "Em hỏi riêng", "", ""]]
    assert rows[1][0].count("/") == 2 and rows[1][0].count(":") == 2  # dd/mm/yyyy hh:mm:ss, the school's time

    response = await client.get(f"/api/lessons/{lesson}/chat?format=xlsx", headers=teacher)
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][4] == "Nội dung" and cells[1][4] == "'=1+1 là mấy ạ?" and cells[2][3] == "Nguyễn Thị Lan"
    assert cells[1][0] == rows[1][0]


async def test_a_post_reaches_the_live_room_and_deleted_texts_are_blanked_for_students(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    lesson = demo.lesson_id
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    live_teacher = LessonClient(live_server.url, lesson, teacher["Authorization"].removeprefix("Bearer "))
    live_binh = LessonClient(live_server.url, lesson, (await login(demo.students[1]))["Authorization"]
                             .removeprefix("Bearer "))
    await live_teacher.connect(auto_subscribe=False)
    await live_binh.connect(auto_subscribe=False)
    try:
        posted = await post(client, lesson, an, "Em vào muộn, gửi từ điện thoại")
        for live in (live_teacher, live_binh):
            heard = await live.next_event("chat", timeout=WAIT)
            assert heard["message"]["id"] == posted["id"] and heard["message"]["text"] == posted["text"]
        # Live, the teacher may allow students to write privately, over REST too.
        await live_teacher.request({"type": "chat_policy", "private_between_students": True})
        binh_id = await user_id(client, await login(demo.students[1]))
        whisper = await post(client, lesson, an, "Bình ơi", to=binh_id)
        assert (await live_binh.next_event("chat", timeout=WAIT))["message"]["id"] == whisper["id"]

        await live_teacher.request({"type": "chat_delete", "message_id": posted["id"]})
        await live_binh.next_event("chat_deleted", timeout=WAIT, message_id=posted["id"])
        mine = await (await client.get(f"/api/lessons/{lesson}/chat", headers=an)).json()
        blank = next(m for m in mine["messages"] if m["id"] == posted["id"])
        assert blank["deleted"] is True and blank["text"] == "" and blank["deleted_by"] is None
        staff = await (await client.get(f"/api/lessons/{lesson}/chat", headers=teacher)).json()
        kept = next(m for m in staff["messages"] if m["id"] == posted["id"])
        assert kept["text"] == posted["text"] and kept["deleted_by"] == await user_id(client, teacher)

        # A stopped student gets 403 over REST as on the lesson page, live or not.
        an_id = await user_id(client, an)
        await live_teacher.request({"type": "chat_block", "user_id": an_id, "blocked": True})
        await post(client, lesson, an, "cho em nói", status=403)
    finally:
        await live_teacher.close()
        await live_binh.close()
    await post(client, lesson, an, "vẫn bị chặn", status=403)  # read back from the activity log


async def test_a_student_of_another_class_gets_403(client: TestClient, admin: dict[str, str], demo: DemoSchool,
                                                   login: Login) -> None:
    made = await client.post("/api/classes", headers=admin, json={"name": "11B2", "grade": 11})
    assert made.status == 201
    stranger = await client.post("/api/users", headers=admin, json={
        "username": "hs.khac", "password": "mat-khau-123", "full_name": "Học Sinh Lớp Khác", "role": "student"})
    assert stranger.status == 201
    enrolled = await client.post(f"/api/classes/{(await made.json())['id']}/students", headers=admin,
                                 json={"user_ids": [(await stranger.json())["id"]]})
    assert enrolled.status == 200
    headers = await login(("hs.khac", "mat-khau-123"))
    lesson = demo.lesson_id
    for path in ("", "?format=csv", "?limit=5"):
        assert (await client.get(f"/api/lessons/{lesson}/chat{path}", headers=headers)).status == 403
    await post(client, lesson, headers, "xin chào", status=403)
    assert (await client.get("/api/lessons/424242/chat", headers=headers)).status == 404

"""The lesson's board over REST: the teacher prepares it before the lesson, students read it only once
published, another class's student is refused; a change made over REST while the lesson is live
reaches everyone in the room; a board is copied from an earlier lesson of the same teacher and
subject, never onto a board that has content."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from school.demo import DemoSchool
from school.models import Lesson
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from web.keys import DATABASE

WAIT = 10.0


def stroke_op(object_id: str, page: str = "p1") -> dict[str, Any]:
    return {"kind": "add", "page": page, "object": {
        "id": object_id, "type": "stroke", "points": [[10, 10, 0.5], [40, 60, 0.7]], "color": "#112233", "width": 4}}


async def change(client: TestClient, lesson_id: int, headers: dict[str, str], op: dict[str, Any],
                 status: int = 201, **extra: Any) -> dict[str, Any]:
    response = await client.post(f"/api/lessons/{lesson_id}/board/ops", headers=headers, json={"op": op, **extra})
    assert response.status == status, await response.text()
    return await response.json()


async def board(client: TestClient, lesson_id: int, headers: dict[str, str], status: int = 200,
                room: str = "main") -> dict[str, Any]:
    response = await client.get(f"/api/lessons/{lesson_id}/board", headers=headers, params={"room": room})
    assert response.status == status, await response.text()
    return await response.json()


async def other_lessons(app: web.Application, demo: DemoSchool) -> tuple[int, int]:
    """A later lesson of the demo class in the same subject, and one in another subject (same teacher)."""
    async with app[DATABASE].session() as session:
        now = await session.get(Lesson, demo.lesson_id)
        assert now is not None
        later = list(await session.scalars(select(Lesson).where(
            Lesson.class_id == now.class_id, Lesson.starts_at > now.starts_at).order_by(Lesson.starts_at)))
    same = next(lesson.id for lesson in later if lesson.subject_id == now.subject_id)
    other = next(lesson.id for lesson in later if lesson.subject_id != now.subject_id)
    return same, other


async def test_prepared_before_the_lesson_read_by_students_only_once_published(
    client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    lesson = demo.lesson_id
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    empty = await board(client, lesson, teacher)
    assert empty == {"board": "main", "pages": [{"id": "p1", "background": {"kind": "blank"}, "height": 900,
                                                 "objects": []}], "current": 0, "shown": False, "seq": 0,
                     "published": False}
    first = await change(client, lesson, teacher, stroke_op("s1"))
    assert first == {"seq": 1, "ops": [stroke_op("s1")]}
    page = {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}}
    assert (await change(client, lesson, admin, page))["seq"] == 2
    assert (await change(client, lesson, teacher, stroke_op("s2", page="p2")))["seq"] == 3
    # A group's board, by the group's name.
    assert (await change(client, lesson, teacher, stroke_op("g"), room="Nhóm 1"))["seq"] == 1

    # Bad operations: typed, nothing written.
    bad = await change(client, lesson, teacher, {"kind": "add", "page": "p1", "object": {"id": "x"}}, status=400)
    assert bad["error"]["code"] == "bad_message"
    missing = await change(client, lesson, teacher, {"kind": "delete", "page": "p1", "ids": ["nope"]}, status=404)
    assert missing["error"]["code"] == "not_found"
    assert (await client.post(f"/api/lessons/{lesson}/board/ops", headers=teacher,
                              json={"op": stroke_op("z"), "extra": 1})).status == 422

    kept = await board(client, lesson, teacher)
    assert kept["seq"] == 3 and [p["id"] for p in kept["pages"]] == ["p1", "p2"]
    assert [o["id"] for o in kept["pages"][1]["objects"]] == ["s2"]
    assert (await board(client, lesson, teacher, room="Nhóm 1"))["pages"][0]["objects"][0]["id"] == "g"

    # Students: not before it is published, never changing it.
    assert (await board(client, lesson, an, status=403))["error"]["code"] == "forbidden"
    await change(client, lesson, an, stroke_op("a"), status=403)
    response = await client.post(f"/api/lessons/{lesson}/board/publish", headers=an, json={"published": True})
    assert response.status == 403
    response = await client.post(f"/api/lessons/{lesson}/board/publish", headers=teacher, json={"published": True})
    assert response.status == 200 and await response.json() == {"room": "main", "published": True}
    seen = await board(client, lesson, an)
    assert seen["published"] is True and seen["pages"] == kept["pages"]
    await board(client, lesson, an, status=403, room="Nhóm 1")  # that board was not published
    response = await client.post(f"/api/lessons/{lesson}/board/publish", headers=admin, json={"published": False})
    assert response.status == 200
    await board(client, lesson, an, status=403)


async def test_another_classs_student_and_another_school_are_refused(
    client: TestClient, admin: dict[str, str], demo: DemoSchool, login: Login,
) -> None:
    made = await client.post("/api/classes", headers=admin, json={"name": "11B2", "grade": 11})
    assert made.status == 201
    stranger = await client.post("/api/users", headers=admin, json={
        "username": "hs.khac", "password": "mat-khau-123", "full_name": "Học Sinh Lớp Khác", "role": "student"})
    assert stranger.status == 201
    enrolled = await client.post(f"/api/classes/{(await made.json())['id']}/students", headers=admin,
                                 json={"user_ids": [(await stranger.json())["id"]]})
    assert enrolled.status == 200
    headers = await login(("hs.khac", "mat-khau-123"))
    lesson, teacher = demo.lesson_id, await login(demo.teacher)
    await client.post(f"/api/lessons/{lesson}/board/publish", headers=teacher, json={"published": True})
    await board(client, lesson, headers, status=403)
    await change(client, lesson, headers, stroke_op("x"), status=403)
    await board(client, 424242, teacher, status=404)


async def test_a_change_over_rest_while_the_lesson_is_live_reaches_the_room(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher = await login(demo.teacher)
    student = LessonClient(live_server.url, demo.lesson_id,
                           (await login(demo.students[0]))["Authorization"].removeprefix("Bearer "))
    await student.connect(auto_subscribe=False)
    try:
        done = await change(client, demo.lesson_id, teacher, stroke_op("rest-1"))
        assert done["seq"] == 1
        event = await student.next_event("board_op", timeout=WAIT)
        assert event["seq"] == 1 and event["board"] == "main" and event["op"] == stroke_op("rest-1")
        live = await board(client, demo.lesson_id, teacher)
        assert live["seq"] == 1 and live["pages"][0]["objects"][0]["id"] == "rest-1"
    finally:
        await student.close()


async def test_a_board_is_copied_from_an_earlier_lesson_of_the_same_teacher_and_subject(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    source = demo.lesson_id
    same, other = await other_lessons(app, demo)
    await change(client, source, teacher, stroke_op("s1"))
    await change(client, source, teacher, {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "lined"}}})
    await change(client, source, teacher, stroke_op("s2", page="p2"))

    async def copy(target: int, headers: dict[str, str], status: int) -> dict[str, Any]:
        response = await client.post(f"/api/lessons/{target}/board/copy", headers=headers,
                                     json={"from_lesson_id": source})
        assert response.status == status, await response.text()
        return await response.json()

    await copy(same, an, 403)
    assert (await copy(other, teacher, 422))["error"]["code"] == "validation_error"
    copied = await copy(same, teacher, 201)
    original = await board(client, source, teacher)
    assert copied["board"] == "main" and copied["pages"] == original["pages"]
    assert (await board(client, same, teacher))["pages"] == original["pages"]
    # Once it has content, it is never copied over.
    assert (await copy(same, teacher, 409))["error"]["code"] == "conflict"
    response = await client.post(f"/api/lessons/{same}/board/copy", headers=teacher, json={"from_lesson_id": 424242})
    assert response.status == 404


async def test_earlier_boards_to_start_from_are_the_teachers_own_of_the_same_subject_with_content(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    teacher, an = await login(demo.teacher), await login(demo.students[0])
    source = demo.lesson_id
    same, other = await other_lessons(app, demo)

    async def sources(target: int, headers: dict[str, str], status: int = 200) -> dict[str, Any]:
        response = await client.get(f"/api/lessons/{target}/board/sources", headers=headers)
        assert response.status == status, await response.text()
        return await response.json()

    assert await sources(same, teacher) == {"lessons": []}  # nothing drawn yet
    await board(client, source, teacher)  # opened, still empty: not offered
    assert await sources(same, teacher) == {"lessons": []}
    await change(client, source, teacher, stroke_op("s1"))
    await change(client, source, teacher, {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}})
    await change(client, other, teacher, stroke_op("o1"))  # another subject: never offered

    offered = (await sources(same, teacher))["lessons"]
    assert [(o["id"], o["class_name"], o["pages"], o["objects"]) for o in offered] == [(source, "10A1", 2, 1)]
    assert offered[0]["title"] and offered[0]["starts_at"]
    assert (await sources(same, admin))["lessons"] == offered
    assert await sources(source, teacher) == {"lessons": []}  # only earlier lessons

    # A student, and a teacher who does not teach the lesson, are refused.
    assert (await sources(same, an, 403))["error"]["code"] == "forbidden"
    made = await client.post("/api/users", headers=admin, json={
        "username": "gv.khac", "password": "mat-khau-123", "full_name": "Giáo Viên Khác", "role": "teacher"})
    assert made.status == 201
    await sources(same, await login(("gv.khac", "mat-khau-123")), 403)
    await sources(424242, teacher, 404)

    # What is offered is what the copy takes.
    copied = await client.post(f"/api/lessons/{same}/board/copy", headers=teacher, json={"from_lesson_id": source})
    assert copied.status == 201
    assert len((await copied.json())["pages"]) == 2


async def test_what_the_lesson_page_offers_to_download(
    client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    lesson = demo.lesson_id
    teacher, an = await login(demo.teacher), await login(demo.students[0])

    async def downloads(headers: dict[str, str], status: int = 200) -> dict[str, Any]:
        response = await client.get(f"/api/lessons/{lesson}/board/downloads", headers=headers)
        assert response.status == status, await response.text()
        return await response.json()

    assert await downloads(teacher) == {"published": False, "pages": 1, "objects": 0}  # never opened
    assert await downloads(an) == {"published": False, "pages": 0, "objects": 0}
    await change(client, lesson, teacher, stroke_op("s1"))
    await change(client, lesson, teacher, {"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}})
    assert await downloads(admin) == {"published": False, "pages": 2, "objects": 1}
    assert await downloads(an) == {"published": False, "pages": 0, "objects": 0}  # nothing told before
    await client.post(f"/api/lessons/{lesson}/board/publish", headers=teacher, json={"published": True})
    assert await downloads(an) == {"published": True, "pages": 2, "objects": 1}
    made = await client.post("/api/users", headers=admin, json={
        "username": "gv.khac", "password": "mat-khau-123", "full_name": "Giáo Viên Khác", "role": "teacher"})
    assert made.status == 201
    await downloads(await login(("gv.khac", "mat-khau-123")), 403)

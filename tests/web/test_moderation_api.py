"""The lesson's end over REST: who may end or extend it, what the lesson then says, and the
school's grace after a lesson's end."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.async_api import expect
from sqlalchemy import select

from classroom.activity import LessonActivity
from school.demo import DemoSchool
from tests.browser import open_browser_page
from tests.conftest import LiveServer, Login
from tests.web.test_pages_browser import sign_in
from web.keys import DATABASE


async def lesson_of(client: TestClient, lesson_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/api/lessons/{lesson_id}", headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_lesson_says_when_its_room_closes_and_the_grace_is_the_schools(
    client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    student = await login(demo.students[0])
    lesson = await lesson_of(client, demo.lesson_id, student)
    ends_at = datetime.fromisoformat(lesson["ends_at"])
    assert datetime.fromisoformat(lesson["closes_at"]) == ends_at + timedelta(minutes=15)
    assert lesson["ended_at"] is None and lesson["live_open"] is True
    mine = await (await client.get("/api/me/lessons", headers=student)).json()
    assert any(item["id"] == demo.lesson_id and item["live_open"] for item in mine["items"])

    assert (await (await client.get("/api/school/lesson-settings", headers=student)).json()) == {
        "lesson_grace_minutes": 15}
    teacher = await login(demo.teacher)
    refused = await client.put("/api/school/lesson-settings", headers=teacher, json={"lesson_grace_minutes": 5})
    assert refused.status == 403
    for bad in (-1, 121, "5", None):
        response = await client.put("/api/school/lesson-settings", headers=admin, json={"lesson_grace_minutes": bad})
        assert response.status == 422, bad
    response = await client.put("/api/school/lesson-settings", headers=admin, json={"lesson_grace_minutes": 30})
    assert response.status == 200
    lesson = await lesson_of(client, demo.lesson_id, student)
    assert datetime.fromisoformat(lesson["closes_at"]) == ends_at + timedelta(minutes=30)


async def test_the_teacher_extends_and_ends_the_lesson_and_students_may_not(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    student, teacher = await login(demo.students[0]), await login(demo.teacher)
    url = f"/api/lessons/{demo.lesson_id}"
    for path, body in (("/end", None), ("/extend", {"minutes": 10})):
        response = await client.post(url + path, headers=student, json=body)
        assert response.status == 403, path
    for bad in ({"minutes": 4}, {"minutes": 121}, {"minutes": "10"}, {"minutes": 10, "x": 1}, {}):
        response = await client.post(url + "/extend", headers=teacher, json=bad)
        assert response.status == 422, bad

    before = datetime.fromisoformat((await lesson_of(client, demo.lesson_id, teacher))["closes_at"])
    response = await client.post(url + "/extend", headers=teacher, json={"minutes": 20})
    assert response.status == 200, await response.text()
    assert datetime.fromisoformat((await response.json())["closes_at"]) == before + timedelta(minutes=20)
    lesson = await lesson_of(client, demo.lesson_id, student)
    assert datetime.fromisoformat(lesson["closes_at"]) == before + timedelta(minutes=20)

    response = await client.post(url + "/end", headers=teacher)
    assert response.status == 200, await response.text()
    assert (await response.json())["ended_at"] is not None
    for who in (student, teacher, admin):
        lesson = await lesson_of(client, demo.lesson_id, who)
        assert lesson["ended_at"] is not None and lesson["live_open"] is False
    again = await client.post(url + "/end", headers=admin)
    assert again.status == 409 and (await again.json())["error"]["code"] == "lesson_ended"
    late = await client.post(url + "/extend", headers=teacher, json={"minutes": 10})
    assert late.status == 409
    token = await client.post(url + "/media-token", headers=student)
    assert token.status == 409 and (await token.json())["error"]["code"] == "lesson_ended"
    async with app[DATABASE].session() as session:
        kinds = list(await session.scalars(select(LessonActivity.kind).where(
            LessonActivity.lesson_id == demo.lesson_id).order_by(LessonActivity.id)))
    assert kinds == ["extended", "ended"]


async def test_a_student_of_another_class_is_refused(
    client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    created = await client.post("/api/users", headers=admin, json={
        "username": "hs.khac", "password": "another-pass-1", "full_name": "Học sinh lớp khác", "role": "student"})
    assert created.status == 201, await created.text()
    outsider = await login(("hs.khac", "another-pass-1"))
    url = f"/api/lessons/{demo.lesson_id}"
    assert (await client.get(url, headers=outsider)).status == 403
    assert (await client.post(url + "/end", headers=outsider)).status == 403
    assert (await client.post(url + "/media-token", headers=outsider)).status == 403
    lesson = await lesson_of(client, demo.lesson_id, admin)
    assert lesson["ended_at"] is None


async def test_the_lesson_page_follows_the_servers_word_and_links_to_attendance_and_recordings(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    async with open_browser_page() as browser:
        page = browser.page
        await sign_in(page, live_server, demo.teacher)
        await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}")
        await expect(page.locator("#join")).to_be_enabled()
        await expect(page.locator("#lesson-attendance-link")).to_have_attribute(
            "href", f"/lessons/{demo.lesson_id}/attendance")
        href = await page.locator("#lesson-recordings-link").get_attribute("href")
        assert href is not None and href.startswith("/recordings?class_id=")
        response = await client.post(f"/api/lessons/{demo.lesson_id}/end", headers=await login(demo.teacher))
        assert response.status == 200
        await page.reload()
        await expect(page.locator("#join")).to_be_disabled()
        await expect(page.locator("#join-note")).to_contain_text("Tiết học đã kết thúc lúc")
        browser.assert_no_errors()

"""A lesson's questions over REST: who sees which, the staff's downloads, and the refusals."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from classroom.questions import Question, add_question, save_state, set_vote
from school.demo import DemoSchool
from school.models import Lesson, Role, User
from school.passwords import hash_password
from school.structure import create_school
from tests.conftest import Login
from web.keys import DATABASE


async def students_of(client: TestClient, admin: dict[str, str], class_id: int) -> dict[str, int]:
    items = (await (await client.get(f"/api/users?class_id={class_id}", headers=admin)).json())["items"]
    return {u["username"]: u["id"] for u in items}


async def seed_questions(app: web.Application, lesson_id: int, an: int, binh: int) -> dict[str, int]:
    """An's open question voted by Bình, and Bình's question hidden by the teacher."""
    db = app[DATABASE]
    async with db.session() as session:
        school_id = (await session.get(Lesson, lesson_id)).school_id  # type: ignore[union-attr]
    at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)

    async def write(session: AsyncSession) -> dict[str, int]:
        first = await add_question(session, school_id=school_id, lesson_id=lesson_id, author_id=an,
                                   text="=SUM(A1) <b>vì sao?</b>", at=at)
        second = await add_question(session, school_id=school_id, lesson_id=lesson_id, author_id=binh,
                                    text="Câu bị ẩn", at=at + timedelta(minutes=1))
        await set_vote(session, first, binh, True, at)
        await save_state(session, Question(second, binh, "", "Câu bị ẩn", at, status="hidden"))
        await save_state(session, Question(first, an, "", "", at, status="answered", answer="Vì thế.",
                                           answered_live=True, answered_by=None, answered_at=at))
        return {"first": first, "second": second}

    return await db.writer.write(write)


async def test_students_see_what_is_not_hidden_and_staff_see_and_download_all(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str]
) -> None:
    users = await students_of(client, admin, demo.class_id)
    ids = await seed_questions(app, demo.lesson_id, users["hs.an"], users["hs.binh"])
    url = f"/api/lessons/{demo.lesson_id}/questions"

    an = await (await client.get(url, headers=await login(demo.students[0]))).json()
    assert [(q["id"], q["votes"], q["status"], q["answer"], q["answered_live"], q["author_name"])
            for q in an["questions"]] == [(ids["first"], 1, "answered", "Vì thế.", True, "Lê Văn An")]
    assert an["questions"][0]["text"] == "=SUM(A1) <b>vì sao?</b>"
    binh = await (await client.get(url, headers=await login(demo.students[1]))).json()
    assert [q["id"] for q in binh["questions"]] == [ids["first"], ids["second"]]  # their own hidden one too
    for staff in (await login(demo.teacher), admin):
        listed = await (await client.get(url, headers=staff)).json()
        assert [q["status"] for q in listed["questions"]] == ["answered", "hidden"]

    download = await client.get(url + "?format=csv", headers=await login(demo.teacher))
    assert download.status == 200 and download.content_type == "text/csv"
    table = list(csv.reader(io.StringIO((await download.text()).lstrip("\ufeff"))))
    assert table[0][:5] == ["id", "at", "author_id", "author", "text"]
    assert [row[4] for row in table[1:]] == ["'=SUM(A1) <b>vì sao?</b>", "Câu bị ẩn"]  # never a formula
    book = await client.get(url + "?format=xlsx", headers=admin)
    assert book.status == 200
    sheet = load_workbook(io.BytesIO(await book.read())).active
    assert [row[6] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["answered", "hidden"]

    student_download = await client.get(url + "?format=csv", headers=await login(demo.students[0]))
    assert student_download.status == 403
    assert (await client.get(url + "?format=pdf", headers=admin)).status == 422
    assert (await client.get(url + "?sort=votes", headers=admin)).status == 422


async def test_outsiders_are_refused(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str]
) -> None:
    url = f"/api/lessons/{demo.lesson_id}/questions"
    other = await client.post("/api/classes", headers=admin, json={"name": "11B2", "grade": 11})
    assert other.status == 201
    made = await client.post("/api/users", headers=admin, json={
        "username": "hs.khac", "password": "mat-khau-123", "full_name": "Học Sinh Lớp Khác", "role": "student"})
    assert made.status == 201
    enrolled = await client.post(f"/api/classes/{(await other.json())['id']}/students", headers=admin,
                                 json={"user_ids": [(await made.json())["id"]]})
    assert enrolled.status == 200
    outsider = await login(("hs.khac", "mat-khau-123"))
    assert (await client.get(url, headers=outsider)).status == 403

    password_hash = await hash_password("admin2-password")
    async with app[DATABASE].session() as session:
        school = await create_school(session, "Trường khác")
        session.add(User(school_id=school.id, username="admin2", full_name="Quản trị 2", role=Role.admin,
                         password_hash=password_hash))
    assert (await client.get(url, headers=await login(("admin2", "admin2-password")))).status == 404
    assert (await client.get("/api/lessons/4242/questions", headers=admin)).status == 404
    client.session.cookie_jar.clear()  # signed out
    assert (await client.get(url)).status == 401

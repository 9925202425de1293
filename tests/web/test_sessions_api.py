"""Sign-ins as rows: signing out, listing and ending one's sign-ins, a password change, media
tokens tied to their sign-in, and tokens whose subject is out of range."""
from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from school.demo import DemoSchool
from school.sessions import AuthSession
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer
from web.keys import DATABASE, SIGNER


async def sign_in(client: TestClient, who: Any, agent: str = "pytest") -> dict[str, Any]:
    response = await client.post("/api/auth/login", json={"username": who.username, "password": who.password},
                                 headers={"User-Agent": agent})
    assert response.status == 200, await response.text()
    return await response.json()


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['token']}"}


async def test_sign_out_ends_the_token_at_once(client, demo):
    body = await sign_in(client, demo.teacher)
    client.session.cookie_jar.clear()  # the bearer token alone
    assert (await client.get("/api/me", headers=bearer(body))).status == 200
    assert (await client.post("/api/auth/logout", headers=bearer(body))).status == 204
    after = await client.get("/api/me", headers=bearer(body))
    assert after.status == 401
    assert (await after.json())["error"]["message"] == "signed out: this sign-in has ended"


async def test_sign_out_ends_the_cookie_session_even_if_the_cookie_is_replayed(client, demo):
    body = await sign_in(client, demo.admin)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["lophoc_session"].value
    assert (await client.post("/api/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})).status == 204
    replayed = await client.get("/api/me", headers={"Cookie": f"lophoc_session={cookie}"})
    assert replayed.status == 401


async def test_the_sign_ins_are_listed_and_one_is_ended_from_another(client, demo):
    phone = await sign_in(client, demo.teacher, "Phone/1.0")
    laptop = await sign_in(client, demo.teacher, "Laptop/2.0\t" + "x" * 300)
    client.session.cookie_jar.clear()
    listed = await client.get("/api/auth/sessions", headers=bearer(phone))
    assert listed.status == 200
    items = (await listed.json())["items"]
    laptop_agent = ("Laptop/2.0" + "x" * 300)[:200]  # the tab dropped, cut at 200
    assert [(i["user_agent"], i["current"]) for i in items] == [("Phone/1.0", True), (laptop_agent, False)]
    assert all(i["created_at"] and i["last_used_at"] for i in items)
    laptop_id = items[1]["id"]
    assert (await client.delete(f"/api/auth/sessions/{laptop_id}", headers=bearer(phone))).status == 204
    assert (await client.get("/api/me", headers=bearer(laptop))).status == 401
    assert (await client.get("/api/me", headers=bearer(phone))).status == 200
    again = await client.delete(f"/api/auth/sessions/{laptop_id}", headers=bearer(phone))
    assert again.status == 404
    assert [i["id"] for i in (await (await client.get("/api/auth/sessions", headers=bearer(phone))).json())["items"]] \
        == [items[0]["id"]]


async def test_someone_elses_sign_in_can_neither_be_seen_nor_ended(client, demo):
    teacher = await sign_in(client, demo.teacher)
    student = await sign_in(client, demo.students[0])
    client.session.cookie_jar.clear()
    theirs = (await (await client.get("/api/auth/sessions", headers=bearer(teacher))).json())["items"][0]["id"]
    mine = (await (await client.get("/api/auth/sessions", headers=bearer(student))).json())["items"]
    assert theirs not in [i["id"] for i in mine]
    refused = await client.delete(f"/api/auth/sessions/{theirs}", headers=bearer(student))
    assert refused.status == 404
    assert (await client.get("/api/me", headers=bearer(teacher))).status == 200


async def test_a_password_change_ends_the_other_sign_ins(client, demo):
    here = await sign_in(client, demo.students[1])
    there = await sign_in(client, demo.students[1])
    client.session.cookie_jar.clear()
    wrong = await client.post("/api/auth/password", headers=bearer(here),
                              json={"current_password": "not-it-at-all", "new_password": "mat-khau-moi-99"})
    assert wrong.status == 422
    assert (await wrong.json())["error"]["fields"][0]["field"] == "current_password"
    assert (await client.get("/api/me", headers=bearer(there))).status == 200
    short = await client.post("/api/auth/password", headers=bearer(here),
                              json={"current_password": demo.students[1].password, "new_password": "short"})
    assert short.status == 422
    changed = await client.post("/api/auth/password", headers=bearer(here),
                                json={"current_password": demo.students[1].password, "new_password": "mat-khau-moi-99"})
    assert changed.status == 204, await changed.text()
    assert (await client.get("/api/me", headers=bearer(there))).status == 401
    assert (await client.get("/api/me", headers=bearer(here))).status == 200
    old = await client.post("/api/auth/login", json={"username": demo.students[1].username,
                                                      "password": demo.students[1].password})
    assert old.status == 401
    new = await client.post("/api/auth/login", json={"username": demo.students[1].username,
                                                      "password": "mat-khau-moi-99"})
    assert new.status == 200


async def test_a_media_token_ends_with_its_sign_in(live_server: LiveServer, client, demo: DemoSchool):
    body = await sign_in(client, demo.teacher)
    client.session.cookie_jar.clear()
    media = await client.post(f"/api/lessons/{demo.lesson_id}/media-token", headers=bearer(body))
    assert media.status == 200
    token = (await media.json())["token"]
    assert (await client.post("/api/auth/logout", headers=bearer(body))).status == 204
    lesson_client = LessonClient(live_server.url, demo.lesson_id, token)
    try:
        with pytest.raises(ProtocolError) as refused:
            await lesson_client.connect()
        assert refused.value.code == "not_authenticated"
    finally:
        await lesson_client.close()


async def test_a_media_token_of_a_live_sign_in_still_joins(live_server: LiveServer, client, demo: DemoSchool):
    body = await sign_in(client, demo.teacher)
    media = await client.post(f"/api/lessons/{demo.lesson_id}/media-token", headers=bearer(body))
    token = (await media.json())["token"]
    lesson_client = LessonClient(live_server.url, demo.lesson_id, token)
    try:
        joined = await lesson_client.connect(auto_subscribe=False)
        assert joined["type"] == "joined"
    finally:
        await lesson_client.close()


@pytest.mark.parametrize("subject", [2**31, 2**63, -1, 0])
async def test_a_token_whose_subject_is_out_of_range_is_401(client, app, demo, subject):
    token, _ = app[SIGNER].issue(subject)
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401
    assert (await response.json())["error"]["message"] == "invalid token subject"


async def test_a_token_made_without_a_sign_in_is_refused(client, app, demo):
    body = await sign_in(client, demo.teacher)
    client.session.cookie_jar.clear()
    token, _ = app[SIGNER].issue(body["user"]["id"])  # signed with the right key, but no sign-in row
    assert (await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status == 401


async def test_expired_sign_ins_of_a_user_are_cleared_when_they_sign_in(client, app, demo):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    first = await sign_in(client, demo.students[2])
    async with app[DATABASE].session() as session:
        await session.execute(update(AuthSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    client.session.cookie_jar.clear()
    assert (await client.get("/api/me", headers=bearer(first))).status == 401
    await sign_in(client, demo.students[2])
    async with app[DATABASE].session() as session:
        rows = await session.scalar(select(func.count()).select_from(AuthSession))
    assert rows == 1


async def test_last_used_is_written_after_the_request_not_inside_it(client, app, demo):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from tests.waiting import until

    body = await sign_in(client, demo.teacher)
    client.session.cookie_jar.clear()
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    async with app[DATABASE].session() as session:
        await session.execute(update(AuthSession).values(last_used_at=long_ago))
    assert (await client.get("/api/me", headers=bearer(body))).status == 200  # db_strict: nothing held

    async def touched() -> bool:
        async with app[DATABASE].session() as session:
            return await session.scalar(select(AuthSession.last_used_at)) > long_ago

    await until("last_used_at written", touched)
    listed = (await (await client.get("/api/auth/sessions", headers=bearer(body))).json())["items"]
    assert datetime.fromisoformat(listed[0]["last_used_at"]) > long_ago

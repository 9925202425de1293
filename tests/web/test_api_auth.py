"""Sign-in, tokens, cookie sessions with CSRF, and the refusals around them."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from school.models import Role, School, User
from school.passwords import hash_password, needs_rehash
from school.tokens import TokenSigner
from tests.conftest import ADMIN_PASSWORD
from tests.servers import postgres_cluster, postgres_url  # noqa: F401
from web.app import create_app
from web.config import Config
from web.keys import DATABASE, SIGNER


async def test_login_returns_a_token_that_works_as_bearer_on_every_endpoint(client, demo):
    response = await client.post("/api/auth/login", json={"username": demo.teacher.username,
                                                           "password": demo.teacher.password})
    assert response.status == 200
    body = await response.json()
    assert body["user"] == {"id": body["user"]["id"], "username": "gv.lan", "full_name": "Nguyễn Thị Lan",
                            "role": "teacher", "class_id": None, "class_name": None, "is_active": True,
                            "must_change_password": False}
    assert body["token"] and body["csrf_token"] and body["expires_at"]
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status == 200
    assert (await me.json())["school"]["timezone"] == "Asia/Ho_Chi_Minh"


async def test_student_login_names_their_class(client, demo):
    response = await client.post("/api/auth/login", json={"username": demo.students[0].username,
                                                           "password": demo.students[0].password})
    user = (await response.json())["user"]
    assert (user["role"], user["class_id"], user["class_name"]) == ("student", demo.class_id, "10A1")


async def test_usernames_are_case_insensitive_at_sign_in(client, demo):
    response = await client.post("/api/auth/login", json={"username": "GV.LAN", "password": demo.teacher.password})
    assert response.status == 200


async def test_wrong_password_and_unknown_user_are_the_same_401(client, demo):
    wrong = await client.post("/api/auth/login", json={"username": "gv.lan", "password": "nope-nope"})
    unknown = await client.post("/api/auth/login", json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status == unknown.status == 401
    assert (await wrong.json()) == (await unknown.json()) == {
        "error": {"code": "invalid_credentials", "message": "wrong username or password"}}


async def test_login_body_is_validated(client):
    missing = await client.post("/api/auth/login", json={"username": "admin"})
    assert missing.status == 422
    assert (await missing.json())["error"]["fields"][0]["field"] == "password"
    extra = await client.post("/api/auth/login", json={"username": "a", "password": "b", "role": "admin"})
    assert extra.status == 422
    assert (await extra.json())["error"]["fields"][0]["field"] == "role"
    not_json = await client.post("/api/auth/login", data=b"{oops", headers={"Content-Type": "application/json"})
    assert not_json.status == 400
    assert (await not_json.json())["error"]["code"] == "bad_request"
    form = await client.post("/api/auth/login", data={"username": "a", "password": "b"})
    assert form.status == 415


async def test_every_protected_endpoint_refuses_a_missing_or_bad_token(client):
    for path in ("/api/me", "/api/users", "/api/classes", "/api/lessons", "/api/me/lessons", "/api/subjects"):
        none = await client.get(path)
        assert none.status == 401, path
        assert (await none.json())["error"]["code"] == "not_authenticated"
        forged = await client.get(path, headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
        assert forged.status == 401, path
        basic = await client.get(path, headers={"Authorization": "Basic YWRtaW46eA=="})
        assert basic.status == 401, path


async def test_an_expired_token_is_refused(client, app, demo):
    user_id = (await (await client.post("/api/auth/login", json={
        "username": demo.teacher.username, "password": demo.teacher.password})).json())["user"]["id"]
    token, _ = app[SIGNER].issue(user_id, ttl=timedelta(seconds=-1))
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401
    assert (await response.json())["error"]["message"] == "token expired"


async def test_a_token_signed_with_another_key_is_refused(client, demo, tmp_path):
    other = TokenSigner(b"x" * 32, timedelta(hours=1))
    token, _ = other.issue(1)
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401


async def test_the_secret_key_persists_in_the_data_dir_so_tokens_survive_a_restart(tmp_path):
    config = Config(data_dir=tmp_path)
    first = config.secret_key()
    assert first == Config(data_dir=tmp_path).secret_key()
    assert len(first) >= 32
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"


async def test_cookie_session_requires_the_csrf_header_on_unsafe_requests(client, demo):
    response = await client.post("/api/auth/login", json={"username": demo.admin.username,
                                                           "password": demo.admin.password})
    csrf = (await response.json())["csrf_token"]
    cookies = {c.key: c for c in client.session.cookie_jar}
    assert cookies["lophoc_session"]["httponly"]
    assert cookies["lophoc_session"]["samesite"] == "Strict"
    assert cookies["lophoc_csrf"].value == csrf
    # Reading with the cookie alone works.
    assert (await client.get("/api/me")).status == 200
    # Writing without the header is refused, and nothing is written.
    refused = await client.post("/api/subjects", json={"name": "Vật lý"})
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "csrf_failed"
    wrong = await client.post("/api/subjects", json={"name": "Vật lý"}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status == 403
    names = [s["name"] for s in (await (await client.get("/api/subjects")).json())["items"]]
    assert "Vật lý" not in names
    accepted = await client.post("/api/subjects", json={"name": "Vật lý"}, headers={"X-CSRF-Token": csrf})
    assert accepted.status == 201


async def test_logout_clears_the_session_cookies(client, demo):
    login = await client.post("/api/auth/login", json={"username": demo.admin.username,
                                                        "password": demo.admin.password})
    csrf = (await login.json())["csrf_token"]
    out = await client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status == 204
    assert (await client.get("/api/me")).status == 401


async def test_bootstrap_admin_exists_with_the_configured_password(client, admin):
    me = await (await client.get("/api/me", headers=admin)).json()
    assert me["user"]["username"] == "admin"
    assert me["user"]["role"] == "admin"


async def test_repeated_failures_are_rate_limited(client):
    statuses = []
    for _ in range(6):
        r = await client.post("/api/auth/login", json={"username": "admin", "password": "wrong-password"})
        statuses.append(r.status)
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    blocked = await client.post("/api/auth/login", json={"username": "admin", "password": "admin-password-1"})
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0


async def test_an_old_password_hash_is_renewed_at_sign_in(client, app):
    """A hash made with weaker settings is re-hashed with today's, outside any unit of work."""
    old_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("mat-khau-cu-1")
    assert needs_rehash(old_hash)
    async with app[DATABASE].session() as session:
        school_id = await session.scalar(select(School.id))
        session.add(User(school_id=school_id, username="gv.cu", full_name="Giáo viên cũ", role=Role.teacher,
                         password_hash=old_hash))
    first = await client.post("/api/auth/login", json={"username": "gv.cu", "password": "mat-khau-cu-1"})
    assert first.status == 200, await first.text()
    async with app[DATABASE].session() as session:
        renewed = await session.scalar(select(User.password_hash).where(User.username == "gv.cu"))
    assert renewed != old_hash and not needs_rehash(renewed)
    again = await client.post("/api/auth/login", json={"username": "gv.cu", "password": "mat-khau-cu-1"})
    assert again.status == 200
    assert app[DATABASE].engine.pool.checkedout() == 0


CLASS_SIZE = 40


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_whole_class_signing_in_at_the_bell_is_answered(backend, request, tmp_path, aiohttp_client):
    """Forty sign-ins at once, each with the production password hash, through a pool ten times
    smaller than the class: no connection is held across hashing, so none waits long for one."""
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    app = create_app(Config(data_dir=tmp_path / "data", database_url=url, admin_password=ADMIN_PASSWORD,
                            db_strict=True, db_pool_size=CLASS_SIZE // 10, db_max_overflow=0, db_pool_timeout=15))
    client = await aiohttp_client(app)
    password = "mat-khau-lop-10a1"
    password_hash = await hash_password(password)  # once, before the unit of work
    names = [f"hs.{n:02d}" for n in range(CLASS_SIZE)]
    async with app[DATABASE].session() as session:
        school_id = await session.scalar(select(School.id))
        session.add_all(User(school_id=school_id, username=name, full_name=f"Học sinh {name}", role=Role.student,
                             password_hash=password_hash) for name in names)

    responses = await asyncio.gather(*(client.post("/api/auth/login", json={"username": name, "password": password})
                                       for name in names))
    assert [r.status for r in responses] == [200] * CLASS_SIZE, [await r.text() for r in responses if r.status != 200]
    assert sorted([(await r.json())["user"]["username"] for r in responses]) == names

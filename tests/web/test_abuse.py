"""Hostile input and hostile sign-ins: limits no stranger can turn against an account's owner,
strict body types, bounded dates, control characters and NUL refused, safe download names, and
/metrics for the monitoring system only."""
from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from school.models import SchoolClass, Subject, User
from tests.conftest import ADMIN_PASSWORD
from tests.servers import postgres_cluster, postgres_url, redis_server  # noqa: F401
from web.app import create_app
from web.config import Config
from web.keys import DATABASE
from web.ratelimit import Backoff, Failures, MemoryRateLimiter, RedisRateLimiter
from web.tables import export


async def other_browser(client: Any) -> aiohttp.ClientSession:
    """A second browser at the same address (127.0.0.1, like a school's NAT): its own cookies."""
    return aiohttp.ClientSession(base_url=str(client.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True))


async def login(session: Any, username: str, password: str) -> Any:
    return await session.post("/api/auth/login", json={"username": username, "password": password})


# --- sign-in limits ---------------------------------------------------------------------------
def test_the_backoff_doubles_from_one_second_after_the_free_failures_and_is_capped():
    backoff = Backoff(free=5, base=1.0, cap=300.0)
    assert [backoff.delay(n) for n in range(4, 15)] == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert backoff.delay(10_000) == 300
    assert backoff.wait(Failures(6, last=1000.0), now=1001.5) == 0.5
    assert backoff.wait(Failures(6, last=1000.0), now=1003.0) == 0
    assert backoff.wait(Failures()) == 0


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_both_limiters_count_and_forget(backend, request):
    from datetime import timedelta

    import redis.asyncio as aioredis

    if backend == "redis":
        limiter: Any = RedisRateLimiter(aioredis.Redis.from_url(request.getfixturevalue("redis_server")),
                                        timedelta(hours=1))
    else:
        limiter = MemoryRateLimiter(timedelta(hours=1))
    try:
        assert (await limiter.failures("acct:x")).count == 0
        for n in range(1, 4):
            assert (await limiter.fail("acct:x")).count == n
        got = await limiter.failures("acct:x")
        assert got.count == 3 and got.last > 0
        assert (await limiter.failures("acct:y")).count == 0
        await limiter.clear("acct:x")
        assert (await limiter.failures("acct:x")).count == 0
    finally:
        await limiter.close()


@pytest.fixture(params=["memory", "redis"])
async def strict_limits(request, tmp_path, aiohttp_client):
    """An app with small budgets: 3 failures per account, 4 per address, then a doubling wait."""
    url = request.getfixturevalue("redis_server") if request.param == "redis" else None
    app = create_app(Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, db_strict=True,
                            redis_url=url, login_attempts=3, login_address_attempts=4))
    client = await aiohttp_client(app)
    from school.demo import seed_demo

    demo = await seed_demo(app[DATABASE])
    return client, demo


async def test_a_stranger_cannot_lock_the_owner_out_of_their_usual_browser(strict_limits):
    client, demo = strict_limits
    teacher = demo.teacher
    # The owner signed in from this browser before: it carries a device cookie naming the account.
    assert (await login(client, teacher.username, teacher.password)).status == 200
    async with await other_browser(client) as attacker:
        statuses = [(await login(attacker, teacher.username, f"guess-{n}")).status for n in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        refused = await login(attacker, teacher.username, teacher.password)
        assert refused.status == 429  # refused before the check: a 429 says nothing of the password
        assert int(refused.headers["Retry-After"]) >= 1
        assert (await refused.json())["error"]["code"] == "rate_limited"
    # Same address, the account under attack: the owner's browser still signs in.
    owner = await login(client, teacher.username, teacher.password)
    assert owner.status == 200


async def test_a_forged_device_cookie_earns_no_trust(strict_limits):
    client, demo = strict_limits
    student = demo.students[0]
    async with await other_browser(client) as attacker:
        for _ in range(3):
            assert (await login(attacker, student.username, "wrong-password")).status == 401
        attacker.cookie_jar.update_cookies({"lophoc_device": "eyJhbGciOiJIUzI1NiJ9.e30.forged"},
                                           response_url=client.make_url("/api/auth"))
        assert (await login(attacker, student.username, student.password)).status == 429


async def test_a_device_trusted_for_one_account_is_not_trusted_for_another(strict_limits):
    client, demo = strict_limits
    mine, theirs = demo.students[0], demo.students[1]
    assert (await login(client, mine.username, mine.password)).status == 200
    for _ in range(3):
        assert (await login(client, theirs.username, "wrong-password")).status == 401
    assert (await login(client, theirs.username, theirs.password)).status == 429
    assert (await login(client, mine.username, mine.password)).status == 200


async def test_the_owners_own_failures_slow_only_their_browser(strict_limits):
    client, demo = strict_limits
    student = demo.students[2]
    assert (await login(client, student.username, student.password)).status == 200
    statuses = [(await login(client, student.username, "typo-typo")).status for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    async with await other_browser(client) as elsewhere:  # the account's own count is untouched
        assert (await login(elsewhere, student.username, student.password)).status == 200


async def test_password_spraying_from_one_address_is_slowed(strict_limits):
    client, demo = strict_limits
    names = [s.username for s in demo.students] + [demo.teacher.username, "nobody-1", "nobody-2"]
    async with await other_browser(client) as sprayer:
        statuses = [(await login(sprayer, name, "Matkhau@123")).status for name in names]
    # One try per account (no account's own budget is reached), yet the address's is.
    assert statuses[:4] == [401] * 4
    assert set(statuses[4:]) == {429}
    # An owner whose browser knows the account is not held back by the address's count.
    assert (await login(client, demo.admin.username, demo.admin.password)).status == 429
    async with await other_browser(client) as fresh:
        assert (await login(fresh, demo.admin.username, demo.admin.password)).status == 429


async def test_a_success_resets_the_accounts_count_but_not_the_addresses(strict_limits):
    client, demo = strict_limits
    student = demo.students[3]
    async with await other_browser(client) as browser:
        for _ in range(2):
            assert (await login(browser, student.username, "wrong-password")).status == 401
        assert (await login(browser, student.username, student.password)).status == 200
        browser.cookie_jar.clear()
        # The account starts again (two more failures do not reach its three), but the address
        # has now counted four failures.
        assert (await login(browser, student.username, "wrong-password")).status == 401
        assert (await login(browser, student.username, "wrong-password")).status == 401
        assert (await login(browser, student.username, student.password)).status == 429


# --- strict bodies ----------------------------------------------------------------------------
async def test_booleans_strings_and_numbers_are_not_ids_dates_or_times(client, admin, demo):
    enrolled = await client.post("/api/users", headers=admin, json={
        "username": "hs.true", "password": "mat-khau-123", "full_name": "Học Sinh", "role": "student",
        "class_id": True})
    assert enrolled.status == 422
    assert (await enrolled.json())["error"]["fields"][0]["field"] == "class_id"
    as_text = await client.post("/api/users", headers=admin, json={
        "username": "hs.text", "password": "mat-khau-123", "full_name": "Học Sinh", "role": "student",
        "class_id": str(demo.class_id)})
    assert as_text.status == 422
    async with client.app[DATABASE].session() as session:
        assert await session.scalar(select(User.id).where(User.username.in_(["hs.true", "hs.text"]))) is None
    epoch = await client.post("/api/school-years", headers=admin, json={
        "name": "2030-2031", "starts_on": 0, "ends_on": "2031-05-31"})
    assert epoch.status == 422
    assert (await epoch.json())["error"]["fields"][0]["field"] == "starts_on"
    grade = await client.post("/api/classes", headers=admin, json={"name": "12C9", "grade": 12.0})
    assert grade.status == 422
    lesson = {"class_id": demo.class_id, "subject_id": 1, "teacher_id": 2, "title": "Toán",
              "starts_at": 1893456000, "ends_at": 1893458700}
    times = await client.post("/api/lessons", headers=admin, json=lesson)
    assert times.status == 422
    assert {f["field"] for f in (await times.json())["error"]["fields"]} == {"starts_at", "ends_at"}


# --- dates out of range -----------------------------------------------------------------------
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01"])
async def test_dates_out_of_range_are_422_everywhere(client, admin, demo, day):
    for path in ("/api/lessons", "/api/me/lessons", "/api/reports/attendance", "/api/recordings"):
        for name in ("from", "to"):
            response = await client.get(path, headers=admin, params={name: day})
            assert response.status == 422, (path, name, await response.text())
            assert (await response.json())["error"]["fields"][0]["field"] == name
        timed = await client.get(path, headers=admin, params={"from": f"{day}T23:59:59+14:00"})
        assert timed.status == 422, path
    year = await client.post("/api/school-years", headers=admin, json={
        "name": "2030-2031", "starts_on": day, "ends_on": "2031-05-31" if day < "2031" else day})
    assert year.status == 422
    lesson = await client.post("/api/lessons", headers=admin, json={
        "class_id": demo.class_id, "subject_id": 1, "teacher_id": 2, "title": "Toán",
        "starts_at": f"{day}T07:00:00", "ends_at": f"{day}T07:45:00"})
    assert lesson.status == 422


async def test_dates_at_the_bounds_are_answered(client, admin):
    for path in ("/api/lessons", "/api/me/lessons", "/api/reports/attendance", "/api/recordings"):
        for params in ({"from": "1900-01-01", "to": "1900-01-31"}, {"from": "2200-12-01", "to": "2200-12-31"},
                       {"from": "1900-01-01"}, {"to": "2200-12-31"}, {"from": "1900-01-01T00:00:00-12:00"},
                       {"to": "2200-12-31T23:59:59+14:00"}, {"from": "2200-12-31T23:59:59-12:00"}):
            response = await client.get(path, headers=admin, params=params)
            assert response.status == 200, (path, params, await response.text())


# --- control characters, NUL, download names ----------------------------------------------------
@pytest.mark.parametrize("name", ["10A\r\n2", "10A\t2", "10A\x002", "10A\u202e2", "10A\x7f2"])
async def test_control_characters_are_refused_in_names(client, admin, name):
    response = await client.post("/api/classes", headers=admin, json={"name": name, "grade": 10})
    assert response.status == 422
    assert (await response.json())["error"]["fields"][0]["field"] == "name"
    subject = await client.post("/api/subjects", headers=admin, json={"name": f"Môn {name}"})
    assert subject.status == 422


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_nul_is_422_at_the_sign_in_and_everywhere(backend, request, tmp_path, aiohttp_client):
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    app = create_app(Config(data_dir=tmp_path / "data", database_url=url, admin_password=ADMIN_PASSWORD,
                            db_strict=True))
    client = await aiohttp_client(app)
    for field, body in (("username", {"username": "ad\u0000min", "password": "x"}),
                        ("password", {"username": "admin", "password": "a\u0000b"})):
        response = await client.post("/api/auth/login", json=body)
        assert response.status == 422, await response.text()
        assert (await response.json())["error"]["fields"][0]["field"] == field
    assert (await response.json())["error"]["fields"][0]["message"] == "must not contain the NUL character"
    token = (await (await client.post("/api/auth/login", json={"username": "admin",
                                                                 "password": ADMIN_PASSWORD})).json())["token"]
    admin = {"Authorization": f"Bearer {token}"}
    team = await client.post("/api/subject-teams", headers=admin, json={"name": "Tổ", "teacher_ids": [],
                                                                        "subject_ids": [], "extra\u0000": 1})
    assert team.status == 422
    code = await client.post("/api/subjects", headers=admin, json={"name": "Tin học", "code": "T\u0000"})
    assert code.status == 422
    assert [f["field"] for f in (await code.json())["error"]["fields"]] == ["code"]
    query = await client.get("/api/users", headers=admin, params={"role": "admin\x00"})
    assert query.status == 422
    # An escaped backslash before "u0000" is text, not a NUL.
    fine = await client.post("/api/subjects", data=b'{"name": "Tin \\\\u0000"}',
                             headers={**admin, "Content-Type": "application/json"})
    assert fine.status == 201, await fine.text()
    assert (await fine.json())["name"] == "Tin \\u0000"
    async with app[DATABASE].session() as session:
        assert list(await session.scalars(select(Subject.name))) == ["Tin \\u0000"]


def test_a_download_name_cannot_break_its_header():
    response = export(["a"], [["1"]], "csv", 'diem-danh-10"A\r\n1;x', "Điểm danh")
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.startswith('attachment; filename="diem-danh-10_A_1_x.csv"; filename*=UTF-8\'\'')
    assert disposition.count('"') == 2
    sheet = export(["a"], [["1"]], "xlsx", "x", "Lớp 10/A1: [thứ 2]?")
    assert sheet.status == 200


async def test_an_attendance_export_of_a_class_with_a_hostile_name_downloads(client, app, admin, demo):
    async with app[DATABASE].session() as session:  # a name stored before names were checked
        await session.execute(update(SchoolClass).where(SchoolClass.id == demo.class_id)
                              .values(name='10"A\r\n1'))
    for fmt in ("csv", "xlsx"):
        response = await client.get(f"/api/lessons/{demo.lesson_id}/attendance", headers=admin,
                                    params={"format": fmt})
        assert response.status == 200, await response.text()
        assert '"diem-danh-10_A_1-' in response.headers["Content-Disposition"]
        assert len(await response.read()) > 0


# --- /metrics -----------------------------------------------------------------------------------
async def test_metrics_from_an_allowed_address(client):
    response = await client.get("/metrics")
    assert response.status == 200
    assert "lophoc_up 1.0" in await response.text()


async def test_metrics_elsewhere_need_the_token(tmp_path, aiohttp_client):
    app = create_app(Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, db_strict=True,
                            metrics_allow=("10.9.0.0/16",), metrics_token="s3cret-metrics-token"))
    client = await aiohttp_client(app)
    refused = await client.get("/metrics")
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "forbidden"
    assert "lophoc_up" not in await refused.text()
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-tokem"})
    assert wrong.status == 403
    forwarded = await client.get("/metrics", headers={"X-Forwarded-For": "10.9.1.1"})
    assert forwarded.status == 403
    allowed = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert allowed.status == 200
    assert "lophoc_up 1.0" in await allowed.text()


async def test_metrics_without_a_token_configured_refuse_any_bearer(tmp_path, aiohttp_client):
    app = create_app(Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, db_strict=True,
                            metrics_allow=()))
    client = await aiohttp_client(app)
    assert (await client.get("/metrics", headers={"Authorization": "Bearer "})).status == 403
    assert (await client.get("/metrics")).status == 403

"""The request's database work: the body is read before any connection is taken, endpoints
that await other things hold none across them, and a full pool is a prompt 503, not a hang.

The server here has ONE pooled connection: whatever held it across a body read or a handler's
other awaits would stall every other request."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel
from sqlalchemy import text

from signaling.errors import SignalingError
from storage.guard import held
from tests.conftest import ADMIN_PASSWORD
from web.app import create_app
from web.config import Config
from web.errors import error_middleware
from web.keys import DATABASE
from web.routing import Api, Call

SDP = "application/sdp"


class Note(BaseModel):
    text: str


def probe_api() -> Api:
    """Endpoints that report what they were given and what they hold."""
    api = Api()

    @api.route("POST", "/probe/offer", summary="raw body, own units of work", tag="probe", media_type=SDP,
               unit_of_work=False)
    async def offer(call: Call) -> web.Response:
        assert held() is None, "no unit of work is held while the handler runs"
        with pytest.raises(AssertionError, match="unit_of_work=False"):
            call.session  # noqa: B018
        await asyncio.sleep(0)  # an await on something else (negotiation, say): nothing is held
        async with call.db.session() as session:
            one = (await session.execute(text("SELECT 1"))).scalar_one()
        return web.Response(text=f"{call.user.username} {one} {call.raw}", content_type=SDP)

    @api.route("POST", "/probe/note", summary="JSON body, one unit of work", tag="probe", body=Note)
    async def note(call: Call) -> web.Response:
        assert held() is call.db
        assert call.raw is None
        one = (await call.session.execute(text("SELECT 1"))).scalar_one()
        return web.json_response({"text": call.body.text, "user": call.user.username, "one": one})

    return api


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=("127.0.0.1",),
                  db_strict=True, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.5)


@pytest.fixture
def app(config: Config) -> web.Application:
    application = create_app(config)
    probe_api().install(application)
    return application


def gauge(metrics: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", metrics, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


async def test_the_call_gets_the_database_and_the_raw_body_and_holds_nothing_it_did_not_ask_for(
        client: TestClient, admin: dict[str, str]) -> None:
    offer = await client.post("/probe/offer", data="v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n",
                              headers={**admin, "Content-Type": SDP})
    assert offer.status == 200, await offer.text()
    assert await offer.text() == "admin 1 v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
    note = await client.post("/probe/note", json={"text": "ghi chú"}, headers=admin)
    assert await note.json() == {"text": "ghi chú", "user": "admin", "one": 1}


async def test_a_raw_body_is_checked_before_anything_else(client: TestClient, admin: dict[str, str]) -> None:
    wrong_type = await client.post("/probe/offer", data="v=0", headers={**admin, "Content-Type": "text/plain"})
    assert wrong_type.status == 415
    too_big = await client.post("/probe/offer", data="a" * (64 * 1024 + 1), headers={**admin, "Content-Type": SDP})
    assert too_big.status == 413
    not_utf8 = await client.post("/probe/offer", data=b"\xff\xfe", headers={**admin, "Content-Type": SDP})
    assert not_utf8.status == 400
    client.session.cookie_jar.clear()  # the sign-in's cookies
    anonymous = await client.post("/probe/offer", data="v=0", headers={"Content-Type": SDP})
    assert anonymous.status == 401


async def test_a_slow_upload_holds_no_connection_and_does_not_hold_up_healthz(
        client: TestClient, app: web.Application, admin: dict[str, str]) -> None:
    db = app[DATABASE]
    body = json.dumps({"name": "Tin học", "code": "TIN"}).encode()
    head = (f"POST /api/subjects HTTP/1.1\r\nHost: lophoc\r\nAuthorization: {admin['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    assert client.server.host is not None and client.server.port is not None
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(head + body[:4])
        await writer.drain()
        for sent in range(4, len(body) - 1):  # the rest, a byte at a time, the last one held back
            health = await client.get("/healthz")
            assert health.status == 200, await health.text()
            assert (await health.json())["checks"]["database"] == "ok"
            assert await checked_out_drops_to_zero(client, db)
            writer.write(body[sent:sent + 1])
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(body[-1:])
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
        await writer.wait_closed()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
    names = [s["name"] for s in (await (await client.get("/api/subjects", headers=admin)).json())["items"]]
    assert "Tin học" in names


async def checked_out_drops_to_zero(client: TestClient, db: Any) -> bool:
    """A background task (the attendance heartbeat) may hold the connection for a moment; a stalled
    upload would hold it the whole time."""
    for _ in range(20):
        metrics = await (await client.get("/metrics")).text()
        if db.engine.pool.checkedout() == 0 and gauge(metrics, "lophoc_db_pool_checked_out") == 0:
            assert gauge(metrics, "lophoc_db_pool_size") == 1
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_full_pool_is_a_prompt_503_with_retry_after(
        client: TestClient, app: web.Application, admin: dict[str, str]) -> None:
    db = app[DATABASE]
    async with db.engine.connect() as hog:  # the only connection, held by someone else
        await hog.execute(text("SELECT 1"))
        metrics = await (await client.get("/metrics")).text()
        assert gauge(metrics, "lophoc_db_pool_checked_out") == 1
        assert gauge(metrics, "lophoc_db_pool_overflow") == 0
        me = await client.get("/api/me", headers=admin)
        assert me.status == 503
        assert (await me.json())["error"]["code"] == "overloaded"
        assert int(me.headers["Retry-After"]) >= 1
        sign_in = await client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert sign_in.status == 503 and "Retry-After" in sign_in.headers
        health = await client.get("/healthz")
        assert health.status == 503
        assert await health.json() == {"status": "busy", "checks": {"database": "busy", "redis": "not configured"}}
    assert (await client.get("/api/me", headers=admin)).status == 200
    assert (await client.get("/healthz")).status == 200


async def test_the_writer_is_in_the_metrics(client: TestClient, app: web.Application) -> None:
    async def nothing(session: Any) -> None:
        return None

    before = gauge(await (await client.get("/metrics")).text(), "lophoc_db_write_groups_total")
    await app[DATABASE].writer.write(nothing)
    metrics = await (await client.get("/metrics")).text()
    assert gauge(metrics, "lophoc_db_write_groups_total") == before + 1
    assert gauge(metrics, "lophoc_db_writer_queued") == 0


class Busy(SignalingError):
    code = "overloaded"

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many joins at once")
        self.retry_after = retry_after


async def test_an_overloaded_refusal_is_503_with_retry_after_rounded_up(aiohttp_client: Any) -> None:
    async def refuse(request: web.Request) -> web.Response:
        raise Busy(2.3)

    app = web.Application(middlewares=[error_middleware()])
    app.router.add_post("/api/join", refuse)
    client = await aiohttp_client(app)
    response = await client.post("/api/join")
    assert response.status == 503
    assert response.headers["Retry-After"] == "3"
    assert (await response.json())["error"]["code"] == "overloaded"

"""Fixtures that start real things: a lophoc app on a loopback port with a fresh SQLite file."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from school.demo import Credentials, DemoSchool, seed_demo
from web.app import create_app
from web.config import Config
from web.keys import DATABASE

ADMIN_PASSWORD = "admin-password-1"


@dataclass
class LiveServer:
    url: str
    app: web.Application
    client: TestClient


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # Rooms close as soon as they empty (the linger has its own tests): tests that leave and come
    # back, or wait for the lesson video, see the reopened room at once.
    return Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=("127.0.0.1",),
                  db_strict=True, room_linger=timedelta(0))


@pytest.fixture
def app(config: Config) -> web.Application:
    return create_app(config)


@pytest.fixture
async def client(aiohttp_client: Any, app: web.Application) -> TestClient:
    return await aiohttp_client(app)


@pytest.fixture
async def live_server(client: TestClient, app: web.Application) -> LiveServer:
    """The same server `client` talks to: a real TCP listener on 127.0.0.1 and a free port."""
    return LiveServer(url=str(client.make_url("/")).rstrip("/"), app=app, client=client)


@pytest.fixture
async def demo(client: TestClient, app: web.Application) -> DemoSchool:
    return await seed_demo(app[DATABASE])


Login = Callable[[Credentials | tuple[str, str]], Awaitable[dict[str, str]]]


@pytest.fixture
def login(client: TestClient) -> Login:
    """Signs in through the API and returns the Authorization header for the token."""

    async def sign_in(who: Credentials | tuple[str, str]) -> dict[str, str]:
        username, password = (who.username, who.password) if isinstance(who, Credentials) else who
        response = await client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status == 200, await response.text()
        return {"Authorization": f"Bearer {(await response.json())['token']}"}

    return sign_in


@pytest.fixture
async def admin(login: Login) -> dict[str, str]:
    return await login(("admin", ADMIN_PASSWORD))

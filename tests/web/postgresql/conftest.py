"""The coursework's API tests again, on PostgreSQL: the same modules' tests, collected here with a
server whose database is a fresh PostgreSQL database instead of the SQLite file."""
from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.servers import postgres_cluster, postgres_url  # noqa: F401
from web.config import Config
from web.keys import DATABASE


@pytest.fixture
def config(tmp_path: Path, postgres_url: str) -> Config:  # noqa: F811
    return Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=("127.0.0.1",),
                  db_strict=True, database_url=postgres_url)


@pytest.fixture(autouse=True)
async def _served_from_postgresql(client: TestClient, app: web.Application) -> None:
    assert app[DATABASE].engine.dialect.name == "postgresql"

"""A database for storage tests: a SQLite file in a tmp dir, or a fresh PostgreSQL database."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.database import Database, sqlite_url
from tests.servers import postgres_cluster, postgres_url  # noqa: F401
from tests.storage.tables import METADATA


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return sqlite_url(tmp_path)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, strict=True)
    async with database.engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    yield database
    await database.close()


@pytest.fixture
async def reader(database_url: str) -> AsyncIterator[Database]:
    """Another engine on the same database: it sees only what was committed."""
    database = Database(database_url, strict=True)
    yield database
    await database.close()

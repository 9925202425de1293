"""Alembic migrations of every package's tables; `upgrade()` brings a database to its head (a migration
added beside another is joined to it by a merge revision, as 0007 joins the classroom's)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection

from storage.database import Database

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(connection: Connection, url: str, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(db: Database, revision: str = "heads") -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_upgrade, db.url, revision)

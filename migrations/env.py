"""Alembic environment: runs on the connection `migrations.upgrade()` hands over, or, from the
alembic command line, on a connection to `sqlalchemy.url`."""
from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import attendance.models  # noqa: F401  (registers the tables on Base.metadata)
import classroom.models  # noqa: F401
import coursework.notices  # noqa: F401
import coursework.materials_models  # noqa: F401
import coursework.tests_models  # noqa: F401
import coursework.assignments_models  # noqa: F401
import recorder.models  # noqa: F401
import school.audit  # noqa: F401
import school.models  # noqa: F401
import school.parents  # noqa: F401
import school.sessions  # noqa: F401
import school.timetable_models  # noqa: F401
import whiteboard.models  # noqa: F401
import whiteboard.slide_models  # noqa: F401
from storage.database import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    asyncio.run(run_online())

"""Liveness and readiness: is the database answering (and Redis, when configured)?

The database check waits at most HEALTH_TIMEOUT for a pooled connection: when every connection
is busy the answer is a prompt 503 "busy", never a wait behind the queue."""
from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from web.keys import DATABASE, LOGIN_LIMITER
from web.ratelimit import RedisRateLimiter

HEALTH_TIMEOUT = 1.0
"""Seconds the database check may take, waiting for a connection included."""


async def _database(request: web.Request) -> str:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            async with request.app[DATABASE].engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except (TimeoutError, PoolTimeout):
        return "busy"
    except Exception as exc:  # a health check reports failures, it does not raise them
        return f"error: {type(exc).__name__}"
    return "ok"


async def handle_healthz(request: web.Request) -> web.Response:
    checks = {"database": await _database(request)}
    limiter = request.app[LOGIN_LIMITER]
    if isinstance(limiter, RedisRateLimiter):
        try:
            await limiter.client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    else:
        checks["redis"] = "not configured"
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    status = "ok" if healthy else "busy" if checks["database"] == "busy" else "unavailable"
    return web.json_response({"status": status, "checks": checks}, status=200 if healthy else 503)

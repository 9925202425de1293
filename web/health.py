"""Liveness and readiness: is the database answering (and Redis, when configured)?"""
from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from web.keys import DATABASE, LOGIN_LIMITER
from web.ratelimit import RedisRateLimiter


async def handle_healthz(request: web.Request) -> web.Response:
    checks: dict[str, str] = {}
    healthy = True
    try:
        async with request.app[DATABASE].engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports failures, it does not raise them
        checks["database"] = f"error: {type(exc).__name__}"
        healthy = False
    limiter = request.app[LOGIN_LIMITER]
    if isinstance(limiter, RedisRateLimiter):
        try:
            await limiter.client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
            healthy = False
    else:
        checks["redis"] = "not configured"
    return web.json_response({"status": "ok" if healthy else "unavailable", "checks": checks},
                             status=200 if healthy else 503)

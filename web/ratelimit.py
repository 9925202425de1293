"""Counting failures in a sliding window: in memory for one process, in Redis across processes."""
from __future__ import annotations

import secrets
import time
from collections import deque
from datetime import timedelta
from typing import Protocol

import redis.asyncio as aioredis


class RateLimiter(Protocol):
    async def blocked_for(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may now."""

    async def hit(self, key: str) -> None:
        """Count one failure for `key`."""

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window.total_seconds()
        self._hits: dict[str, deque[float]] = {}

    def _live(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    async def blocked_for(self, key: str) -> float:
        now = time.monotonic()
        hits = self._live(key, now)
        if len(hits) < self.limit:
            return 0.0
        return max(0.0, hits[0] + self.window - now)

    async def hit(self, key: str) -> None:
        now = time.monotonic()
        self._live(key, now)
        self._hits.setdefault(key, deque()).append(now)

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    async def close(self) -> None:
        self._hits.clear()


class RedisRateLimiter:
    """A sorted set per key holding failure times; every worker process sees the same counts."""

    def __init__(self, client: aioredis.Redis, limit: int, window: timedelta, prefix: str = "lophoc:rl:") -> None:
        self.client = client
        self.limit = limit
        self.window = window.total_seconds()
        self.prefix = prefix

    async def blocked_for(self, key: str) -> float:
        name = self.prefix + key
        now = time.time()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, 0, now - self.window)
            pipe.zrange(name, 0, 0, withscores=True)
            pipe.zcard(name)
            _, oldest, count = await pipe.execute()
        if count < self.limit or not oldest:
            return 0.0
        return max(0.0, float(oldest[0][1]) + self.window - now)

    async def hit(self, key: str) -> None:
        name = self.prefix + key
        now = time.time()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {f"{now:.6f}:{secrets.token_hex(4)}": now})
            pipe.expire(name, int(self.window) + 1)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self.client.delete(self.prefix + key)

    async def close(self) -> None:
        await self.client.aclose()

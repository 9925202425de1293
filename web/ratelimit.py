"""Failures counted per key with a growing delay: in memory for one process, in Redis across processes.

A key's record is (failures, time of the last failure); it is forgotten after `window` without a
new failure. `Backoff` turns a record into the seconds to wait: nothing for the first `free`
failures, then `base` seconds doubling with each further failure, never more than `cap`, counted
from the last failure. A success clears a key (`clear`)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import redis.asyncio as aioredis


@dataclass(frozen=True)
class Failures:
    count: int = 0
    last: float = 0.0
    """Wall-clock seconds (time.time()) of the latest failure."""


@dataclass(frozen=True)
class Backoff:
    free: int
    """Failures allowed before any delay."""
    base: float = 1.0
    cap: float = 300.0

    def delay(self, count: int) -> float:
        """The wait after `count` failures (0 while within the free ones)."""
        over = count - self.free
        if over < 0:
            return 0.0
        return min(self.cap, self.base * 2.0 ** min(over, 62))

    def wait(self, failures: Failures, now: float | None = None) -> float:
        """Seconds until this key may try again; 0 when it may now."""
        if failures.count == 0:
            return 0.0
        now = time.time() if now is None else now
        return max(0.0, failures.last + self.delay(failures.count) - now)


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class RateLimiter(Protocol):
    async def failures(self, key: str) -> Failures:
        """The failures recorded for `key` within the window."""

    async def fail(self, key: str) -> Failures:
        """Count one failure for `key` now; the record after it."""

    async def clear(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, window: timedelta) -> None:
        self.window = window.total_seconds()
        self._records: dict[str, Failures] = {}

    def _live(self, key: str, now: float) -> Failures:
        record = self._records.get(key)
        if record is None:
            return Failures()
        if record.last <= now - self.window:
            del self._records[key]
            return Failures()
        return record

    def _sweep(self, now: float) -> None:
        """Forget every stale record now and then, so a flood of names cannot grow the map forever."""
        if len(self._records) > 10_000:
            for key in [k for k, r in self._records.items() if r.last <= now - self.window]:
                del self._records[key]

    async def failures(self, key: str) -> Failures:
        return self._live(key, time.time())

    async def fail(self, key: str) -> Failures:
        now = time.time()
        self._sweep(now)
        record = Failures(self._live(key, now).count + 1, now)
        self._records[key] = record
        return record

    async def clear(self, key: str) -> None:
        self._records.pop(key, None)

    async def close(self) -> None:
        self._records.clear()


class RedisRateLimiter:
    """A hash per key (count, last) that expires `window` after the last failure; every worker
    process sees the same counts."""

    def __init__(self, client: aioredis.Redis, window: timedelta, prefix: str = "lophoc:rl:") -> None:
        self.client = client
        self.window = window.total_seconds()
        self.prefix = prefix

    async def failures(self, key: str) -> Failures:
        count, last = await self.client.hmget(self.prefix + key, ["n", "t"])
        if count is None or last is None:
            return Failures()
        return Failures(int(count), float(last))

    async def fail(self, key: str) -> Failures:
        name = self.prefix + key
        now = time.time()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hincrby(name, "n", 1)
            pipe.hset(name, "t", repr(now))
            pipe.pexpire(name, max(1, int(self.window * 1000)))
            count, _, _ = await pipe.execute()
        return Failures(int(count), now)

    async def clear(self, key: str) -> None:
        await self.client.delete(self.prefix + key)

    async def close(self) -> None:
        await self.client.aclose()

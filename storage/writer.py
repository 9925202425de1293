"""One writer per process: queued writes committed in small groups, durable before acknowledged.

`await writer.write(fn)` queues `fn(session)` and returns its result once the transaction that
ran it has committed. One task drains the queue: it takes up to `group_size` queued writes, runs
them in one transaction (each in its own SAVEPOINT, so a write that fails is rolled back alone
and its caller gets its exception), commits once, then answers every caller of the group. If
the commit itself fails, every write of that group fails with that error.

On SQLite the transaction takes the write lock at once (`BEGIN IMMEDIATE`), so the process's
writes never race each other for it and readers never wait on them. On PostgreSQL the same code
runs unchanged."""
from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.guard import ensure_free

if TYPE_CHECKING:
    from storage.database import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
Write = Callable[[AsyncSession], Awaitable[T]]
GROUP_SIZE = 64


class WriterClosed(RuntimeError):
    """The writer was closed (the server is stopping): the write was not queued."""


@dataclass
class _Queued:
    fn: Write[Any]
    future: asyncio.Future[Any]


class Writer:
    def __init__(self, db: Database, *, group_size: int = GROUP_SIZE) -> None:
        if group_size < 1:
            raise ValueError("group_size must be at least 1")
        self.db = db
        self.group_size = group_size
        self.groups_committed = 0
        """Transactions committed so far (each carried one group of writes)."""
        self.writes_committed = 0
        self._queue: deque[_Queued] = deque()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def queued(self) -> int:
        """Writes waiting for their group's transaction to start."""
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    async def write(self, fn: Write[T]) -> T:
        """Run `fn(session)` in the next group; returns its result once that group committed."""
        if self._closed:
            raise WriterClosed("the database writer is closed (the server is stopping): write refused")
        ensure_free("a queued database write")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(fn, future))
        if self._task is None or self._task.done():
            # A fresh context: the drain task holds no caller's unit of work.
            self._task = asyncio.get_running_loop().create_task(self._drain(), context=contextvars.Context())
        return await future

    async def close(self) -> None:
        """Refuse new writes and wait for the queued ones to be committed (or to fail)."""
        self._closed = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _drain(self) -> None:
        while self._queue:
            group: list[_Queued] = []
            while self._queue and len(group) < self.group_size:
                job = self._queue.popleft()
                if not job.future.done():  # a caller that gave up (cancelled) is skipped
                    group.append(job)
            if group:
                await self._commit(group)

    async def _commit(self, group: list[_Queued]) -> None:
        outcomes: list[tuple[_Queued, bool, Any]] = []
        try:
            async with self.db.session(immediate=True) as session:
                for job in group:
                    try:
                        async with session.begin_nested():
                            value = await job.fn(session)
                    except Exception as exc:  # this write alone is rolled back; its caller gets the error
                        outcomes.append((job, False, exc))
                    else:
                        outcomes.append((job, True, value))
        except BaseException as exc:  # the group's commit failed: nothing of it happened
            if not isinstance(exc, Exception):
                for job in group:
                    job.future.cancel()
                raise
            log.warning("a group of %d database writes failed to commit: %r", len(group), exc)
            for job in group:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        self.groups_committed += 1
        self.writes_committed += sum(1 for _, ok, _ in outcomes if ok)
        for job, ok, value in outcomes:
            if job.future.done():
                continue
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

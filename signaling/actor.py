"""One task owns a lesson's live state: others post actions to its queue and, when they need the
result, wait for it. An action is a plain function: it runs to the end without waiting on
anything, so no change to the lesson ever interleaves with another. Slow work (negotiation,
database writes, closing peer connections) runs outside and comes back as a new action that
re-checks what it depends on."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class ActorStopped(Exception):
    """The owner has stopped: the lesson it held is over."""


class Actor:
    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: asyncio.Queue[tuple[Callable[[], Any], asyncio.Future[Any] | None] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name=name)
        self._owner: asyncio.Task[None] | None = self._task
        self.stopped = False

    @property
    def in_owner(self) -> bool:
        """True inside an action (the owner task is the one running)."""
        return asyncio.current_task() is self._owner

    async def call(self, action: Callable[[], T]) -> T:
        """Run `action` in the owner task, in order with every other action, and return its result."""
        if self.stopped:
            raise ActorStopped(self.name)
        if self.in_owner:
            return action()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((action, future))
        return await future

    def post(self, action: Callable[[], Any]) -> None:
        """Queue `action` without waiting for it; a failure is logged."""
        if not self.stopped:
            self._queue.put_nowait((action, None))

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            action, future = item
            if future is not None and future.cancelled():
                continue  # nobody waits for it any more, and it changed nothing yet
            try:
                result = action()
            except Exception as exc:
                if future is None:
                    log.exception("%s: action failed", self.name)
                else:
                    future.set_exception(exc)
            else:
                if future is not None:
                    future.set_result(result)

    async def stop(self) -> None:
        """Run what is queued, then stop; later calls raise ActorStopped."""
        if self.stopped:
            return
        self.stopped = True
        self._queue.put_nowait(None)
        if not self.in_owner:
            await self._task

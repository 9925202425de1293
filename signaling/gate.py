"""How many joins this process negotiates at once. A join beyond that waits its turn for a short
while; if no turn comes it is answered at once with `overloaded` and a time to retry, never left to
time out. A class arriving together (a few dozen joins) fits well inside the default."""
from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from signaling.errors import Overloaded

CAPACITY = 64
"""Joins negotiated at once (SDP, ICE gathering, the attendance write)."""
QUEUE_WAIT = 5.0
"""Seconds a join may wait for a turn before it is told to come back later."""
RETRY_AFTER = 2.0


class JoinGate:
    def __init__(self, capacity: int = CAPACITY, wait: float = QUEUE_WAIT, retry_after: float = RETRY_AFTER) -> None:
        self._capacity = capacity
        self.wait = wait
        self.retry_after = retry_after
        self.inside = 0
        self.refused = 0
        self._turn = asyncio.Condition()

    @property
    def capacity(self) -> int:
        return self._capacity

    async def set_capacity(self, capacity: int) -> None:
        """Change how many joins run at once (operators, and tests that need a full server)."""
        self._capacity = capacity
        async with self._turn:
            self._turn.notify_all()

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        """Hold a turn for the duration of a join, or raise Overloaded."""
        async with self._turn:
            try:
                await asyncio.wait_for(self._turn.wait_for(lambda: self.inside < self._capacity), self.wait)
            except TimeoutError:
                self.refused += 1
                # Jitter, so a refused class does not come back in the same instant.
                raise Overloaded("the server is busy; try again shortly",
                                 round(self.retry_after * (1 + random.random()), 1)) from None
            self.inside += 1
        try:
            yield
        finally:
            async with self._turn:
                self.inside -= 1
                self._turn.notify()

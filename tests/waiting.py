"""Waiting for what a real server does in the background: poll a check until it holds, and fail
naming what never happened. A bound on how long to wait, never a measurement of it."""
from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

Check = Callable[[], Any | Awaitable[Any]]


async def until(what: str, check: Check, timeout: float = 30.0) -> Any:
    """The first truthy value of `check` (plain or async), polled every 0.1 s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)

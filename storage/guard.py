"""The rule that keeps the pool flowing: a task holding a unit of work awaits nothing else.

`Database.session()` marks the task that opened it as holding a unit of work (a pooled
connection) until the unit of work ends. Code about to wait on something slow or on another
connection (a second unit of work, password hashing, a request body, SDP negotiation) calls
`ensure_free(what)` first: while the mark is set, a strict database (tests) raises
`ConnectionHeld`; otherwise the first offence per `what` is logged as a warning.

The mark belongs to the task that opened the unit of work: a task started from inside it does
not inherit it (it holds no connection of its own)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


class ConnectionHeld(RuntimeError):
    """Something slow, or another unit of work, was about to run while a connection was held."""


class Guarded(Protocol):
    """What the guard needs of a database: whether to raise, and where to remember warnings."""

    strict: bool
    warned: set[str]


@dataclass
class _Hold:
    database: Guarded
    task: asyncio.Task[object] | None
    active: bool = field(default=True)


_HOLD: ContextVar[_Hold | None] = ContextVar("lophoc_unit_of_work", default=None)


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop
        return None


def held() -> Guarded | None:
    """The database whose unit of work this task holds, if any."""
    hold = _HOLD.get()
    if hold is None or not hold.active or hold.task is not _current_task():
        return None
    return hold.database


def ensure_free(what: str) -> None:
    """Call before awaiting `what` (something slow, or needing another connection)."""
    database = held()
    if database is None:
        return
    message = (f"{what} while this task holds a database connection (inside a unit of work): "
               "end the unit of work first, then start another one for what comes after")
    if database.strict:
        raise ConnectionHeld(message)
    if what not in database.warned:
        database.warned.add(what)
        log.warning("%s (logged once)", message)


@contextmanager
def holding(database: Guarded) -> Iterator[None]:
    """Mark the current task as holding a unit of work of `database` for the `with` block."""
    hold = _Hold(database, _current_task())
    token = _HOLD.set(hold)
    try:
        yield
    finally:
        hold.active = False
        try:
            _HOLD.reset(token)
        except ValueError:  # ended from another context (a generator finalised late): the flag suffices
            pass

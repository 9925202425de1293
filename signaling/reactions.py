"""The lesson's reactions (being built: this module declares no messages yet)."""
from __future__ import annotations

from typing import Any

FEATURE = None
MESSAGES: tuple[type, ...] = ()


async def handle(lesson: Any, me: Any, message: Any) -> dict[str, Any]:
    raise TypeError(type(message).__name__)

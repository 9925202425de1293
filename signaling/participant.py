"""A participant: one connected user in a lesson's room, with their transports, producers and
consumers. Participants belong to signaling; the SFU sees only transports."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from attendance.log import Presence
from sfu.consumer import Consumer
from sfu.producer import Producer
from sfu.transport import WebRtcTransport

Outbox = Callable[[dict[str, Any]], None]

DEFAULT_PERMISSIONS = {
    "teacher": {"mic": True, "camera": True, "screen": True, "screen-audio": True},
    "student": {"mic": True, "camera": False, "screen": False, "screen-audio": False},
    "observer": {"mic": False, "camera": False, "screen": False, "screen-audio": False},
}


@dataclass
class Participant:
    id: str
    user_id: int
    full_name: str
    role: str
    via: str
    """ws (the lesson page), whip or whep."""
    outbox: Outbox | None = None
    auto_subscribe: bool = True
    permissions: dict[str, bool] = field(default_factory=dict)
    send_transport: WebRtcTransport | None = None
    recv_transport: WebRtcTransport | None = None
    producers: dict[str, Producer] = field(default_factory=dict)
    """By source."""
    mids: dict[str, str] = field(default_factory=dict)
    """Send transport mid -> source."""
    consumers: dict[str, Consumer] = field(default_factory=dict)
    """By producer id."""
    slots: list[tuple[str, Any]] = field(default_factory=list)
    """WHEP: (kind, transceiver) of each m-line the player offered, in order."""
    room: str = "main"
    """The room they are in: main, or a breakout group's id."""
    listening: str | None = None
    """The group the teacher listens to without joining it."""
    speaking_to: str | None = None
    """The group the teacher speaks into without joining it."""
    overview: bool = False
    """The teacher's grid receives one camera of each group."""
    chosen: set[str] = field(default_factory=set)
    """Without auto-subscribe: the producers they asked for."""
    declined: set[str] = field(default_factory=set)
    """With auto-subscribe: producers they asked not to receive."""
    main_permissions: dict[str, bool] | None = None
    """A student's permissions in the main room, kept while the group's apply."""
    revision: int = 0
    awaiting_answer: bool = False
    renegotiate_again: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    presence_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    left: bool = False
    left_reason: str | None = None
    left_at: datetime | None = None
    """When they were last seen, if they vanished (None: when they left)."""
    presence: Presence | None = None
    """The attendance log's record of this participant's presence."""
    resource: str | None = None
    """WHIP/WHEP: the id in the session's URL."""
    created_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())

    def __post_init__(self) -> None:
        if not self.permissions:
            self.permissions = dict(DEFAULT_PERMISSIONS[self.role])

    def send(self, message: dict[str, Any]) -> None:
        if self.outbox is not None and not self.left:
            self.outbox(message)

    @property
    def staff(self) -> bool:
        """The lesson's teacher or an observer: sees every room."""
        return self.role in ("teacher", "observer")

    def describe(self) -> dict[str, Any]:
        return {"participant_id": self.id, "user_id": self.user_id, "full_name": self.full_name, "role": self.role,
                "permissions": dict(self.permissions), "via": self.via,
                "sources": sorted(self.producers), "room": self.room}

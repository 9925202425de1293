"""One WebSocket session: an actor loop with a reader, a writer with a deadline, and a heartbeat.
The handshake (`join`) comes first; every message is validated; every refusal is answered."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from signaling import messages as m
from signaling.admission import Admission
from signaling.errors import BadMessage, JoinFirst, SignalingError, TooLarge
from signaling.lesson_room import LessonRoom
from signaling.participant import Participant
from signaling.rooms import RoomRegistry

log = logging.getLogger(__name__)

JOIN_TIMEOUT = 10.0
"""Seconds a new connection has to send `join`."""
WRITE_DEADLINE = 10.0
"""A client that does not take a message within this long is cut off (slow consumers never block the room)."""
OUTBOX_LIMIT = 1000

Admit = Callable[[str], Awaitable[Admission]]
"""Turns a join token into an admission to this lesson, or raises a SignalingError."""


class Session:
    def __init__(self, ws: web.WebSocketResponse, registry: RoomRegistry, admit: Admit) -> None:
        self.ws = ws
        self.registry = registry
        self.admit = admit
        self.room: LessonRoom | None = None
        self.participant: Participant | None = None
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._closing = False
        self._left = False
        """The client said `leave` (attendance: left, not disconnected)."""

    def post(self, message: dict[str, Any]) -> None:
        """Queue a message for the writer; never blocks the caller."""
        if self._closing:
            return
        if self._outbox.qsize() >= OUTBOX_LIMIT:
            self._closing = True
            self._outbox.put_nowait(None)
            return
        self._outbox.put_nowait(message)

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        try:
            if await self._handshake():
                await self._read()
        finally:
            self._closing = True
            try:
                if self.room is not None and self.participant is not None:
                    await self.room.leave(self.participant, "left" if self._left else "disconnected")
                    await self.registry.release(self.room)
                self._outbox.put_nowait(None)
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(asyncio.shield(writer), WRITE_DEADLINE)
                if not self.ws.closed:
                    await self.ws.close()
            finally:
                if not writer.done():  # cut short (the server is stopping): the writer goes too
                    writer.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await writer

    async def _write(self) -> None:
        while True:
            message = await self._outbox.get()
            if message is None or self.ws.closed:
                return
            try:
                await asyncio.wait_for(self.ws.send_str(json.dumps(message, ensure_ascii=False)), WRITE_DEADLINE)
            except (TimeoutError, ConnectionError, RuntimeError):
                await self.ws.close()
                return

    def _error(self, exc: SignalingError, request_id: int | None) -> None:
        reply: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
        if request_id is not None:
            reply["id"] = request_id
        self.post(reply)

    async def _handshake(self) -> bool:
        try:
            first = await self.ws.receive(timeout=JOIN_TIMEOUT)
        except TimeoutError:
            self._error(JoinFirst("send join within 10 seconds"), None)
            return False
        if first.type != WSMsgType.TEXT:
            self._error(JoinFirst("the first message must be join"), None)
            return False
        try:
            message = m.parse(first.data)
            if not isinstance(message, m.Join):
                raise JoinFirst("the first message must be join")
            admission = await self.admit(message.token)
        except SignalingError as exc:
            self._error(exc, m.request_id(first.data))
            return False
        room = self.registry.room_for(admission.lesson)
        for older in room.same_user_sessions(admission.user_id, "ws"):
            older.send({"type": "bye", "reason": "replaced"})
            await room.leave(older, "replaced")
        self.room = room
        self.participant = room.join(admission, "ws", self.post, message.auto_subscribe)
        await room.attend(self.participant)  # durable before the client hears it joined
        reply = room.welcome(self.participant)
        if message.id is not None:
            reply["id"] = message.id
        self.post(reply)
        if self.participant.auto_subscribe:
            room.subscribe_all(self.participant)
        return True

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type == WSMsgType.TEXT:
                await self._handle(frame.data)
            elif frame.type == WSMsgType.BINARY:
                self._error(BadMessage("send JSON text messages"), None)
            elif frame.type == WSMsgType.ERROR:
                if isinstance(self.ws.exception(), web.HTTPRequestEntityTooLarge) or "size" in str(self.ws.exception()):
                    self._error(TooLarge(f"messages are limited to {m.MAX_MESSAGE_BYTES} bytes"), None)
                return
            if self._left or (self.participant is not None and self.participant.left):
                return

    async def _handle(self, text: str) -> None:
        assert self.room is not None and self.participant is not None
        room, me = self.room, self.participant
        request = m.request_id(text)
        try:
            message = m.parse(text)
            reply: dict[str, Any] | None = None
            if isinstance(message, m.Join):
                raise BadMessage("already joined")
            if isinstance(message, m.Ping):
                reply = {"type": "pong"}
            elif isinstance(message, m.Publish):
                reply = {"type": "answer", **await room.publish(me, message.sdp, message.tracks)}
            elif isinstance(message, m.Answer):
                await room.answer(me, message.revision, message.sdp)
                reply = {"type": "ok"} if message.id is not None else None
            elif isinstance(message, m.Mute):
                reply = {"type": "ok", **room.mute(me, message.source, message.muted)}
            elif isinstance(message, m.Permit):
                reply = {"type": "ok", **room.permit(me, message.participant_id, message.source, message.allowed)}
            elif isinstance(message, m.Subscribe):
                if message.type == "subscribe":
                    room.subscribe(me, message.producer_ids)
                else:
                    room.unsubscribe(me, message.producer_ids)
                reply = {"type": "ok"}
            elif isinstance(message, m.Keyframe):
                room.request_keyframe(me, message.producer_id)
                reply = {"type": "ok"}
            elif isinstance(message, m.Record):
                reply = {"type": "ok", **await room.set_recording(me, message.active)}
            elif isinstance(message, m.Leave):
                self._left = True
                reply = {"type": "ok"}
        except SignalingError as exc:
            self._error(exc, request)
            return
        except Exception:
            log.exception("session %s: handling a message failed", me.id)
            self._error(SignalingError("the server could not handle this message"), request)
            return
        if reply is not None:
            if request is not None:
                reply["id"] = request
            self.post(reply)

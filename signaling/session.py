"""One WebSocket session: an actor loop with a reader, a writer with a deadline, and a heartbeat.
The handshake (`join`) comes first; every message is validated; every refusal is answered. A
student the lesson's moderation holds back is told `waiting` and stays connected (only `ping` and
`leave` answered) until the teacher admits them (`joined`, with the join's id) or not (`bye`).
After a `bye` the server closes the connection."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from signaling import breakouts, features, moderation
from signaling import messages as m
from signaling.admission import Admission
from signaling.errors import BadMessage, JoinFirst, Overloaded, RateLimited, SignalingError, TooLarge
from signaling.lesson_room import LessonRoom
from signaling.participant import Participant
from signaling.rooms import RoomRegistry

log = logging.getLogger(__name__)

JOIN_TIMEOUT = 10.0
"""Seconds a new connection has to send `join`."""
WRITE_DEADLINE = 10.0
"""A client that does not take a message within this long is cut off (slow consumers never block the room)."""
OUTBOX_LIMIT = 1000
CLOSE_TOO_SLOW = 4008
"""WebSocket close code for a client that does not keep up with its messages."""

Admit = Callable[[str], Awaitable[Admission]]
"""Turns a join token into an admission to this lesson, or raises a SignalingError."""
Handler = Callable[[LessonRoom, Participant, Any], Awaitable[dict[str, Any]]]
FEATURES: dict[type, Handler] = {cls: breakouts.handle for cls in m.BREAKOUT_MESSAGES} | features.handlers()
"""Messages handled by a feature module of their own (the media and membership core is below)."""


class Session:
    def __init__(self, ws: web.WebSocketResponse, registry: RoomRegistry, admit: Admit,
                 connection_lost: Callable[[], bool] = lambda: False) -> None:
        self.ws = ws
        self.registry = registry
        self.admit = admit
        self.connection_lost = connection_lost
        """True once the client's connection is gone (a join abandoned on the way in records nothing)."""
        self.room: LessonRoom | None = None
        self.participant: Participant | None = None
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._closing = False
        self._left = False
        """The client said `leave` (attendance: left, not disconnected)."""
        self._too_slow = False
        self._seated = False
        """In the lesson's room (not, or no longer, waiting to be admitted)."""
        self._next_frame: asyncio.Future[Any] | None = None
        """A read begun while waiting to be admitted, which the reader takes over."""
        self._writer: asyncio.Task[None] | None = None

    def post(self, message: dict[str, Any]) -> None:
        """Queue a message for the writer; never blocks the caller. A client that lets its outbox
        fill is cut off, with the reason in the close frame."""
        if self._closing:
            return
        if self._outbox.qsize() >= OUTBOX_LIMIT:
            self._closing = self._too_slow = True
            self._outbox.put_nowait(None)
            task = asyncio.ensure_future(self.ws.close(code=CLOSE_TOO_SLOW, message=b"too slow: messages piled up"))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            return
        self._outbox.put_nowait(message)
        if message.get("type") == "bye":  # the server ends the session: the rest is not sent
            self._closing = True
            self._outbox.put_nowait(None)
            task = asyncio.ensure_future(self._close_after_bye())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _close_after_bye(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), WRITE_DEADLINE)
        if not self.ws.closed:
            await self.ws.close()

    async def run(self) -> None:
        writer = self._writer = asyncio.create_task(self._write())
        try:
            if await self._handshake():
                await self._read()
        finally:
            self._closing = True
            try:
                if self.room is not None and self.participant is not None and not self._seated:
                    await self.room.stop_waiting(self.participant)
                elif self.room is not None and self.participant is not None:
                    reason = "left" if self._left else "too_slow" if self._too_slow else "disconnected"
                    await self.room.leave(self.participant, reason)
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
                await self.ws.close(code=CLOSE_TOO_SLOW, message=b"too slow: a message was not taken in time")
                return

    def _error(self, exc: SignalingError, request_id: int | None) -> None:
        reply: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
        if isinstance(exc, (Overloaded, RateLimited)):
            reply["retry_after"] = exc.retry_after
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
            message = features.parse(first.data)
            if not isinstance(message, m.Join):
                raise JoinFirst("the first message must be join")
            # A turn at the gate, then a short read of the database, then the room: each of
            # these lets go of what it held before the next begins.
            async with self.registry.gate.enter():
                admission = await self.admit(message.token)
                if self.connection_lost():
                    return False  # abandoned on the way in: nothing to record
                self.room, self.participant = await self.registry.enter(admission, "ws", self.post,
                                                                        message.auto_subscribe)
                waiting = self.room.moderation.waiting_of(self.participant)
                if waiting is None:
                    self._seated = True
                    await self.room.attend(self.participant)  # durable before the client hears it joined
                    reply = await self.room.welcome(self.participant)
            if waiting is not None:  # outside the gate: waiting holds no turn
                self.post({"type": "waiting", **({"id": message.id} if message.id is not None else {})})
                replaced = await self._wait_to_be_admitted(waiting.admitted)
                if replaced is None:
                    return False
                self._seated = True
                await self.room.let_go(replaced)
                await self.room.attend(self.participant)
                reply = await self.room.welcome(self.participant)
        except SignalingError as exc:
            self._error(exc, m.request_id(first.data))
            return False
        except Exception:  # the database or the media plane failed: say so, leave nothing half-done
            log.exception("a join could not be completed")
            self._error(SignalingError("the server could not complete your join; try again"), m.request_id(first.data))
            return False
        assert self.room is not None and self.participant is not None
        if message.id is not None:
            reply["id"] = message.id
        self.post(reply)
        if self.participant.auto_subscribe:
            await self.room.subscribe_all(self.participant)
        return True

    async def _wait_to_be_admitted(self, admitted: asyncio.Future[Any]) -> Any:
        """Read while waiting: `ping` answered, `leave` leaves, anything else refused (`waiting`).
        Returns the admission's result (None: turned away, or gone)."""
        while not admitted.done():
            if self._next_frame is None:
                self._next_frame = asyncio.ensure_future(self.ws.receive())
            await asyncio.wait({self._next_frame, admitted}, return_when=asyncio.FIRST_COMPLETED)
            if not self._next_frame.done():
                continue
            frame, self._next_frame = self._next_frame.result(), None
            if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return None
            if frame.type != WSMsgType.TEXT:
                continue
            request = m.request_id(frame.data)
            try:
                message = features.parse(frame.data)
                if isinstance(message, m.Ping):
                    self.post({"type": "pong", **({"id": request} if request is not None else {})})
                elif isinstance(message, m.Leave):
                    self._left = True
                    return None
                else:
                    raise moderation.Waiting("you are waiting for the teacher to admit you")
            except SignalingError as exc:
                self._error(exc, request)
        return admitted.result()

    async def _frames(self) -> Any:
        """The connection's frames, beginning with a read begun while waiting, if any."""
        while True:
            if self._next_frame is not None:
                frame, self._next_frame = await self._next_frame, None
            else:
                frame = await self.ws.receive()
            if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            yield frame

    async def _read(self) -> None:
        async for frame in self._frames():
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
            message = features.parse(text)
            reply: dict[str, Any] | None = None
            if isinstance(message, m.Join):
                raise BadMessage("already joined")
            feature = FEATURES.get(type(message))
            if feature is not None:
                reply = await feature(room, me, message)
            elif isinstance(message, m.Ping):
                reply = {"type": "pong"}
            elif isinstance(message, m.Publish):
                reply = {"type": "answer", **await room.publish(me, message.sdp, message.tracks)}
            elif isinstance(message, m.Answer):
                await room.answer(me, message.revision, message.sdp)
                reply = {"type": "ok"} if message.id is not None else None
            elif isinstance(message, m.Mute):
                reply = {"type": "ok", **await room.mute(me, message.source, message.muted)}
            elif isinstance(message, m.Permit):
                reply = {"type": "ok", **await room.permit(me, message.participant_id, message.source,
                                                           message.allowed)}
            elif isinstance(message, m.Subscribe):
                if message.type == "subscribe":
                    await room.subscribe(me, message.producer_ids)
                else:
                    await room.unsubscribe(me, message.producer_ids)
                reply = {"type": "ok"}
            elif isinstance(message, m.Keyframe):
                await room.request_keyframe(me, message.producer_id)
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

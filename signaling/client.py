"""A Python client of the live lesson protocol (docs/protocol.md) on aiortc: what the tests, the
benchmark and scripts use to take part in a lesson as a real WebRTC peer."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiortc import MediaStreamTrack, RTCConfiguration, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcrtptransceiver import RTCRtpTransceiver

from sfu.aiortc_adapter import AnnouncingPeerConnection, SfuPeerConnection

REQUEST_TIMEOUT = 20.0


class ProtocolError(Exception):
    """An `error` reply: `.code` is the wire code; `.retry_after` the seconds an `overloaded`
    refusal asks the client to wait (None otherwise)."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after


class LessonClient:
    def __init__(self, base_url: str, lesson_id: int, token: str, *, announced: Sequence[str] = ("127.0.0.1",),
                 decode: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.lesson_id = lesson_id
        self.token = token
        self.announced = tuple(announced)
        self.decode = decode
        self.joined: dict[str, Any] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.tracks: dict[str, MediaStreamTrack] = {}
        """Received tracks by producer id."""
        self.transceivers: dict[str, RTCRtpTransceiver] = {}
        """Receive transceivers by producer id."""
        self.consumers: dict[str, dict[str, Any]] = {}
        """Consumer descriptions of the last offer, by mid."""
        self.track_arrived = asyncio.Condition()
        self.send_pc: AnnouncingPeerConnection | None = None
        self.recv_pc: AnnouncingPeerConnection | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._sending: dict[str, RTCRtpTransceiver] = {}
        self._negotiation = asyncio.Lock()
        self.closed_reason: str | None = None
        self.room = "main"
        """The room this client is in: main, or a breakout group's id."""

    def _pc(self) -> AnnouncingPeerConnection:
        config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        cls = AnnouncingPeerConnection if self.decode else SfuPeerConnection
        return cls(config, self.announced)

    async def connect(self, auto_subscribe: bool = True) -> dict[str, Any]:
        self._http = aiohttp.ClientSession()
        ws_url = self.base_url.replace("http", "ws", 1) + f"/api/lessons/{self.lesson_id}/ws"
        self._ws = await self._http.ws_connect(ws_url, heartbeat=15)
        self._reader = asyncio.create_task(self._read())
        self.joined = await self.request({"type": "join", "token": self.token, "auto_subscribe": auto_subscribe})
        self.room = self.joined.get("room", "main")
        return self.joined

    async def send_raw(self, text: str) -> None:
        assert self._ws is not None
        await self._ws.send_str(text)

    async def request(self, message: dict[str, Any], timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        assert self._ws is not None
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self._ws.send_str(json.dumps({**message, "id": request_id}))
        try:
            reply = await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(request_id, None)
        if reply.get("type") == "error":
            retry_after = reply.get("retry_after")
            raise ProtocolError(reply.get("code", "?"), reply.get("message", ""),
                                float(retry_after) if isinstance(retry_after, int | float) else None)
        return reply

    async def next_event(self, type_: str, timeout: float = REQUEST_TIMEOUT, **match: Any) -> dict[str, Any]:
        """The next event of this type (and fields), skipping others."""
        async def wait() -> dict[str, Any]:
            while True:
                event = await self.events.get()
                if event.get("type") == type_ and all(event.get(k) == v for k, v in match.items()):
                    return event
        return await asyncio.wait_for(wait(), timeout)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for frame in self._ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                request_id = message.get("id")
                if request_id in self._pending:
                    if not self._pending[request_id].done():
                        self._pending[request_id].set_result(message)
                    continue
                if message.get("type") == "offer":
                    await self._on_offer(message)
                if message.get("type") == "room":
                    self.room = message["room"]
                if message.get("type") == "bye":
                    self.closed_reason = message.get("reason")
                if message.get("type") == "error" and request_id is None:
                    self.closed_reason = message.get("code")
                await self.events.put(message)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))
            await self.events.put({"type": "closed"})

    async def _on_offer(self, message: dict[str, Any]) -> None:
        if self.recv_pc is None:
            self.recv_pc = self._pc()
        pc = self.recv_pc
        self.consumers = {c["mid"]: c for c in message["consumers"]}
        await pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        current = {c["producer_id"] for c in message["consumers"]}
        for gone in [pid for pid in self.tracks if pid not in current]:  # their m-lines may carry others now
            self.tracks.pop(gone, None)
            self.transceivers.pop(gone, None)
        for transceiver in pc.getTransceivers():
            consumer = self.consumers.get(transceiver.mid or "")
            if consumer is not None:
                self.tracks[consumer["producer_id"]] = transceiver.receiver.track
                self.transceivers[consumer["producer_id"]] = transceiver
        assert self._ws is not None
        await self._ws.send_str(json.dumps({"type": "answer", "revision": message["revision"],
                                            "sdp": pc.localDescription.sdp}))
        async with self.track_arrived:
            self.track_arrived.notify_all()

    async def track_of(self, producer_id: str, timeout: float = REQUEST_TIMEOUT) -> MediaStreamTrack:
        async with self.track_arrived:
            await asyncio.wait_for(self.track_arrived.wait_for(lambda: producer_id in self.tracks), timeout)
        return self.tracks[producer_id]

    async def publish(self, tracks: dict[str, MediaStreamTrack | None]) -> dict[str, Any]:
        """Publish these sources (None stops one) and renegotiate the send transport."""
        async with self._negotiation:
            if self.send_pc is None:
                self.send_pc = self._pc()
            pc = self.send_pc
            for source, track in tracks.items():
                transceiver = self._sending.get(source)
                if track is None:
                    if transceiver is not None:
                        transceiver.direction = "inactive"
                        del self._sending[source]
                    continue
                if transceiver is None:
                    self._sending[source] = pc.addTransceiver(track, direction="sendonly")
                else:
                    transceiver.sender.replaceTrack(track)
            await pc.setLocalDescription(await pc.createOffer())
            listed = [{"mid": t.mid, "source": s} for s, t in self._sending.items()]
            reply = await self.request({"type": "publish", "sdp": pc.localDescription.sdp, "tracks": listed})
            await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
            return reply

    # --- breakout groups (docs/protocol.md, "Breakout rooms") --------------------------------
    async def start_breakouts(self, groups: list[dict[str, Any]], duration_s: int | None = None,
                              allow: dict[str, bool] | None = None) -> dict[str, Any]:
        """The teacher: `groups` as [{"name", "user_ids"}]; returns the `breakouts` state."""
        message: dict[str, Any] = {"type": "breakouts_start", "groups": groups, "duration_s": duration_s}
        if allow is not None:
            message["allow"] = allow
        return (await self.request(message))["breakouts"]

    async def move_students(self, group_id: str, user_ids: list[int]) -> dict[str, Any]:
        return (await self.request({"type": "breakouts_move", "group_id": group_id, "user_ids": user_ids}))["breakouts"]

    async def end_breakouts(self) -> dict[str, Any]:
        return (await self.request({"type": "breakouts_end"}))["breakouts"]

    async def notice_groups(self, text: str) -> dict[str, Any]:
        return (await self.request({"type": "breakouts_notice", "text": text}))["breakouts"]

    async def listen(self, group_id: str | None) -> dict[str, Any]:
        """The teacher hears this group (None: stops) without joining it."""
        return (await self.request({"type": "listen", "group_id": group_id}))["breakouts"]

    async def watch_groups(self, active: bool = True) -> dict[str, Any]:
        """The teacher receives one camera of each group (its latest speaker's) for the grid."""
        return (await self.request({"type": "overview", "active": active}))["breakouts"]

    async def speak_into(self, group_id: str | None) -> dict[str, Any]:
        """The teacher is heard in this group (None: stops) without joining it."""
        return (await self.request({"type": "speak", "group_id": group_id}))["breakouts"]

    async def visit(self, group_id: str | None) -> dict[str, Any]:
        """The teacher goes into this group (None: back to the main room)."""
        return (await self.request({"type": "visit", "group_id": group_id}))["breakouts"]

    async def call_teacher(self, active: bool = True) -> dict[str, Any]:
        """A student in a group calls the teacher (or takes the call back)."""
        return await self.request({"type": "help", "active": active})

    async def record_group(self, group_id: str, active: bool = True) -> dict[str, Any]:
        """The teacher turns a group's recording on or off (off by default)."""
        return (await self.request({"type": "breakouts_record", "group_id": group_id, "active": active}))["breakouts"]

    async def dismiss_help(self, group_id: str) -> dict[str, Any]:
        return (await self.request({"type": "help_dismiss", "group_id": group_id}))["breakouts"]

    async def close(self, leave: bool = True) -> None:
        """Leave the lesson (`leave=False` drops the connection instead, as a network failure would)."""
        with contextlib.suppress(Exception):
            if leave and self._ws is not None and not self._ws.closed and self.joined:
                await self.request({"type": "leave"}, timeout=5)
        with contextlib.suppress(Exception):
            if self._ws is not None and not self._ws.closed:
                await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 5)
        for pc in (self.send_pc, self.recv_pc):
            if pc is not None:
                await pc.close()
        if self._http is not None:
            await self._http.close()

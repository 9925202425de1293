"""The lesson's WebSocket (signaling) and the rooms' lifetime in the application."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from attendance.log import AttendanceLog
from signaling.admission import Admission, admit, verify_token
from signaling.lesson_room import MediaConfig
from signaling.messages import MAX_MESSAGE_BYTES
from signaling.rooms import RoomRegistry
from signaling.session import Session
from web.keys import ATTENDANCE, CONFIG, DATABASE, ROOMS, SIGNER

HEARTBEAT_SECONDS = 15.0
LESSON_WS_OPENAPI = {
    "get": {
        "operationId": "lesson_ws",
        "summary": "The live lesson's WebSocket (signaling)",
        "tags": ["live"],
        "description": "Upgrade to a WebSocket; the first message is `join` with a media or API token. "
        "Messages are JSON, documented in docs/protocol.md.",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"101": {"description": "Switching to the WebSocket protocol"}},
        "security": [],
    }
}


async def handle_lesson_ws(request: web.Request) -> web.StreamResponse:
    lesson_id = int(request.match_info["id"])
    # Frames up to 16x the message limit are read and refused with `too_large` (the session goes
    # on); anything bigger is cut off by aiohttp with close code 1009.
    ws = web.WebSocketResponse(max_msg_size=16 * MAX_MESSAGE_BYTES, heartbeat=HEARTBEAT_SECONDS)
    await ws.prepare(request)
    app = request.app

    async def admit_token(token: str) -> Admission:
        claims = verify_token(app[SIGNER], token)
        async with app[DATABASE].session() as session:
            return await admit(session, claims.user_id, lesson_id)

    await Session(ws, app[ROOMS], admit_token).run()
    return ws


async def rooms_context(app: web.Application) -> AsyncIterator[None]:
    """The attendance log first (it closes what a crash left open), then the rooms; torn down in
    reverse, so every leave of a shutdown reaches the log."""
    config = app[CONFIG]
    attendance = AttendanceLog(app[DATABASE], config.node_id, grace=config.attendance_grace)
    await attendance.start()
    app[ATTENDANCE] = attendance
    app[ROOMS] = RoomRegistry(MediaConfig(announced=config.ice_addresses, ice_servers=config.rtc_ice_servers()),
                              attendance)
    try:
        yield
    finally:
        await app[ROOMS].close()
        await attendance.close()


def add_live_routes(app: web.Application) -> None:
    app.router.add_get(r"/api/lessons/{id:\d+}/ws", handle_lesson_ws)

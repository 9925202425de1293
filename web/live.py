"""The lesson's WebSocket (signaling) and the rooms' lifetime in the application."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from sqlalchemy import select
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from attendance.log import AttendanceLog
from recorder.jobs import RecordingJobs
from recorder.lesson_recorder import LessonRecorder, RecordingScope
from school.models import School
from signaling.admission import LessonInfo
from signaling.admission import Admission, admit, verify_token
from signaling.errors import NotAuthenticated, Overloaded
from signaling.gate import RETRY_AFTER, JoinGate
from signaling.lesson_room import MediaConfig
from signaling.messages import MAX_MESSAGE_BYTES
from signaling.rooms import RoomRegistry
from signaling.session import Session
from web.auth import session_alive
from web.ice_servers import IceServers
from web.keys import ATTENDANCE, CONFIG, DATABASE, JOIN_GATE, RECORDING_JOBS, ROOMS, SIGNER

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
        try:
            async with app[DATABASE].session() as session:  # a short read, let go before the room
                if not await session_alive(session, claims):  # signed out: its media tokens end too
                    raise NotAuthenticated("signed out: this sign-in has ended")
                return await admit(session, claims.user_id, lesson_id)
        except SQLAlchemyTimeoutError:
            raise Overloaded("the server is busy; try again shortly", RETRY_AFTER) from None

    def connection_lost() -> bool:
        return request.transport is None or request.transport.is_closing()

    await Session(ws, app[ROOMS], admit_token, connection_lost).run()
    return ws


async def rooms_context(app: web.Application) -> AsyncIterator[None]:
    """The attendance log first (it closes what a crash left open), then the rooms; torn down in
    reverse, so every leave of a shutdown reaches the log."""
    config = app[CONFIG]
    db = app[DATABASE]
    attendance = AttendanceLog(db, config.node_id, grace=config.attendance_grace)
    await attendance.start()
    app[ATTENDANCE] = attendance
    root = config.data_dir / "recordings"

    async def policies() -> dict[int, int | None]:
        async with db.session() as session:
            return {s.id: s.recording_retention_days for s in await session.scalars(select(School))}

    jobs = RecordingJobs(db, root, policies)
    await jobs.start()
    app[RECORDING_JOBS] = jobs
    pending: set[asyncio.Task[None]] = set()

    def render_later(lesson_id: int) -> None:
        task = asyncio.ensure_future(jobs.enqueue(lesson_id))
        pending.add(task)
        task.add_done_callback(pending.discard)

    def recorder_for(lesson: LessonInfo) -> LessonRecorder:
        scope = RecordingScope(lesson.school_id, lesson.id, lesson.class_id, lesson.subject_id, lesson.teacher_id,
                               lesson.school_year_id, lesson.record_students)
        return LessonRecorder(db, root, scope, on_stopped=render_later)

    app[JOIN_GATE] = JoinGate(config.join_capacity)
    media = MediaConfig(announced=config.ice_addresses, ice_servers=config.rtc_ice_servers(),
                        peer_silence=config.peer_silence, connect_timeout=config.connect_timeout,
                        empty_linger=config.room_linger,
                        ice_servers_for=IceServers.of(config).rtc_for)
    app[ROOMS] = RoomRegistry(media, attendance, recorder_for, app[JOIN_GATE], db)
    try:
        yield
    finally:
        await app[ROOMS].close()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await jobs.close()
        await attendance.close()


def add_live_routes(app: web.Application) -> None:
    app.router.add_get(r"/api/lessons/{id:\d+}/ws", handle_lesson_ws)

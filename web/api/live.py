"""Entering a live lesson: media tokens for the lesson page, WHIP to publish, WHEP to watch."""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel

from school.models import User
from signaling.admission import MEDIA_TOKEN_PURPOSE, MEDIA_TOKEN_TTL, Admission, admit_user
from signaling.errors import Forbidden, NotFound
from signaling.lesson_room import LessonRoom
from signaling.participant import Participant
from signaling.messages import TrackSpec
from signaling.sdp import media_sections
from web.keys import ROOMS, SIGNER
from web.routing import Api, Call

SDP = "application/sdp"


class MediaTokenOut(BaseModel):
    token: str
    expires_at: datetime
    role: str
    """Your role in the lesson: teacher, student or observer."""
    ws_url: str


def _sdp_response(sdp: str, location: str) -> web.Response:
    return web.Response(status=201, text=sdp, content_type=SDP,
                        headers={"Location": location, "Cache-Control": "no-store"})


async def _admission(call: Call) -> Admission:
    return await admit_user(call.session, call.user, call.path_id("id"))


def _session_of(call: Call, user: User) -> tuple[LessonRoom, str]:
    """The WHIP/WHEP session at this URL, if it is the caller's."""
    registry = call.request.app[ROOMS]
    lesson_id, resource = call.path_id("id"), call.request.match_info["resource"]
    found = registry.whip_sessions.get(resource)
    room = registry.rooms.get(lesson_id)
    if found is None or found[0] != lesson_id or room is None or found[1] not in room.participants:
        raise NotFound("no such session")
    if room.participants[found[1]].user_id != user.id:
        raise Forbidden("this session is someone else's")
    return room, found[1]


def register(api: Api) -> None:
    @api.route("POST", r"/api/lessons/{id:\d+}/media-token", summary="A token to enter the live lesson",
               tag="live", response=MediaTokenOut, errors=(403, 404),
               description="A short-lived token for the lesson's WebSocket (`join`), issued to the lesson's "
               "teacher, its class's students (while the room is open) and administrators (as observers).")
    async def media_token(call: Call) -> MediaTokenOut:
        admission = await _admission(call)
        token, claims = call.request.app[SIGNER].issue(call.user.id, MEDIA_TOKEN_PURPOSE, MEDIA_TOKEN_TTL)
        return MediaTokenOut(token=token, expires_at=claims.expires_at.astimezone(UTC), role=admission.role,
                             ws_url=f"/api/lessons/{admission.lesson.id}/ws")

    @api.route("POST", r"/api/lessons/{id:\d+}/whip", summary="Publish into the lesson (WHIP, RFC 9725)",
               tag="live", status=201, media_type=SDP, errors=(403, 404, 409),
               description="An SDP offer publishes as the token's user with the lesson's permissions: video is "
               "the camera, audio the microphone. 201 with the answer and the session's Location.")
    async def whip(call: Call) -> web.Response:
        async def publish(room: LessonRoom, participant: Participant, offer: str) -> str:
            return str((await room.publish(participant, offer, _whip_tracks(offer)))["sdp"])

        return await _enter(call, "whip", publish)

    @api.route("DELETE", r"/api/lessons/{id:\d+}/whip/{resource:[A-Za-z0-9_-]+}", summary="End a WHIP session",
               tag="live", status=204, errors=(403, 404))
    async def whip_end(call: Call) -> None:
        await _end(call)

    @api.route("POST", r"/api/lessons/{id:\d+}/whep", summary="Watch the lesson's stage (WHEP)",
               tag="live", status=201, media_type=SDP, errors=(403, 404),
               description="A recvonly SDP offer receives the teacher's camera and screen (video m-lines, in "
               "that order) and microphone and screen audio (audio m-lines). 201 with the answer and Location.")
    async def whep(call: Call) -> web.Response:
        async def watch(room: LessonRoom, viewer: Participant, offer: str) -> str:
            return await room.join_whep(viewer, offer)

        return await _enter(call, "whep", watch)

    @api.route("DELETE", r"/api/lessons/{id:\d+}/whep/{resource:[A-Za-z0-9_-]+}", summary="End a WHEP session",
               tag="live", status=204, errors=(403, 404))
    async def whep_end(call: Call) -> None:
        await _end(call)


def _whip_tracks(offer: str) -> list[TrackSpec]:
    """A WHIP publisher's first video section is its camera, its first audio its microphone."""
    kinds = {"video": "camera", "audio": "mic"}
    tracks, used = [], set()
    for mid, kind in media_sections(offer):
        source = kinds.get(kind)
        if source is not None and source not in used:
            used.add(source)
            tracks.append(TrackSpec(mid=mid, source=source))
    return tracks


Negotiate = Callable[[LessonRoom, Participant, str], Awaitable[str]]


async def _enter(call: Call, via: str, negotiate: Negotiate) -> web.Response:
    """Enter the lesson over WHIP or WHEP: admitted as for the page, negotiated, then recorded in
    the attendance log; a refusal leaves nothing behind."""
    admission = await _admission(call)
    offer = await call.request.text()
    registry = call.request.app[ROOMS]
    room = registry.room_for(admission.lesson)
    participant = room.join(admission, via)
    try:
        answer = await negotiate(room, participant, offer)
        await room.attend(participant)
    except BaseException:
        await room.leave(participant, "refused")
        await registry.release(room)
        raise
    resource = secrets.token_urlsafe(16)
    registry.whip_sessions[resource] = (admission.lesson.id, participant.id)
    return _sdp_response(answer, f"/api/lessons/{admission.lesson.id}/{via}/{resource}")


async def _end(call: Call) -> None:
    room, participant_id = _session_of(call, call.user)
    registry = call.request.app[ROOMS]
    registry.whip_sessions.pop(call.request.match_info["resource"], None)
    await room.leave(room.participants[participant_id], "left")
    await registry.release(room)

"""Entering a live lesson: media tokens for the lesson page, WHIP to publish, WHEP to watch."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel

from school.models import User
from signaling.admission import MEDIA_TOKEN_PURPOSE, MEDIA_TOKEN_TTL, Admission, admit_user
from signaling.errors import BadSdp, Forbidden, NotFound, SignalingError
from signaling.lesson_room import LessonRoom
from signaling.participant import Participant
from signaling.messages import TrackSpec
from signaling.sdp import check_offer, media_sections, without_room_codec
from signaling.lesson_ice import answer_etag
from web.auth import current_claims
from web.errors import ApiError
from web.ice_servers import IceServers
from web.keys import CONFIG, ROOMS, SIGNER
from web.routing import Api, Call

SDP = "application/sdp"
log = logging.getLogger(__name__)


class MediaTokenOut(BaseModel):
    token: str
    expires_at: datetime
    role: str
    """Your role in the lesson: teacher, student or observer."""
    ws_url: str


def _sdp_response(call: Call, sdp: str, location: str) -> web.Response:
    """201 with the answer, the session's URL and the ICE servers (RFC 9725 section 4.6), TURN
    credentials made for this user and this request."""
    response = web.Response(status=201, text=sdp, content_type=SDP,
                            headers={"Location": location, "Cache-Control": "no-store", "ETag": answer_etag(sdp)})
    for link in IceServers.of(call.request.app[CONFIG]).links(call.user.id):
        response.headers.add("Link", link)
    return response


def _check(offer: str) -> None:
    """Refusals before anything is made for the offer: SDP no peer connection here could take
    (400 `bad_sdp`), and audio or video sections sharing no codec with the room (406
    `no_common_codec`: nothing could ever flow there, so no half-working session is answered)."""
    uncommon = without_room_codec(check_offer(offer))
    if uncommon:
        named = ", ".join(f"{s.kind} (mid {s.mid})" for s in uncommon)
        raise ApiError(406, "no_common_codec", f"no codec in common with the lesson for {named}: the lesson's "
                       "media is Opus audio and VP8 or H.264 (constrained baseline, packetization-mode=1) video")


async def _admission(call: Call) -> Admission:
    """A short read: the unit of work ends before anything slow begins."""
    async with call.db.session() as session:
        return await admit_user(session, call.user, call.path_id("id"))


def _session_of(call: Call, user: User) -> tuple[LessonRoom, Participant]:
    """The WHIP/WHEP session at this URL, if it is the caller's."""
    found = call.request.app[ROOMS].session(call.path_id("id"), call.request.match_info["resource"])
    if found is None:
        raise NotFound("no such session")
    if found[1].user_id != user.id:
        raise Forbidden("this session is someone else's")
    return found


def register(api: Api) -> None:
    @api.route("POST", r"/api/lessons/{id:\d+}/media-token", summary="A token to enter the live lesson",
               tag="live", response=MediaTokenOut, errors=(403, 404),
               description="A short-lived token for the lesson's WebSocket (`join`), issued to the lesson's "
               "teacher, its class's students (while the room is open) and administrators (as observers).")
    async def media_token(call: Call) -> MediaTokenOut:
        admission = await admit_user(call.session, call.user, call.path_id("id"))
        token, claims = call.request.app[SIGNER].issue(call.user.id, MEDIA_TOKEN_PURPOSE, MEDIA_TOKEN_TTL,
                                                        session_id=current_claims(call.request).session_id)
        return MediaTokenOut(token=token, expires_at=claims.expires_at.astimezone(UTC), role=admission.role,
                             ws_url=f"/api/lessons/{admission.lesson.id}/ws")

    @api.route("POST", r"/api/lessons/{id:\d+}/whip", summary="Publish into the lesson (WHIP, RFC 9725)",
               tag="live", status=201, media_type=SDP, errors=(400, 403, 404, 406, 409, 413, 415, 503),
               unit_of_work=False,
               description="An SDP offer publishes as the token's user with the lesson's permissions: video is "
               "the camera, audio the microphone. 201 with the answer and the session's Location.")
    async def whip(call: Call) -> web.Response:
        async def publish(room: LessonRoom, participant: Participant, offer: str) -> str:
            return str((await room.publish(participant, offer, _whip_tracks(offer)))["sdp"])


        return await _enter(call, "whip", publish)

    @api.route("DELETE", r"/api/lessons/{id:\d+}/whip/{resource:[A-Za-z0-9_-]+}", summary="End a WHIP session",
               tag="live", status=204, errors=(403, 404), unit_of_work=False)
    async def whip_end(call: Call) -> None:
        await _end(call)

    @api.route("POST", r"/api/lessons/{id:\d+}/whep", summary="Watch the lesson's stage (WHEP)",
               tag="live", status=201, media_type=SDP, errors=(400, 403, 404, 406, 413, 415, 503), unit_of_work=False,
               description="A recvonly SDP offer receives the teacher's camera and screen (video m-lines, in "
               "that order) and microphone and screen audio (audio m-lines). 201 with the answer and Location.")
    async def whep(call: Call) -> web.Response:
        async def watch(room: LessonRoom, viewer: Participant, offer: str) -> str:
            return await room.watch(viewer, offer)

        return await _enter(call, "whep", watch)

    @api.route("DELETE", r"/api/lessons/{id:\d+}/whep/{resource:[A-Za-z0-9_-]+}", summary="End a WHEP session",
               tag="live", status=204, errors=(403, 404), unit_of_work=False)
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
    """Enter the lesson over WHIP or WHEP, in phases that each let go of what they held: a turn at
    the join gate, a short read to admit, the room (an action), negotiation (no database), and
    the reply. The presence begins when the peer's media connects, so a peer that never connects,
    or a request abandoned on the way, records nothing and leaves nothing behind."""
    offer = call.raw or ""
    lesson_id = call.path_id("id")
    try:
        _check(offer)
    except (ApiError, BadSdp) as exc:
        log.info("lesson %s: %s offer of user %s refused: %s", lesson_id, via, call.user.id, exc)
        raise
    registry = call.request.app[ROOMS]
    async with registry.gate.enter():
        admission = await _admission(call)
        if _gone(call):
            raise web.HTTPBadRequest(reason="the client went away")
        room, participant = await registry.enter(admission, via)
        try:
            answer = await negotiate(room, participant, offer)
            if _gone(call):
                raise web.HTTPBadRequest(reason="the client went away")
        except BaseException as exc:
            log.info("lesson %s: %s session of user %s failed to start: %s", lesson_id, via, admission.user_id,
                     exc if isinstance(exc, SignalingError) else type(exc).__name__)
            await room.leave(participant, "left")
            raise
    resource = await room.name_session(participant, secrets.token_urlsafe(16))
    log.info("lesson %s: %s session %s for user %s (%s) created", admission.lesson.id, via, participant.id,
             admission.user_id, admission.role)
    return _sdp_response(call, answer, f"/api/lessons/{admission.lesson.id}/{via}/{resource}")


def _gone(call: Call) -> bool:
    transport = call.request.transport
    return transport is None or transport.is_closing()


async def _end(call: Call) -> None:
    room, participant = _session_of(call, call.user)
    await room.leave(participant, "left")
    log.info("lesson %s: %s session %s of user %s ended by its client", room.lesson.id, participant.via,
             participant.id, participant.user_id)

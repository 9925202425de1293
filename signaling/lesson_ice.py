"""Trickle ICE and ICE restart of a WHIP or WHEP session (RFC 9725 section 4.3): the session at a
URL, checked to be the caller's, takes the peer's trickled candidates, or restarts its ICE with the
peer's new credentials while the DTLS association, the producers, the consumers and the presence
in the attendance log stay as they are. Each ICE session has an entity-tag derived from the
server's credentials (`sfu.sdpfrag.ice_etag`): the answer's and every later reply's agree."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sfu.errors import BadSdp as SfuBadSdp
from sfu.errors import ClosedError, SfuError
from sfu.sdpfrag import ice_etag, parse_sdpfrag
from sfu.transport import IceNotConnected, StaleIceSession, WebRtcTransport
from signaling.errors import BadSdp, Conflict, Forbidden, NotFound

if TYPE_CHECKING:
    from signaling.participant import Participant
    from signaling.rooms import RoomRegistry

log = logging.getLogger(__name__)


class PreconditionError(Exception):
    """The request's If-Match does not allow the change: 412 (stale), 428 (missing)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class IcePatched:
    etag: str
    """The ICE session's entity-tag after the change (a new one after a restart)."""
    sdpfrag: str | None = None
    """After a restart: the server's new credentials and candidates (a 200's body); else None (204)."""


def session_transport(participant: Participant) -> WebRtcTransport | None:
    """The transport a WHIP (publishing) or WHEP (watching) session's ICE runs on."""
    return participant.send_transport if participant.via == "whip" else participant.recv_transport


def answer_etag(answer_sdp: str) -> str:
    """The entity-tag of the ICE session an answer (WHIP's or WHEP's 201) begins."""
    values = {}
    for line in answer_sdp.splitlines():
        for name in ("a=ice-ufrag:", "a=ice-pwd:"):
            if line.startswith(name):
                values.setdefault(name, line[len(name):].strip())
    return ice_etag(values.get("a=ice-ufrag:", ""), values.get("a=ice-pwd:", ""))


async def patch_session(registry: RoomRegistry, lesson_id: int, via: str, resource: str, user_id: int,
                        body: str, precondition: str | None) -> IcePatched:
    """Apply a PATCH's fragment to the caller's session at lesson_id/via/resource: its candidates
    (204) or, with new ICE credentials, an ICE restart (200 with the server's fragment)."""
    try:
        fragment = parse_sdpfrag(body)
    except SfuBadSdp as exc:
        raise BadSdp(str(exc)) from None
    found = registry.session(lesson_id, resource)
    if found is None:
        raise NotFound("no such session")
    room, participant = found

    def check() -> WebRtcTransport:
        if participant.left or participant.via != via or room.resources.get(resource) != participant.id:
            raise NotFound("no such session")
        if participant.user_id != user_id:
            raise Forbidden("this session is someone else's")
        transport = session_transport(participant)
        if transport is None or transport.closed:
            raise NotFound("the session has no media connection")
        return transport

    transport = await room.act(check)
    if precondition is None:
        raise PreconditionError(428, "precondition_required",
                                "send If-Match with the session's ETag (or \"*\" to restart ICE)")
    try:
        if fragment.ufrag is None or fragment.ufrag == transport.remote_ice_ufrag():
            await transport.add_remote_candidates(fragment, precondition)
            return IcePatched(transport.ice_etag)
        sdpfrag = await transport.restart_ice(fragment, precondition)
    except StaleIceSession as exc:
        raise PreconditionError(412, "precondition_failed", str(exc)) from None
    except IceNotConnected as exc:
        raise Conflict(str(exc)) from None
    except ClosedError as exc:
        raise NotFound(f"the session has ended: {exc}") from None
    except SfuError as exc:
        raise BadSdp(str(exc)) from None
    log.info("lesson %s: %s session %s of user %s restarted ICE", lesson_id, via, participant.id, user_id)
    return IcePatched(transport.ice_etag, sdpfrag)

"""PATCH on a WHIP or WHEP session's URL (RFC 9725 section 4.3): trickle ICE and ICE restart."""
from __future__ import annotations

from aiohttp import web

from signaling.lesson_ice import PreconditionError, patch_session
from web.errors import ApiError
from web.keys import ROOMS
from web.routing import Api, Call

SDPFRAG = "application/trickle-ice-sdpfrag"
DESCRIPTION = (
    "An SDP fragment (RFC 8840) for the session's ICE, with `If-Match`: the session's `ETag` (from the 201, "
    "or the last ICE restart) for trickled `a=candidate` lines and `a=end-of-candidates` (204), or `*` with new "
    "`a=ice-ufrag` and `a=ice-pwd` to restart ICE (200 with the server's fragment: new credentials and "
    "candidates, and a new `ETag`; the media, the session and its presence go on). 412 for an ETag that is no "
    "longer the session's, 428 without If-Match, 409 for a restart before ICE ever connected.")


def register(api: Api) -> None:
    @api.route("PATCH", r"/api/lessons/{id:\d+}/whip/{resource:[A-Za-z0-9_-]+}", tag="live",
               summary="Trickle ICE or restart ICE of a WHIP session", status=204, media_type=SDPFRAG,
               errors=(400, 403, 404, 409, 412, 413, 415, 428), unit_of_work=False, description=DESCRIPTION)
    async def whip_patch(call: Call) -> web.Response:
        return await _patch(call, "whip")

    @api.route("PATCH", r"/api/lessons/{id:\d+}/whep/{resource:[A-Za-z0-9_-]+}", tag="live",
               summary="Trickle ICE or restart ICE of a WHEP session", status=204, media_type=SDPFRAG,
               errors=(400, 403, 404, 409, 412, 413, 415, 428), unit_of_work=False, description=DESCRIPTION)
    async def whep_patch(call: Call) -> web.Response:
        return await _patch(call, "whep")


async def _patch(call: Call, via: str) -> web.Response:
    try:
        patched = await patch_session(call.request.app[ROOMS], call.path_id("id"), via,
                                      call.request.match_info["resource"], call.user.id, call.raw or "",
                                      call.request.headers.get("If-Match"))
    except PreconditionError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    headers = {"ETag": patched.etag, "Cache-Control": "no-store"}
    if patched.sdpfrag is None:
        return web.Response(status=204, headers=headers)
    return web.Response(status=200, text=patched.sdpfrag, content_type=SDPFRAG, headers=headers)

"""Cross-origin use of the WHIP and WHEP endpoints and their session URLs (RFC 9725 section 4.5):
players and encoders on another site's page, for the origins `--cors-origin` names (none: same
origin only). `OPTIONS` needs no token; the replies to the endpoints (201 and errors alike) let
allowed origins read them and their `Location`, `Link` and `ETag`. No credentials are allowed
cross-origin: those requests carry a Bearer token, never the session cookie, so the rest of the
API and its CSRF rules are as they were."""
from __future__ import annotations

import re

from aiohttp import web
from multidict import CIMultiDict

from school.accounts import active_user
from school.errors import SchoolError
from web.auth import bearer_token
from web.config import Config
from web.ice_servers import IceServers
from web.keys import CONFIG, DATABASE, SIGNER

SDP = "application/sdp"
ENDPOINT = r"/api/lessons/{id:\d+}/{via:whip|whep}"
SESSION = r"/api/lessons/{id:\d+}/{via:whip|whep}/{resource:[A-Za-z0-9_-]+}"
PATHS = re.compile(r"^/api/lessons/\d+/(whip|whep)(/[A-Za-z0-9_-]+)?$")
ALLOW_METHODS = "POST, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, If-Match"
EXPOSE_HEADERS = "Location, Link, ETag"
MAX_AGE = 7200
"""Seconds a browser may keep a preflight's answer (Chromium keeps at most two hours)."""


def allowed_origin(config: Config, origin: str | None) -> str | None:
    """The `Access-Control-Allow-Origin` value for this request's Origin, if it is allowed."""
    if not origin or not config.cors_origins:
        return None
    if "*" in config.cors_origins:
        return "*"
    return origin if origin.lower() in config.cors_origins else None


def _cors_headers(request: web.Request) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    allowed = allowed_origin(request.app[CONFIG], request.headers.get("Origin"))
    if allowed is not None:
        headers["Access-Control-Allow-Origin"] = allowed
        headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    if request.app[CONFIG].cors_origins and "*" not in request.app[CONFIG].cors_origins:
        headers["Vary"] = "Origin"
    return headers


async def _signed_in_user(request: web.Request) -> int | None:
    """The user of a valid Bearer token on an OPTIONS request, else None (OPTIONS needs none)."""
    try:
        token = bearer_token(request)
        if token is None:
            return None
        claims = request.app[SIGNER].verify(token)
    except SchoolError:
        return None
    async with request.app[DATABASE].session() as session:
        user = await active_user(session, claims.user_id)
    return user.id if user is not None else None


async def handle_options(request: web.Request) -> web.Response:
    """204 with what the endpoint accepts; a CORS preflight is answered for allowed origins. A
    plain OPTIONS (not a preflight) also carries the ICE servers (RFC 9725 section 4.6), TURN
    ones only for a valid Bearer token: no one unknown gets relay credentials."""
    headers = _cors_headers(request)
    headers["Allow"] = ALLOW_METHODS
    if "resource" not in request.match_info:
        headers["Accept-Post"] = SDP
    preflight = "Access-Control-Request-Method" in request.headers
    if preflight:
        if "Access-Control-Allow-Origin" in headers:
            headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            headers["Access-Control-Max-Age"] = str(MAX_AGE)
    else:
        for link in IceServers.of(request.app[CONFIG]).links(await _signed_in_user(request)):
            headers.add("Link", link)
    headers["Cache-Control"] = "no-store"
    return web.Response(status=204, headers=headers)


async def _expose(request: web.Request, response: web.StreamResponse) -> None:
    """The actual replies of the WHIP and WHEP URLs (errors too) are readable by allowed origins."""
    if request.method == "OPTIONS" or PATHS.match(request.path) is None:
        return
    for name, value in _cors_headers(request).items():
        response.headers[name] = value


def add_cors(app: web.Application) -> None:
    app.router.add_route("OPTIONS", ENDPOINT, handle_options)
    app.router.add_route("OPTIONS", SESSION, handle_options)
    app.on_response_prepare.append(_expose)

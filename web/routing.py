"""API endpoints declared once: the declaration wires the route, reads and validates the request,
checks who is asking, opens the unit of work, and describes the endpoint in the OpenAPI document.

The body is read and validated before any database connection is taken: a slow upload holds a
socket, never a pooled connection. Then, for an ordinary endpoint (`unit_of_work=True`), one
unit of work covers authentication and the handler and commits before the reply. An endpoint
that awaits anything besides the database (password hashing, SDP negotiation) declares
`unit_of_work=False`: authentication runs in its own short unit of work, closed before the
handler starts, and the handler opens its own short ones with `call.db.session()`."""
from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from school.errors import Forbidden, NotFound
from school.models import Role, User
from storage.database import Database
from storage.guard import ensure_free
from web.auth import authenticate
from web.errors import ApiError, validation_fields
from web.keys import DATABASE, SIGNER

MAX_ID = 2**31 - 1


@dataclass
class Call:
    """One request as an endpoint sees it."""

    request: web.Request
    db: Database
    """The database: `db.session()` opens a unit of work; `db.writer` queues grouped writes."""
    actor: User | None
    body: Any = None
    query: Any = None
    raw: str | None = None
    """The body of a `media_type` endpoint (e.g. an SDP offer), read and decoded before any
    database work; None for other endpoints."""
    _session: AsyncSession | None = field(default=None, repr=False)
    """The request's unit of work when the endpoint declares one (read it as `session`)."""

    @property
    def session(self) -> AsyncSession:
        """The unit of work around this call (endpoints declared with `unit_of_work=True` only)."""
        assert self._session is not None, (
            "this endpoint is declared unit_of_work=False: it holds no unit of work across the request; "
            "open a short one with `async with call.db.session() as session:`")
        return self._session

    @property
    def user(self) -> User:
        assert self.actor is not None, "endpoint declared public"
        return self.actor

    def path_id(self, name: str) -> int:
        value = int(self.request.match_info[name])  # the route pattern admits digits only
        if value > MAX_ID:
            raise NotFound(f"{name} {value} not found")
        return value


Handler = Callable[[Call], Awaitable[BaseModel | web.StreamResponse | None]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """aiohttp pattern, e.g. /api/lessons/{id:\\d+}"""
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    public: bool = False
    errors: tuple[int, ...] = ()
    description: str = ""
    roles: tuple[Role, ...] = ()
    """When set, only these roles get past authentication (403 before the handler runs)."""
    media_type: str | None = None
    """A non-JSON body (application/sdp for WHIP and WHEP), given to the handler as `call.raw`
    (UTF-8 text, at most 64 KiB); the reply has it too."""
    unit_of_work: bool = True
    """True: one unit of work around authentication and the handler (`call.session`), for
    endpoints that only talk to the database. False: the handler awaits other things too, so it
    gets no `call.session` and opens its own short units of work with `call.db.session()`;
    `call.user` is then detached from any session (its columns are loaded, its relations not)."""
    streamed: bool = False
    """The handler reads the body itself, as it arrives (`call.request.content`: an upload larger
    than any body read here); nothing is read before it. Declare it with `unit_of_work=False`."""

    @property
    def openapi_path(self) -> str:
        return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", self.path)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)", self.path)


@dataclass
class Api:
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(self, method: str, path: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, response: Any = None, status: int = 200,
              public: bool = False, errors: tuple[int, ...] = (), description: str = "",
              roles: tuple[Role, ...] = (), media_type: str | None = None,
              unit_of_work: bool = True) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, handler, summary, tag, body, query, response, status,
                                           public, errors, description, roles, media_type, unit_of_work))
            return handler

        return register

    def install(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _wrap(endpoint))


MAX_RAW_BODY = 64 * 1024


async def _read(request: web.Request) -> bytes:
    ensure_free("reading a request body")  # a client sends at its own pace
    return await request.read()


async def _read_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    raw = await _read(request)
    try:
        # Strict: 1 is no boolean, true no id, 0 no date; dates and times only from ISO strings.
        body = model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise ApiError(400, "bad_request", "the body is not valid JSON") from exc
        raise ApiError(422, "validation_error", "invalid request body", fields=validation_fields(exc)) from exc
    if NUL_ESCAPE.search(raw):
        raise ApiError(422, "validation_error", "invalid request body",
                       fields=[{"field": name, "message": "must not contain the NUL character"}
                               for name in _nul_fields(json.loads(raw))])
    return body


NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A NUL character in a JSON text (only ever written escaped): no database stores it."""


def _nul_fields(value: Any, name: str = "") -> list[str]:
    if isinstance(value, str):
        return [name or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            path = f"{name}.{key}" if name else key
            found += [path] if "\x00" in key else _nul_fields(item, path)
        return found
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _nul_fields(v, f"{name}[{i}]")]
    return []


async def _read_raw(request: web.Request, media_type: str) -> str:
    if request.content_type != media_type:
        raise ApiError(415, "unsupported_media_type", f"send the body as {media_type}")
    too_large = ApiError(413, "payload_too_large", f"the body is limited to {MAX_RAW_BODY // 1024} KiB")
    if (request.content_length or 0) > MAX_RAW_BODY:
        raise too_large
    data = await _read(request)
    if len(data) > MAX_RAW_BODY:
        raise too_large
    try:
        text = data.decode(request.charset or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ApiError(400, "bad_request", "the body is not valid text in its declared charset") from exc
    if "\x00" in text:
        raise ApiError(400, "bad_request", "the body must not contain the NUL character")
    return text


def _read_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    known = set(model.model_fields) | {f.alias for f in model.model_fields.values() if f.alias}
    nul = sorted({name for name, value in request.query.items() if "\x00" in name + value})
    if nul:
        raise ApiError(422, "validation_error", "invalid query",
                       fields=[{"field": name, "message": "must not contain the NUL character"} for name in nul])
    unknown = sorted(set(request.query) - known)
    if unknown:
        raise ApiError(422, "validation_error", "unknown query parameter",
                       fields=[{"field": name, "message": "unknown query parameter"} for name in unknown])
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise ApiError(422, "validation_error", "invalid query", fields=validation_fields(exc)) from exc


def render(result: BaseModel | web.StreamResponse | None, status: int) -> web.StreamResponse:
    if result is None:
        return web.Response(status=204)
    if isinstance(result, web.StreamResponse):
        return result
    return web.Response(
        text=json.dumps(result.model_dump(mode="json", by_alias=True), ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


async def _authorise(endpoint: Endpoint, request: web.Request, session: AsyncSession) -> User | None:
    actor = None if endpoint.public else await authenticate(request, session, request.app[SIGNER])
    if endpoint.roles and (actor is None or actor.role not in endpoint.roles):
        raise Forbidden(f"only {' or '.join(r.value for r in endpoint.roles)} may do this")
    return actor


def _wrap(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        query = _read_query(request, endpoint.query) if endpoint.query else None
        # The whole request is read before any connection is taken.
        body = raw = None
        if endpoint.streamed:
            pass  # the handler streams it after authentication
        elif endpoint.media_type is not None:
            raw = await _read_raw(request, endpoint.media_type)
        elif endpoint.body is not None:
            body = await _read_body(request, endpoint.body)
        elif request.content_length:
            await _read(request)  # tolerated and ignored, but never parsed
        db = request.app[DATABASE]
        if endpoint.unit_of_work:
            async with db.session() as session:
                actor = await _authorise(endpoint, request, session)
                result = await endpoint.handler(Call(request, db, actor, body, query, raw, session))
            # The unit of work committed before the reply: what the client is told happened, happened.
        else:
            actor = None
            if not endpoint.public or endpoint.roles:
                async with db.session() as session:
                    actor = await _authorise(endpoint, request, session)
            result = await endpoint.handler(Call(request, db, actor, body, query, raw))
        return render(result, endpoint.status)

    handle.__name__ = endpoint.handler.__name__
    return handle

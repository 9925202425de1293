"""API endpoints declared once: the declaration wires the route, validates the request, checks
who is asking, opens the unit of work, and describes the endpoint in the OpenAPI document."""
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
from web.auth import authenticate
from web.errors import ApiError, validation_fields
from web.keys import DATABASE, SIGNER

MAX_ID = 2**31 - 1


@dataclass
class Call:
    """One request as an endpoint sees it."""

    request: web.Request
    session: AsyncSession
    actor: User | None
    body: Any = None
    query: Any = None

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
    """When set, only these roles get past authentication (403 before the body is read)."""
    media_type: str | None = None
    """A non-JSON body (application/sdp for WHIP and WHEP): the handler reads it, the reply has it too."""

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
              roles: tuple[Role, ...] = (), media_type: str | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, handler, summary, tag, body, query, response, status,
                                           public, errors, description, roles, media_type))
            return handler

        return register

    def install(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _wrap(endpoint))


async def _read_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    raw = await request.read()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise ApiError(400, "bad_request", "the body is not valid JSON") from exc
        raise ApiError(422, "validation_error", "invalid request body", fields=validation_fields(exc)) from exc


def _read_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    known = set(model.model_fields) | {f.alias for f in model.model_fields.values() if f.alias}
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


def _wrap(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        query = _read_query(request, endpoint.query) if endpoint.query else None
        if endpoint.media_type is not None:
            if request.content_type != endpoint.media_type:
                raise ApiError(415, "unsupported_media_type", f"send the body as {endpoint.media_type}")
            if (request.content_length or 0) > 64 * 1024:
                raise ApiError(413, "payload_too_large", "the body is limited to 64 KiB")
        elif endpoint.body is None and request.content_length:
            await request.read()  # tolerated and ignored, but never parsed
        async with request.app[DATABASE].session() as session:
            actor = None if endpoint.public else await authenticate(request, session, request.app[SIGNER])
            if endpoint.roles and (actor is None or actor.role not in endpoint.roles):
                raise Forbidden(f"only {' or '.join(r.value for r in endpoint.roles)} may do this")
            body = await _read_body(request, endpoint.body) if endpoint.body else None
            result = await endpoint.handler(Call(request, session, actor, body, query))
        # The unit of work committed before the reply: what the client is told happened, happened.
        return render(result, endpoint.status)

    handle.__name__ = endpoint.handler.__name__
    return handle

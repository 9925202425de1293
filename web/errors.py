"""Every error leaves the server as JSON `{"error": {"code", "message", "fields"?}}`, mapped here."""
from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from school.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidField,
    NotAuthenticated,
    NotFound,
    SchoolError,
)

from signaling.errors import SignalingError
from storage.writer import WriterClosed

log = logging.getLogger(__name__)
SIGNALING_STATUS = {"not_authenticated": 401, "forbidden": 403, "not_found": 404, "conflict": 409, "lesson_closed": 409,
                    "lesson_ended": 409,
                    "bad_sdp": 400, "bad_message": 400, "too_large": 413, "overloaded": 503}
OVERLOADED_RETRY_AFTER = 2
"""Seconds a client is asked to wait when no database connection came free in time."""

STATUS = {
    NotAuthenticated: 401,
    InvalidCredentials: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidField: 422,
}
HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal",
    503: "overloaded",
}


class ApiError(Exception):
    """An error raised by the web edge itself (bad JSON, rate limit...)."""

    def __init__(self, status: int, code: str, message: str, *, fields: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return web.json_response({"error": body}, status=status, headers=headers)


def validation_fields(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    fields = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        name = ""
        for part in loc:
            name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
        fields.append({"field": (prefix + name) or "body", "message": err["msg"]})
    return fields


def _retry_after(exc: SignalingError) -> dict[str, str] | None:
    """`Retry-After` for a refusal that carries `retry_after` seconds (signaling's Overloaded)."""
    seconds = getattr(exc, "retry_after", None)
    if seconds is None:
        return None
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def error_middleware() -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def impl(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        is_api = request.path.startswith("/api/")
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)
        except InvalidField as exc:
            return error_response(422, exc.code, exc.message, [{"field": exc.field, "message": exc.detail}])
        except SchoolError as exc:
            return error_response(STATUS.get(type(exc), 400), exc.code, exc.message)
        except SignalingError as exc:
            return error_response(SIGNALING_STATUS.get(exc.code, 500), exc.code, exc.message,
                                  headers=_retry_after(exc))
        except PoolTimeout:
            log.warning("no database connection came free in time for %s %s", request.method, request.path)
            return error_response(503, "overloaded", "the server is busy; try again shortly",
                                  headers={"Retry-After": str(OVERLOADED_RETRY_AFTER)})
        except WriterClosed:
            return error_response(503, "unavailable", "the server is stopping; try again shortly",
                                  headers={"Retry-After": str(OVERLOADED_RETRY_AFTER)})
        except web.HTTPException as exc:
            if not is_api or exc.status < 400:
                raise
            return error_response(exc.status, HTTP_CODES.get(exc.status, "error"), exc.reason,
                                  headers={k: v for k, v in exc.headers.items() if k == "Allow"})
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return error_response(500, "internal", "internal server error")

    return impl


def security_headers_middleware() -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def impl(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        response = await handler(request)
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
            "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
        )
        return response

    return impl

"""Every error leaves the server as JSON `{"error": {"code", "message", "reason"?, "fields"?}}`,
mapped here. `code` and each field's `code` are stable machine codes; `message`s are sentences from
the catalogue (school.catalogue) in the asker's language (Accept-Language), English by default."""
from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from school import catalogue
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

    def __init__(self, status: int, code: str, message: str, *, fields: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, fields: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None, *, reason: str | None = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if reason is not None:
        body["reason"] = reason
    if fields is not None:
        body["fields"] = fields
    return web.json_response({"error": body}, status=status, headers=headers)


PYDANTIC_CODES = {
    "missing": "required",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "too_long": "too_many",
    "too_short": "too_few",
    "string_pattern_mismatch": "bad_format",
    "int_parsing": "not_integer", "int_type": "not_integer", "int_from_float": "not_integer",
    "float_parsing": "not_number", "float_type": "not_number", "finite_number": "not_number",
    "bool_parsing": "not_boolean", "bool_type": "not_boolean",
    "string_type": "not_text", "string_unicode": "not_text",
    "list_type": "not_list",
    "greater_than_equal": "too_small", "greater_than": "too_small",
    "less_than_equal": "too_big", "less_than": "too_big",
    "date_parsing": "bad_date", "date_type": "bad_date", "date_from_datetime_parsing": "bad_date",
    "date_from_datetime_inexact": "bad_date",
    "datetime_parsing": "bad_datetime", "datetime_type": "bad_datetime", "datetime_from_date_parsing": "bad_datetime",
    "time_parsing": "bad_time", "time_type": "bad_time",
    "literal_error": "not_allowed", "enum": "not_allowed",
    "extra_forbidden": "unknown_field",
    "model_type": "invalid_body", "dict_type": "invalid_body", "json_invalid": "invalid_body",
}
"""pydantic's error types -> the catalogue's codes (a custom error's type is its code already)."""


def _params(err: Any) -> dict[str, Any]:
    ctx = dict(err.get("ctx") or {})
    params: dict[str, Any] = {k: v for k, v in ctx.items() if isinstance(v, int | float | str)}
    for bound, name in (("ge", "min"), ("gt", "min"), ("le", "max"), ("lt", "max")):
        if bound in ctx:
            params[name] = ctx[bound]
    return params


def validation_fields(exc: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    """Each problem of a request as `{"field", "code", "params", "message"}`; `message` is English
    here and put in the asker's language by the middleware."""
    fields = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        name = ""
        for part in loc:
            name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
        kind = str(err["type"])
        code = PYDANTIC_CODES.get(kind, kind if catalogue.has(kind) else "invalid")
        fields.append({"field": (prefix + name) or "body", "code": code, "params": _params(err),
                       "message": str(err["msg"]).removeprefix("Value error, ")})
    return fields


def _leaf(field: str) -> str:
    """`body.teachers[2].username` -> `username` (the catalogue's per-field wording)."""
    parts = [p for p in field.replace("]", "").replace("[", ".").split(".") if p and not p.isdigit()]
    return parts[-1] if parts else field


def localise(fields: list[dict[str, Any]] | None, lang: str) -> list[dict[str, Any]] | None:
    """Each field's message in `lang` from the catalogue (kept as it was when the code has none)."""
    if fields is None:
        return None
    out = []
    for item in fields:
        code = item.get("code")
        said = catalogue.text(code, lang, item.get("params"), _leaf(str(item.get("field", "")))) if code else None
        out.append({**item, "message": said or item.get("message", "")})
    return out


def school_error_response(exc: SchoolError, lang: str) -> web.Response:
    """A refusal of the school layer: its status, code and reason, and its sentence in `lang`."""
    status = STATUS.get(type(exc), 400)
    said = catalogue.text(exc.reason, lang, exc.params, exc.field) if exc.reason is not None else None
    fields = None
    if exc.field is not None:
        fields = [{"field": exc.field, "code": exc.reason or "invalid", "params": exc.params,
                   "message": said or getattr(exc, "detail", exc.message)}]
    return error_response(status, exc.code, said or exc.message, fields, reason=exc.reason)


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
            lang = catalogue.negotiate(request.headers.get("Accept-Language"))
            fields = localise(exc.fields, lang)
            message = exc.message
            if fields and exc.status == 422 and lang != "en":
                message = catalogue.text("invalid_body", lang) or message
            return error_response(exc.status, exc.code, message, fields, exc.headers)
        except SchoolError as exc:
            return school_error_response(exc, catalogue.negotiate(request.headers.get("Accept-Language")))
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

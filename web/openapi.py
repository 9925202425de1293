"""The OpenAPI 3.1 document, generated from the endpoint declarations that also wire the routes."""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from web.routing import Api, Endpoint

REF = "#/components/schemas/{model}"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}
ERROR_TEXT = {
    400: "Malformed request",
    401: "Not signed in, or the token is invalid or expired",
    403: "Not allowed for this user",
    404: "Not found",
    406: "Nothing in common with what the server offers (e.g. `no_common_codec`)",
    409: "Conflicts with existing data",
    412: "The If-Match precondition failed (a stale ETag)",
    413: "Body too large",
    415: "Body is not JSON",
    416: "The requested byte range lies outside the file",
    422: "Invalid field; `fields` names it",
    428: "The If-Match header is required",
    429: "Too many attempts; see Retry-After",
    503: "The server is busy now (code `overloaded`); retry after the Retry-After header's seconds",
}


def _models(api: Api) -> list[type[BaseModel]]:
    seen: dict[type[BaseModel], None] = {}
    for ep in api.endpoints:
        for model in (ep.body, ep.response):
            if isinstance(model, type) and issubclass(model, BaseModel):
                seen[model] = None
    return list(seen)


def _parameters(ep: Endpoint, components: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1} if pattern == r"\d+" else {"type": "string", "pattern": f"^{pattern}$"}}
        for name, pattern in re.findall(r"\{(\w+):([^}]+)\}", ep.path)
    ]
    if ep.query is not None:
        schema = ep.query.model_json_schema(by_alias=True, ref_template=REF)
        components.update(schema.get("$defs", {}))  # enums the query refers to
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    return params


def _operation(ep: Endpoint, refs: dict[type[BaseModel], dict[str, Any]], components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": ep.handler.__name__,
        "summary": ep.summary,
        "tags": [ep.tag],
        "responses": {},
    }
    if ep.description:
        op["description"] = ep.description
    if ep.roles:
        op["x-roles"] = [r.value for r in ep.roles]
    params = _parameters(ep, components)
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[ep.body]}},
        }
    if ep.media_type is not None:
        op["requestBody"] = {"required": True, "content": {ep.media_type: {"schema": {"type": "string"}}}}
    ok: dict[str, Any] = {"description": "Success"}
    if ep.media_type is not None and ep.status == 201:
        ok["content"] = {ep.media_type: {"schema": {"type": "string"}}}
        ok["headers"] = {"Location": {"schema": {"type": "string"}, "description": "The session's resource"}}
    elif ep.response is not None:
        ok["content"] = {"application/json": {"schema": refs[ep.response]}}
    op["responses"][str(ep.status)] = ok
    codes = set(ep.errors)
    if not ep.public:
        codes |= {401}
        op["security"] = [{"bearer": []}, {"cookie": []}]
    else:
        op["security"] = []
    if ep.roles:
        codes.add(403)
    if ep.body is not None:
        codes |= {400, 415, 422}
    if ep.media_type is not None:
        codes |= {400, 413, 415}
    if ep.query is not None:
        codes.add(422)
    if ep.path_params:
        codes.add(404)
    for code in sorted(codes):
        op["responses"][str(code)] = {
            "description": ERROR_TEXT[code],
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
    return op


def build_openapi(api: Api, *, version: str) -> dict[str, Any]:
    models = _models(api)
    # One mode for bodies and replies alike, so each model has one schema (and one name).
    keyed, schemas = models_json_schema([(m, "serialization") for m in models], ref_template=REF)
    refs = {model: keyed[(model, "serialization")] for model in models}
    components = dict(schemas.get("$defs", {}))
    components["Error"] = ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for ep in api.endpoints:
        paths.setdefault(ep.openapi_path, {})[ep.method.lower()] = _operation(ep, refs, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lophoc API",
            "version": version,
            "description": "REST API of lophoc, the self-hosted virtual classroom. Sign in with "
            "POST /api/auth/login; send the token as `Authorization: Bearer <token>`. Browsers use "
            "the session cookie and must echo the `lophoc_csrf` cookie in `X-CSRF-Token` on unsafe methods.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "lophoc_session"},
            },
        },
    }


def schema_of(value: Any) -> dict[str, Any]:
    """JSON schema of any annotation (used by tests to check replies against the document)."""
    return TypeAdapter(value).json_schema(ref_template=REF)

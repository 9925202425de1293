"""The OpenAPI document describes the routes that exist, and the health and metrics endpoints answer."""
from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from school.demo import DemoSchool

METHODS = {"get", "post", "put", "patch", "delete"}


def _route_key(method: str, path: str) -> tuple[str, str]:
    return method.lower(), re.sub(r"\{(\w+)(:[^}]+)?\}", r"{\1}", path)


async def test_the_openapi_document_is_valid_and_matches_the_routes(client: TestClient, app: web.Application) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    validate(document)
    documented = {(method, path) for path, item in document["paths"].items() for method in item if method in METHODS}
    served = {
        _route_key(route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/")
        and route.method.lower() in METHODS and route.resource.canonical != "/api/openapi.json"
    }
    assert served, "no API routes found"
    assert documented == served
    for needed in [("post", "/api/auth/login"), ("get", "/api/me/lessons"), ("post", "/api/lessons"),
                   ("get", "/api/lessons/{id}"), ("post", "/api/classes/{id}/students")]:
        assert needed in documented


async def test_openapi_names_error_answers_for_protected_endpoints(client: TestClient) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    lessons = document["paths"]["/api/lessons"]["post"]
    assert {"201", "401", "403", "422"} <= set(lessons["responses"])


async def test_healthz_reports_the_database(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}


async def test_metrics_count_requests_by_route_template(client: TestClient, admin: dict[str, str]) -> None:
    assert (await client.get("/api/lessons/999", headers=admin)).status == 404
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert "lophoc_up 1.0" in text
    assert re.search(r'lophoc_http_requests_total\{method="GET",route="/api/lessons/\{id\}",status="404"\} 1\.0', text), text
    assert re.search(r'lophoc_logins_total\{outcome="[a-z_]+"\} [1-9]', text), text


async def test_replies_match_their_documented_schemas(client: TestClient, admin: dict[str, str], demo: DemoSchool) -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = await (await client.get("/api/openapi.json")).json()
    registry = Registry().with_resource("urn:lophoc", Resource.from_contents(document, default_specification=DRAFT202012))
    for path, template in [("/api/me/lessons", "/api/me/lessons"), ("/api/classes", "/api/classes"),
                           (f"/api/lessons/{demo.lesson_id}", "/api/lessons/{id}"), ("/api/users", "/api/users")]:
        response = await client.get(path, headers=admin)
        assert response.status == 200, path
        ref = document["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        validator = Draft202012Validator({"$ref": "urn:lophoc" + ref}, registry=registry)
        errors = list(validator.iter_errors(await response.json()))
        assert not errors, (path, errors[:3])

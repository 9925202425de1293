"""Prometheus metrics, one registry per application (never the process-global default)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lophoc_http_requests", "HTTP requests answered", ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lophoc_http_request_seconds", "Time to answer an HTTP request", ["method", "route"],
            registry=self.registry,
        )
        self.logins = Counter(
            "lophoc_logins", "Sign-in attempts by outcome", ["outcome"], registry=self.registry
        )
        self.up = Gauge("lophoc_up", "1 while the server runs", registry=self.registry)
        self.up.set(1)
        self.sessions_issued = Counter(
            "lophoc_sessions_issued", "Session tokens issued", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_name(request: web.Request) -> str:
    """The route's template (/api/lessons/{id}), never the raw path: bounded label values."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return resource.canonical


def metrics_middleware(metrics: Metrics) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def impl(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        route = route_name(request)
        with metrics.latency.labels(request.method, route).time():
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                metrics.requests.labels(request.method, route, str(exc.status)).inc()
                raise
            except Exception:
                metrics.requests.labels(request.method, route, "500").inc()
                raise
        metrics.requests.labels(request.method, route, str(response.status)).inc()
        return response

    return impl


async def handle_metrics(request: web.Request) -> web.Response:
    from web.keys import METRICS

    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

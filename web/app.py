"""The aiohttp application: composed from config, with state under AppKeys and start-up and
shut-down in cleanup contexts (set up in order, torn down in reverse)."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from aiohttp import web

import migrations
from school.bootstrap import Bootstrap, bootstrap
from school.tokens import TokenSigner
from storage.database import Database
from web.api import build_api
from web.api.notices import notices_context
from web.api import record_bundle
from web.api.board_slides import slides_context
from web.api.online_tests import sweeper_context
from web.auth import login_limits_context
from web.config import Config
from web.cors import add_cors
from web.errors import error_middleware, security_headers_middleware
from web.health import handle_healthz
from web.live import LESSON_WS_OPENAPI, add_live_routes, rooms_context
from web.keys import CONFIG, DATABASE, EXPORTS, METRICS, SIGNER
from web.metrics import Metrics, handle_metrics, metrics_middleware
from web.openapi import build_openapi
from web.pages import add_page_routes
from web.static_assets import add_static_routes

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
EXPORTS_AT_ONCE = 2
"""Downloads drawn or packed in worker threads at the same time (see web.keys.EXPORTS)."""
BOOTSTRAP = web.AppKey("bootstrap", Bootstrap)
OPENAPI = web.AppKey("openapi", bytes)


def lophoc_version() -> str:
    try:
        return version("lophoc")
    except PackageNotFoundError:
        return "0.0.0+source"


async def _database(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    config.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(config.db_url, strict=config.db_strict, pool_size=config.db_pool_size,
                  max_overflow=config.db_max_overflow, pool_timeout=config.db_pool_timeout)
    await migrations.upgrade(db)
    result = await bootstrap(db, school_name=config.school_name, admin_password=config.admin_password)
    if result is not None:
        app[BOOTSTRAP] = result
    app[DATABASE] = db
    collector = app[METRICS].register_database(db)
    yield
    app[METRICS].registry.unregister(collector)
    await db.close()


async def handle_openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


def create_app(config: Config) -> web.Application:
    metrics = Metrics()
    app = web.Application(
        middlewares=[security_headers_middleware(), metrics_middleware(metrics), error_middleware()],
        client_max_size=1024 * 1024,
    )
    app[CONFIG] = config
    app[METRICS] = metrics
    metrics.register_app_rooms(app)
    metrics.register_live(app)
    app[EXPORTS] = asyncio.Semaphore(EXPORTS_AT_ONCE)
    app[SIGNER] = TokenSigner(config.secret_key(), config.session_ttl)
    api = build_api()
    api.install(app)
    document = build_openapi(api, version=lophoc_version())
    document["paths"]["/api/lessons/{id}/ws"] = LESSON_WS_OPENAPI
    app[OPENAPI] = json.dumps(document, ensure_ascii=False).encode()
    app.router.add_get("/api/openapi.json", handle_openapi)
    app.router.add_get("/healthz", handle_healthz)
    app.router.add_get("/metrics", handle_metrics)
    add_live_routes(app)
    add_cors(app)  # OPTIONS of the WHIP and WHEP URLs; their replies readable by allowed origins
    add_page_routes(app)
    add_static_routes(app, STATIC)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(login_limits_context(config.login_window, config.login_attempts,
                                                config.login_address_attempts, config.login_backoff_cap,
                                                config.redis_url))
    app.cleanup_ctx.append(rooms_context)  # needs the database
    app.cleanup_ctx.append(notices_context)  # absences told, e-mails sent
    app.cleanup_ctx.append(slides_context)  # fails conversions a stop cut short
    app.cleanup_ctx.append(sweeper_context)  # online test attempts past their deadline submitted
    app.cleanup_ctx.append(record_bundle.records_context)  # the records' retention (lưu trữ), daily
    return app

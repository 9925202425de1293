"""HTML pages of the web UI.

Each page is a static HTML shell in ``static/pages/`` that loads one ES module; the module asks the
REST API for its data. The shells are read per request (cheap, and a deploy needs no restart) and
sent with ``Cache-Control: no-store`` so a signed-out user never sees a page from the cache.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
PAGES_DIR = STATIC_DIR / "pages"
FAVICON = STATIC_DIR / "favicon.svg"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# path -> HTML file in PAGES_DIR
PAGES: dict[str, str] = {
    "/login": "login.html",
    "/lessons": "lessons.html",
    r"/lessons/{lesson_id:\d+}": "lesson.html",
    "/admin/classes": "admin-classes.html",
    r"/admin/classes/{class_id:\d+}": "admin-class.html",
    "/admin/users": "admin-users.html",
    "/admin/subjects": "admin-subjects.html",
    "/admin/timetable": "admin-timetable.html",
    "/admin/import": "admin-import.html",
    "/admin/settings": "admin-settings.html",
    r"/lessons/{lesson_id:\d+}/attendance": "lesson-attendance.html",
    "/reports/attendance": "reports-attendance.html",
    "/reports/teaching": "reports-teaching.html",
    "/recordings": "recordings.html",
    "/assignments": "assignments.html",
    r"/assignments/{assignment_id:\d+}": "assignment.html",
    "/my-results": "my-results.html",
    "/parent": "parent.html",
    "/parent/join": "parent-join.html",
    "/admin/parents": "admin-parents.html",
    "/gradebook": "gradebook.html",
    "/tests": "tests.html",
    r"/tests/{test_id:\d+}/take": "test-take.html",
    r"/tests/{test_id:\d+}/grade": "test-grade.html",
    "/supervision": "supervision.html",
    "/account": "account.html",
    "/admin/audit": "admin-audit.html",
    "/materials": "materials.html",
    "/materials/review": "materials.html",
}

# path -> where it sends the browser (302)
REDIRECTS: dict[str, str] = {
    "/": "/lessons",
    "/admin": "/admin/timetable",
}


def _page(path: Path) -> Handler:
    async def serve_page(request: web.Request) -> web.Response:
        body = await asyncio.to_thread(path.read_bytes)
        return web.Response(
            body=body,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    return serve_page


def _redirect(location: str) -> Handler:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(location)

    return redirect


async def _favicon(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(FAVICON.read_bytes)
    return web.Response(
        body=body,
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def add_page_routes(app: web.Application) -> None:
    """Register the page routes and the favicon (the static assets are served under /static/)."""
    for route, filename in PAGES.items():
        app.router.add_get(route, _page(PAGES_DIR / filename))
    for route, location in REDIRECTS.items():
        app.router.add_get(route, _redirect(location))
    app.router.add_get("/favicon.ico", _favicon)

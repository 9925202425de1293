"""The web UI's static assets (scripts, styles, icons) under ``/static/``.

The assets are small, so each is read whole in a worker thread that opens and closes the file
itself: a browser that goes away mid-request (a tab closed, a test's browser stopped) leaves no
open file behind, which a file handed from thread to event loop could. Answers carry an ETag and
``Cache-Control: no-cache``, so a browser revalidates and gets ``304`` until the school upgrades.
"""
from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path

from aiohttp import web

ASSET_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
               ".svg": "image/svg+xml", ".json": "application/json", ".woff2": "font/woff2"}


def _read(path: Path) -> tuple[bytes, str] | None:
    """The asset's bytes and ETag, or None when there is no such file under the root."""
    try:
        with path.open("rb") as handle:
            stat = path.stat()
            if not path.is_file():
                return None
            return handle.read(), f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None


def _serve(root: Path):
    root = root.resolve()

    async def serve(request: web.Request) -> web.StreamResponse:
        path = (root / request.match_info["path"]).resolve()
        if not path.is_relative_to(root):
            raise web.HTTPNotFound()
        found = await asyncio.to_thread(_read, path)
        if found is None:
            raise web.HTTPNotFound()
        body, etag = found
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        content_type = ASSET_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        return web.Response(body=body, content_type=content_type or "application/octet-stream",
                            headers=headers)

    return serve


def add_static_routes(app: web.Application, root: Path) -> None:
    """Serve the files under ``root`` at ``/static/<path>``."""
    app.router.add_get("/static/{path:.+}", _serve(root))

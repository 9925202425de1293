"""The UI's scripts, styles and icons are served with the right type, revalidated by ETag, and
nothing outside the static directory is reachable."""
from __future__ import annotations

from aiohttp.test_utils import TestClient


async def test_assets_are_served_with_their_type_and_revalidate_with_etag(client: TestClient) -> None:
    script = await client.get("/static/js/i18n.js")
    assert script.status == 200
    assert script.content_type == "text/javascript"
    assert "export" in await script.text()
    etag = script.headers["ETag"]
    assert script.headers["Cache-Control"] == "no-cache"
    again = await client.get("/static/js/i18n.js", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    icon = await client.get("/static/favicon.svg")
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    style = await client.get("/static/css/app.css")
    assert style.status == 200 and style.content_type == "text/css"


async def test_nothing_outside_the_static_directory_is_served(client: TestClient) -> None:
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py",
                 "/static/js", "/static/js/", "/static/missing.js", "/static/js/%2e%2e/%2e%2e/app.py"):
        response = await client.get(path)
        assert response.status == 404, path

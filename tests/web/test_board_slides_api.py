"""Slides for the board over REST: a PDF or image uploaded by the teacher becomes page images in
another process (202, progress to 1), served to the lesson's staff and its class; hostile uploads
are refused or fail with a reason while the server carries on; a stop never leaves a slide
converting for ever."""
from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import cv2
import numpy as np
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from storage.database import Database
from tests.waiting import until
from tests.whiteboard.slide_files import BLUE, THREE_PAGES, WHITE, PdfPage, image_bytes, make_pdf, png_bomb
from web.api.board_slides import SLIDE_JOBS
from web.app import create_app
from web.keys import CONFIG, DATABASE
from whiteboard.slide_models import BoardSlide
from whiteboard.slides import slide_dir, upload_path


async def upload(client: TestClient, headers: dict[str, str], lesson_id: int, data: bytes, content_type: str,
                 filename: str | None = None, status: int = 202) -> dict[str, Any]:
    extra = {"Content-Type": content_type}
    if filename is not None:
        extra["X-Filename"] = quote(filename)
    response = await client.post(f"/api/lessons/{lesson_id}/board/slides", headers={**headers, **extra},
                                 data=io.BytesIO(data))
    assert response.status == status, await response.text()
    return await response.json()


async def finished(client: TestClient, headers: dict[str, str], slide_id: int,
                   seen: list[float] | None = None) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        slide = await (await client.get(f"/api/board/slides/{slide_id}", headers=headers)).json()
        if seen is not None:
            seen.append(slide["progress"])
        return slide if slide["status"] != "processing" else None

    return await until(f"slide {slide_id} converted", check, timeout=90)


def colour_at(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    b, g, r = (int(v) for v in image[y, x])
    return r, g, b


def incoming(app) -> list[Path]:
    folder = upload_path(app[CONFIG].data_dir, 0).parent
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_a_pdf_becomes_page_images_the_class_can_see(client, app, login, demo):
    teacher = await login(demo.teacher)
    an = await login(demo.students[0])
    created = await upload(client, teacher, demo.lesson_id, make_pdf(THREE_PAGES), "application/pdf",
                           filename="Bài 5 – Hàm số <img src=x onerror=alert(1)>.pdf")
    assert created["status"] == "processing" and created["progress"] == 0 and created["pages"] == 0
    assert created["filename"] == "Bài 5 – Hàm số <img src=x onerror=alert(1)>.pdf"  # plain text, as typed
    seen = [created["progress"]]
    slide = await finished(client, teacher, created["id"], seen)
    assert slide["status"] == "ready" and slide["error"] is None and slide["message"] is None
    assert slide["progress"] == 1 and seen == sorted(seen)  # from 0 to 1, never backwards
    assert slide["pages"] == 3 and slide["page_heights"] == [900, 2264, 1600]
    assert (slide["width"], slide["height"]) == (1600, 900) and slide["kind"] == "pdf"

    listed = await (await client.get(f"/api/lessons/{demo.lesson_id}/board/slides", headers=an)).json()
    assert [s["id"] for s in listed["slides"]] == [slide["id"]]
    response = await client.get(f"/api/board/slides/{slide['id']}/pages/1.png", headers=an)
    assert response.status == 200 and response.content_type == "image/png"
    assert "immutable" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    first = await response.read()
    assert colour_at(first, 200, 200) == (0, 0, 255) and colour_at(first, 1200, 700) == (255, 0, 0)
    etag = response.headers["ETag"]
    again = await client.get(f"/api/board/slides/{slide['id']}/pages/1.png", headers={**an, "If-None-Match": etag})
    assert again.status == 304
    second = await (await client.get(f"/api/board/slides/{slide['id']}/pages/2.png", headers=an)).read()
    assert colour_at(second, 800, 1000) == (0, 255, 0) and colour_at(second, 800, 2200) == (255, 255, 0)
    third = await (await client.get(f"/api/board/slides/{slide['id']}/pages/3.png", headers=an)).read()
    assert colour_at(third, 400, 800) == (255, 255, 255) and colour_at(third, 1200, 800) == (0, 0, 255)
    for missing in (0, 4, 99999999999):
        assert (await client.get(f"/api/board/slides/{slide['id']}/pages/{missing}.png", headers=an)).status == 404
    assert incoming(app) == []  # the upload is gone once converted


async def test_png_and_jpeg_images_become_one_page(client, login, demo, admin):
    teacher = await login(demo.teacher)
    picture = np.full((600, 800, 3), (255, 0, 0), np.uint8)  # blue, 4:3
    png = await upload(client, teacher, demo.lesson_id, image_bytes(picture, ".png"), "image/png")
    jpeg = await upload(client, admin, demo.lesson_id, image_bytes(picture, ".jpg"), "image/jpeg", filename="ảnh.jpg")
    assert png["filename"] == "image.png" and jpeg["filename"] == "ảnh.jpg"
    for created in (png, jpeg):
        slide = await finished(client, teacher, created["id"])
        assert slide["status"] == "ready" and slide["kind"] == "image"
        assert slide["pages"] == 1 and slide["page_heights"] == [1200] and slide["progress"] == 1
        page = await (await client.get(f"/api/board/slides/{slide['id']}/pages/1.png", headers=teacher)).read()
        r, g, b = colour_at(page, 800, 600)
        assert b > 240 and r < 15 and g < 15


async def test_broken_and_hostile_files_fail_with_a_reason_and_the_server_carries_on(client, app, login, demo):
    teacher = await login(demo.teacher)
    truncated = await upload(client, teacher, demo.lesson_id, make_pdf(THREE_PAGES)[:300], "application/pdf")
    garbage = await upload(client, teacher, demo.lesson_id, b"%PDF-1.7\n" + bytes(range(256)) * 400, "application/pdf")
    bomb = await upload(client, teacher, demo.lesson_id, png_bomb(), "image/png")  # 10 gigapixels in 467 bytes
    cut_png = await upload(client, teacher, demo.lesson_id, image_bytes(np.zeros((50, 50, 3), np.uint8), ".png")[:60],
                           "image/png")
    pages = await upload(client, teacher, demo.lesson_id,
                         make_pdf([PdfPage(100, 100, WHITE, (0, 0, 10, 10), BLUE)] * 201), "application/pdf")
    for created, error in ((truncated, "bad_file"), (garbage, "bad_file"), (bomb, "image_too_large"),
                           (cut_png, "bad_file"), (pages, "too_many_pages")):
        slide = await finished(client, teacher, created["id"])
        assert slide["status"] == "failed" and slide["error"] == error, slide
        assert slide["pages"] == 0 and slide["progress"] == 0 and slide["message"]
        assert not slide_dir(app[CONFIG].data_dir, slide["id"]).exists()  # nothing half-converted is kept
        assert (await client.get(f"/api/board/slides/{slide['id']}/pages/1.png", headers=teacher)).status == 404
    messages = {s["error"]: s["message"] for s in (await (await client.get(
        f"/api/lessons/{demo.lesson_id}/board/slides", headers=teacher)).json())["slides"]}
    assert "200" in messages["too_many_pages"] and "trang" in messages["too_many_pages"]
    good = await upload(client, teacher, demo.lesson_id, make_pdf(THREE_PAGES[:1]), "application/pdf")
    assert (await finished(client, teacher, good["id"]))["status"] == "ready"
    assert incoming(app) == []


async def test_too_large_wrong_type_and_bad_names_are_refused_before_anything_is_kept(client, app, login, demo):
    teacher = await login(demo.teacher)
    pdf = make_pdf(THREE_PAGES)
    big = pdf + b"%" * (31 * 1024 * 1024)
    body = await upload(client, teacher, demo.lesson_id, big, "application/pdf", status=413)
    assert body["error"]["code"] == "payload_too_large"

    async def chunks():  # no Content-Length: refused while it is read
        yield pdf
        for _ in range(31):
            yield b"%" * (1024 * 1024)

    response = await client.post(f"/api/lessons/{demo.lesson_id}/board/slides", data=chunks(),
                                 headers={**teacher, "Content-Type": "application/pdf"})
    assert response.status == 413
    png = image_bytes(np.zeros((5, 5, 3), np.uint8), ".png")
    for data, content_type in ((pdf, "text/html"), (b"<html><script>alert(1)</script>", "application/pdf"),
                               (png, "application/pdf"), (pdf, "image/png"), (pdf, "application/octet-stream"),
                               (b"GIF89a....", "image/png")):
        body = await upload(client, teacher, demo.lesson_id, data, content_type, status=415)
        assert body["error"]["code"] == "unsupported_media_type"
    assert (await upload(client, teacher, demo.lesson_id, b"", "application/pdf", status=400))
    for name in ("a\x00b.pdf", "x" * 201):
        body = await upload(client, teacher, demo.lesson_id, pdf, "application/pdf", filename=name, status=422)
        assert body["error"]["fields"][0]["field"] == "X-Filename"
    bad_utf8 = await client.post(f"/api/lessons/{demo.lesson_id}/board/slides", data=pdf, headers={
        **teacher, "Content-Type": "application/pdf", "X-Filename": "%ff%fe.pdf"})
    assert bad_utf8.status == 422
    listed = await (await client.get(f"/api/lessons/{demo.lesson_id}/board/slides", headers=teacher)).json()
    assert listed["slides"] == [] and incoming(app) == []
    named = await upload(client, teacher, demo.lesson_id, pdf, "application/pdf",
                         filename="C:\\bài giảng\\../đề.pdf")
    assert named["filename"] == "đề.pdf"  # never a folder


async def test_who_may_upload_and_who_may_see(client, login, demo, admin):
    teacher = await login(demo.teacher)
    an = await login(demo.students[0])
    await upload(client, an, demo.lesson_id, make_pdf(THREE_PAGES), "application/pdf", status=403)
    slide = await finished(client, teacher, (await upload(client, teacher, demo.lesson_id, make_pdf(THREE_PAGES),
                                                          "application/pdf"))["id"])
    # A colleague teaching the class may look, not upload; another class's student and teacher may do neither.
    physics = await (await client.post("/api/subjects", headers=admin, json={"name": "Vật lí", "code": "LY"})).json()
    password = "mat-khau-123"
    users = {}
    for username, role in (("gv.dong", "teacher"), ("gv.khac", "teacher"), ("hs.khac", "student")):
        users[username] = await (await client.post("/api/users", headers=admin, json={
            "username": username, "password": password, "full_name": username, "role": role})).json()
    assigned = await client.post("/api/assignments", headers=admin, json={
        "teacher_id": users["gv.dong"]["id"], "class_id": demo.class_id, "subject_id": physics["id"]})
    assert assigned.status == 201, await assigned.text()
    other = await (await client.post("/api/classes", headers=admin, json={"name": "11B2", "grade": 11})).json()
    enrolled = await client.post(f"/api/classes/{other['id']}/students", headers=admin,
                                 json={"user_ids": [users["hs.khac"]["id"]]})
    assert enrolled.status == 200
    colleague = await login(("gv.dong", password))
    urls = [f"/api/lessons/{demo.lesson_id}/board/slides", f"/api/board/slides/{slide['id']}",
            f"/api/board/slides/{slide['id']}/pages/2.png"]
    for reader in (teacher, an, colleague, admin):
        for url in urls:
            assert (await client.get(url, headers=reader)).status == 200, url
    await upload(client, colleague, demo.lesson_id, make_pdf(THREE_PAGES), "application/pdf", status=403)
    for outsider in (await login(("gv.khac", password)), await login(("hs.khac", password))):
        for url in urls:
            assert (await client.get(url, headers=outsider)).status == 403, url
        await upload(client, outsider, demo.lesson_id, make_pdf(THREE_PAGES), "application/pdf", status=403)
    client.session.cookie_jar.clear()  # signing in also set a cookie
    for url in urls:
        assert (await client.get(url)).status == 401
    assert (await client.get("/api/board/slides/999999/pages/1.png", headers=admin)).status == 404
    listed = await (await client.get(urls[0], headers=admin)).json()
    assert len(listed["slides"]) == 1  # the refused uploads left nothing


STUCK = (sys.executable, "-c", "import sys, time; print('pages 3', flush=True); time.sleep(600)")
"""A conversion that never ends (what a PDF that makes the renderer spin looks like from outside)."""


async def test_a_conversion_that_takes_too_long_is_stopped(client, app, login, demo):
    teacher = await login(demo.teacher)
    jobs = app[SLIDE_JOBS]
    jobs.converter, jobs.timeout = STUCK, 1.0
    created = await upload(client, teacher, demo.lesson_id, make_pdf(THREE_PAGES), "application/pdf")
    slide = await finished(client, teacher, created["id"])
    assert slide["status"] == "failed" and slide["error"] == "timeout"
    assert incoming(app) == []


async def test_stopping_the_server_fails_what_it_was_converting(aiohttp_client, config, login, demo, client, app):
    teacher = await login(demo.teacher)
    app[SLIDE_JOBS].converter = STUCK
    created = await upload(client, teacher, demo.lesson_id, make_pdf(THREE_PAGES), "application/pdf")
    await client.close()  # the server stops while converting
    db = Database(config.db_url)
    try:
        async with db.session() as session:
            row = await session.get(BoardSlide, created["id"])
            assert row is not None and (row.status, row.error) == ("failed", "interrupted")  # at the stop itself
    finally:
        await db.close()
    assert not slide_dir(config.data_dir, created["id"]).exists() and incoming(app) == []
    restarted = await aiohttp_client(create_app(config))
    headers = await login_again(restarted, demo)
    slide = await (await restarted.get(f"/api/board/slides/{created['id']}", headers=headers)).json()
    assert slide["status"] == "failed" and slide["error"] == "interrupted"


async def test_a_restart_fails_the_slides_a_crash_left_converting(aiohttp_client, config, client, app, login, demo):
    """A crash leaves rows processing and half-written pages: the next start under the same node
    name fails them (another node's conversions are its own)."""
    async def leave(session):
        mine = BoardSlide(school_id=1, lesson_id=demo.lesson_id, filename="a.pdf", kind="pdf", status="processing",
                          pages=1, progress=0.5, width=1600, height=900, page_heights=[900], node="main",
                          created_by=1)
        theirs = BoardSlide(school_id=1, lesson_id=demo.lesson_id, filename="b.pdf", kind="pdf", status="processing",
                            pages=0, progress=0.0, width=0, height=0, page_heights=[], node="other", created_by=1)
        session.add_all([mine, theirs])
        await session.flush()
        return mine.id, theirs.id

    mine, theirs = await app[DATABASE].writer.write(leave)
    half = slide_dir(config.data_dir, mine)
    half.mkdir(parents=True)
    (half / "1.png").write_bytes(b"half")
    (half / "2.png.part").write_bytes(b"half")
    await client.close()
    restarted = await aiohttp_client(create_app(config))
    headers = await login_again(restarted, demo)
    slide = await (await restarted.get(f"/api/board/slides/{mine}", headers=headers)).json()
    assert slide["status"] == "failed" and slide["error"] == "interrupted" and slide["pages"] == 0
    assert "máy chủ" in slide["message"].lower()
    assert not half.exists()
    other = await (await restarted.get(f"/api/board/slides/{theirs}", headers=headers)).json()
    assert other["status"] == "processing"
    db = restarted.server.app[DATABASE]
    async with db.session() as session:
        statuses = dict((await session.execute(select(BoardSlide.id, BoardSlide.status))).all())
    assert statuses == {mine: "failed", theirs: "processing"}


async def login_again(client: TestClient, demo) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"username": demo.teacher.username,
                                                          "password": demo.teacher.password})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}

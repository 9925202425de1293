"""The board exported as pictures: a page as PNG and the whole board as PDF (read back with PDFium),
drawn over the lesson's slides; who may read them."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
from aiohttp import web
from aiohttp.test_utils import TestClient

from school.demo import DemoSchool
from school.models import Lesson
from tests.conftest import Login
from web.keys import CONFIG, DATABASE
from whiteboard.slide_models import BoardSlide
from whiteboard.slides import slide_page_path
from whiteboard.store import BoardStore

SLIDE_BGR = (200, 120, 40)
OTHER_BGR = (30, 200, 30)


async def add_slide(app: web.Application, school_id: int, lesson_id: int, bgr: tuple[int, int, int]) -> int:
    """A converted one-page slide 1600x1200 of one colour, as the slide conversion leaves it."""
    async with app[DATABASE].session() as session:
        row = BoardSlide(school_id=school_id, lesson_id=lesson_id, filename="bai-giang.pdf", kind="pdf",
                         status="ready", pages=1, progress=1.0, width=1600, height=1200, page_heights=[1200],
                         created_by=1)
        session.add(row)
        await session.flush()
        slide_id = row.id
    path = slide_page_path(app[CONFIG].data_dir, slide_id, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((1200, 1600, 3), dtype=np.uint8)
    pixels[:] = bgr
    assert cv2.imwrite(str(path), pixels)
    return slide_id


async def make_board(app: web.Application, demo: DemoSchool) -> dict[str, Any]:
    """The lesson's main board: page 1 a slide with a red stroke and an image of another school's
    slide, page 2 a grid with a blue rectangle."""
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        school_id, teacher_id = lesson.school_id, lesson.teacher_id
    slide = await add_slide(app, school_id, demo.lesson_id, SLIDE_BGR)
    foreign = await add_slide(app, school_id + 1000, 1, OTHER_BGR)
    store = BoardStore(app[DATABASE])
    board_id, board, seq = await store.load(school_id, demo.lesson_id, "main")
    ops = [
        {"kind": "add_page", "page": {"id": "s1", "background": {"kind": "slide", "slide_id": slide, "index": 0},
                                      "height": 1200}, "at": 0},
        {"kind": "remove_page", "page": "p1"},
        {"kind": "add", "page": "s1", "object": {"id": "ink", "type": "stroke", "color": "#ff0000", "width": 24,
                                                 "points": [[400, 600, 0.5], [800, 600, 0.5], [1200, 600, 0.5]]}},
        {"kind": "add", "page": "s1", "object": {"id": "img", "type": "image", "x": 1200, "y": 900, "w": 300,
                                                 "h": 200, "slide_id": foreign, "index": 0}},
        {"kind": "add_page", "page": {"id": "g", "background": {"kind": "grid"}}},
        {"kind": "add", "page": "g", "object": {"id": "box", "type": "rect", "x1": 200, "y1": 200, "x2": 600,
                                                "y2": 500, "color": "#0000ff", "width": 6, "fill": "#0000ff"}},
    ]
    entries = []
    for op in ops:
        for concrete in board.apply(op, teacher_id):
            seq += 1
            entries.append((seq, teacher_id, datetime.now(UTC), concrete))
    await store.append(board_id, entries)
    return {"slide": slide, "store": store}


def near(value: np.ndarray, bgr: tuple[int, int, int], tolerance: int) -> bool:
    return bool(np.abs(value.astype(int) - np.array(bgr)).max() <= tolerance)


async def test_a_page_as_png_and_the_board_as_pdf_show_the_ink_over_the_slide(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login,
) -> None:
    await make_board(app, demo)
    teacher = await login(demo.teacher)
    base = f"/api/lessons/{demo.lesson_id}/board"
    response = await client.get(f"{base}/pages/1.png", headers=teacher)
    assert response.status == 200 and response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "private, no-store"
    image = cv2.imdecode(np.frombuffer(await response.read(), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (1200, 1600, 3), "the slide's aspect"
    assert near(image[600, 800], (0, 0, 255), 10), "the stroke"
    assert near(image[300, 800], SLIDE_BGR, 2), "the slide under it"
    assert near(image[1000, 1350], SLIDE_BGR, 2), "another school's slide is not drawn over it"
    second_page = await client.get(f"{base}/pages/2.png?room=main", headers=teacher)
    second = cv2.imdecode(np.frombuffer(await second_page.read(), np.uint8), cv2.IMREAD_COLOR)
    assert second.shape == (900, 1600, 3)
    assert near(second[350, 400], (255, 0, 0), 0) and near(second[725, 1025], (255, 255, 255), 0)
    assert (await client.get(f"{base}/pages/3.png", headers=teacher)).status == 404
    assert (await client.get(f"{base}/pages/0.png", headers=teacher)).status == 404
    assert (await client.get(f"{base}/pages/1.png?zoom=2", headers=teacher)).status == 422

    pdf_response = await client.get(f"{base}.pdf", headers=await login(demo.admin))
    assert pdf_response.status == 200 and pdf_response.content_type == "application/pdf"
    pdf = pdfium.PdfDocument(await pdf_response.read())
    try:
        assert len(pdf) == 2
        width, height = pdf[0].get_size()
        grid_width, grid_height = pdf[1].get_size()
        assert abs(height / width - 1200 / 1600) < 0.01 and abs(grid_height / grid_width - 900 / 1600) < 0.01
        page = pdf[0].render(scale=1600 / width).to_numpy()[:, :, :3]
        assert abs(page.shape[0] - 1200) <= 1 and abs(page.shape[1] - 1600) <= 1
        assert near(page[600, 800], (0, 0, 255), 30), page[600, 800]
        assert near(page[300, 800], SLIDE_BGR, 12), page[300, 800]
        grid = pdf[1].render(scale=1600 / grid_width).to_numpy()[:, :, :3]
        assert near(grid[350, 400], (255, 0, 0), 2) and near(grid[725, 1025], (255, 255, 255), 2)
    finally:
        pdf.close()


async def test_students_read_the_board_only_once_it_is_published_and_only_of_their_class(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    made = await make_board(app, demo)
    base = f"/api/lessons/{demo.lesson_id}/board"
    student = await login(demo.students[0])
    for path in ("/pages/1.png", ".pdf"):
        refused = await client.get(base + path, headers=student)
        assert refused.status == 403 and (await refused.json())["error"]["code"] == "forbidden"
    assert await made["store"].set_published(demo.lesson_id, "main", True)
    page = await client.get(f"{base}/pages/1.png", headers=student)
    assert page.status == 200 and page.content_type == "image/png"
    assert (await client.get(f"{base}.pdf", headers=student)).status == 200
    # The whole class opens it at the same second: drawn a few at a time, every one whole.
    classmates = await asyncio.gather(*(login(s) for s in demo.students))
    opened = await asyncio.gather(*(client.get(f"{base}.pdf", headers=h) for h in classmates * 3))
    bodies = [await r.read() for r in opened]
    assert [r.status for r in opened] == [200] * len(opened)
    assert all(b.startswith(b"%PDF") and b == bodies[0] for b in bodies)
    # A group's board that was never published (never opened) stays closed to students; staff see a blank page.
    assert (await client.get(f"{base}/pages/1.png?room=Nhóm 1", headers=student)).status == 403
    blank = await client.get(f"{base}/pages/1.png?room=Nhóm 1", headers=await login(demo.teacher))
    image = cv2.imdecode(np.frombuffer(await blank.read(), np.uint8), cv2.IMREAD_COLOR)
    assert blank.status == 200 and image.shape == (900, 1600, 3) and (image == 255).all()

    # A student of another class, and a teacher who does not teach the lesson, are refused.
    other_class = await (await client.post("/api/classes", headers=admin, json={"name": "11B2", "grade": 11})).json()
    stranger = await (await client.post("/api/users", headers=admin, json={
        "username": "hs.khac", "password": "mat-khau-123", "full_name": "Học Sinh Lớp Khác",
        "role": "student"})).json()
    assert (await client.post(f"/api/classes/{other_class['id']}/students", headers=admin,
                              json={"user_ids": [stranger["id"]]})).status == 200
    assert (await client.post("/api/users", headers=admin, json={
        "username": "gv.khac", "password": "mat-khau-123", "full_name": "Giáo Viên Khác",
        "role": "teacher"})).status == 201
    for who in (("hs.khac", "mat-khau-123"), ("gv.khac", "mat-khau-123")):
        headers = await login(who)
        for path in ("/pages/1.png", ".pdf"):
            assert (await client.get(base + path, headers=headers)).status == 403, (who, path)
    assert (await client.get("/api/lessons/424242/board.pdf", headers=admin)).status == 404
    client.session.cookie_jar.clear()
    assert (await client.get(f"{base}/pages/1.png")).status == 401


"""A lesson's board as pictures: one page as PNG, or every page in one PDF. For the lesson's teacher
and the school's administrators; for the students of the class once the board is published.
Drawing happens in a worker thread, never on the event loop, a few at a time (the app's EXPORTS)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Annotated, Any

import cv2
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from school import access
from school.errors import Forbidden, NotFound
from school.models import Lesson, Role
from web.keys import CONFIG, EXPORTS
from web.routing import Api, Call
from whiteboard.document import Board
from whiteboard.pdf import pages_pdf
from whiteboard.render import ImageLoader, render_board_page, slide_images
from whiteboard.slide_models import BoardSlide
from whiteboard.store import MAIN, BoardStore

EXPORT_WIDTH = 1600
"""Pixels across a page image: one per page unit."""
HEADERS = {"Cache-Control": "private, no-store"}


class RoomQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room: Annotated[str, Field(min_length=1, max_length=40)] = MAIN
    """"main", or a breakout group's name."""


async def _board(call: Call) -> tuple[Lesson, Board, ImageLoader]:
    """The board the caller may read, and a reader of the images of its school's slides."""
    lesson_id, room = call.path_id("id"), call.query.room
    async with call.db.session() as session:
        lesson = await access.get_lesson(session, call.user, lesson_id)
    store = BoardStore(call.db)
    info = await store.info(lesson_id, room)
    staff = call.user.role is Role.admin or call.user.id == lesson.teacher_id
    if not staff:
        if call.user.role is not Role.student:
            raise Forbidden("only the lesson's teacher or an administrator may read its board")
        if info is None or not info.published:
            raise Forbidden("the teacher has not published this board yet")
    if info is None:
        return lesson, Board.new(), lambda _slide, _index: None  # never opened: one blank page
    _board_id, board, _seq = await store.load(lesson.school_id, lesson_id, room)
    wanted = _slide_ids(board.snapshot()["pages"])
    allowed: set[int] = set()
    if wanted:
        async with call.db.session() as session:
            allowed = set(await session.scalars(select(BoardSlide.id).where(
                BoardSlide.id.in_(wanted), BoardSlide.school_id == lesson.school_id)))
    return lesson, board, _only(slide_images(call.request.app[CONFIG].data_dir), allowed)


def _slide_ids(pages: Iterable[dict[str, Any]]) -> set[int]:
    ids = set()
    for page in pages:
        if page["background"].get("kind") == "slide":
            ids.add(int(page["background"]["slide_id"]))
        ids.update(int(obj["slide_id"]) for obj in page["objects"] if obj.get("type") == "image")
    return ids


def _only(load: ImageLoader, allowed: set[int]) -> ImageLoader:
    """Only the school's own slides are drawn (an id of another school's slide draws nothing)."""
    def images(slide_id: int, index: int) -> Any:
        return load(slide_id, index) if slide_id in allowed else None

    return images


def _png(page: dict[str, Any], images: ImageLoader) -> bytes:
    ok, encoded = cv2.imencode(".png", render_board_page(page, EXPORT_WIDTH, images))
    assert ok
    return encoded.tobytes()


def _pdf(pages: list[dict[str, Any]], images: ImageLoader, title: str) -> bytes:
    drawn = []
    for page in pages:
        photo = page["background"].get("kind") == "slide" or any(o.get("type") == "image" for o in page["objects"])
        drawn.append((render_board_page(page, EXPORT_WIDTH, images), photo))
    return pages_pdf(drawn, title=title)


def register(api: Api) -> None:
    @api.route("GET", r"/api/lessons/{id:\d+}/board/pages/{n:\d+}.png", summary="A page of the board as PNG",
               tag="board", query=RoomQuery, response=None, errors=(403, 404), unit_of_work=False,
               description="Page n (from 1) of the room's board, 1600 px wide, as everyone saw it: background "
               "(slide, grid, lines), strokes, shapes, text and images. The lesson's teacher and administrators; "
               "students of the class once the board is published.")
    async def board_page(call: Call) -> web.Response:
        _lesson, board, images = await _board(call)
        pages = board.snapshot()["pages"]
        number = int(call.request.match_info["n"])
        if not 1 <= number <= len(pages):
            raise NotFound(f"the board has {len(pages)} page(s); page {number} is not one of them")
        async with call.request.app[EXPORTS]:
            body = await asyncio.to_thread(_png, pages[number - 1], images)
        return web.Response(body=body, content_type="image/png", headers=HEADERS)

    @api.route("GET", r"/api/lessons/{id:\d+}/board.pdf", summary="The whole board as PDF", tag="board",
               query=RoomQuery, response=None, errors=(403, 404), unit_of_work=False,
               description="Every page of the room's board, in order, one PDF page each. Same access as the "
               "page images.")
    async def board_pdf(call: Call) -> web.Response:
        lesson, board, images = await _board(call)
        pages = board.snapshot()["pages"]
        async with call.request.app[EXPORTS]:
            body = await asyncio.to_thread(_pdf, pages, images, f"Bảng — {lesson.title}")
        return web.Response(body=body, content_type="application/pdf", headers={
            **HEADERS, "Content-Disposition": f'inline; filename="board-lesson-{lesson.id}.pdf"'})

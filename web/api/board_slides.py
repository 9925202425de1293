"""Slides for the board: the teacher uploads a PDF (or a PNG/JPEG image) before or during the
lesson; it is converted to page images in another process (202, then progress on the slide), and
the page images are served to the lesson's staff and its class's students."""
from __future__ import annotations

import secrets
import unicodedata
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from school import access
from school.errors import Conflict, Forbidden, NotFound
from school.models import Lesson, Role, User
from web.errors import ApiError
from web.keys import CONFIG, DATABASE
from web.routing import Api, Call, Endpoint
from whiteboard.slide_jobs import SlideJobs
from whiteboard.slide_models import MAX_FILENAME, BoardSlide
from whiteboard.slides import ERRORS, KINDS, MAX_BYTES, Kind, slide_page_path, sniff, upload_path

SLIDE_JOBS = web.AppKey("slide_jobs", SlideJobs)
MAX_SLIDES = 50
"""Slides a lesson may hold (failed ones aside)."""
CHUNK = 256 * 1024
PAGE_CACHE = "private, max-age=86400, immutable"
"""A slide's page images never change (a new upload is a new slide)."""


class SlideOut(BaseModel):
    id: int
    lesson_id: int
    filename: str
    kind: Literal["pdf", "image"]
    status: Literal["processing", "ready", "failed"]
    progress: float
    """0..1 while converting; 1 when ready."""
    pages: int
    """Pages converted so far (all once ready): pages/1.png .. pages/{pages}.png exist."""
    error: str | None
    """Why it failed: too_many_pages, image_too_large, password_protected, bad_file, empty, timeout,
    too_complex or interrupted."""
    message: str | None
    """The reason in words, Vietnamese / English."""
    width: int
    height: int
    """Of the first page image (px)."""
    page_heights: list[int]
    """Each converted page's height (px; the width is always 1600)."""
    created_at: datetime


class SlidesOut(BaseModel):
    slides: list[SlideOut]


def _out(row: BoardSlide) -> SlideOut:
    return SlideOut(id=row.id, lesson_id=row.lesson_id, filename=row.filename,
                    kind=row.kind, status=row.status,  # type: ignore[arg-type]
                    progress=row.progress, pages=row.pages, error=row.error,
                    message=ERRORS.get(row.error) if row.error else None, width=row.width, height=row.height,
                    page_heights=list(row.page_heights or []), created_at=row.created_at)


def _filename(request: web.Request, kind: Kind, media: str) -> str:
    """The X-Filename header (UTF-8, percent-encoded), as plain text without any folder."""
    raw = request.headers.get("X-Filename", "")
    try:
        name = unicodedata.normalize("NFC", unquote(raw, errors="strict"))
    except UnicodeDecodeError as exc:
        raise _bad_filename("not UTF-8 after percent-decoding") from exc
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise _bad_filename("control characters are not allowed")
    if len(name) > MAX_FILENAME:
        raise _bad_filename(f"at most {MAX_FILENAME} characters")
    return name or ("slides.pdf" if kind == "pdf" else f"image.{media.rsplit('/', 1)[1]}")


def _bad_filename(why: str) -> ApiError:
    return ApiError(422, "validation_error", "invalid X-Filename header",
                    fields=[{"field": "X-Filename", "message": why}])


async def _receive(request: web.Request, target: Path) -> bytes:
    """Stream the body into `target`, refusing it (413) as soon as it is longer than MAX_BYTES;
    returns its first bytes."""
    too_large = ApiError(413, "payload_too_large", f"a slide file is limited to {MAX_BYTES // (1024 * 1024)} MB")
    head, size = b"", 0
    with open(target, "wb") as handle:
        async for chunk in request.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > MAX_BYTES:
                raise too_large
            if len(head) < 1024:
                head += chunk[:1024 - len(head)]
            handle.write(chunk)
    if size == 0:
        raise ApiError(400, "bad_request", "the body is empty: send the file")
    return head


async def _slide(call: Call, session: AsyncSession) -> BoardSlide:
    """The slide, if the asker may see its lesson (staff of the lesson, students of its class)."""
    slide_id = call.path_id("sid")
    row = await session.get(BoardSlide, slide_id)
    if row is None or row.school_id != call.user.school_id:
        raise NotFound(f"slide {slide_id} not found")
    await access.get_lesson(session, call.user, row.lesson_id)
    return row


def _may_upload(actor: User, lesson: Lesson) -> None:
    if actor.role is Role.admin or actor.id == lesson.teacher_id:
        return
    raise Forbidden("only the lesson's teacher or an administrator may upload slides")


def register(api: Api) -> None:
    async def upload(call: Call) -> SlideOut:
        request = call.request
        async with call.db.session() as session:
            lesson = await access.get_lesson(session, call.user, call.path_id("id"))
            _may_upload(call.user, lesson)
            school_id, lesson_id = lesson.school_id, lesson.id
            held = await session.scalar(select(func.count()).select_from(BoardSlide).where(
                BoardSlide.lesson_id == lesson_id, BoardSlide.status != "failed"))
        media = request.content_type
        if media not in KINDS:
            raise ApiError(415, "unsupported_media_type", "send a PDF (application/pdf), PNG or JPEG image")
        if (request.content_length or 0) > MAX_BYTES:
            raise ApiError(413, "payload_too_large", f"a slide file is limited to {MAX_BYTES // (1024 * 1024)} MB")
        kind: Kind = KINDS[media]  # type: ignore[assignment]
        filename = _filename(request, kind, media)
        if (held or 0) >= MAX_SLIDES:
            raise Conflict(f"a lesson holds at most {MAX_SLIDES} slide files")
        data_dir = request.app[CONFIG].data_dir
        incoming = upload_path(data_dir, 0).parent  # where uploads arrive
        incoming.mkdir(parents=True, exist_ok=True)
        partial = incoming / f"{secrets.token_hex(8)}.part"
        try:
            found = sniff(await _receive(request, partial))
            if found is None or (found == "pdf") != (kind == "pdf"):
                raise ApiError(415, "unsupported_media_type",
                               f"the file is not a {'PDF' if kind == 'pdf' else 'PNG or JPEG image'}")

            async def create(session: AsyncSession) -> BoardSlide:
                row = BoardSlide(school_id=school_id, lesson_id=lesson_id, filename=filename, kind=kind,
                                 status="processing", pages=0, progress=0.0, width=0, height=0, page_heights=[],
                                 node=request.app[CONFIG].node_id, created_by=call.user.id)
                session.add(row)
                await session.flush()
                return row

            row = await call.db.writer.write(create)
            partial.replace(upload_path(data_dir, row.id))
        finally:
            partial.unlink(missing_ok=True)
        request.app[SLIDE_JOBS].submit(row.id, kind)
        return _out(row)

    upload.__name__ = "upload_board_slides"
    api.endpoints.append(Endpoint(
        method="POST", path=r"/api/lessons/{id:\d+}/board/slides", handler=upload, tag="board",
        summary="Upload a PDF or image for the board", response=SlideOut, status=202,
        roles=(Role.admin, Role.teacher), errors=(403, 404, 409, 422), media_type="application/pdf",
        unit_of_work=False, streamed=True,
        description="The raw file as the body: application/pdf, image/png or image/jpeg (at most 30 MB; a PDF "
        "at most 200 pages, an image at most 40 megapixels). `X-Filename` (optional) names it, UTF-8 "
        "percent-encoded. Answered at once (202, status processing); each page becomes a 1600 px wide PNG, "
        "with the slide's progress moving to 1 and its status to ready, or failed with an error code. "
        "The lesson's teacher and administrators."))

    @api.route("GET", r"/api/lessons/{id:\d+}/board/slides", summary="A lesson's slide files", tag="board",
               response=SlidesOut, errors=(403, 404),
               description="Uploaded files for the lesson's board, oldest first, with their conversion state. "
               "The lesson's staff and the students of its class.")
    async def lesson_slides(call: Call) -> SlidesOut:
        lesson = await access.get_lesson(call.session, call.user, call.path_id("id"))
        rows = await call.session.scalars(select(BoardSlide).where(BoardSlide.lesson_id == lesson.id)
                                          .order_by(BoardSlide.id))
        return SlidesOut(slides=[_out(row) for row in rows])

    @api.route("GET", r"/api/board/slides/{sid:\d+}", summary="A slide file and its conversion", tag="board",
               response=SlideOut, errors=(403, 404))
    async def board_slide(call: Call) -> SlideOut:
        return _out(await _slide(call, call.session))

    @api.route("GET", r"/api/board/slides/{sid:\d+}/pages/{n:\d+}.png", summary="A slide's page image",
               tag="board", errors=(403, 404),
               description="Page n (from 1) as a PNG 1600 px wide, once converted. Cached by the browser: a "
               "slide's pages never change.")
    async def slide_page(call: Call) -> web.StreamResponse:
        row = await _slide(call, call.session)
        index = call.path_id("n")
        if not 1 <= index <= row.pages:
            raise NotFound(f"slide {row.id} has no page {index}" + (" yet" if row.status == "processing" else ""))
        path = slide_page_path(call.request.app[CONFIG].data_dir, row.id, index)
        if not path.is_file():
            raise NotFound("the page's image is missing")
        return web.FileResponse(path, headers={"Cache-Control": PAGE_CACHE, "Content-Type": "image/png"})


async def slides_context(app: web.Application) -> AsyncIterator[None]:
    """The slide converter: it fails what a stop left converting, and kills its conversions at shutdown."""
    config = app[CONFIG]
    jobs = SlideJobs(app[DATABASE], config.data_dir, config.node_id)
    await jobs.start()
    app[SLIDE_JOBS] = jobs
    try:
        yield
    finally:
        await jobs.close()

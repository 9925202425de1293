"""Hồ sơ tiết học: a lesson's records in one ZIP, for its teacher and the school's administrators:
lesson.json (the plan: title, times, class, subject, teacher), attendance.csv, participation.csv,
chat.csv, results.csv (the lesson's quizzes), materials.csv (when the school keeps materials),
board.pdf (when the board was used) and the lesson video(s) rendered. Gathered in short reads,
drawn and zipped in worker threads to a temporary file, then streamed and deleted."""
from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.models import AttendanceEvent
from attendance.report import lesson_attendance, room_opened
from classroom import chat as chat_rules
from classroom.participation import export_rows, lesson_participation
from classroom.polls import lesson_polls, poll_answers, result_rows
from coursework.records import Member, retention_loop, write_zip
from coursework.storage import store_for
from recorder.models import Recording
from school import access
from school.errors import Forbidden
from school.models import Lesson, Role, School, SchoolClass, Subject, User
from school.structure import class_rosters
from school.timezones import school_zone
from web.api.attendance import REASON_VI, STATUS_VI
from web.api.board_export import _only, _pdf, _slide_ids
from web.config import Config
from web.keys import CONFIG, DATABASE, EXPORTS
from web.routing import Api, Call
from web.tables import export
from whiteboard.render import slide_images
from whiteboard.slide_models import BoardSlide
from whiteboard.store import MAIN, BoardStore

CHUNK = 256 * 1024
MATERIALS = sa.table("materials", *(sa.column(c) for c in ("id", "title", "kind", "url", "file_name", "mime",
                                                             "size_bytes", "status", "file_key")))
LESSON_MATERIALS = sa.table("lesson_materials", sa.column("lesson_id"), sa.column("material_id"))


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    return bytes(export(header, rows, "csv", "table", "table").body)  # type: ignore[arg-type]


def _local(value: datetime | None, zone: object) -> str:
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S") if value else ""  # type: ignore[arg-type]


async def _gather(session: AsyncSession, lesson: Lesson, data_dir: Path) -> tuple[list[Member], list[tuple[str, str]]]:
    """Everything but the board and the materials' files (their zip names and storage keys, returned
    to be fetched after), in one short unit of work (database statements only)."""
    school = await session.get(School, lesson.school_id)
    assert school is not None
    zone = await school_zone(session, lesson.school_id)
    klass = await session.get(SchoolClass, lesson.class_id)
    subject = await session.get(Subject, lesson.subject_id)
    teacher = await session.get(User, lesson.teacher_id)
    roster = (await class_rosters(session, {lesson.class_id}))[lesson.class_id]
    events = list(await session.scalars(select(AttendanceEvent).where(AttendanceEvent.lesson_id == lesson.id)
                                        .order_by(AttendanceEvent.at, AttendanceEvent.id)))
    now = datetime.now(UTC)
    plan = {"id": lesson.id, "title": lesson.title, "starts_at": lesson.starts_at.isoformat(),
            "ends_at": lesson.ends_at.isoformat(), "time_zone": school.timezone,
            "class": {"id": lesson.class_id, "name": klass.name if klass else ""},
            "subject": {"id": lesson.subject_id, "name": subject.name if subject else ""},
            "teacher": {"id": lesson.teacher_id, "full_name": teacher.full_name if teacher else ""},
            "held": room_opened(events), "students": len(roster), "generated_at": now.isoformat()}
    members = [Member("lesson.json", json.dumps(plan, ensure_ascii=False, indent=2).encode())]
    rows = lesson_attendance([u.id for u in roster], events, starts_at=lesson.starts_at, ends_at=lesson.ends_at,
                             now=now, late_after=timedelta(minutes=school.late_after_minutes),
                             left_early=timedelta(minutes=school.left_early_minutes),
                             min_share=school.min_presence_percent / 100, opened=room_opened(events))
    members.append(Member("attendance.csv", _csv(
        ["STT", "Họ và tên", "Tên đăng nhập", "Trạng thái", "Vào lớp lúc", "Rời lớp lúc", "Thời gian tham gia (phút)",
         "Số lần vào lớp", "Lý do rời lớp lần cuối"],
        [[n, u.full_name, u.username, STATUS_VI[r.status], _local(r.first_join, zone), _local(r.last_leave, zone),
          r.minutes_present, len(r.intervals), REASON_VI.get(r.intervals[-1].reason, "") if r.intervals else ""]
         for n, (u, r) in enumerate(zip(roster, rows, strict=True), 1)])))
    present = {r.user_id: r.seconds_present for r in rows}
    part = await lesson_participation(session, lesson.id, [(u.id, u.full_name) for u in roster], present,
                                      published_quizzes_only=False)
    members.append(Member("participation.csv", _csv(*export_rows(part))))
    records = await chat_rules.everything(session, lesson.id, lesson.teacher_id)
    members.append(Member("chat.csv", _csv(*await chat_rules.export_table(session, records, zone))))
    quizzes = [p for p in await lesson_polls(session, lesson.id) if p.quiz and p.status != "draft"]
    answers = await poll_answers(session, [p.id for p in quizzes])
    results: list[list[object]] = []
    for number, poll in enumerate(quizzes, 1):
        mine = [a for a in answers if a.poll_id == poll.id]
        for row in result_rows(poll, [(u.id, u.full_name) for u in roster], mine):
            results.append([number, poll.question, row.user_id, row.full_name, row.answer,
                            "Đúng" if row.correct else "Sai", row.score, poll.points,
                            round((row.score or 0.0) / poll.points * 10, 2) if poll.points else ""])
    members.append(Member("results.csv", _csv(["Câu hỏi số", "Câu hỏi", "Mã học sinh", "Họ và tên", "Câu trả lời",
                                               "Đúng/Sai", "Điểm", "Điểm tối đa", "Điểm (thang 10)"], results)))
    if await session.run_sync(lambda s: sa.inspect(s.connection()).has_table("lesson_materials")):
        found = (await session.execute(select(MATERIALS).join(
            LESSON_MATERIALS, LESSON_MATERIALS.c.material_id == MATERIALS.c.id).where(
            LESSON_MATERIALS.c.lesson_id == lesson.id).order_by(MATERIALS.c.id))).all()
        members.append(Member("materials.csv", _csv(
            ["STT", "Tên học liệu", "Loại", "Liên kết", "Tệp", "Kiểu tệp", "Dung lượng (byte)", "Trạng thái"],
            [[n, m.title, m.kind, m.url or "", m.file_name or "", m.mime or "", m.size_bytes or 0, m.status]
             for n, m in enumerate(found, 1)])))
        files = [(f"materials/{n:02d}-{_safe_name(m.file_name or m.title)}", m.file_key)
                 for n, m in enumerate(found, 1) if m.kind == "file" and m.file_key]
    else:
        files = []
    videos = list(await session.scalars(select(Recording).where(
        Recording.lesson_id == lesson.id, Recording.kind == "composite",
        Recording.status.in_(("complete", "interrupted"))).order_by(Recording.started_at, Recording.id)))
    for n, video in enumerate(videos, 1):
        suffix = Path(video.path).suffix or ".mp4"
        members.append(Member(f"video/lesson-{lesson.id}-{n}{suffix}", path=data_dir / "recordings" / video.path))
    return members, files


def _safe_name(name: str) -> str:
    """A file name as a ZIP member's last part: printable, no folders, not hidden."""
    clean = "".join(ch if ch.isprintable() and ch not in '/\\:*?"<>|' else "_" for ch in name).strip(" .")
    return clean[:120] or "file"


async def _material_files(config: Config, files: list[tuple[str, str]], directory: Path) -> list[Member]:
    """The materials' files copied out of their store (local or S3) to temporary files; a file the
    store no longer has is left out (the list still names it)."""
    store = store_for(config.data_dir, s3_endpoint=config.s3_endpoint, s3_bucket=config.s3_bucket,
                      s3_access_key=config.s3_access_key, s3_secret_key=config.s3_secret_key)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, key in files:
        size = await store.size(key)
        if size is None:
            continue
        fd, temp = tempfile.mkstemp(prefix="material-", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            if size:
                async for chunk in store.read(key, 0, size - 1):
                    await asyncio.to_thread(handle.write, chunk)
        out.append(Member(name, path=Path(temp)))
    return out


async def _board(call: Call, lesson: Lesson) -> Member | None:
    store = BoardStore(call.db)
    if await store.info(lesson.id, MAIN) is None:
        return None  # never opened: no board in the record
    _board_id, board, _seq = await store.load(lesson.school_id, lesson.id, MAIN)
    pages = board.snapshot()["pages"]
    wanted = _slide_ids(pages)
    allowed: set[int] = set()
    if wanted:
        async with call.db.session() as session:
            allowed = set(await session.scalars(select(BoardSlide.id).where(
                BoardSlide.id.in_(wanted), BoardSlide.school_id == lesson.school_id)))
    images = _only(slide_images(call.request.app[CONFIG].data_dir), allowed)
    return Member("board.pdf", await asyncio.to_thread(_pdf, pages, images, f"Bảng — {lesson.title}"))


async def _chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    with handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk


async def records_context(app: web.Application) -> AsyncIterator[None]:
    """Lưu trữ: the daily job deleting records older than the school keeps them."""
    task = asyncio.create_task(retention_loop(app[DATABASE]))
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def register(api: Api) -> None:
    @api.route("GET", r"/api/lessons/{id:\d+}/record.zip", summary="The lesson's records in one ZIP",
               tag="records", response=None, errors=(403, 404), unit_of_work=False,
               description="Hồ sơ tiết học, for the lesson's teacher and administrators: lesson.json (title, times, "
               "class, subject, teacher, whether it was held), attendance.csv, participation.csv, chat.csv (every "
               "message, deleted ones too), results.csv (the quizzes, per student, with the 10-point score), "
               "materials.csv (the lesson's materials), board.pdf (when the board was opened) and video/ (the lesson "
               "videos rendered). CSV files are UTF-8 with a byte-order mark; times in the school's time zone.")
    async def record_zip(call: Call) -> web.StreamResponse:
        data_dir = call.request.app[CONFIG].data_dir
        async with call.db.session() as session:
            lesson = await access.get_lesson(session, call.user, call.path_id("id"))
            if not (call.user.role is Role.admin or lesson.teacher_id == call.user.id):
                raise Forbidden("only the lesson's teacher or an administrator may download its records")
            members, files = await _gather(session, lesson, data_dir)
            zone = await school_zone(session, lesson.school_id)
        board = await _board(call, lesson)
        if board is not None:
            members.insert(5, board)
        copies = await _material_files(call.request.app[CONFIG], files, data_dir / "tmp")
        try:
            async with call.request.app[EXPORTS]:
                path = await asyncio.to_thread(write_zip, members + copies, data_dir / "tmp")
        finally:
            for copy in copies:
                if copy.path is not None:
                    copy.path.unlink(missing_ok=True)
        try:
            size, handle = path.stat().st_size, path.open("rb")
        finally:
            path.unlink(missing_ok=True)  # read from the open handle: nothing is left behind, whatever happens
        day = lesson.starts_at.astimezone(zone).strftime("%Y-%m-%d")
        response = web.StreamResponse(headers={
            "Content-Type": "application/zip", "Cache-Control": "private, no-store", "Content-Length": str(size),
            "Content-Disposition": f'attachment; filename="ho-so-tiet-hoc-{lesson.id}-{day}.zip"'})
        chunks = _chunks(handle)
        try:
            await response.prepare(call.request)
            async for chunk in chunks:
                await response.write(chunk)
        finally:
            await chunks.aclose()
            handle.close()
        await response.write_eof()
        return response

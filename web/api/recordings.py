"""The recording archive: listing by school year, class, subject, teacher and lesson; playback with
seeking (HTTP range requests); downloads for staff; publishing to students; the teacher's
recording control; every view logged."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recorder.jobs import chapters_vtt
from recorder.models import Recording, RecordingView
from school import access, audit, timetable
from school.errors import Conflict, Forbidden, NotFound
from school.models import Lesson, Role, School, SchoolClass, Subject, User
from school.timezones import school_today
from web.api.params import DateOrTime, QueryId
from web.keys import CONFIG, ROOMS
from web.routing import Api, Call

MEDIA_TYPES = {".webm": "video/webm", ".mkv": "video/x-matroska", ".mp4": "video/mp4"}


class ChapterOut(BaseModel):
    start: float
    """Seconds into the lesson video."""
    kind: Literal["segment", "screen", "breakouts_start", "breakouts_end"]
    """segment: a part of the lesson (the recorder started); screen: a screen share started;
    breakouts_start / breakouts_end: breakout groups started / ended."""
    index: int
    at: datetime
    """When it happened (UTC)."""
    title: str
    """Vietnamese, at the school's time: 'Phần 2 — 09:41', 'Chia sẻ màn hình — 09:43'."""


class RecordingOut(BaseModel):
    id: int
    lesson_id: int
    lesson_title: str
    class_id: int
    class_name: str
    subject_id: int
    subject_name: str
    teacher_id: int
    teacher_name: str
    school_year_id: int | None
    kind: Literal["track", "composite"]
    source: str
    codec: str
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float
    size_bytes: int
    status: str
    progress: float
    """0..1 while the lesson video is rendered."""
    published: bool
    media_url: str | None
    error: str | None
    version: int = 0
    """Of a lesson video: how many times it was rendered (each render replaces the file)."""
    render_state: Literal["queued", "rendering"] | None = None
    """A lesson video's next version, while it is waited for or rendered (the current one stays playable)."""
    notes: str | None = None
    """What the last render left out, e.g. damaged frames it skipped."""
    chapters: list[ChapterOut] = []
    chapters_url: str | None = None
    """WebVTT chapters of the lesson video."""


class RecordingsOut(BaseModel):
    items: list[RecordingOut]


class ArchiveQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: DateOrTime | None = Field(default=None, alias="from")
    to: DateOrTime | None = None
    class_id: QueryId | None = None
    subject_id: QueryId | None = None
    teacher_id: QueryId | None = None
    school_year_id: QueryId | None = None
    kind: Literal["track", "composite"] | None = None


class MediaQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    download: bool = False


class RecordingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    published: bool


class RecordingControl(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


class RecordingState(BaseModel):
    recording: bool


class RecordingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["auto", "manual", "off"]
    record_students: bool


class RetentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: int | None = Field(ge=1, le=3650)
    """None keeps recordings."""


class RetentionOut(BaseModel):
    retention_days: int | None


async def _visible(session: AsyncSession, actor: User, rows: list[Recording]) -> list[Recording]:
    """What the actor may see: admins all of the school; teachers their classes' and their own
    lessons'; students their class's, once published."""
    rows = [r for r in rows if r.school_id == actor.school_id and r.status != "deleted"]
    if actor.role is Role.admin:
        return rows
    classes = await access.class_ids_of(session, actor) or set()
    if actor.role is Role.teacher:
        return [r for r in rows if r.class_id in classes or r.teacher_id == actor.id]
    return [r for r in rows if r.class_id in classes and r.published and r.status in ("complete", "interrupted")]


async def _out(session: AsyncSession, rows: list[Recording]) -> list[RecordingOut]:
    lessons = {lesson.id: lesson for lesson in await session.scalars(
        select(Lesson).where(Lesson.id.in_({r.lesson_id for r in rows})))}
    classes = {c.id: c.name for c in await session.scalars(select(SchoolClass).where(
        SchoolClass.id.in_({r.class_id for r in rows})))}
    subjects = {s.id: s.name for s in await session.scalars(select(Subject).where(
        Subject.id.in_({r.subject_id for r in rows})))}
    teachers = {u.id: u.full_name for u in await session.scalars(select(User).where(
        User.id.in_({r.teacher_id for r in rows})))}
    return [RecordingOut(
        id=r.id, lesson_id=r.lesson_id, lesson_title=lessons[r.lesson_id].title if r.lesson_id in lessons else "",
        class_id=r.class_id, class_name=classes.get(r.class_id, ""), subject_id=r.subject_id,
        subject_name=subjects.get(r.subject_id, ""), teacher_id=r.teacher_id, teacher_name=teachers.get(r.teacher_id, ""),
        school_year_id=r.school_year_id, kind=r.kind, source=r.source, codec=r.codec,  # type: ignore[arg-type]
        started_at=r.started_at, ended_at=r.ended_at, duration_seconds=r.duration_seconds, size_bytes=r.size_bytes,
        status=r.status, progress=r.progress, published=r.published,
        media_url=f"/api/recordings/{r.id}/media" if r.status in ("complete", "interrupted", "recording") else None,
        error=r.error, version=r.version, render_state=r.render_state, notes=r.notes,  # type: ignore[arg-type]
        chapters=[ChapterOut(**c) for c in _chapters(r)],
        chapters_url=f"/api/recordings/{r.id}/chapters.vtt" if _chapters(r) and r.status == "complete" else None)
        for r in rows]


def _chapters(row: Recording) -> list[dict[str, Any]]:
    if row.kind != "composite" or not row.chapters:
        return []
    try:
        return list(json.loads(row.chapters))
    except ValueError:
        return []


async def _recording(call: Call) -> Recording:
    row = await call.session.get(Recording, call.path_id("id"))
    if row is None or row.school_id != call.user.school_id or row.status == "deleted":
        raise NotFound(f"recording {call.path_id('id')} not found")
    if not await _visible(call.session, call.user, [row]):
        raise Forbidden("this recording is not available to you")
    return row


def _may_manage(actor: User, lesson_teacher_id: int) -> None:
    if actor.role is Role.admin or actor.id == lesson_teacher_id:
        return
    raise Forbidden("only the lesson's teacher or an administrator may do this")


def register(api: Api) -> None:
    @api.route("GET", r"/api/lessons/{id:\d+}/recordings", summary="A lesson's recordings", tag="recordings",
               response=RecordingsOut, errors=(403, 404),
               description="Each recorded track (as published, no transcoding) and the lesson video with its "
               "rendering progress. Students see them once the teacher publishes them.")
    async def lesson_recordings(call: Call) -> RecordingsOut:
        lesson = await access.get_lesson(call.session, call.user, call.path_id("id"))
        rows = list(await call.session.scalars(select(Recording).where(Recording.lesson_id == lesson.id)
                                               .order_by(Recording.kind, Recording.started_at)))
        return RecordingsOut(items=await _out(call.session, await _visible(call.session, call.user, rows)))

    @api.route("GET", "/api/recordings", summary="The archive", tag="recordings", query=ArchiveQuery,
               response=RecordingsOut, errors=(403,),
               description="Recordings by date, class, subject, teacher and school year (default: the last 30 days).")
    async def archive(call: Call) -> RecordingsOut:
        q = call.query
        window = timetable.Window(q.from_, q.to)
        if q.from_ is None and q.to is None:
            today = await school_today(call.session, call.user.school_id)
            window = timetable.Window(today - timedelta(days=30), today)
        start, end = await timetable.bounds(call.session, call.user.school_id, window)
        query = select(Recording).where(Recording.school_id == call.user.school_id, Recording.started_at >= start,
                                        Recording.started_at < end)
        for column, value in ((Recording.class_id, q.class_id), (Recording.subject_id, q.subject_id),
                              (Recording.teacher_id, q.teacher_id), (Recording.school_year_id, q.school_year_id),
                              (Recording.kind, q.kind)):
            if value is not None:
                query = query.where(column == value)
        if q.class_id is not None:
            await access.get_class(call.session, call.user, q.class_id)
        rows = list(await call.session.scalars(query.order_by(Recording.started_at.desc(), Recording.id)))
        return RecordingsOut(items=await _out(call.session, await _visible(call.session, call.user, rows)))

    @api.route("GET", r"/api/recordings/{id:\d+}/media", summary="Play or download a recording",
               tag="recordings", query=MediaQuery, errors=(403, 404),
               description="The file, with HTTP range requests for seeking. `download=true` (teachers and "
               "administrators) sends it as an attachment. Every play and download is logged.")
    async def media(call: Call) -> web.StreamResponse:
        row = await _recording(call)
        if call.query.download and call.user.role is Role.student:
            raise Forbidden("students may watch recordings but not download them")
        path = call.request.app[CONFIG].data_dir / "recordings" / row.path
        if not path.is_file():
            raise NotFound("the recording's file is missing")
        first = call.request.http_range.start in (None, 0)
        if first or call.query.download:  # one entry per viewing, not per seek
            call.session.add(RecordingView(recording_id=row.id, user_id=call.user.id,
                                           action="download" if call.query.download else "play"))
        headers = {"Cache-Control": "private, no-store", "Content-Type": MEDIA_TYPES.get(path.suffix, "application/octet-stream")}
        if call.query.download:
            headers["Content-Disposition"] = f'attachment; filename="lesson-{row.lesson_id}-{row.source}{path.suffix}"'
        return web.FileResponse(path, headers=headers)

    @api.route("GET", r"/api/recordings/{id:\d+}/chapters.vtt", summary="A lesson video's chapters (WebVTT)",
               tag="recordings", response=None, errors=(403, 404),
               description="One cue per part of the lesson (each start of the recording) and per screen share, "
               "titled in Vietnamese at the school's time, for a `<track kind=\"chapters\">`. Who may play the "
               "video may read its chapters.")
    async def chapters(call: Call) -> web.Response:
        row = await _recording(call)
        if row.kind != "composite" or row.status != "complete":
            raise NotFound("this recording has no chapters")
        return web.Response(text=chapters_vtt(_chapters(row), row.duration_seconds), content_type="text/vtt",
                            charset="utf-8", headers={"Cache-Control": "private, no-store"})

    @api.route("PATCH", r"/api/recordings/{id:\d+}", summary="Publish a recording to the class (or withdraw it)",
               tag="recordings", body=RecordingUpdate, response=RecordingOut, roles=(Role.admin, Role.teacher),
               errors=(403, 404))
    async def update(call: Call) -> RecordingOut:
        row = await _recording(call)
        _may_manage(call.user, row.teacher_id)
        row.published = call.body.published
        return (await _out(call.session, [row]))[0]

    @api.route("GET", r"/api/recordings/{id:\d+}/views", summary="Who watched a recording", tag="recordings",
               roles=(Role.admin, Role.teacher), response=None, errors=(403, 404))
    async def views(call: Call) -> web.Response:
        row = await _recording(call)
        _may_manage(call.user, row.teacher_id)
        rows = await call.session.execute(select(RecordingView, User.full_name).join(
            User, User.id == RecordingView.user_id).where(RecordingView.recording_id == row.id)
            .order_by(RecordingView.at))
        return web.json_response({"items": [{"user_id": v.user_id, "full_name": name, "action": v.action,
                                             "at": v.at.isoformat()} for v, name in rows]})

    @api.route("POST", r"/api/lessons/{id:\d+}/recording", summary="Start or stop recording the live lesson",
               tag="recordings", body=RecordingControl, response=RecordingState, roles=(Role.admin, Role.teacher),
               errors=(403, 404, 409), unit_of_work=False)
    async def control(call: Call) -> RecordingState:
        async with call.db.session() as session:  # the recorder writes its own rows: let go first
            lesson = await access.get_lesson(session, call.user, call.path_id("id"))
        _may_manage(call.user, lesson.teacher_id)
        room = call.request.app[ROOMS].rooms.get(lesson.id)
        if room is None:
            raise Conflict("the lesson is not live: nobody is in its room")
        result = await room.set_recording(None, call.body.active)
        return RecordingState(recording=result["recording"])

    @api.route("PUT", r"/api/lessons/{id:\d+}/recording-settings", summary="How a lesson is recorded",
               tag="recordings", body=RecordingSettings, response=RecordingSettings, roles=(Role.admin, Role.teacher),
               errors=(403, 404),
               description="auto: from the start; manual: when the teacher starts it; off. Students' media are "
               "recorded only with record_students (students see a recording indicator).")
    async def settings(call: Call) -> RecordingSettings:
        lesson = await access.get_lesson(call.session, call.user, call.path_id("id"))
        _may_manage(call.user, lesson.teacher_id)
        if call.body.record_students and call.user.role is not Role.admin:
            raise Forbidden("only the school may enable recording students")
        lesson.recording_mode = call.body.mode
        lesson.record_students = call.body.record_students
        return RecordingSettings(mode=lesson.recording_mode, record_students=lesson.record_students)  # type: ignore[arg-type]

    @api.route("PUT", "/api/school/recording-retention", summary="How long recordings are kept",
               tag="recordings", body=RetentionIn, response=RetentionOut, roles=(Role.admin,))
    async def retention(call: Call) -> RetentionOut:
        school = await call.session.get(School, call.user.school_id)
        assert school is not None
        before = school.recording_retention_days
        school.recording_retention_days = call.body.retention_days
        if before != school.recording_retention_days:
            audit.record(call.session, call.user, "settings", "school", school.id, summary=school.name,
                         before={"recording_retention_days": before},
                         after={"recording_retention_days": school.recording_retention_days})
        return RetentionOut(retention_days=school.recording_retention_days)

